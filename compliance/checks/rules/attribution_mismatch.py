"""attribution-mismatch: an attribution line credits someone other than the matched source.

Credit counts when the line names the publisher (or an alias, in any case, with or without
"The" or ".com"), or links to the publisher's site.

PASSES (the text copies a Newsweek story)::

    Originally published by newsweek.com

FAILS (the same copy)::

    Source: Reuters
"""
from __future__ import annotations

from collections.abc import Iterator

from compliance.checks.attribution import desk_attributions, credits_source, links_to_source
from compliance.checks.context import CheckContext
from compliance.model import Finding

TYPE = "attribution-mismatch"
DEFAULT_SCOPE = "all"
OPTIONS: dict = {}


def check(context: CheckContext) -> Iterator[Finding]:
    match = context.match
    if match is None:
        return
    credits = desk_attributions(context.document, context.blocks, match.source)
    if not credits or any(credits_source(a, match.source) for a in credits):
        return
    if links_to_source(context.document, match.source):
        return
    wrong = credits[0]
    credited = ", ".join(wrong.names or wrong.urls)
    source = match.source
    yield context.finding(
        f"credits {credited}, but the text copies {source.publisher} (source {source.id})",
        line=wrong.line, end_line=wrong.line, excerpt=wrong.text,
        credited=credited, publisher=source.publisher, source=source.id,
    )
