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

from collections.abc import Iterator

from compliance.checks.context import CheckContext
from compliance.checks.options import Option
from compliance.model import Finding, License, Match

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
    if source.license is License.NONE:
        yield context.finding(
            f"{source.publisher} allows no reuse of {source.id}, and this copies {match.coverage:.0%} of it",
            first, **evidence,
        )
    elif source.license is License.EXCERPT and source.max_excerpt is not None:
        if match.coverage > source.max_excerpt + context.options["tolerance"]:
            yield context.finding(
                f"reuses {match.coverage:.0%} of {source.id}; {source.publisher} allows excerpts of at most {source.max_excerpt:.0%}",
                first, max_excerpt=source.max_excerpt, **evidence,
            )
