"""attribution-missing: the repost copies a source and nothing credits it.

A credit is an attribution line in the rule's scope ("Source: X", "Originally published
by X", "Credit: X", "Courtesy of X", "Via X", "This article first appeared on X",
"Reprinted from X", "Sourced from X", "Provided by X", "Original article: URL", ...), an
attribution field in the front matter, a link to the source's site (or one named as the
publisher is: newsweek.com for Newsweek), or the credit wire copy carries with it: a byline ("By JILL COLVIN,
Associated Press", "By The Associated Press"), a wire dateline ("WASHINGTON (Reuters) -")
or a copyright line ("Copyright 2018 The Associated Press") that names the source (its
publisher, an alias, or a known short form such as AP or AFP). A byline naming a person
only, and a citation ("according to Reuters"), credit no one. A date ("Originally published
July 15, 2018") is no credit either. A line that credits someone else is
attribution-mismatch's business, not this rule's.

The sources are the catalogue's matches (or, with --fetch, a credited page the repost copies):
each source of a roundup that no line credits is a finding of its own, naming it.
With no match, the repost's own words may still name its likely original publisher
("said in a statement to Newsweek", "Newsweek has contacted ...", "(Reuters) -"; see
compliance/checks/publisher.py): then something must credit that publisher.
Original writing with no such evidence needs no attribution.

Options: `credit_forms`, the kinds of credit that count (default: all of `line`,
`front-matter`, `link`, `byline`, `dateline`, `copyright`). A desk that demands an
explicit attribution line sets `credit_forms: [line, front-matter]`. `fix`, the desk's form
of the line that `compliance fix` adds (default "Source: {publisher} ({url})"; the `{url}`
part, with its brackets, is left out when the catalogue has no address for the source).

`compliance fix` adds one attribution line per uncredited source, in the `fix` form: in
text and Markdown a paragraph right before the disclaimer (at the end when there is none);
in HTML a `<p>` inside the article, before the disclaimer's element or after the last
paragraph; in Markdown with front matter and one uncredited source, a `source:` field
instead (when `credit_forms` counts front-matter fields).

PASSES (copies a Newsweek story)::

    Source: Newsweek (https://www.newsweek.com/iran-russia-missiles)

    The deepening military ties between Iran and Russia ...

FAILS (the same copy with no credit; without a catalogue too, since it says
"... said in a statement to Newsweek" and "Newsweek has contacted ...")::

    The deepening military ties between Iran and Russia ...

PASSES (copies an AP story; with `credit_forms: [line, front-matter]` it FAILS)::

    By JILL COLVIN, Associated Press

    WASHINGTON (AP) — President Donald Trump ...
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from compliance.checks.attribution import CREDIT_FORMS, Attribution, credits_source, outlet_bylines, source_credits
from compliance.checks.context import CheckContext, shorten
from compliance.checks.options import Option
from compliance.checks.publisher import LikelyPublisher, infer_publisher
from compliance.fix.context import FixContext
from compliance.fix.edits import Fix
from compliance.model import Finding, Source

TYPE = "attribution-missing"
DEFAULT_SCOPE = "all"
OPTIONS = {
    "credit_forms": Option(list, default=list(CREDIT_FORMS), help="the kinds of credit that count: " + ", ".join(CREDIT_FORMS)),
    "fix": Option(str, default="Source: {publisher} ({url})",
                  help="the attribution line `compliance fix` adds; {publisher} and {url} are the source's"),
}
FIX = "adds an attribution line crediting the source, in the form the `fix` option sets"
# The `{url}` placeholder with what only makes sense beside it: "({url})", " - {url}", ", {url}".
_MARKDOWN_PUNCTUATION = re.compile(r"[\\`*_\[\]<>&#!|~]")  # what could start markup in a line of Markdown
_MARKDOWN_IN_URLS = re.compile(r"[\\`*<>\[\]]")  # an address keeps its _ and & as they are
_URL_PART = re.compile(r"\s*(?:[-–—|,:;]\s*)?[(\[<]?\{url\}[)\]>]?")


_FORM_NAMES = {"line": "attribution line", "front-matter": "front-matter field", "link": "link", "byline": "byline",
               "dateline": "dateline", "copyright": "copyright line"}


def validate_options(options: dict) -> None:
    forms = options["credit_forms"]
    unknown = [form for form in forms if form not in CREDIT_FORMS]
    if unknown:
        raise ValueError(f"credit_forms: unknown form {unknown[0]!r} (known: {', '.join(CREDIT_FORMS)})")
    if not forms:
        raise ValueError("credit_forms needs at least one form, or nothing could ever credit a source")
    try:
        credit_line(options["fix"], "Publisher", "https://example.com/")
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise ValueError(f"fix: {options['fix']!r} is not a form with {{publisher}} and {{url}} ({exc})") from None
    if "{publisher}" not in options["fix"]:
        raise ValueError(f"fix: {options['fix']!r} must name {{publisher}}")


def credit_line(form: str, publisher: str, url: str | None, markdown: bool = False) -> str:
    """The desk's attribution line for a source; without an address, the form's url part left out.
    The catalogue's fields are anyone's text: one line of them, without control characters, and
    in Markdown with its punctuation escaped, so that a publisher's name never becomes markup."""
    if not url:
        form = _URL_PART.sub("", form)

    def plain(value: str, markup: re.Pattern) -> str:
        value = " ".join("".join(c for c in value if c.isprintable() or c.isspace()).split())
        return markup.sub(r"\\\g<0>", value) if markdown else value

    return " ".join(form.format(publisher=plain(publisher, _MARKDOWN_PUNCTUATION), url=plain(url or "", _MARKDOWN_IN_URLS)).split())


