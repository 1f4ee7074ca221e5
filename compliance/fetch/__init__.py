"""Fetching credited pages: safety checks, an HTTP client, an on-disk cache, extraction.

Off unless a scan asks for it (`--fetch`, `--offline`, or `fetch: true` in the
configuration): a CI scan must not reach the web unexpectedly.
"""
from compliance.fetch.cache import Page, PageCache
from compliance.fetch.settings import FetchSettings, FetchStats

__all__ = ["FetchError", "FetchSettings", "FetchStats", "Fetcher", "Page", "PageCache", "normalize_url"]


def __getattr__(name: str):
    """The HTTP client and its errors, imported (with requests) only when asked for."""
    if name in ("Fetcher", "normalize_url"):
        from compliance.fetch import client

        return getattr(client, name)
    if name == "FetchError":
        from compliance.fetch.safety import FetchError

        return FetchError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
