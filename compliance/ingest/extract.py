"""Which blocks of a whole saved page are the article.

trafilatura, the best of the open extractors, decides which text is the article; the HTML
parser's candidate blocks keep their lines and kinds. Each candidate is placed in trafilatura's
text by its word trigrams, and the heaviest chain of candidates placed in the same order is the
article (a teaser or a caption repeated elsewhere on the page falls outside that chain). Then
what trafilatura leaves out but the rules need is put back: captions and prose inside the
article, a paragraph pasted twice (trafilatura keeps one copy), the article's continuation in
containers like its own, and the desk's own lines around it ("Source: X", the disclaimer).
Last, what sites print around every article and trafilatura let through is dropped: a
gallery's echoes of a caption, links out to other articles, calls to subscribe or share,
player controls, and after the article's end other stories' cards and link rows. `summary`
finds the standfirst the page declares its description, which the reader marks META.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict

from compliance.ingest.html import Candidate, names_a_caption
from compliance.model import BlockKind

_WORD = re.compile(r"\w+")
# fast: without the fallback extractors (readability, jusText), whose picks carried more chrome
# on real pages; favor_recall: what it still lets through, the chain and the checks below drop.
_TRAFILATURA = {"fast": True, "favor_recall": True, "include_comments": False, "include_tables": True,
                "include_images": False, "deduplicate": False, "with_metadata": False}
_COMMON = 16  # a trigram found more often than this in the article places nothing
_PLACES = 8  # at most so many places tried for one candidate (text the article repeats)
_FOUND = 0.6  # share of a candidate's words that must be found where it is placed
_PROSE_WORDS = 8  # fewer, and a block the extractor left out is a byline, a date, a button's label
_LINKED = 0.3  # more of a block's text inside links makes it navigation, not prose
_LINK_LIST = 0.5  # more, and a block is a link to elsewhere ("Read more: ...")
_LIST_TAGS = frozenset({"li", "ul", "ol", "td", "th", "tr", "table", "dd", "dt"})
_PAGE_MARKUP = 8000  # characters of markup; a desk's template with a long article has under 2,000
_HEADER_WORDS = 12  # as `load._HEADER_MAX_WORDS`: "Business · Post At: May 28/2024"
# What desks add around an article: a credit, a disclaimer, their "Post At" header.
_DESK_LINE = re.compile(
    r"^\s*(?:disclaimer|sources?\s*[:：\-–—]|credits?\s*[:：\-–—]|via\s*[:：]|courtesy|"
    r"(?:this\s+(?:article|story|post)\s+)?(?:was\s+)?(?:originally|first)\s+(?:published|appeared|posted)|"
    r"re(?:printed|published|posted)\s|published(?:\s+on)?\s*:)",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\W*\w[\w' ]{0,20}\s?:")  # "Read more:", "SEE ALSO:", "Lire aussi :"
_DESK_HEADER = re.compile(r"(?:^|[·|•\-–—]\s*)post(?:ed)?\s+(?:at|on)\s*:", re.IGNORECASE)
# A byline, a copyright line, a wire's name: what credits a copy, wherever it stands.
_CREDIT_LIKE = re.compile(r"^\W*(?:by\s|copyright|©|\(c\))|\b(?:associated\s+press|reuters|afp|agence\s+france)\b|\((?:ap|afp)\)",
                          re.IGNORECASE)
_TEASERS = 3  # so many cards of one kind after the article are a list of other stories
_TITLE_WORDS = 15  # a headline's length, at most
_URL_CHARS = 2000  # longer, a block is neither an address nor a list's header
_LINK_ONLY = 0.8  # more of a short block's text inside links, and it is a link to elsewhere, in a list or not
_PROMPT_WORDS = 40  # a prompt is a line or two; an article's paragraph may mention a newsletter
# What sites print around every article, never written for one: calls to subscribe, follow or
# comment, teaser headers. Whole short blocks out of lists (a list may be the article's own
# "how to sign up" steps).
_PROMPT = re.compile(
    r"^\W*(?:(?:click|tap)\s+here\b|subscribe\b|sign\s+up\b|get\s+(?:the|our)\s+\w+(?:\s+\w+){0,3}\s+newsletter|"
    r"(?:like|enjoy(?:ed)?)\s+this\s+(?:story|article|post)\b|"
    r"follow\s+(?:us|\w+(?:\s+\S+){0,6}\s+on)\s|(?:reach|contact|e-?mail)\s+(?:the\s+)?(?:reporters?|writers?|authors?|\w+\s+\w+)\s+(?:at|on|via)\s|(?:tell\s+us|let\s+us\s+know)\s+what\s+you\s+think|"
    r"(?:don[’']?t|do\s+not)\s+miss\b)"
    r"|\b(?:delivered\s+(?:to|through)\s+your\s+(?:inbox|letterbox|door)|subscribe\s+to\s+(?:our|the)\b.{0,60}"
    r"\b(?:newsletter|channel|podcast)|we[’']?d\s+like\s+to\s+hear\s+what\s+you\s+think|by\s+clicking\s+here)",
    re.IGNORECASE,
)
# The header of a list of other stories.
_TEASER_HEADER = re.compile(
    r"^\W*(?:(?:related|recommended|featured|recent|latest|top|more|popular|trending|partner)\s+(?:stories|articles|news|"
    r"videos?|posts|reads|slide\s?shows|galleries|headlines)|you\s+(?:might|may)\s+also\s+(?:like|enjoy)|"
    r"recommended\s+for\s+you|most\s+(?:read|popular|viewed|shared)|see\s+also|more\s+from\s+\S+(?:\s+\S+)?)\W*$",
    re.IGNORECASE,
)
# A player's, a slideshow's or a share row's controls, and the notices a player prints in
# their place: the whole block, anywhere.
_CONTROL = re.compile(
    r"^\W*(?:(?:leave\s+a\s+)?(?:comments?|reply)|loading\s+comments\W*|advertisement|read\s+more|"
    r"share(?:\s+(?:this|on|via)(?:\s+\w+)?)?|close|previous|next|prev|fullscreen|full\s+screen|thumbnails|print|e-?mail|tweet|"
    r"back\s+to\s+top|\d+\s+of\s+\d+|like\s+this\s+(?:story|article)\?\s*share\s+it\s+with\s+a\s+friend|"
    r"media\s+playback\s+is\s+(?:unsupported|not\s+supported)\s+on\s+your\s+device|"
    r"your\s+browser\s+does\s+not\s+support\s+(?:the\s+)?(?:video|audio|html5)(?:\s+\w+)?)\W*$",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _extracted_words(html: str) -> list[str] | None:
    """The words of the article trafilatura finds on the page; None if it finds none or fails."""
    try:
        import trafilatura

        document = trafilatura.bare_extraction(html, **_TRAFILATURA)
    except Exception:  # noqa: BLE001 - whatever trafilatura trips on, the plain reader can read
        return None
    if document is None or document.body is None:
        return None
    return _words(" ".join(document.body.itertext()))


def _placements(words: list[list[str]], extracted: list[str]) -> list[list[tuple[int, int]]]:
    """For each candidate, the places in `extracted` where it may start, with how many of its
    words are found there: voted for by the trigrams it shares with the article."""
    trigrams: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for position, trigram in enumerate(zip(extracted, extracted[1:], extracted[2:])):
        trigrams[trigram].append(position)
    placements = []
    for candidate in words:
        votes: dict[int, int] = {}
        for index, trigram in enumerate(zip(candidate, candidate[1:], candidate[2:])):
            positions = trigrams.get(trigram)
            if positions and len(positions) <= _COMMON:
                for position in positions:
                    votes[position - index] = votes.get(position - index, 0) + 1
        places = []
        if votes:
            ranked = sorted(votes.items(), key=lambda vote: -vote[1])[:_PLACES]
            wanted = None
            for start, exact in ranked:
                if exact * 4 < ranked[0][1]:
                    break  # a trigram or two in common by chance, where another place has many
                if exact + 2 >= _FOUND * len(candidate):
                    found = exact + 2
                else:
                    # Words found around there, not trigrams: markup the extractor drops (an
                    # "[edit]" link, a formula's source) breaks trigrams but leaves the words.
                    wanted = wanted or Counter(candidate)
                    window = Counter(extracted[max(0, start - 2) : max(0, start) + len(candidate) + 8])
                    found = sum((wanted & window).values())
                if found >= _FOUND * len(candidate):
                    places.append((max(0, start), found + exact))  # where its trigrams line up best, of two alike
        placements.append(places)
    return placements


def _heaviest_chain(placements: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """(candidate, start) of the heaviest chain of placed candidates, in document order, whose
    starts increase: one place per candidate (weighted longest increasing subsequence)."""
    starts = sorted({start for places in placements for start, _ in places})
    rank = {start: number + 1 for number, start in enumerate(starts)}
    size = len(starts)
    tree: list[tuple[int, int]] = [(0, -1)] * (size + 1)  # Fenwick tree of prefix maxima: (weight, entry)
    entries: list[tuple[int, int, int, int]] = []  # (candidate, start, chain weight, previous entry)
    for candidate, places in enumerate(placements):
        scored = []
        for start, weight in places:  # all looked up before any is added: one place per candidate
            position, before = rank[start] - 1, (0, -1)
            while position > 0:
                before = max(before, tree[position])
                position -= position & -position
            scored.append((start, before[0] + weight, before[1]))
        for start, total, previous in scored:
            entries.append((candidate, start, total, previous))
            position = rank[start]
            while position <= size:
                tree[position] = max(tree[position], (total, len(entries) - 1))
                position += position & -position
    if not entries:
        return []
    chain, entry = [], max(range(len(entries)), key=lambda e: entries[e][2])
    while entry >= 0:
        candidate, start, _, entry = entries[entry]
        chain.append((candidate, start))
    return chain[::-1]


def _prose(candidate: Candidate) -> bool:
    return (candidate.tag not in _LIST_TAGS and not candidate.chrome and not _linked(candidate)
            and len(candidate.text.split()) >= _PROSE_WORDS)


def _linked(candidate: Candidate) -> bool:
    return candidate.link_chars > _LINKED * len(candidate.text)


def _teaser(candidate: Candidate, main_container: str | None) -> bool:
    """A link to another article: "Read more: ...", "Related: ...", a headline out of the article's container."""
    if candidate.link_chars <= _LINK_LIST * len(candidate.text) or candidate.tag in _LIST_TAGS or candidate.kind is BlockKind.TITLE or _desk_line(candidate):
        return False
    return candidate.parent_kind != main_container or bool(_LABEL.match(candidate.text))


