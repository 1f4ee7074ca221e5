"""Who most likely wrote a repost, from its own text, when no catalogue source matches.

News copy names its publisher in ways a desk rarely scrubs: wire datelines ("WASHINGTON
(Reuters) -", "(AP) —"), and the reporter's own voice ("said in a statement to Newsweek",
"Newsweek has contacted ... for comment", "told CNN", "Reuters could not independently
verify"). Each such clue scores its publisher; the best-scored publisher is the likely one
when its score is high enough and no other comes close.

Evidence is demanded, not guessed at. Articles quote other outlets all the time ("The Wall
Street Journal reported", "according to Reuters"): those are citations and score (almost)
nothing. A name outside the bundled table of outlets counts only in phrasings that are
self-references (contacted ... for comment, a statement to X, X could not verify, a
dateline) and at half weight. The desk's own text (header lines, the disclaimer, its
attribution lines) and captions (photo credits) are not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from compliance.checks.attribution import _FORM, _MAX_WORDS, name_key, outlet_for_name, registrable_domain
from compliance.checks.outlets import PUBLISHER_NAME, WIRE_DATELINE, named_in, outlet_for_domain
from compliance.model import Block, BlockKind, Document
from compliance.similarity.matcher import is_boilerplate

MIN_SCORE = 3.0  # e.g. one dateline, one "statement to X" or "X has contacted", or three "told X"
# Clues only the publisher itself would write; without one, three lesser clues are needed.
SELF_REFERENCES = frozenset({"dateline", "statement to", "has contacted", "could not verify"})
LESSER = frozenset({"told", "interview", "previously reported"})
UNKNOWN_WEIGHT = 0.5  # a name not in the outlet table counts half
LINK_WEIGHT, MAX_LINK_SCORE = 1.0, 2.0  # links to an outlet's site corroborate; alone they do not decide

_NAME = PUBLISHER_NAME
_NOT_PUBLISHERS = {
    "the", "he", "she", "it", "they", "we", "i", "you", "his", "her", "their", "this", "that", "officials", "police",
    "president", "the president", "the government", "congress", "parliament", "the company", "the ministry",
}


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    weight: float
    unknown_names: bool  # whether a name outside the outlet table counts here
    # Words the phrase cannot do without. Most paragraphs lack them, and testing for them
    # first spares trying the name alternation at every word of every paragraph.
    trigger: re.Pattern[str]
    # Text the trigger cannot match without: plain substring tests, a hundred times cheaper
    # than Python's regular expressions starting with \b at every position.
    needs: tuple[str, ...]

    def may_match(self, text: str) -> bool:
        for needed in self.needs:  # a loop, not any(): this runs for every pattern and paragraph
            if needed in text:
                return self.trigger.search(text) is not None
        return False


_TRIGGERS = {
    "dateline": r"\)\s*[-–—:]",
    "statement to": r"\b(?:statement|e-?mail|comment)\s+(?:sent\s+)?to\b",
    "has contacted": r"\b(?:has|had)\s+(?:contacted|reached|asked|approached|e-?mailed)\b",
    "could not verify": r"\b(?:verify|confirm)",
    "told": r"\b(?:told|tells|telling)\b",
    "interview": r"\b(?:interview|speaking|spoke|contacted|responding)\b",
    "previously reported": r"\b(?:previously|first|earlier|exclusively)\s+reported\b",
    "reported": r"\breported\b",
}


_NEEDS = {
    "dateline": (")",),
    "statement to": ("statement", "mail", "comment"),
    "has contacted": ("contacted", "reached", "asked", "approached", "mailed"),
    "could not verify": ("verify", "confirm"),
    "told": ("told", "tell"),
    "interview": ("interview", "speaking", "spoke", "contacted", "responding"),
    "previously reported": ("reported",),
    "reported": ("reported",),
}


def _p(kind: str, pattern: str | re.Pattern[str], weight: float, unknown_names: bool) -> _Pattern:
    return _Pattern(kind, re.compile(pattern), weight, unknown_names, re.compile(_TRIGGERS[kind]), _NEEDS[kind])


PATTERNS: tuple[_Pattern, ...] = (
    _p("dateline", WIRE_DATELINE, 4.0, True),  # shared with credits: see outlets.py
    _p("statement to", rf"\b(?:in|via)\s+an?\s+(?:\w+\s+)?(?:statement|e-?mail|comment)\s+(?:sent\s+)?to\s+{_NAME}", 3.0, True),
    _p("has contacted", rf"\b{_NAME}\s+(?:has|had)\s+(?:contacted|reached\s+out\s+to|asked|approached|e-?mailed)\b"
             r"(?=[^.]{0,160}?\bfor\s+(?:a\s+)?(?:comment|response|reaction))", 3.0, True),
    _p("has contacted", rf"\b{_NAME}\s+(?:has|had)\s+(?:contacted|reached\s+out\s+to|asked|approached|e-?mailed)\b", 3.0, False),
    _p("could not verify", rf"\b{_NAME}\s+(?:could\s+not|couldn't|was\s+unable\s+to|has\s+not\s+been\s+able\s+to|cannot)\s+(?:independently\s+)?(?:verify|confirm)",
       3.0, True),
    _p("told", rf"\b(?:told|tells|telling)\s+{_NAME}", 1.5, False),
    _p("interview", rf"\b(?:in\s+an\s+interview\s+with|speaking\s+to|spoke\s+to|contacted\s+by|responding\s+to\s+questions\s+from)\s+{_NAME}", 1.5, False),
    _p("previously reported", rf"\b(?:as\s+)?{_NAME}\s+(?:previously|first|earlier|exclusively)\s+reported\b", 2.0, True),
    _p("reported", rf"\b{_NAME}\s+reported\b", 0.5, False),  # mostly a citation of someone else
)


@dataclass(frozen=True)
class Clue:
    """One piece of evidence: where, what the text says, and how much it weighs."""

    line: int
    kind: str
    phrase: str  # the words that matched, as written
    name: str  # the publisher as written
    weight: float


@dataclass(frozen=True)
class LikelyPublisher:
    name: str
    score: float
    clues: tuple[Clue, ...]
    aliases: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


def _skipped(block: Block, desk_texts: tuple[str, ...]) -> bool:
    """The desk's own text, captions (photo credits) and attribution lines are not the article's voice."""
    if block.kind in (BlockKind.TITLE, BlockKind.META, BlockKind.CAPTION):
        return True
    head = block.text.lstrip()[:40].casefold()
    if head.startswith(("disclaimer", "copyright", "©", "note:", "editor's note")):
        return True
    return bool(_FORM.match(block.text) and len(block.text.split()) <= _MAX_WORDS) or is_boilerplate(block.text, desk_texts)


def _line_of(block: Block, offset: int) -> int:
    return block.line + block.text.count("\n", 0, offset)


def find_clues(document: Document, desk_texts: tuple[str, ...] = ()) -> list[tuple[str, Clue]]:
    """(publisher key, clue) for every clue in the body, in text order."""
    found: list[tuple[str, Clue]] = []
    read = [block for block in document.body if not _skipped(block, desk_texts)]
    for block in read:
        taken: list[tuple[int, int]] = []  # a phrase counts once, for its strongest pattern
        for pattern in PATTERNS:
            if not pattern.may_match(block.text):
                continue
            for hit in pattern.regex.finditer(block.text):
                if any(start < hit.end() and hit.start() < end for start, end in taken):
                    continue
                name = named_in(hit)
                outlet = outlet_for_name(name)
                if outlet is None and (not pattern.unknown_names or name.casefold() in _NOT_PUBLISHERS
                                       or name_key(name) in _NOT_PUBLISHERS or not name_key(name)):
                    continue
                weight = pattern.weight * (1.0 if outlet else UNKNOWN_WEIGHT)
                key = outlet.name if outlet else name_key(name)
                display = outlet.name if outlet else re.sub(r"^The\s+", "", name)
                taken.append((hit.start(), hit.end()))
                phrase = " ".join(hit.group(0).split())
                found.append((key, Clue(_line_of(block, hit.start()), pattern.kind, phrase, display, weight)))
    body_lines = {(b.line, b.end_line) for b in read}
    for link in document.links:
        if not any(start <= link.line <= end for start, end in body_lines):
            continue
        outlet = outlet_for_domain(registrable_domain(link.url)) if link.url.startswith("http") else None
        if outlet:
            found.append((outlet.name, Clue(link.line, "link", link.url, outlet.name, LINK_WEIGHT)))
    return found


def infer_publisher(document: Document, desk_texts: tuple[str, ...] = ()) -> LikelyPublisher | None:
    """The likely original publisher with its evidence, or None when the text does not say clearly."""
    by_key: dict[str, list[Clue]] = {}
    for key, clue in find_clues(document, desk_texts):
        by_key.setdefault(key, []).append(clue)
    scored = []
    for key, clues in by_key.items():
        links = sum(c.weight for c in clues if c.kind == "link")
        score = sum(c.weight for c in clues if c.kind != "link") + min(links, MAX_LINK_SCORE)
        scored.append((score, key, clues))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if not scored or scored[0][0] < MIN_SCORE:
        return None
    score, key, clues = scored[0]
    if not any(c.kind in SELF_REFERENCES for c in clues) and sum(c.kind in LESSER for c in clues) < 3:
        return None  # "told Reuters" twice is an article quoting Reuters' interviews, not Reuters' article
    if len(scored) > 1 and scored[1][0] * 1.5 > score:
        return None  # two publishers with similar evidence: a wire story re-reported, or a roundup
    outlet = outlet_for_name(key) or outlet_for_name(clues[0].name)
    if outlet is None and len([c for c in clues if c.kind != "link"]) < 2:
        return None  # an unknown name needs two clues
    name = outlet.name if outlet else clues[0].name
    aliases = tuple(a for a in (*(outlet.aliases if outlet else ()), *{c.name for c in clues}) if a != name)
    return LikelyPublisher(name, score, tuple(sorted(clues, key=lambda c: c.line)), tuple(dict.fromkeys(aliases)),
                           outlet.domains if outlet else ())