def fix(finding: Finding, context: FixContext) -> Fix | str:
    """One attribution line (or front-matter field) crediting the finding's source."""
    publisher = finding.evidence.get("publisher")
    if not publisher:
        return "the finding names no publisher to credit"
    source_id = finding.evidence.get("source")
    url = next((m.source.url for m in context.matches if m.source.id == source_id), None) if source_id else None
    forms = context.options["credit_forms"]
    alone = sum(1 for f in context.findings if f.rule == finding.rule) == 1
    if "front-matter" in forms and alone and context.document.metadata is not None:
        value = credit_line("{publisher} ({url})", publisher, url)  # a YAML string, quoted: no markup to fear
        edit = context.file.set_front_matter("source", value)
        if edit is not None:
            return Fix(finding.rule, finding.line, f'added the front-matter field source: "{value}"', (edit,))
    if "line" not in forms:
        return "not fixable here: this rule's credit_forms count neither attribution lines nor (here) a front-matter field"
    line = credit_line(context.options["fix"], publisher, url, markdown=context.document.format == "md")
    edit = context.before_the_disclaimer(line)
    if edit is None:
        return "not fixable here: no place in the article could be found for the line"
    return Fix(finding.rule, finding.line, f'added the attribution line "{line}"', (edit,))


def check(context: CheckContext) -> Iterator[Finding]:
    if context.match is None:
        yield from _check_inferred(context)
        return
    forms = context.options["credit_forms"]
    desk = context.desk_credits()
    credits = {match.source.id: _credits_of(context, desk, match.source) for match in context.matches}
    uncredited = [match for match in context.matches if not _counted(context, credits[match.source.id])]
    if len(uncredited) == len(context.matches) and (
            any(line.form in forms and line.credits_anyone for line in desk)
            or ("byline" in forms and outlet_bylines(context.blocks))):
        return  # a credit names someone, but none of the sources: attribution-mismatch says so
    for match in uncredited:
        source, found = match.source, credits[match.source.id]
        yield context.finding(
            f"copies {match.containment:.0%} of its text from {source.publisher} "
            f"(source {source.id}) but no line credits {source.publisher}{_uncounted_note(context, found)}",
            context.first_copied_block(match), excerpt=f"matched source: {source.publisher} — {source.title or source.id}",
            publisher=source.publisher, source=source.id, containment=match.containment, coverage=match.coverage,
            **_uncounted_evidence(found),
        )


def _credits_of(context: CheckContext, desk: list[Attribution], source: Source) -> list[Attribution]:
    """Everything that credits `source`: the desk's lines naming it, a link to its site, and
    the bylines, wire datelines and copyright lines naming it."""
    return [*(line for line in desk if credits_source(line, source)), *source_credits(context.document, context.blocks, source)]


def _counted(context: CheckContext, credits: list[Attribution]) -> bool:
    forms = context.options["credit_forms"]
    return any(credit.form in forms for credit in credits)


def _uncounted_note(context: CheckContext, credits: list[Attribution]) -> str:
    """Why a credit that is there does not count: the pack leaves its form out."""
    if not credits:
        return ""
    first = min(credits, key=lambda credit: credit.line)
    return (f" (the {_FORM_NAMES[first.form]} on line {first.line} does, "
            f"but this rule counts only: {', '.join(context.options['credit_forms'])})")


def _uncounted_evidence(credits: list[Attribution]) -> dict:
    if not credits:
        return {}
    return {"uncounted": [{"line": c.line, "form": c.form, "text": shorten(c.text, 80)} for c in credits]}


def _as_source(likely: LikelyPublisher) -> Source:
    """The inferred publisher in the shape the credit helpers compare against."""
    url = f"https://{likely.domains[0]}/" if likely.domains else None
    return Source(id="inferred", publisher=likely.name, text="", aliases=likely.aliases, url=url)


def _check_inferred(context: CheckContext) -> Iterator[Finding]:
    likely = infer_publisher(context.document, context.desk_texts)
    if likely is None:
        return
    publisher = _as_source(likely)
    credits = [*(a for a in context.desk_attributions(None) if credits_source(a, publisher)),
               *source_credits(context.document, context.blocks, publisher)]
    if _counted(context, credits):
        return
    said = ", ".join(f'"{shorten(c.phrase, 60)}" (line {c.line})' for c in likely.clues if c.kind != "link")
    first = likely.clues[0]
    yield context.finding(
        f"no attribution line credits the likely original publisher, {likely.name} (the text says {said})"
        f"{_uncounted_note(context, credits)}",
        line=first.line, end_line=first.line, excerpt=first.phrase,
        publisher=likely.name, inferred=True, score=likely.score,
        clues=[{"line": c.line, "kind": c.kind, "text": c.phrase, "weight": c.weight} for c in likely.clues],
        **_uncounted_evidence(credits),
    )
