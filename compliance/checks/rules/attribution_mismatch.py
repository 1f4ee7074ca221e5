"""attribution-mismatch: an attribution line credits someone other than the matched source.

Credit counts when the line names the publisher (or an alias, in any case, with or without
"The" or ".com"), or links to the publisher's site. With --fetch, a credited page that
was fetched and is not what the repost copies is a mismatch too.

PASSES (the text copies a Newsweek story)::

    Originally published by newsweek.com

FAILS (the same copy)::

    Source: Reuters
"""
from __future__ import annotations

from collections.abc import Iterator

from compliance.checks.attribution import credits_source, links_to_source
from compliance.checks.context import CheckContext
from compliance.model import Finding

TYPE = "attribution-mismatch"
DEFAULT_SCOPE = "all"
OPTIONS: dict = {}


def check(context: CheckContext) -> Iterator[Finding]:
    reported = list(_credits_someone_else(context))
    yield from reported
    yield from _pages_not_copied(context, {f.line for f in reported})


def _pages_not_copied(context: CheckContext, reported_lines: set[int]) -> Iterator[Finding]:
    """With --fetch: a credited page was read, and the repost is not a copy of it."""
    if any(page.status == "matched" for page in context.pages):
        return  # one of the credited pages is what it copies
    copied_from = context.match.source.publisher if context.match else "an unknown source"
    for page in context.pages:
        if page.status != "different" or page.line in reported_lines:
            continue
        reported_lines.add(page.line)
        yield context.finding(
            f"credits {page.url}, but the text is not what that page says "
            f"(only {page.containment or 0:.0%} of the repost is found there)",
            line=page.line, end_line=page.line, excerpt=page.url,
            credited=page.url, publisher=copied_from, url=page.url, containment=page.containment,
        )


def _credits_someone_else(context: CheckContext) -> Iterator[Finding]:
    match = context.match
    if match is None:
        return
    credits = context.desk_attributions(match.source)
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
