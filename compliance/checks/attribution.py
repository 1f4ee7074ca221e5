"""Credits in a repost and whom they credit.

Two kinds. Attribution lines ("Source: X", "Originally published by X", ...), front-matter
fields and links are the desk's: one that credits someone else is a mismatch. Bylines, wire
datelines and copyright lines ("By JILL COLVIN, Associated Press", "WASHINGTON (Reuters) -",
"Copyright 2018 The Associated Press") travel with the copied text: they credit the source
when they name it, and naming someone else means nothing (a person, the desk's own footer).

Shared by the attribution-missing and attribution-mismatch rule types.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from compliance.checks.dates import only_glue, strip_dates
from compliance.checks.outlets import DOMAIN, OUTLETS, WIRE_DATELINE, Outlet, named_in, outlet_for_domain
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
    r"sourced\s+from\s*[:：]?",
    r"(?:content|story|article)\s+(?:courtesy\s+of|provided\s+by|from)\s*[:：]?",
    r"provided\s+by\s*[:：]?",  # phys.org's "Provided by European Space Agency"
    r"(?:original|article|story)\s+(?:source|article|story|post|link|url)\s*[:：]",  # "Original article: https://..."
]
_FORM = re.compile(r"^\s*(?:" + "|".join(ATTRIBUTION_FORMS) + r")\s*(?P<target>\S.*)$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>()\"']+|\b(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|info|news|co\.uk|co|io|fr|de|it|es|br|ar|cz|kr|uk|in|au|ca)\b", re.IGNORECASE)
_PARENS = re.compile(r"\([^)]*\)")
_DOMAIN_NAME = re.compile(DOMAIN, re.IGNORECASE)  # "© 2020 dropbox.tech"
_MAX_WORDS = 30  # attribution lines are short; a long sentence that starts "Via ..." is prose
# Front-matter fields that credit, as site generators spell them (folded: case, "_" and "-" ignored):
# `sourceUrl`, `canonical`, `original-link`, `credits`, `source_link`...
_FRONT_MATTER_FOLDED = frozenset({"source", "sourcename", "sourceurl", "sourcelink", "original", "originalurl",
                                  "originallink", "originalsource", "canonical", "canonicalurl", "canonicallink", "via",
                                  "credit", "credits", "attribution", "attributionurl", "syndicatedfrom", "republishedfrom"})


def _front_matter_credits(metadata: dict) -> list[tuple[str, str]]:
    """(key, text) of each attribution field: a text, a list of them (`credits: [AP, Reuters]`)
    or a mapping's texts (`source: {name: Reuters, url: ...}`)."""
    found: list[tuple[str, str]] = []
    for key, value in (metadata.items() if isinstance(metadata, dict) else ()):
        if not isinstance(key, str) or re.sub(r"[_\-\s]", "", key).casefold() not in _FRONT_MATTER_FOLDED:
            continue
        values = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        found += [(key, text) for text in values if isinstance(text, str) and text.strip()]
    return found
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or", "gob"}
# Company forms, and words a publisher's name may carry or drop: "Newsweek Magazine", "Vox
# Media", "Newsweek Digital LLC" and "Guardian Media Group" credit Newsweek, Vox and the Guardian.
_GENERIC_ENDINGS = {"inc", "ltd", "llc", "plc", "co", "corp", "gmbh", "sa", "the", "magazine", "newspaper", "online",
                    "digital", "media", "group", "company"}


# What can credit a source, as the attribution-missing rule's `credit_forms` option names them.
CREDIT_FORMS = ("line", "front-matter", "link", "byline", "dateline", "copyright")
_COPIED_FORMS = frozenset({"byline", "dateline", "copyright"})

_BY = re.compile(r"^(?:(?:written|reported|story|words|text)\s+)?by\s*:?\s+", re.IGNORECASE)  # "Written by Jane Doe for Reuters"
_BYLINE_MAX_WORDS = 16  # "By MEG KINNARD and ERRIN HAINES, Associated Press"
_NAME_LINE_MAX_WORDS = 8  # a byline without "By": "Tom Davies Associated Press"
_BYLINE_PARTS = re.compile(r"\s*(?:[,;|/•·]|\s[-–—]\s|\s(?:and|&)\s)\s*", re.IGNORECASE)
_BY_FOR = re.compile(r"\s+for\s+", re.IGNORECASE)  # "By Jane Doe for Reuters"; not "Sky News For Your Phone"
# Words of page furniture that put a publisher's name on a short line ("About Sky News",
# "More From the Los Angeles Times", "Follow Us On X"): no person is called that.
_NOT_PERSONS = frozenset({"about", "more", "from", "contact", "search", "follow", "us", "on", "subscribe", "read", "watch",
                          "listen", "get", "download", "latest", "top", "stories", "news", "in", "at", "with", "by", "to"})
