"""An on-disk HTTP cache of fetched pages (SQLite), so scheduled scans do not refetch.

One row per requested URL: the body, where the redirects ended, and the validators
(`ETag`, `Last-Modified`) to revalidate with a conditional request once the entry is older
than its lifetime. Pages that are gone (404, 410) are remembered too, for the same
lifetime: a dead link in an old repost should not cost a request on every scan. Failures
that may pass (timeouts, 5xx, blocked addresses) are never stored.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        with self._lock, self._db:
            self._db.execute(_SCHEMA)

    def get(self, url: str) -> Page | None:
        with self._lock:
            row = self._db.execute(
                "SELECT url, final_url, status, content_type, body, etag, last_modified, fetched_at FROM pages WHERE url = ?",
                (url,),
            ).fetchone()
        if row is None:
            return None
        url, final_url, status, content_type, body, etag, last_modified, fetched_at = row
        return Page(url, final_url, status, content_type, bytes(body), etag, last_modified, fetched_at, from_cache=True)

    def put(self, page: Page) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (page.url, page.final_url, page.status, page.content_type, page.etag, page.last_modified,
                 page.body, page.fetched_at),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
