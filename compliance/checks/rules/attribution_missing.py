"""attribution-missing: the repost copies a source and nothing credits it.

A credit is an attribution line in the rule's scope ("Source: X", "Originally published
by X", "Credit: X", "Courtesy of X", "Via X", "This article first appeared on X",
"Reprinted from X", ...), an attribution field in the front matter, a link to the
source's site, or the credit wire copy carries with it: a byline ("By JILL COLVIN,
Associated Press", "By The Associated Press"), a wire dateline ("WASHINGTON (Reuters) -")
or a copyright line ("Copyright 2018 The Associated Press") that names the source (its
publisher, an alias, or a known short form such as AP or AFP). A byline naming a person
only, and a citation ("according to Reuters"), credit no one. A date ("Originally published
July 15, 2018") is no credit either. A line that credits someone else is
attribution-mismatch's business, not this rule's.

The source is the catalogue's match (or, with --fetch, a credited page the repost copies).
With no match, the repost's own words may still name its likely original publisher
("said in a statement to Newsweek", "Newsweek has contacted ...", "(Reuters) -"; see
compliance/checks/publisher.py): then something must credit that publisher.
Original writing with no such evidence needs no attribution.

PASSES (copies a Newsweek story)::

    Source: Newsweek (https://www.newsweek.com/iran-russia-missiles)

    The deepening military ties between Iran and Russia ...

FAILS (the same copy with no credit; without a catalogue too, since it says
"... said in a statement to Newsweek" and "Newsweek has contacted ...")::

    The deepening military ties between Iran and Russia ...

PASSES (copies an AP story)::

    By JILL COLVIN, Associated Press

    WASHINGTON (AP) — President Donald Trump ...
"""
from __future__ import annotations

from collections.abc import Iterator

from compliance.checks.attribution import credits_source, source_credits
from compliance.checks.context import CheckContext, shorten
from compliance.checks.publisher import LikelyPublisher, infer_publisher
from compliance.model import Finding, Source

TYPE = "attribution-missing"
DEFAULT_SCOPE = "all"
OPTIONS: dict = {}


def check(context: CheckContext) -> Iterator[Finding]:
    match = context.match
    if match is None:
        yield from _check_inferred(context)
        return
    source = match.source
    if context.desk_attributions(source):
        return  # any desk line crediting anyone will do here: crediting someone else is a mismatch
    if source_credits(context.document, context.blocks, source):
        return
    first = context.first_copied_block()
    yield context.finding(
        f"copies {match.containment:.0%} of its text from {source.publisher} "
        f"(source {source.id}) but no line credits {source.publisher}",
        first, excerpt=f"matched source: {source.publisher} — {source.title or source.id}",
        publisher=source.publisher, source=source.id, containment=match.containment, coverage=match.coverage,
    )


def _as_source(likely: LikelyPublisher) -> Source:
    """The inferred publisher in the shape the credit helpers compare against."""
    url = f"https://{likely.domains[0]}/" if likely.domains else None
    return Source(id="inferred", publisher=likely.name, text="", aliases=likely.aliases, url=url)


def _check_inferred(context: CheckContext) -> Iterator[Finding]:
    likely = infer_publisher(context.document, context.desk_texts)
    if likely is None:
        return
    publisher = _as_source(likely)
    if any(credits_source(a, publisher) for a in context.desk_attributions(None)):
        return
    if source_credits(context.document, context.blocks, publisher):
        return
    said = ", ".join(f'"{shorten(c.phrase, 60)}" (line {c.line})' for c in likely.clues if c.kind != "link")
    first = likely.clues[0]
    yield context.finding(
        f"no attribution line credits the likely original publisher, {likely.name} (the text says {said})",
        line=first.line, end_line=first.line, excerpt=first.phrase,
        publisher=likely.name, inferred=True, score=likely.score,
        clues=[{"line": c.line, "kind": c.kind, "text": c.phrase, "weight": c.weight} for c in likely.clues],
    )
