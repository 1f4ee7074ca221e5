"""repetition: a caption or paragraph pasted twice, exactly or nearly (scraping debris).

Three shapes are caught:
- the same text in two blocks (two identical <figcaption>s, a paragraph pasted twice);
- a cut-off copy ending in "..." followed by the full text, in one paragraph;
- a block cut off with "..." followed by a block that carries the full text.
Repetition that a matched source itself has is the author's, and not reported; so are captions
alike under two different pictures of an HTML page (a gallery of one scene), where a figure
pasted twice shows the same picture twice.

Options: `min_words` (shorter repeats are labels such as "Advertisement", default 6; words of
figures alone do not count: timestamps and a table's rows repeat by nature),
`min_similarity` (0-100, how alike two blocks must be, default 92).

Bounds keep a hostile text linear: a block is compared with at most 16 likely partners among
the 256 blocks after it (an exact copy is found at any distance), a cut-off copy is looked for in the 150 words around
its ellipsis, and a document gets at most 50 of these findings.

`compliance fix` takes out the cut-off copy (the one ending "...") and keeps the full
one; of two full copies it keeps the first. A copy that is a Markdown image's alt text, or an
HTML element holding a picture or a table, is left for an editor.

PASSES::

    This illustrative image shows a drone over Kermanshah, Iran, on March 7.

FAILS (cut off, then in full)::

    This illustrative image shows a drone over... This illustrative image shows a drone
    over Kermanshah, Iran, on March 7.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from compliance.checks.context import CheckContext, shorten
from compliance.checks.options import Option
from compliance.fix.context import FixContext
from compliance.fix.edits import Fix
from compliance.model import Block, Finding
from compliance.similarity import kernels
from compliance.similarity.tokens import TokenizedText, code_points, normalize_text, normalize_word, tokenize

TYPE = "repetition"
DEFAULT_SCOPE = "body"
OPTIONS = {
    "min_words": Option(int, default=6, minimum=1, help="shorter repeats are ignored"),
    "min_similarity": Option(float, default=92.0, minimum=0, maximum=100, help="how alike, 0-100"),
}
_ELLIPSIS = re.compile(r"\.(?:\s?\.){2,}|…+")
_WORD = re.compile(r"\w+")
_TWO_FULL_STOPS = re.compile(r"\.\s?\.")  # at most one whitespace character between, as in `_ELLIPSIS`
WINDOW = 256  # later blocks a block is compared with (real articles have fewer blocks in all)
AROUND = 150  # words before and after an ellipsis where a cut-off copy and its full text lie
PARTNERS = 16  # likely partners a block is compared with, of those (it is reported with the first alike)
MAX_REPEATS = 50
FIX = "takes out the cut-off copy and keeps the full one; of two full copies, keeps the first"
_CHARS_AROUND = AROUND * 40  # characters enough for AROUND words of any real language


@dataclass(frozen=True)
class Repeat:
    first: str
    second: str
    first_block: Block
    second_block: Block
    first_chars: tuple[int, int]  # offsets of each copy within its block's text
    second_chars: tuple[int, int]


def _words(text: str) -> list[str]:
    return normalize_text(text).split()


def _worded(words: list[str]) -> int:
    """How many of the words hold a letter: figures alone ("2, 3, 5, 12") are a table's data,
    which repeats by nature, not a caption or a paragraph."""
    return sum(1 for word in words if not word.isdigit() and any(c.isalpha() for c in word))


def truncated_repeats(block: Block, min_words: int) -> Iterator[Repeat]:
    """"X Y Z... X Y Z W." inside one block: a cut-off copy, then the full text."""
    text = block.text
    for ellipsis in _ELLIPSIS.finditer(text):
        near = max(0, ellipsis.start() - _CHARS_AROUND)
        before_matches = list(_WORD.finditer(text, near, ellipsis.start()))[-AROUND:]
        before_words = [normalize_text(m.group()) for m in before_matches]
        after = text[ellipsis.end() : ellipsis.end() + _CHARS_AROUND]  # a slice to the end, per ellipsis, was quadratic
        after_words = _words(after)[:AROUND]
        if not after_words or _worded(before_words) < min_words:
            continue
        # The longest tail of `before` that the text after the ellipsis starts with: it starts
        # with the word the text after the ellipsis starts with.
        for start in range(len(before_words) - min_words + 1):
            if before_words[start] != after_words[0]:
                continue
            tail = before_words[start:]
            if after_words[: len(tail)] == tail:
                first_start = before_matches[start].start()
                second_start = ellipsis.end() + (len(after) - len(after.lstrip()))
                yield Repeat(
                    text[first_start : ellipsis.end()], text[second_start:].strip(), block, block,
                    (first_start, ellipsis.end()), (second_start, len(text)),
                )
                break


def _nearly_alike(first: str, second: str, min_similarity: float) -> bool:
    """Alike but for a few changed words, or one is the other with a credit added ("... (AP Photo)")."""
    shorter, longer = sorted((len(first), len(second)))
    if shorter >= longer * 0.8 and fuzz.ratio(first, second, score_cutoff=min_similarity):
        return True
    if shorter < longer * 0.6:
        return False
    # A credit is added at one end, so the two share their other end; checking that first
    # spares the costly partial alignment for the many pairs that are simply different.
    first_words, second_words = first.split(), second.split()
    if first_words[:3] != second_words[:3] and first_words[-3:] != second_words[-3:]:
        return False
    return fuzz.partial_ratio(first, second, score_cutoff=max(min_similarity, 97)) > 0


_SPACE_CHARACTERS = np.array([chr(c).isspace() for c in range(0x3001)])  # all of `\s`, which ends at U+3000


class BlockText:
    """The blocks as one text, separated by blank lines (which join no words and no full
    stops): one scan of the whole instead of one per block. The body's blocks join into the
    very text matching tokenised, whose tokens are then reused."""

    def __init__(self, blocks: list[Block]):
        self.blocks = blocks
        self.text = "\n\n".join(block.text for block in blocks)
        starts, offset = [], 0
        for block in blocks:
            starts.append(offset)
            offset += len(block.text) + 2
        self.starts = np.array(starts, dtype=np.int64)
        # Which blocks hold what every ellipsis holds ("…", or ".." with at most a space
        # between): only those can hold a cut-off copy, or end in an ellipsis (`cut_off`).
        # Most texts hold none anywhere, which one search of the whole tells 8 times sooner
        # than the kernel's reading of every character.
        if "…" in self.text or _TWO_FULL_STOPS.search(self.text):
            self.may_hold_ellipses: list[bool] = kernels.possible_ellipses(code_points(self.text), self.starts, _SPACE_CHARACTERS).tolist()
        else:
            self.may_hold_ellipses = [False] * len(blocks)
        self.cut_off = [maybe and _ELLIPSIS.search(block.text[-4:]) is not None for block, maybe in zip(blocks, self.may_hold_ellipses)]


def _normalized_word_lengths(joined: str, tokens: TokenizedText) -> np.ndarray | None:
    """Each word's length once normalised; None if normalising splits a word in two (NFKC
    does for a few ligatures), where counting words by tokens would be wrong."""
    lengths = tokens.ends - tokens.starts
    if joined.isascii() or not len(lengths):  # no words (an emoji-only text): nothing to look up
        return lengths
    positions = np.flatnonzero(code_points(joined) >= 128)
    words = np.searchsorted(tokens.starts, positions, side="right") - 1
    inside = (words >= 0) & (positions < tokens.ends[np.maximum(words, 0)])
    for index in np.unique(words[inside]).tolist():
        normalized = normalize_word(joined[tokens.starts[index] : tokens.ends[index]])
        if len(normalized.split()) != 1:
            return None
        lengths[index] = len(normalized)
    return lengths


def _pairs_to_compare(blocks: BlockText, min_words: int, similar_lengths: float) -> dict[int, list[int]]:
    """For each block, the later blocks it may repeat, in order.

    A cut-off block is compared with every later one. Other pairs must pass the quick tests of
    `kernels.possible_repeats`, on the words' hashes: lengths a ratio of `min_similarity`
    allows (or a credit added at one end), and half of the words shared. Most documents have
    no such pair, and no text is normalised for them.
    """
    count, cut_off = len(blocks.blocks), blocks.cut_off
    tokens = tokenize(blocks.text)
    word_lengths = _normalized_word_lengths(blocks.text, tokens)
    if word_lengths is None:
        return {i: list(range(i + 1, min(count, i + 1 + WINDOW))) for i in range(count)}
    later = {i: list(range(i + 1, min(count, i + 1 + WINDOW))) for i in range(count) if cut_off[i]}
    pairs = kernels.possible_repeats(tokens.hashes, tokens.starts, word_lengths, blocks.starts, np.array(cut_off, dtype=bool),
                                     min_words, similar_lengths, WINDOW, PARTNERS)
    for i, j in pairs.tolist():
        later.setdefault(i, []).append(j)
    if count > WINDOW + 1:  # exact copies further apart than the window
        first_seen: dict[str, int] = {}
        for j, block in enumerate(blocks.blocks):
            i = first_seen.setdefault(normalize_text(block.text), j)
            if j - i > WINDOW:
                later.setdefault(i, []).append(j)
    return later


def block_repeats(blocks: list[Block], min_words: int, min_similarity: float, text: BlockText | None = None) -> Iterator[Repeat]:
    """Two blocks with the same text, or the first cut off with "..." and the second in full
    (`text`, when given, holds the same blocks)."""
    text = text or BlockText(blocks)
    similar_lengths = max(0.8, min_similarity / (200 - min_similarity))  # what a ratio of min_similarity allows
    cut_off = text.cut_off
    later = _pairs_to_compare(text, min_words, similar_lengths)
    for i in sorted(later):
        first = blocks[i]
        first_norm = normalize_text(first.text)
        if _worded(first_norm.split()) < min_words:
            continue
        for j in later[i]:
            second = blocks[j]
            if first.image and second.image and first.image != second.image:
                continue  # two pictures captioned alike, as galleries of one scene are; not one pasted twice
            second_norm = normalize_text(second.text)
            if _worded(second_norm.split()) < min_words:
                continue
            if first_norm == second_norm or (cut_off[i] and second_norm.startswith(first_norm)):
                alike = True
            elif len(first_norm) < 0.6 * len(second_norm) or len(second_norm) < 0.6 * len(first_norm):
                alike = False
            else:
                # Near-identical texts share most of their words; most pairs of paragraphs share
                # few, and a set intersection rules them out before any character alignment.
                one, other = set(first_norm.split()), set(second_norm.split())
                related = len(one & other) * 2 >= min(len(one), len(other))
                alike = related and _nearly_alike(first_norm, second_norm, min_similarity)
            if alike:
                yield Repeat(first.text, second.text, first, second, (0, len(first.text)), (0, len(second.text)))
                break


def _place_in(text: str, source_text: str, min_similarity: float) -> int | None:
    """Where `text` stands in the source, allowing the light edits reposts make; None if absent."""
    alignment = fuzz.partial_ratio_alignment(text, source_text, score_cutoff=min_similarity)
    return alignment.dest_start if alignment else None


def _source_repeats_too(repeat: Repeat, source_text: str, min_similarity: float) -> bool:
    """The source has both texts at different places: the repetition is the author's."""
    first, second = normalize_text(repeat.first), normalize_text(repeat.second)
    if first == second:
        return source_text.count(first) >= 2
    if second.startswith(first.rstrip()) and _ELLIPSIS.search(repeat.first.rstrip()[-4:]):
        return False  # a cut-off copy followed by the full text is never the author's
    first_place = _place_in(first, source_text, min_similarity)
    second_place = _place_in(second, source_text, min_similarity)
    return first_place is not None and second_place is not None and first_place != second_place


