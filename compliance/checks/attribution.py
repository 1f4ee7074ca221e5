"""Attribution lines ("Source: X", "Originally published by X", ...) and whom they credit.

Shared by the attribution-missing and attribution-mismatch rule types.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from compliance.checks.dates import only_glue, strip_dates
from compliance.checks.outlets import OUTLETS, Outlet, outlet_for_domain
from compliance.model import Block, BlockKind, Document, Source
from compliance.similarity.tokens import normalize_text

# The forms desks use. Each captures the credited text in `target`.
ATTRIBUTION_FORMS = [
    r"sources?\s*[:：\-–—]",
    r"credits?\s*[:：\-–—]",
    r"courtesy\b(?:\s+of)?\s*[:：]?",
    r"via\b\s*[:：]?",  # not "VIAF: 130102165", "Viacom's ..."
    r"(?:this\s+(?:article|story|post|piece)\s+)?(?:was\s+)?(?:originally|first)\s+(?:published|appeared|posted|ran)\s*(?:by|in|on|at)?\s*[:：]?",
    r"re(?:printed|published|posted)\s+(?:with\s+permission\s+)?(?:from|by)\s*[:：]?",
    r"(?:read|see|view)\s+(?:the\s+)?original\s+(?:article|story|post)?\s*(?:at|on|in)?\s*[:：]?",
    r"(?:adapted|taken|copied)\s+from\s*[:：]?",
    r"attribution\s*[:：]",
]
_FORM = re.compile(r"^\s*(?:" + "|".join(ATTRIBUTION_FORMS) + r")\s*(?P<target>\S.*)$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>()\"']+|\b(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|info|news|co\.uk|co|io|fr|de|it|es|br|ar|cz|kr|uk|in|au|ca)\b", re.IGNORECASE)
_PARENS = re.compile(r"\([^)]*\)")
_MAX_WORDS = 30  # attribution lines are short; a long sentence that starts "Via ..." is prose
_FRONT_MATTER_KEYS = ("source", "source_name", "source_url", "original_url", "canonical_url", "via", "credit", "attribution")
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or", "gob"}
_GENERIC_ENDINGS = {"inc", "ltd", "llc", "plc", "co", "corp", "gmbh", "sa", "the"}


@dataclass(frozen=True)
class Attribution:
    line: int
    text: str
    names: tuple[str, ...]
    urls: tuple[str, ...]

    @property
    def credits_anyone(self) -> bool:
        return bool(self.names or self.urls)


def registrable_domain(url_or_host: str) -> str:
    """example.co.uk from https://www.news.example.co.uk/x (without the public suffix list)."""
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host.split("/")[0]
    labels = [label for label in (host or "").lower().strip(".").split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def name_key(name: str) -> str:
    """A publisher name folded for comparison: 'The Spokesman-Review' -> 'spokesmanreview'."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    if _URL.fullmatch(text):
        text = registrable_domain(text).split(".")[0]
    words = re.findall(r"\w+", text)
    while words and words[-1] in _GENERIC_ENDINGS:
        words.pop()
    if words and words[0] == "the":
        words = words[1:]
    return "".join(words)


_OUTLETS_BY_KEY: dict[str, Outlet] = {}
for _outlet in OUTLETS:
    for _name in (_outlet.name, *_outlet.aliases):
        _OUTLETS_BY_KEY.setdefault(name_key(_name), _outlet)


def outlet_for_name(name: str) -> Outlet | None:
    """The outlet of the table that goes by `name` ("AP", "The Associated Press", "ap news")."""
    return _OUTLETS_BY_KEY.get(name_key(name))


def publisher_names(source: Source) -> tuple[str, ...]:
    """The names a credit of `source` may use: its publisher and aliases, and, when the outlet
    table knows the publisher (by name or by the source's site), that outlet's names too, so
    that "AP" credits a source published as "Associated Press"."""
    names = (source.publisher, *source.aliases)
    outlet = next(filter(None, map(outlet_for_name, names)), None)
    if outlet is None and source.url:
        outlet = outlet_for_domain(registrable_domain(source.url))
    return tuple(dict.fromkeys((*names, outlet.name, *outlet.aliases))) if outlet else names


def _words(name: str) -> list[str]:
    return [w for w in re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold()) if w != "the"]


def names_agree(credited: str, publisher: str) -> bool:
    """Whether a credited name is the publisher's: same name folded, a typo, or a longer form."""
    a, b = name_key(credited), name_key(publisher)
    if not a or not b:
        return False
    if a == b or (min(len(a), len(b)) >= 6 and fuzz.ratio(a, b) >= 90):
        return True
    short, long_ = sorted((_words(credited), _words(publisher)), key=len)
    if len(short) < 2:
        return False
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


def _split_target(target: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names and URLs a credit's target names; a date or time names no one."""
    urls = tuple(m.group(0).rstrip(".,;") for m in _URL.finditer(target))
    name = strip_dates(_PARENS.sub(" ", _URL.sub(" ", target)))
    name = " ".join(name.split()).strip(" .,;:-–—|")
    parts = re.split(r"\s+(?:/|\||and|&)\s+|[;,]\s+", name) if name else []
    names = tuple(part.strip(" .,;:-–—|") for part in parts if not only_glue(part))
    bare_domains = tuple(url for url in urls if "//" not in url)  # "Source: cnn.com" names cnn too
    return names + bare_domains, urls


def attribution_lines(document: Document, blocks: list[Block]) -> list[Attribution]:
    """Attribution lines among `blocks`, plus attribution fields of Markdown front matter."""
    found: list[Attribution] = []
    for key in _FRONT_MATTER_KEYS:
        value = document.metadata.get(key)
        if isinstance(value, str) and value.strip():
            names, urls = _split_target(value)
            found.append(Attribution(1, f"{key}: {value}", names, urls))
    for block in blocks:
        if block.kind == BlockKind.CAPTION:
            continue
        form = _FORM.match(block.text)
        if not form or len(block.text.split()) > _MAX_WORDS:
            continue
        names, urls = _split_target(form.group("target"))
        links = tuple(link.url for link in document.links if block.line <= link.line <= block.end_line and link.url.startswith("http"))
        found.append(Attribution(block.line, block.text, names, urls + links))
    return found


def desk_attributions(document: Document, blocks: list[Block], source: Source | None) -> list[Attribution]:
    """Attribution lines the desk wrote: a byline copied with the article credits no one."""
    crediting = [a for a in attribution_lines(document, blocks) if a.credits_anyone]
    if not crediting or source is None:
        return crediting
    source_text = normalize_text(source.text)
    return [a for a in crediting if normalize_text(a.text) not in source_text]


def credits_source(attribution: Attribution, source: Source) -> bool:
    source_domain = registrable_domain(source.url) if source.url else ""
    if source_domain and any(registrable_domain(url) == source_domain for url in attribution.urls):
        return True
    known_names = publisher_names(source)
    for name in attribution.names:
        if any(names_agree(name, known) for known in known_names):
            return True
        if source_domain and _URL.fullmatch(name.strip()) and registrable_domain(name.strip()) == source_domain:
            return True
    return False


def links_to_source(document: Document, source: Source) -> bool:
    """A link to the source's site anywhere in the article counts as crediting it."""
    if not source.url:
        return False
    domain = registrable_domain(source.url)
    return any(link.url.startswith("http") and registrable_domain(link.url) == domain for link in document.links)