def _desk_line(candidate: Candidate) -> bool:
    """A credit (its source often linked), disclaimer or "Post At" header as desks add them,
    not an item of a list of links."""
    return (candidate.tag not in _LIST_TAGS and not candidate.chrome
            and bool(_DESK_LINE.match(candidate.text) or _DESK_HEADER.search(candidate.text)
                     and len(candidate.text.split()) <= _HEADER_WORDS))


def whole_page(html: str, candidates: list[Candidate]) -> bool:
    """A saved publisher page rather than a fragment or a desk's plain template: more markup
    than text, and more than a template has. The plain reader is exact on the others, and faster."""
    markup = len(html) - sum(len(c.text) for c in candidates)
    return markup >= _PAGE_MARKUP and markup >= len(html) / 2


def article_blocks(html: str, candidates: list[Candidate], own_urls: set[str] = frozenset()) -> list[int] | None:
    """Indices of the candidates that are the article, in order; None to let the plain reader
    decide. `own_urls`: the page's own address, which a share widget prints as a block of its own."""
    reasons = _reasons(html, candidates)
    if reasons is not None and own_urls:
        own = {_address(url) for url in own_urls}
        for i in [i for i in reasons if len(candidates[i].text) < _URL_CHARS and _address(candidates[i].text) in own]:
            del reasons[i]  # not a credit: a copy that names its source names another page's address
    return None if reasons is None else sorted(reasons)


