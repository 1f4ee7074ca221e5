"""Fetching credited pages: safety checks, an HTTP client, an on-disk cache, extraction.

Off unless a scan asks for it (`--fetch`, `--offline`, or `fetch: true` in the
configuration): a CI scan must not reach the web unexpectedly.
"""
from compliance.fetch.cache import Page, PageCache
from compliance.fetch.client import FetchSettings, Fetcher, normalize_url
from compliance.fetch.safety import FetchError

__all__ = ["FetchError", "FetchSettings", "Fetcher", "Page", "PageCache", "normalize_url"]
