"""An on-disk HTTP cache of fetched pages (SQLite), so scheduled scans do not refetch.

One row per requested URL: the body, where the redirects ended, and the validators
(`ETag`, `Last-Modified`) to revalidate with a conditional request once the entry is older
than its lifetime. Pages that are gone (404, 410) are remembered too, for the same
lifetime: a dead link in an old repost should not cost a request on every scan. Failures
that may pass (timeouts, 5xx, blocked addresses) are never stored.

A cache is only a saving: one found damaged (pages overwritten, its table dropped or
replaced) is reported once, as a warning, and given up for the rest of the run: pages are
fetched live, or are missing under --offline. A file that cannot be opened at all is still
the caller's error.
"""
from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    body BLOB NOT NULL,
    fetched_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Page:
    """A fetched page (or a remembered 404/410), as the cache and the client hand it over."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float = 0.0
    from_cache: bool = False

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.fetched_at


class PageCache:
    """Thread-safe; each call opens no new connection (one per cache, serialised by a lock)."""

    def __init__(self, path: Path, warn: Callable[[str], None] | None = None):
        self.path = path
        self.damage: str | None = None  # why the cache was given up, once it was
        self._warn = warn or _warn
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        with self._lock:
            self._use(lambda: self._db.execute(_SCHEMA), None)  # "file is not a database" shows here

    def get(self, url: str) -> Page | None:
        with self._lock:
            row = self._use(lambda: self._db.execute(
                "SELECT url, final_url, status, content_type, body, etag, last_modified, fetched_at FROM pages WHERE url = ?",
                (url,),
            ).fetchone(), None)
            if row is not None and not _well_formed(row):
                row = self._use(_malformed, None)
        if row is None:
            return None
        url, final_url, status, content_type, body, etag, last_modified, fetched_at = row
        return Page(url, final_url, status, content_type, bytes(body), etag, last_modified, fetched_at, from_cache=True)

    def put(self, page: Page) -> None:
        def insert() -> None:
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (page.url, page.final_url, page.status, page.content_type, page.etag, page.last_modified,
                     page.body, page.fetched_at),
                )

        with self._lock:
            self._use(insert, None)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _use(self, operation: Callable[[], T], otherwise: T) -> T:
        """`operation`, unless the cache is given up: then `otherwise`, and why said once.
        (The caller holds the lock.)"""
        if self.damage is not None:
            return otherwise
        try:
            return operation()
        except sqlite3.DatabaseError as exc:  # corrupt, not a database, no such table or column...
            self.damage = str(exc)
            self._warn(f"{self.path}: cannot use the HTTP cache ({exc}); going on without it")
            return otherwise


def _well_formed(row: tuple) -> bool:
    """The types the pages table was made with: SQLite keeps whatever was written instead."""
    url, final_url, status, content_type, body, etag, last_modified, fetched_at = row
    return (all(isinstance(v, str) for v in (url, final_url, content_type)) and type(status) is int
            and isinstance(body, bytes) and all(v is None or isinstance(v, str) for v in (etag, last_modified))
            and type(fetched_at) in (int, float))


def _malformed() -> None:
    raise sqlite3.DatabaseError("a page's row does not have the table's types")


def _warn(message: str) -> None:
    print(f"compliance: warning: {message}", file=sys.stderr)