def summary(candidates: list[Candidate], chosen: list[int], descriptions: set[str]) -> int | None:
    """The standfirst: before the article's first paragraph, a heading out of the paragraphs'
    container that says what the page's description says. Where a page's description is
    merely its lede, or the standfirst is set among the paragraphs, it stays the article's."""
    wanted = [_words(text) for text in descriptions]
    wanted = [words for words in wanted if len(words) >= _PROSE_WORDS]
    if not wanted:
        return None
    containers = Counter(candidates[i].parent_kind for i in chosen if _prose(candidates[i]))
    if not containers:
        return None
    container = containers.most_common(1)[0][0]
    for i in chosen:
        candidate = candidates[i]
        if candidate.parent_kind == container and _prose(candidate):
            break  # the article has begun
        if candidate.kind is BlockKind.HEADING and _says(_words(candidate.text), wanted):
            return i
    return None


def _says(words: list[str], descriptions: list[list[str]]) -> bool:
    """The same words, or one cut off where the other goes on ("... the third quarter" / "... in third quarter")."""
    for description in descriptions:
        shorter, longer = sorted((words, description), key=len)
        if len(shorter) >= _PROSE_WORDS and (shorter == longer[: len(shorter)] or sum((Counter(shorter) & Counter(longer)).values()) >= 0.9 * len(longer)):
            return True
    return False


