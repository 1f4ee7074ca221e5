"""Check credited pages against the repost: fetch, extract, compare like a catalogue source.

For each link in an attribution line that no catalogue source has as its URL, the page is
fetched (through the cache) and compared with the repost by the same MinHash candidates
and exact verification as the catalogue. A page the repost copies becomes the document's
match when the catalogue has none; one it does not copy, or one that cannot be had, is a
PageCheck the attribution rules report.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace

from compliance.checks.attribution import attribution_lines
from compliance.errors import ComplianceError
from compliance.fetch.cache import PageCache
from compliance.fetch.client import Fetcher, normalize_url
from compliance.fetch.extract import extract_source
from compliance.fetch.safety import FetchError
from compliance.fetch.settings import FetchSettings
from compliance.model import Document, Match, PageCheck, Source
from compliance.similarity import Matcher
from compliance.similarity.matcher import MatchSettings


@dataclass
class WebVerification:
    checks: list[PageCheck] = field(default_factory=list)
    match: Match | None = None  # the best credited page the repost copies


def credited_links(document: Document) -> list[tuple[int, str]]:
    """(line, url) of every http(s) link in an attribution line, first mention of each URL."""
    seen: dict[str, tuple[int, str]] = {}
    for attribution in attribution_lines(document, document.blocks):
        for url in attribution.urls:
            if url.lower().startswith(("http://", "https://")):
                seen.setdefault(normalize_url(url), (attribution.line, url))
    return list(seen.values())


class WebVerifier:
    """One per scan: remembers each URL's page, so reposts crediting the same page cost one fetch."""

    def __init__(self, fetcher: Fetcher, settings: MatchSettings, boilerplate: tuple[str, ...] = (),
                 catalogue_urls: set[str] | None = None):
        self.fetcher = fetcher
        self.settings = settings
        self.boilerplate = boilerplate
        self.catalogue_urls = {normalize_url(u) for u in (catalogue_urls or set())}
        # Thresholds at zero, so a page that is not copied still tells how much of it is;
        # the pack's thresholds are applied below, as the catalogue matcher applies them.
        self._measure = replace(settings, min_containment=0.0, min_coverage=0.0)
        self._pages: dict[str, tuple[Source | None, str, bool]] = {}

    def verify(self, document: Document) -> WebVerification:
        result = WebVerification()
        for line, url in credited_links(document):
            key = normalize_url(url)
            if key in self.catalogue_urls:
                continue  # the catalogue has it: matching already compared the repost with it
            source, reason, from_cache = self._page(key, url)
            if source is None:
                result.checks.append(PageCheck(url, line, "unverified", reason, from_cache=from_cache))
                continue
            found = Matcher.build([source], self._measure, self.boilerplate).match(document)
            copies = found is not None and self.settings.copies(found)
            containment = found.containment if found else 0.0
            result.checks.append(PageCheck(url, line, "matched" if copies else "different", "", containment, source, from_cache))
            if copies and (result.match is None or found.copied_words > result.match.copied_words):
                result.match = found
        return result

    def _page(self, key: str, url: str) -> tuple[Source | None, str, bool]:
        if key not in self._pages:
            try:
                page = self.fetcher.get(url)
                self._pages[key] = (extract_source(page), "", page.from_cache)
            except FetchError as error:
                self._pages[key] = (None, error.reason, False)
        return self._pages[key]

    def close(self) -> None:
        self.fetcher.close()


def open_fetcher(settings: FetchSettings) -> Fetcher:
    """A fetcher with its cache open; a cache that cannot be opened is a one-line error naming it."""
    cache = None
    if settings.cache_path is not None:
        try:
            cache = PageCache(settings.cache_path)
        except (sqlite3.Error, OSError) as exc:
            raise ComplianceError(f"cannot open the HTTP cache: {exc}", str(settings.cache_path)) from None
    return Fetcher(settings, cache)


def open_verifier(settings: FetchSettings, catalogue_urls: set[str], matching: MatchSettings,
                  boilerplate: tuple[str, ...] = ()) -> WebVerifier:
    return WebVerifier(open_fetcher(settings), matching, boilerplate, catalogue_urls)
