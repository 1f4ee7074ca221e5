"""excerpt-limit: the repost reuses more of a source than its licence allows.

A source's `license` is `full` (anything goes), `excerpt` (at most `max_excerpt` of the
source, as a fraction of its words) or `none` (no reuse at all).

Options: `tolerance` (fraction added to max_excerpt before it counts, default 0).

PASSES (source: license excerpt, max_excerpt 0.3)::

    The first two of the source's ten paragraphs, and a link to the rest.

FAILS (the same source)::

    Seven of its ten paragraphs.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

from compliance.checks.context import CheckContext
from compliance.checks.options import Option
from compliance.model import Finding, License, Match
from compliance.similarity.tokens import normalize_text

TYPE = "excerpt-limit"
DEFAULT_SCOPE = "body"
FIX = "a human must decide what to cut, or get a licence"  # no `fix()`: never fixed automatically
OPTIONS = {"tolerance": Option(float, default=0.0, minimum=0, maximum=1, help="slack over max_excerpt")}


def check(context: CheckContext) -> Iterator[Finding]:
    for match in context.matches:  # each source of a roundup against its own licence
        yield from _check_source(context, match)


def _check_source(context: CheckContext, match: Match) -> Iterator[Finding]:
    source = match.source
    evidence = {"publisher": source.publisher, "source": source.id, "coverage": match.coverage, "license": source.license.value}
    first = context.first_copied_block(match)
    named = f"“{source.title}”" if source.title else source.id
    if source.license is License.NONE:
        over = _words_over(match, 0.0)
        yield context.finding(
            f"{source.publisher} allows no reuse of {named}, and this copies {match.coverage:.0%} of it "
            f"({over[0]} words over the licence)",
            first, **evidence, words_over=over[0], source_words=over[1],
        )
    elif source.license is License.EXCERPT and source.max_excerpt is not None:
        if match.coverage > source.max_excerpt + context.options["tolerance"]:
            over = _words_over(match, source.max_excerpt)
            yield context.finding(
                f"reuses {match.coverage:.0%} of {named}; {source.publisher} allows excerpts of at most "
                f"{source.max_excerpt:.0%}: {over[0]} words over the licence",
                first, max_excerpt=source.max_excerpt, **evidence, words_over=over[0], source_words=over[1],
            )


def _words_over(match: Match, allowed_share: float) -> tuple[int, int]:
    """How many of the source's words must go for the repost to fit its licence, and the
    source's length in words: the reviewer's "how much must I cut", not only a percentage."""
    total = len(normalize_text(match.source.text).split())
    reused = round(match.coverage * total)
    return max(1, reused - math.floor(allowed_share * total)), total
