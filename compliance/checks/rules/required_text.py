"""required-text: a text every repost must carry, such as the desk's disclaimer.

Matching is fuzzy (rapidfuzz) on normalised text, so case, line breaks, curly quotes,
non-breaking spaces and a few typos still pass; a text that is only partly there does not.

Options: `text` (required), `name` (what messages call it), `min_similarity` (0-100, default 90).

`compliance fix` appends the text as the article's last paragraph (in HTML, a `<p>`
after the article's last paragraph), or writes it in place of a cut-short copy that scored
below `min_similarity`.

PASSES (rule text "Disclaimer: The copyright belongs to the original author. Thank you.")::

    ...last paragraph of the article.

    DISCLAIMER: the copyright belongs to the orignal author. Thank you.

FAILS (only the first sentence is there)::

    ...last paragraph of the article.

    Disclaimer: The copyright belongs to the original author.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from rapidfuzz import fuzz

from compliance.checks.context import CheckContext, shorten
from compliance.checks.options import Option
from compliance.fix.context import DISCLAIMER_ORDER, FixContext
from compliance.fix.edits import Fix
from compliance.model import Block, BlockKind, Finding
from compliance.similarity.tokens import normalize_text

TYPE = "required-text"
DEFAULT_SCOPE = "body"
OPTIONS = {
    "text": Option(str, required=True, help="the text that must be present"),
    "name": Option(str, default="required text", help="what messages call the text"),
    "min_similarity": Option(float, default=90.0, minimum=0, maximum=100, help="how alike, 0-100"),
}


FIX = "appends the required text, or puts it in place of a cut-short copy"
_FRAGMENT_SIMILARITY = 85  # a block this much like a piece of the text is a cut-short copy of it


def similarity(expected: str, found: str, score_cutoff: float = 0) -> float:
    """How fully `expected` stands in `found` (0-100); both already normalised.

    A candidate shorter than the expected text is compared whole, so a cut-short copy
    scores low; a longer one is searched for its best-aligned part.
    """
    if not expected or not found:
        return 0.0
    if len(found) <= len(expected):
        return fuzz.ratio(expected, found, score_cutoff=score_cutoff)
    return fuzz.partial_ratio(expected, found, score_cutoff=score_cutoff)


def _candidates(blocks: list[Block]) -> Iterator[tuple[Block, str]]:
    """Each block, and each block joined to the next, for a text split over two."""
    for index, block in enumerate(blocks):
        yield block, block.text
        if index + 1 < len(blocks):
            yield block, block.text + " " + blocks[index + 1].text


def _candidates_from_the_end(blocks: list[Block]) -> Iterator[tuple[Block, str]]:
    """`_candidates` in reverse order, joining blocks only when asked for the next one."""
    for index in range(len(blocks) - 1, -1, -1):
        block = blocks[index]
        if index + 1 < len(blocks):
            yield block, block.text + " " + blocks[index + 1].text
        yield block, block.text


def shares_words(expected: str, found: str, min_similarity: float) -> bool:
    """Whether `found` shares enough words with `expected` to be worth a fuzzy comparison.

    Text that is `min_similarity` % alike, character by character, shares most of its words;
    testing that first skips rapidfuzz's alignment on the article's own paragraphs, which is
    where a scan would otherwise spend most of its time.
    """
    expected_words, found_words = _word_set(expected), _found_words(found)
    needed = 0.5 * min(len(expected_words), len(found_words)) * min_similarity / 100
    return len(expected_words & found_words) >= needed


@lru_cache(maxsize=64)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


@lru_cache(maxsize=1024)  # a failing document's blocks are looked at three times: passes, closest, nearest
def _found_words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def passes(expected: str, blocks: list[Block], min_similarity: float) -> bool:
    return passing_block(expected, blocks, min_similarity) is not None


def passing_block(expected: str, blocks: list[Block], min_similarity: float) -> Block | None:
    """The block where the text stands (the first of two, when it runs over both), or None."""
    # From the end: the desk puts its texts last, so a passing repost is settled at once.
    for block, text in _candidates_from_the_end(blocks):
        normalized = normalize_text(text)
        if shares_words(expected, normalized, min_similarity) and similarity(expected, normalized, min_similarity):
            return block
    return None


def closest_fragment(expected: str, blocks: list[Block]) -> tuple[float, Block | None, str]:
    """The block that looks most like a piece of the expected text (for the reviewer)."""
    best: tuple[float, Block | None, str] = (0.0, None, "")
    minimum_length = len(expected) * 0.15
    for block, text in _candidates(blocks):
        normalized = normalize_text(text)
        if len(normalized) < minimum_length or not shares_words(expected, normalized, _FRAGMENT_SIMILARITY):
            continue
        # The cutoff lets rapidfuzz give up early on the many blocks that are plainly not it.
        score = fuzz.partial_ratio(expected, normalized, score_cutoff=max(best[0], _FRAGMENT_SIMILARITY - 1))
        if score > best[0]:
            best = (score, block, text)
    return best


def check(context: CheckContext) -> Iterator[Finding]:
    expected_raw = context.options["text"]
    expected = normalize_text(expected_raw)
    if passes(expected, context.blocks, context.options["min_similarity"]):
        return
    fragment_score, block, found = closest_fragment(expected, context.blocks)
    is_fragment = block is not None and fragment_score >= _FRAGMENT_SIMILARITY
    score = similarity(expected, normalize_text(found)) if is_fragment else 0.0
    evidence = {"expected": expected_raw, "closest": found if is_fragment else "", "similarity": round(score, 1)}
    if is_fragment:
        yield context.finding(
            f"{context.options['name']} is only partly there ({score:.0f}% alike, {context.options['min_similarity']:.0f}% needed)",
            block, excerpt=shorten(found), **evidence,
        )
    else:
        # Where it should have been: the article's end, not a page footer the `page` scope read.
        last = next((b for b in reversed(context.blocks) if b.kind != BlockKind.FURNITURE), None)
        line = last.end_line if last else 1
        shared, near = _nearest(expected, context.blocks)
        if near is None:
            yield context.finding(f"{context.options['name']} is missing; no text resembles it", line=line, **evidence)
            return
        near_score = round(similarity(expected, normalize_text(near.text)), 1)
        yield context.finding(
            f"{context.options['name']} is missing; the closest text, at line {near.line}, is {near_score:.0f}% alike",
            line=line, **evidence, nearest=shorten(near.text, 200), nearest_line=near.line, nearest_similarity=near_score,
        )


def _nearest(expected: str, blocks: list[Block]) -> tuple[int, Block | None]:
    """The block sharing most words with the expected text, for a reviewer looking for where
    a desk's text went (a set intersection per block: cheap next to a fuzzy alignment)."""
    words = _word_set(expected)
    best: tuple[int, Block | None] = (0, None)
    for block in blocks:
        shared = len(words & _found_words(normalize_text(block.text)))
        if shared > best[0]:
            best = (shared, block)
    return best


def fix(finding: Finding, context: FixContext) -> Fix | str:
    """The text in place of the cut-short copy the finding quotes, else appended."""
    text = " ".join(context.options["text"].split())
    name = context.options["name"]
    closest = finding.evidence.get("closest") or ""
    if closest:
        blocks = context.blocks
        for index, block in enumerate(blocks):
            if block.line != finding.line or not closest.startswith(block.text):
                continue
            through = blocks[index + 1] if closest != block.text and index + 1 < len(blocks) else None
            if through is not None and closest != f"{block.text} {through.text}":
                continue
            edit = context.file.replace(block, text, through)
            if edit is not None:
                return Fix(finding.rule, finding.line, f"replaced the cut-short {name} with the full text", (edit,))
    edit = context.at_the_end(text, DISCLAIMER_ORDER)
    if edit is None:
        return "not fixable here: the end of the article could not be found in the file"
    return Fix(finding.rule, finding.line, f"appended {name}", (edit,))