def _address(url: str) -> str:
    """An address without its scheme, "www." and final slash, lower-cased: how pages print it."""
    return re.sub(r"^(?:https?:)?//(?:www\.)?|/+$", "", url.strip().lower())


def _reasons(html: str, candidates: list[Candidate]) -> dict[int, str] | None:
    """The candidates that are the article, each with why."""
    extracted = _extracted_words(html)
    if not extracted:
        return None
    words = [_words(c.text) for c in candidates]
    chain = _heaviest_chain(_placements(words, extracted))
    if not chain:
        return None
    kept = {candidate: "chain" for candidate, _ in chain}
    _between(candidates, words, extracted, chain, kept)
    first, last = chain[0][0], chain[-1][0]
    prose_parents = Counter(c.parent for c in candidates if _prose(c))
    containers = Counter(candidates[i].parent_kind for i in kept if _prose(candidates[i]))
    main_container = containers.most_common(1)[0][0] if containers else None
    texts = Counter(c.text for c in candidates)
    kept_texts = {candidates[i].text: candidates[i] for i in kept}
    if not any(candidates[i].kind is BlockKind.TITLE for i in kept):
        # The article's <h1>, often in a <header> the extractor leaves out: the nearest before it.
        heading = next((i for i in range(first - 1, -1, -1) if candidates[i].kind is BlockKind.TITLE), None)
        if heading is not None:
            kept[heading] = "title"
    previous = None  # the last kept candidate so far
    for i, candidate in enumerate(candidates):
        if i in kept:
            previous = candidate
            continue
        inside = first < i < last
        if candidate.chrome:
            continue
        elif inside and candidate.kind is BlockKind.CAPTION:
            kept[i] = "caption"  # trafilatura leaves figure captions out; the rules need them
        elif inside and not words[i]:
            kept[i] = "mark"  # "***", "___": nothing to the rules, but the article as written
        elif candidate.text in kept_texts:
            copy = kept_texts[candidate.text]
            if candidate.parent != copy.parent and not (inside and candidate.parent_kind == copy.parent_kind):
                continue  # a pull quote, or a teaser of the article's own text
            kept[i] = "again"  # pasted twice, which trafilatura keeps once: the rules must see both
        elif inside and _prose(candidate) and previous is not None and candidate.parent_kind == previous.parent_kind:
            kept[i] = "prose"  # a lead or summary paragraph the extractor took for a teaser
        elif _prose(candidate) and candidate.parent_kind == main_container and prose_parents[candidate.parent] > 1:
            kept[i] = "continued"  # the article goes on in a container like its own, after an advertisement
        elif texts[candidate.text] == 1 and _desk_line(candidate):
            kept[i] = "desk"  # the desk's credit, disclaimer or header around the article
        else:
            continue
        kept_texts.setdefault(candidate.text, candidate)
        previous = candidate
    for i in _gallery_echoes(candidates, sorted(kept)):
        del kept[i]
    for i in [i for i in kept if kept[i] == "chain" and _teaser(candidates[i], main_container)]:
        del kept[i]
    for i in [i for i in kept if kept[i] not in ("title", "desk") and _site_chrome(candidates[i], kept[i] == "caption")]:
        del kept[i]
    for i in _teaser_summaries(candidates, kept, main_container):
        del kept[i]
    for i in _tail(candidates, kept, main_container):
        del kept[i]
    for i in _link_lists(candidates, kept):
        del kept[i]
    return kept