_ROLE = re.compile(
    r"(?:\s+(?:(?:staff|senior|chief|business|political|politics|sports|science|medical|health|technology|tech|"
    r"entertainment|economics|energy|legal|diplomatic|national|foreign|special|white\s+house|congressional|education|"
    r"environment(?:al)?|religion|investigative|data|global|news)\s+)*"
    r"(?:writers?|correspondents?|reporters?|editors?|staff|contributors?|columnists?|journalists?))+$",
    re.IGNORECASE,
)  # "AP Business Writer" -> "AP", "Reuters Staff" -> "Reuters"
_CONNECTORS = frozenset({"and", "&", "of", "the", "for", "de", "da", "del", "der", "van", "von", "la", "le", "du", "al", "bin", "y"})
_COPYRIGHT = re.compile(r"(?:^|:\s+)(?:copyright\b\s*(?:©|\(c\))?|©|\(c\)(?=\s*(?:19|20)\d\d))\s*(?P<target>.*)$",
                        re.IGNORECASE | re.DOTALL)
_COPYRIGHT_MAX_WORDS = 40
_PICTURE = re.compile(r"\b(?:photo|foto|image|picture|video|graphic|illustration)s?\b", re.IGNORECASE)
_LOWERCASE_WORD = re.compile(r"(?<!\S)[a-z]")
_COPYRIGHT_MAX_CHARS, _BYLINE_MAX_CHARS = 400, 200  # tested before counting words
_YEARS = re.compile(r"(?:^|\s)(?:19|20)\d{2}(?:\s*[-–—]\s*(?:(?:19|20)\d{2})?)?(?=[\s,.;|]|$)")
_RIGHTS = re.compile(r"\ball\s+rights\b|\ball\W*$|\btodos\s+(?:os|los)\s+(?:direitos|derechos)|\btous\s+droits|\balle\s+rechte|"
                     r"\bsome\s+rights|\breproduction\b", re.IGNORECASE)


@dataclass(frozen=True)
class Attribution:
    line: int
    text: str
    names: tuple[str, ...]
    urls: tuple[str, ...]
    form: str = "line"  # one of CREDIT_FORMS

    @property
    def credits_anyone(self) -> bool:
        return bool(self.names or self.urls)


def registrable_domain(url_or_host: str) -> str:
    """example.co.uk from https://www.news.example.co.uk/x (without the public suffix list)."""
    try:
        host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host.split("/")[0]
    except ValueError:  # "http://[" in a repost: an unclosed IPv6 bracket, or a port that is no number
        return ""
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
    names = tuple(part.strip(" .,;:-–—|/") for part in parts if not only_glue(part))  # "A / ascom.com / B": the domain is read apart
    bare_domains = tuple(url for url in urls if "//" not in url)  # "Source: cnn.com" names cnn too
    return names + bare_domains, urls


def attribution_lines(document: Document, blocks: list[Block]) -> list[Attribution]:
    """Attribution lines among `blocks`, plus attribution fields of Markdown front matter."""
    found: list[Attribution] = []
    for key, value in _front_matter_credits(document.metadata):
        names, urls = _split_target(value)
        found.append(Attribution(1, f"{key}: {value}", names, urls, "front-matter"))
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
    known_names = publisher_names(source)
    if any(_site_of(registrable_domain(url), source_domain, known_names) for url in attribution.urls):
        return True
    for name in attribution.names:
        if attribution.form not in _COPIED_FORMS:
            agrees = any(names_agree(name, known) for known in known_names)
        else:
            agrees = any(_names_the_publisher(name, known, attribution.form == "byline") for known in known_names)
        if agrees:
            return True
        if source_domain and _URL.fullmatch(name.strip()) and registrable_domain(name.strip()) == source_domain:
            return True
    return False


def _site_of(domain: str, source_domain: str, known_names: tuple[str, ...]) -> bool:
    """Whether a credited site is the publisher's: the source's own site, one the outlet table
    gives the publisher (apnews.com for "AP"), or one named as the publisher is (newsweek.com
    for Newsweek, when the catalogue gives no URL)."""
    if not domain:
        return False
    if domain == source_domain:
        return True
    outlet = outlet_for_domain(domain)
    key = name_key(domain)
    return any((outlet is not None and known == outlet.name) or name_key(known) == key for known in known_names)


