"""attribution-missing: the repost copies a catalogue source and nothing credits it.

A credit is an attribution line in the rule's scope ("Source: X", "Originally published
by X", "Credit: X", "Courtesy of X", "Via X", "This article first appeared on X",
"Reprinted from X", ...), an attribution field in the front matter, or a link to the
source's site. Original writing (no match) needs no attribution. A line that credits
someone else is attribution-mismatch's business, not this rule's.

PASSES (copies a Newsweek story)::

    Source: Newsweek (https://www.newsweek.com/iran-russia-missiles)

    The deepening military ties between Iran and Russia ...

FAILS (the same copy with no credit)::

    The deepening military ties between Iran and Russia ...
"""
from __future__ import annotations

from collections.abc import Iterator

from compliance.checks.attribution import desk_attributions, links_to_source
from compliance.checks.context import CheckContext
from compliance.model import Finding

TYPE = "attribution-missing"
DEFAULT_SCOPE = "all"
OPTIONS: dict = {}


def check(context: CheckContext) -> Iterator[Finding]:
    match = context.match
    if match is None:
        return
    if desk_attributions(context.document, context.blocks, match.source):
        return
    if links_to_source(context.document, match.source):
        return
    source = match.source
    first = context.first_copied_block()
    yield context.finding(
        f"copies {match.containment:.0%} of its text from {source.publisher} "
        f"(source {source.id}) but no line credits {source.publisher}",
        first, excerpt=f"matched source: {source.publisher} — {source.title or source.id}",
        publisher=source.publisher, source=source.id, containment=match.containment, coverage=match.coverage,
    )