def _link_lists(candidates: list[Candidate], kept: dict[int, str]) -> list[int]:
    """A list of links to other articles set in the article ("Related: ..." without the
    label): at least `_TEASERS` items of one list, each a short title all in its link."""
    items: dict[int, list[int]] = defaultdict(list)
    for i in kept:
        candidate = candidates[i]
        if candidate.tag == "li" and kept[i] == "chain":
            items[candidate.parent].append(i)
    return [i for members in items.values() if len(members) >= _TEASERS and all(
        candidates[i].link_chars >= _LINK_ONLY * len(candidates[i].text) and len(candidates[i].text.split()) <= _TITLE_WORDS
        for i in members) for i in members]


def _tail(candidates: list[Candidate], kept: dict[int, str], main_container: str | None) -> list[int]:
    """Other stories after the article: once its last paragraph has passed, what follows a
    header of a list of other stories ("Related stories", "You might also like") out of the
    article's container, links (a sidebar's, in a list or not), or cards of one kind, at least `_TEASERS` of them each in an element of
    its own (where the article's own lists and notes share one element). A credit, copyright
    line or desk line there stays: the rules read them."""
    if main_container is None:
        return []
    last = max((i for i in kept if candidates[i].parent_kind == main_container and _prose(candidates[i])), default=None)
    if last is None:
        return []
    header = next((i for i in range(last + 1, len(candidates)) if candidates[i].parent_kind != main_container
                   and not candidates[i].chrome and len(candidates[i].text) < _URL_CHARS
                   and _TEASER_HEADER.match(candidates[i].text)), len(candidates))
    after = [i for i in kept if i > last and kept[i] in ("chain", "between", "again") and candidates[i].parent_kind != main_container
             and not _CREDIT_LIKE.search(candidates[i].text) and not _desk_line(candidates[i])]
    cards: dict[str, list[int]] = defaultdict(list)
    for i in after:
        cards[candidates[i].parent_kind].append(i)
    # Not a numbered list's items: notes and references, each citing its source in a link.
    links = [i for i in after if i < header and candidates[i].link_chars >= _LINK_ONLY * len(candidates[i].text)
             and not candidates[i].parent_kind.startswith("ol")]
    return [i for i in after if i > header] + links + [
        i for items in cards.values() if len(items) >= _TEASERS and len({candidates[i].parent for i in items}) == len(items)
        for i in items if i < header and i not in links]