def credit_test(document: Document) -> Callable[[Source], bool]:
    """Whether anything in `document` credits a source: an attribution line, a link to its
    site, a byline, wire dateline or copyright line naming it. Matching asks it to tell which
    version of a story the repost took; the lines are read at the first question."""
    lines: list[Attribution] | None = None

    def credits(source: Source) -> bool:
        nonlocal lines
        if lines is None:
            lines = [a for a in attribution_lines(document, [*document.blocks, *document.furniture]) if a.credits_anyone]
            lines += copied_credits(document.blocks)
        return any(credits_source(line, source) for line in lines) or links_to_source(document, source)
    return credits


def links_to_source(document: Document, source: Source) -> bool:
    """A link to the source's site anywhere in the article counts as crediting it."""
    return bool(_link_credits(document, source))


def _link_credits(document: Document, source: Source) -> list[Attribution]:
    domain, known = registrable_domain(source.url) if source.url else "", publisher_names(source)
    return [Attribution(link.line, link.url, (), (link.url,), "link") for link in document.links
            if link.url.startswith("http") and _site_of(registrable_domain(link.url), domain, known)][:1]


def source_credits(document: Document, blocks: list[Block], source: Source) -> list[Attribution]:
    """What credits `source` besides attribution lines: a link to its site, and the bylines,
    wire datelines and copyright lines among `blocks` that name it."""
    return [*_link_credits(document, source), *(a for a in copied_credits(blocks) if credits_source(a, source))]


def copied_credits(blocks: list[Block]) -> list[Attribution]:
    """Bylines, wire datelines and copyright lines: the credit copied text carries with it."""
    found: list[Attribution] = []
    for block in blocks:
        if block.kind in (BlockKind.TITLE, BlockKind.CAPTION, BlockKind.FURNITURE):  # the page's other stories' bylines are not this one's
            continue
        text = block.text
        dateline = WIRE_DATELINE.match(text) if "(" in text[:100] else None
        if dateline:
            found.append(Attribution(block.line, dateline.group(0), (named_in(dateline),), (), "dateline"))
            continue
        if len(text) > _COPYRIGHT_MAX_CHARS:
            continue  # a paragraph: most blocks end here
        if "©" in text or "opyright" in text or "(c)" in text.lower():
            names = _copyright_names(text) if len(text.split(None, _COPYRIGHT_MAX_WORDS)) <= _COPYRIGHT_MAX_WORDS else ()
            if names:
                found.append(Attribution(block.line, text, names, (), "copyright"))
        elif len(text) <= _BYLINE_MAX_CHARS and not _FORM.match(text):  # "Source - X" is an attribution line
            names = _byline_names(text)
            if names:
                found.append(Attribution(block.line, text, names, (), "byline"))
    return found


def outlet_bylines(blocks: list[Block]) -> list[Attribution]:
    """"By Jane Doe, CNN": bylines crediting a known outlet. Not a bare name line ("CBS Sports
    Writer", "ABC News. 15 November"): a page's chrome holds those of its other stories."""
    return [credit for credit in copied_credits(blocks)
            if credit.form == "byline" and _BY.match(credit.text) and any(outlet_for_name(name) for name in credit.names)]


def _namelike(text: str) -> bool:
    """Capitalised words, joined by "and", "of", "de"...: how bylines and publishers are written."""
    words = [w for w in text.split() if any(c.isalnum() for c in w)]

    def capitalised(word: str) -> bool:
        return word[0].isupper() or word[0].isdigit() or bool(_URL.fullmatch(word.strip(".,;:")))

    return bool(words) and capitalised(words[0]) and all(capitalised(w) or w.casefold() in _CONNECTORS for w in words)


