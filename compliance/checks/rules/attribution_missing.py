"""attribution-missing: the repost copies a source and nothing credits it.

A credit is an attribution line in the rule's scope ("Source: X", "Originally published
by X", "Credit: X", "Courtesy of X", "Via X", "This article first appeared on X",
"Reprinted from X", ...), an attribution field in the front matter, or a link to the
source's site. A line that credits someone else is attribution-mismatch's business, not
this rule's.

The sources are the catalogue's matches (or, with --fetch, a credited page the repost copies):
each source of a roundup that no line credits is a finding of its own, naming it.
With no match, the repost's own words may still name its likely original publisher
("said in a statement to Newsweek", "Newsweek has contacted ...", "(Reuters) -"; see
compliance/checks/publisher.py): then an attribution line must credit that publisher.
Original writing with no such evidence needs no attribution.

PASSES (copies a Newsweek story)::

    Source: Newsweek (https://www.newsweek.com/iran-russia-missiles)

    The deepening military ties between Iran and Russia ...

FAILS (the same copy with no credit; without a catalogue too, since it says
"... said in a statement to Newsweek" and "Newsweek has contacted ...")::

    The deepening military ties between Iran and Russia ...
"""
from __future__ import annotations

from collections.abc import Iterator

from compliance.checks.attribution import credits_source, links_to_source
from compliance.checks.context import CheckContext, shorten
from compliance.checks.publisher import LikelyPublisher, infer_publisher
from compliance.model import Finding, Source

TYPE = "attribution-missing"
DEFAULT_SCOPE = "all"
OPTIONS: dict = {}


def check(context: CheckContext) -> Iterator[Finding]:
    if context.match is None:
        yield from _check_inferred(context)
        return
    uncredited = [match for match in context.matches if not context.credits(match.source)]
    if len(uncredited) == len(context.matches) and context.desk_credits():
        return  # the desk credits someone, but none of the sources: attribution-mismatch says so
    for match in uncredited:
        source = match.source
        yield context.finding(
            f"copies {match.containment:.0%} of its text from {source.publisher} "
            f"(source {source.id}) but no line credits {source.publisher}",
            context.first_copied_block(match), excerpt=f"matched source: {source.publisher} — {source.title or source.id}",
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
    if links_to_source(context.document, publisher):
        return
    said = ", ".join(f'"{shorten(c.phrase, 60)}" (line {c.line})' for c in likely.clues if c.kind != "link")
    first = likely.clues[0]
    yield context.finding(
        f"no attribution line credits the likely original publisher, {likely.name} (the text says {said})",
        line=first.line, end_line=first.line, excerpt=first.phrase,
        publisher=likely.name, inferred=True, score=likely.score,
        clues=[{"line": c.line, "kind": c.kind, "text": c.phrase, "weight": c.weight} for c in likely.clues],
    )