def check(context: CheckContext) -> Iterator[Finding]:
    min_words = context.options["min_words"]
    text = BlockText(context.blocks)
    found = itertools.chain(
        (r for block, maybe in zip(context.blocks, text.may_hold_ellipses) if maybe for r in truncated_repeats(block, min_words)),
        block_repeats(context.blocks, min_words, context.options["min_similarity"], text),
    )
    repeats = list(itertools.islice(found, MAX_REPEATS))  # the file fails on the first; hundreds more say nothing new
    source_texts = [normalize_text(match.source.text) for match in context.matches] if repeats else []
    for repeat in repeats:
        if any(_source_repeats_too(repeat, text, context.options["min_similarity"] - 5) for text in source_texts if text):
            continue
        cut_off = repeat.first != repeat.second and normalize_text(repeat.second).startswith(normalize_text(repeat.first).rstrip())
        kind = "caption" if repeat.first_block.kind.value == "caption" or cut_off else "text"
        how = "cut off, then in full" if repeat.first_block is repeat.second_block or repeat.first != repeat.second else "twice"
        where = "in one paragraph" if repeat.first_block is repeat.second_block else f"on lines {repeat.first_block.line} and {repeat.second_block.line}"
        yield context.finding(
            f"{kind} repeated {where} ({how}): \"{shorten(repeat.second, 70)}\"",
            repeat.first_block, end_line=repeat.second_block.end_line, excerpt=repeat.second,
            first={"line": repeat.first_block.line, "chars": list(repeat.first_chars), "text": repeat.first},
            second={"line": repeat.second_block.line, "chars": list(repeat.second_chars), "text": repeat.second},
        )


def fix(finding: Finding, context: FixContext) -> Fix | str:
    """The cut-off copy out (or, of two full ones, the second)."""
    first, second = finding.evidence.get("first"), finding.evidence.get("second")
    if not first or not second:
        return "the finding does not say where the copies are"
    if second["chars"][0] > 0:  # a cut-off copy, then the full text, in one block
        block = context.block_at(first["line"], first["text"], second["text"])
        edit = context.file.remove_within(block, first["text"], second["text"]) if block else None
        what = "the cut-off copy"
    else:
        cut_off = _ELLIPSIS.search(first["text"][-4:]) is not None
        dropped = first if cut_off else second
        block = context.block_at(dropped["line"], dropped["text"])
        edit = context.file.remove(block) if block else None
        what = f"the {'cut-off' if cut_off else 'second'} copy on line {dropped['line']}"
    if edit is None:
        return "not fixable here: the copy could not be taken out without touching markup, a picture or other text"
    return Fix(finding.rule, finding.line, f"removed {what}: \"{shorten(first['text'], 60)}\"", (edit,))