def _byline_names(text: str) -> tuple[str, ...]:
    """The parts of a byline ("By JILL COLVIN, Associated Press" -> JILL COLVIN, Associated Press)."""
    text = text.strip()
    if not text[:1].isupper() or len(_LOWERCASE_WORD.findall(text)) > 4:
        return ()  # prose; tested first as most short paragraphs are
    text = strip_dates(" ".join(text.split()))  # "The Associated Press Published Monday, November 18, 2019 8:22AM EST"
    by = _BY.match(text)
    body = text[by.end():] if by else text
    if ":" in body or len(body.split()) > (_BYLINE_MAX_WORDS if by else _NAME_LINE_MAX_WORDS) or not _names_in_byline(body, bool(by)):
        return ()  # a label ("Foto: LA NACION", "Source: X" is an attribution line), or not a name
    if by:
        body = _BY_FOR.sub(", ", body)
    parts = []
    for part in _BYLINE_PARTS.split(body):
        # "AP Business Writer" names AP; "The Hollywood Reporter" is a publisher, with its last word
        parts += dict.fromkeys(candidate.strip(" .,;:-–—|") for candidate in (_ROLE.sub("", part), part))
    # What follows the person, whole: a publisher whose name holds a separator ("By Rmb,
    # Remember 80/90 - Memorabilia anni 80/90").
    parts += [body[cut.end():] for cut in list(_BYLINE_PARTS.finditer(body))[:1] if body[cut.end():] not in parts]
    return tuple(dict.fromkeys(part for part in parts if part and not only_glue(part)))


def _names_in_byline(body: str, by: bool) -> bool:
    """Names as bylines write them. After "By" and a name, a separator says a publisher follows,
    whose words need not all be capitalised, only its first ("By Rmb, Remember 80/90 -
    Memorabilia anni 80/90"), as after a copyright mark."""
    if _namelike(body):
        return True
    cut = _BYLINE_PARTS.search(body) if by else None
    if cut is None or not _namelike(body[: cut.start()]):
        return False
    rest = [part for part in _BYLINE_PARTS.split(body[cut.end():]) if part.strip(" .,;:-–—|")]
    return bool(rest) and all(_capitalised(part.strip(" .,;:-–—|")) for part in rest)


def _copyright_names(text: str) -> tuple[str, ...]:
    """Who a copyright line names ("Copyright 2018 The Associated Press. All rights reserved.")."""
    text = " ".join(text.split())
    line = _COPYRIGHT.search(text)
    if line is None or _PICTURE.search(text, 0, line.start() + 1):
        return ()  # "Photo: © AP" credits a picture, not the text
    target = re.sub(r"\b(?:provided\s+by|copyright)\b|©|\(c\)", " ", line.group("target"), flags=re.IGNORECASE)
    target = _YEARS.sub(" ", _RIGHTS.split(target, 1)[0])
    parts = (part.strip(" .,;:-–—|") for part in re.split(r"[.|;]\s+|\s[-–—]\s|,\s+", target))
    # The copyright mark already says a name follows: its words need not all be capitalised
    # ("Copyright 2015 Kabar tentang Dunia Islam"), only the first ("© 2014 eHow", "9To5Mac").
    return tuple(part for part in parts if part and len(part.split()) <= 8 and (_capitalised(part) or _DOMAIN_NAME.fullmatch(part))
                 and not only_glue(part))


def _capitalised(name: str) -> bool:
    """A name's first word as names are written: "Reuters", "9To5Mac", "eHow" (not "all rights")."""
    first = name.split()[0]
    return first[0].isupper() or first[0].isdigit() or any(c.isupper() for c in first[1:])


def _fold(name: str) -> list[str]:
    words = _words(name)
    while words and words[-1] in _GENERIC_ENDINGS:
        words.pop()
    return words


def _names_the_publisher(credited: str, publisher: str, in_byline: bool) -> bool:
    """Whether a byline, dateline or copyright part names the publisher: the same name (a typo
    allowed), or ending in it: after a company's form ("SA LA NACION") in a copyright line,
    after a person's name in a byline ("Tom Davies Associated Press"). A name of one word
    ends a part only if it is a wire service's: "Jane Doe Reuters" credits Reuters, "By Mark
    Forbes" is a person, not Forbes."""
    a, b = name_key(credited), name_key(publisher)
    if not a or not b:
        return False
    if a == b or (min(len(a), len(b)) >= 6 and fuzz.ratio(a, b) >= 90):
        return True
    said, name = _fold(credited), _fold(publisher)
    if not name or len(said) <= len(name) or said[-len(name):] != name:
        return False
    if in_byline and not _a_person(credited.split()[: len(said) - len(name)]):
        return False
    outlet = outlet_for_name(publisher)
    return len(name) >= 2 or bool(outlet and outlet.agency)


def _a_person(words: list[str]) -> bool:
    """Two to four capitalised words, none of page furniture: "Tom Davies", "MEG KINNARD"."""
    return 2 <= len(words) <= 4 and all(w[:1].isupper() and w.casefold() not in _NOT_PERSONS for w in words)
