"""How credited pages are fetched, and what fetching cost: settings a scan reads whether
or not it fetches, kept apart from the HTTP client so that a scan that does not fetch never
imports requests."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compliance import __version__

USER_AGENT = f"compliance/{__version__} (republishing compliance checker; verifies credited sources)"
DAY = 86_400.0


@dataclass(frozen=True)
class FetchSettings:
    """How credited pages are fetched. Off unless asked for: a CI scan must not reach the web unexpectedly."""

    enabled: bool = False
    offline: bool = False  # the cache only, whatever its age
    allow_hosts: frozenset[str] = frozenset()
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0  # a server that drips a byte a second must not hold a scan
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    request_budget: int = 200
    per_host: int = 2
    cache_path: Path | None = None  # None: no cache
    cache_lifetime: float = 7 * DAY
    user_agent: str = USER_AGENT


@dataclass
class FetchStats:
    requests: int = 0
    cache_hits: int = 0
    revalidated: int = 0
    failures: dict[str, int] = field(default_factory=dict)
