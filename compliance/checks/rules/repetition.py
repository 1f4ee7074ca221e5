"""repetition: a caption or paragraph pasted twice, exactly or nearly (scraping debris).

Three shapes are caught:
- the same text in two blocks (two identical <figcaption>s, a paragraph pasted twice);
- a cut-off copy ending in "..." followed by the full text, in one paragraph;
- a block cut off with "..." followed by a block that carries the full text.
Repetition that the matched source itself has is the author's, and not reported.

Options: `min_words` (shorter repeats are labels such as "Advertisement", default 6),
`min_similarity` (0-100, how alike two blocks must be, default 92).

PASSES::

    This illustrative image shows a drone over Kermanshah, Iran, on March 7.

FAILS (cut off, then in full)::

    This illustrative image shows a drone over... This illustrative image shows a drone
    over Kermanshah, Iran, on March 7.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rapidfuzz import fuzz

from compliance.checks.context import CheckContext, shorten
from compliance.checks.options import Option
from compliance.model import Block, Finding
from compliance.similarity.tokens import normalize_text

TYPE = "repetition"
DEFAULT_SCOPE = "body"
OPTIONS = {
    "min_words": Option(int, default=6, minimum=1, help="shorter repeats are ignored"),
    "min_similarity": Option(float, default=92.0, minimum=0, maximum=100, help="how alike, 0-100"),
}
_ELLIPSIS = re.compile(r"\.(?:\s?\.){2,}|…+")
_MAY_HAVE_ELLIPSIS = re.compile(r"\.\s?\.|…")  # what every ellipsis holds: a quick first test
_WORD = re.compile(r"\w+")


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


def truncated_repeats(block: Block, min_words: int) -> Iterator[Repeat]:
    """"X Y Z... X Y Z W." inside one block: a cut-off copy, then the full text."""
    text = block.text
    if not _MAY_HAVE_ELLIPSIS.search(text):  # most blocks, at a sixteenth of the full search's cost
        return
    for ellipsis in _ELLIPSIS.finditer(text):
        before, after = text[: ellipsis.start()], text[ellipsis.end() :]
        after_words = _words(after)
        before_matches = list(_WORD.finditer(before))
        before_words = [normalize_text(m.group()) for m in before_matches]
        if not after_words or len(before_words) < min_words:
            continue
        # The longest tail of `before` that the text after the ellipsis starts with.
        for start in range(len(before_words) - min_words + 1):
            tail = before_words[start:]
            if after_words[: len(tail)] == tail:
                first_start = before_matches[start].start()
                second_start = ellipsis.end() + (len(after) - len(after.lstrip()))
                yield Repeat(
                    text[first_start : ellipsis.end()], after.strip(), block, block,
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


def _possible_partners(lengths: list[int], heads: list[tuple], tails: list[tuple], similar_lengths: float) -> list[set[int]]:
    """For each block, the later blocks it may be nearly alike to (see `_nearly_alike`): of a
    length within `similar_lengths` of its own, or sharing its first or last three words (a
    credit added at the other end). Found by sorting and grouping, not by trying every pair."""
    partners: list[set[int]] = [set() for _ in lengths]
    by_length = sorted(range(len(lengths)), key=lengths.__getitem__)
    for position, i in enumerate(by_length):
        for j in by_length[position + 1 :]:
            if lengths[i] < lengths[j] * similar_lengths:
                break
            partners[min(i, j)].add(max(i, j))
    for ends in (heads, tails):
        groups: dict[tuple, list[int]] = {}
        for i, end in enumerate(ends):
            for j in groups.setdefault(end, []):
                partners[j].add(i)
            groups[end].append(i)
    return partners


def block_repeats(blocks: list[Block], min_words: int, min_similarity: float) -> Iterator[Repeat]:
    """Two blocks with the same text, or the first cut off with "..." and the second in full."""
    prepared = []
    for block in blocks:
        normalized = normalize_text(block.text)
        words = normalized.split()
        if len(words) >= min_words:
            prepared.append((block, normalized, words))
    lengths = [len(normalized) for _, normalized, _ in prepared]
    similar_lengths = max(0.8, min_similarity / (200 - min_similarity))  # what a ratio of min_similarity allows
    partners = _possible_partners(lengths, [tuple(w[:3]) for _, _, w in prepared], [tuple(w[-3:]) for _, _, w in prepared],
                                  similar_lengths)
    word_sets: list[frozenset[str] | None] = [None] * len(prepared)  # made when a pair needs them

    def words_of(index: int) -> frozenset[str]:
        if word_sets[index] is None:
            word_sets[index] = frozenset(prepared[index][2])
        return word_sets[index]

    for i, (first, first_norm, _) in enumerate(prepared):
        cut_off = _ELLIPSIS.search(first.text[-4:]) is not None
        for j in range(i + 1, len(prepared)) if cut_off else sorted(partners[i]):
            second, second_norm, _ = prepared[j]
            if first_norm == second_norm or (cut_off and second_norm.startswith(first_norm)):
                alike = True
            elif (lengths[i] < 0.6 * lengths[j]) or (lengths[j] < 0.6 * lengths[i]):
                alike = False
            else:
                # Near-identical texts share most of their words; most pairs of paragraphs share
                # few, and a set intersection rules them out before any character alignment.
                one, other = words_of(i), words_of(j)
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
    if second.startswith(first.rstrip()):
        return False  # a cut-off copy followed by the full text is never the author's
    first_place = _place_in(first, source_text, min_similarity)
    second_place = _place_in(second, source_text, min_similarity)
    return first_place is not None and second_place is not None and first_place != second_place


def check(context: CheckContext) -> Iterator[Finding]:
    min_words = context.options["min_words"]
    repeats = [r for block in context.blocks for r in truncated_repeats(block, min_words)]
    repeats += block_repeats(context.blocks, min_words, context.options["min_similarity"])
    source_text = normalize_text(context.match.source.text) if context.match and repeats else ""
    for repeat in repeats:
        if source_text and _source_repeats_too(repeat, source_text, context.options["min_similarity"] - 5):
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