def _site_chrome(candidate: Candidate, caption: bool = False) -> bool:
    """What the site prints around every article and the extractor let through: a short block
    that is a link elsewhere (a related headline, "Watch: ..."), or a call to subscribe, share
    or comment, a teaser list's header, a player's or slideshow's controls. A desk's credit or
    disclaimer is never this, linked or not; a caption only when it is a player's notice."""
    if candidate.kind is BlockKind.TITLE or _desk_line(candidate):
        return False
    text = candidate.text
    if len(text.split()) > _PROMPT_WORDS:
        return False
    if _CONTROL.match(text) or _TEASER_HEADER.match(text):
        return True
    if caption or candidate.tag in _LIST_TAGS:
        return False  # a list of links may be the article's own: references, "see also", a table
    # A linked heading is often the article's own title or a section's, linked to itself.
    linked = candidate.kind is not BlockKind.HEADING and candidate.link_chars >= _LINK_ONLY * len(text)
    return linked or bool(_PROMPT.search(text))


def _teaser_summaries(candidates: list[Candidate], kept: dict[int, str], main_container: str | None) -> list[int]:
    """The summary line under a linked headline that was not kept, in the same element out of
    the article's container: a teaser of another article ("<h3><a>Headline</a></h3><h4>What it
    says</h4>")."""
    summaries = []
    for i in kept:
        if kept[i] != "chain" or i == 0:
            continue
        candidate, before = candidates[i], candidates[i - 1]
        if (i - 1 not in kept and (before.kind is BlockKind.HEADING and before.parent == candidate.parent)
                and before.link_chars >= _LINK_ONLY * len(before.text) and candidate.parent_kind != main_container
                and len(candidate.text.split()) <= _PROMPT_WORDS):
            summaries.append(i)
    return summaries


def _between(candidates: list[Candidate], words: list[list[str]], extracted: list[str],
             chain: list[tuple[int, int]], kept: dict[int, str]) -> None:
    """Candidates left unplaced (too short for a trigram, or text the article repeats) are the
    article's when found in trafilatura's text between the chain's neighbours, in order."""
    starts: dict[str, list[int]] = defaultdict(list)  # where each word stands in `extracted`
    for position, word in enumerate(extracted):
        starts[word].append(position)
    bounds = [(-1, 0, 0), *((i, start, start + len(words[i])) for i, start in chain), (len(candidates), len(extracted), 0)]
    for (before, _, before_end), (after, after_start, _) in zip(bounds, bounds[1:]):
        cursor, end = max(0, before_end - 2), after_start + 2
        for i in range(before + 1, after):
            candidate = words[i]
            if not candidate or candidates[i].chrome:
                continue
            positions = starts.get(candidate[0], ())
            first = bisect_left(positions, cursor)
            for position in positions[first : first + _COMMON]:  # a bounded look: the page stays linear
                if position + len(candidate) > end:
                    break
                if extracted[position : position + len(candidate)] == candidate:
                    kept[i] = "between"
                    cursor = position + 1
                    break


def _gallery_echoes(candidates: list[Candidate], kept: list[int]) -> list[int]:
    """Captions a gallery repeats: the same caption again in another kind of element (a
    thumbnail strip, a lightbox), or a short and a full version in one caption element, of
    which the page shows one. The same caption in the same kind of element twice, as a desk
    pastes a figure twice, is kept for the rules to report."""
    seen: dict[tuple[str, ...], int] = {}  # a caption's first words -> the kept caption that has them
    echoes = []
    for i in kept:
        candidate = candidates[i]
        if candidate.kind is not BlockKind.CAPTION:
            continue
        words = tuple(_words(candidate.text))
        key = words[:6]
        if len(words) < 3 or key not in seen:
            seen[key] = i
            continue
        j = seen[key]
        other = candidates[j]
        other_words = tuple(_words(other.text))
        shorter, longer = sorted((words, other_words), key=len)
        cut = len(shorter) - 2  # a cut-off copy may end inside a word, and with a "more" link
        if longer[:cut] != shorter[:cut]:
            continue  # two captions that merely begin alike
        if candidate.parent == other.parent and names_a_caption(other.parent_kind):
            echo = i if len(words) <= len(other_words) else j
            echoes.append(echo)
            seen[key] = j if echo == i else i
        elif candidate.parent_kind != other.parent_kind:
            echoes.append(i)
    return echoes
