"""attribution-mismatch: the desk credits someone, but none of the sources the text copies.

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
    """The desk credits someone, and none of the sources the text copies: a roundup crediting
    one of its sources and not another is attribution-missing's business."""
    if context.match is None:
        return
    credits = context.desk_credits()
    if not credits or any(context.credits(match.source) for match in context.matches):
        return
    wrong = credits[0]
    credited = ", ".join(wrong.names or wrong.urls)
    source = context.match.source
    copied = " and ".join(f"{m.source.publisher} (source {m.source.id})" for m in context.matches)
    more = {"sources": [m.source.id for m in context.matches]} if len(context.matches) > 1 else {}
    yield context.finding(
        f"credits {credited}, but the text copies {copied}",
        line=wrong.line, end_line=wrong.line, excerpt=wrong.text,
        credited=credited, publisher=source.publisher, source=source.id, **more,
    )
