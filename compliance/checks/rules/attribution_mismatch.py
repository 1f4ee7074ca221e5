"""attribution-mismatch: a credit names a publisher that none of the sources the text copies has.

Each publisher an attribution line names is checked on its own: "Source: Associated Press /
CityAM" on a roundup of an AP story and an ascom.com release credits CityAM wrongly, though AP
is right. A byline naming a known outlet other than the sources ("By Jane Doe, CNN" on a
copy of a Seattle Times story) is a wrong credit too; a byline naming a person, a wire
dateline and a copyright line that name none of the sources are not (they are copied page
text, attribution-missing's business when nothing else credits the source).

Credit counts when the line names the publisher (or an alias, in any case, with or without
"The" or ".com"), or links to the publisher's site. With --fetch, a credited page that
was fetched and is not what the repost copies is a mismatch too.

PASSES (the text copies a Newsweek story)::

    Originally published by newsweek.com

FAILS (the same copy)::

    Source: Reuters
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from compliance.checks.attribution import Attribution, credits_source, outlet_bylines, outlet_for_name
from compliance.checks.context import CheckContext
from compliance.model import Finding, Source

TYPE = "attribution-mismatch"
DEFAULT_SCOPE = "all"
FIX = "a human must decide whom to credit: the credit that is there may be right and the catalogue wrong"  # no `fix()`: never fixed automatically
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
    """Each credit line naming publishers none of the copied sources has: a roundup crediting
    one of its sources and not another is attribution-missing's business."""
    if context.match is None:
        return
    sources = [match.source for match in context.matches]
    copied = " and ".join(f"{m.source.publisher} (source {m.source.id})" for m in context.matches)
    more = {"sources": [source.id for source in sources]} if len(sources) > 1 else {}
    for line in [*context.desk_credits(), *outlet_bylines(context.blocks)]:
        if any(_names_a_source(line, url, sources) for url in line.urls if "//" in url):
            continue  # a link to a copied page credits it, whatever name the desk gave it
        fetched = {page.url for page in context.pages}  # with --fetch the page itself tells (below)
        named = list(dict.fromkeys([*(name for name in line.names if _publisher_like(name)),
                                    *(url for url in line.urls if url not in fetched)]))
        if line.form == "byline":
            named = [name for name in named if outlet_for_name(name) is not None]  # outlets, not persons or page furniture
        wrong = [name for name in named if not _names_a_source(line, name, sources)]
        if not wrong:
            continue
        credited = ", ".join(wrong)
        yield context.finding(
            f"credits {credited}, but the text copies {copied}",
            line=line.line, end_line=line.line, excerpt=line.text,
            credited=credited, publisher=context.match.source.publisher, source=context.match.source.id, **more,
        )


_COMPANY_FORMS = frozenset({"inc", "ltd", "llc", "plc", "co", "corp", "gmbh", "sa", "ag", "srl", "bv", "nv"})


def _publisher_like(name: str) -> bool:
    """A name that can stand for a publisher on its own, not a piece a credit line was cut
    into: "Inc" of "Wikimedia Foundation, Inc.", "Le" of "Le Monde.fr" (whose domain is read
    apart), a time a date left behind. A known outlet's short form ("AP") always can."""
    letters = sum(c.isalpha() for c in name)
    if outlet_for_name(name) is not None:
        return True
    return letters >= 3 and letters > sum(c.isdigit() for c in name) and name.strip(" .").casefold() not in _COMPANY_FORMS


def _names_a_source(line: Attribution, name: str, sources: list[Source]) -> bool:
    """Whether one name (or link) of a credit line credits one of `sources`."""
    alone = dataclasses.replace(line, names=(name,) if name in line.names else (), urls=(name,) if name in line.urls else ())
    return any(credits_source(alone, source) for source in sources)
