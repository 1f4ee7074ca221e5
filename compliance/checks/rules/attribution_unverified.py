"""attribution-unverified: a page an attribution line links to could not be fetched or read.

Only scans that verify attributions online (`--fetch`, or `--offline` from the cache) look
at credited links; a link to a catalogue source's URL is not fetched. The finding says
why: a timeout, HTTP 404, not HTML or text, too large, a blocked (private, loopback...)
address, no article text on the page, the request budget spent, or not in the cache.

PASSES (the credited page is there, and it is what the repost copies)::

    Source: Newsweek https://www.newsweek.com/iran-russia-missiles-niac-1950000

FAILS (the credited page is gone: HTTP 404)::

    Source: Newsweek https://www.newsweek.com/no-such-story
"""
from __future__ import annotations

from collections.abc import Iterator

from compliance.checks.context import CheckContext
from compliance.model import Finding

TYPE = "attribution-unverified"
DEFAULT_SCOPE = "all"
FIX = "only fetching the page again, or a human reading it, can settle it"  # no `fix()`: never fixed automatically
OPTIONS: dict = {}


def check(context: CheckContext) -> Iterator[Finding]:
    for page in context.pages:
        if page.status != "unverified":
            continue
        yield context.finding(
            f"cannot verify the credited page {page.url}: {page.reason}",
            line=page.line, end_line=page.line, excerpt=page.url, url=page.url, reason=page.reason,
        )
