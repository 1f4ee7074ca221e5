"""Fetch a credited page safely: requests with timeouts, a size cap, checked redirects.

Redirects are followed by hand, so that every hop is checked (`safety.check_url`) before
it is requested, and so are retries (5xx answers and failed connections, with backoff), so
that every request sent, hop or retry, spends one request of the scan's budget. All of a
page's hops and tries share one deadline (`total_timeout`, see deadline.py). At most
`per_host` requests run at once against one host.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from compliance.fetch.cache import Page, PageCache
from compliance.fetch.deadline import PageDeadline
from compliance.fetch.safety import FetchError, GuardedAdapter, check_url
from compliance.fetch.settings import FetchSettings, FetchStats

ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
REMEMBERED_STATUSES = (404, 410)  # gone for good: cached like a page
RETRIED_STATUSES = (500, 502, 503, 504)  # may pass: asked again, `retries` times at most
_REDIRECTS = (301, 302, 303, 307, 308)
_BLOCKED = re.compile(r"blocked address: \S+ resolves to \S+ \([a-z -]+\)")


def normalize_url(url: str) -> str:
    """The cache key: no fragment (never sent), scheme and host lower-case."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def _session(settings: FetchSettings) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment for links others wrote
    session.headers.update({"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9"})
    # No retries in urllib3: its retries were requests the budget never saw (Fetcher._exchange retries).
    adapter = GuardedAdapter(settings.allow_hosts, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _content_type(response: requests.Response) -> str:
    return (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


class Fetcher:
    """Fetches pages through the cache; safe to share between threads."""

    def __init__(self, settings: FetchSettings, cache: PageCache | None = None):
        self.settings = settings
        self.cache = cache
        self.stats = FetchStats()
        self._session = _session(settings)
        self._lock = threading.Lock()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}

    def get(self, url: str) -> Page:
        """The page at `url` (a 200 with HTML or text), or FetchError saying why not."""
        key = normalize_url(url)
        cached = self.cache.get(key) if self.cache else None
        if cached and (self.settings.offline or cached.age() < self.settings.cache_lifetime):
            with self._lock:
                self.stats.cache_hits += 1
            try:
                return _usable(cached)
            except FetchError as error:
                raise self._failed(error) from None
        if self.settings.offline:
            raise self._failed(FetchError("offline", "not in the HTTP cache, and --offline forbids fetching"))
        try:
            page = self._download(key, cached)
        except FetchError as error:
            raise self._failed(error) from None
        if self.cache and (page.status == 200 or page.status in REMEMBERED_STATUSES):
            self.cache.put(page)
        try:
            return _usable(page)
        except FetchError as error:
            raise self._failed(error) from None

    def close(self) -> None:
        self._session.close()
        if self.cache:
            self.cache.close()

    def _failed(self, error: FetchError) -> FetchError:
        with self._lock:
            self.stats.failures[error.kind] = self.stats.failures.get(error.kind, 0) + 1
        return error

    def _spend_budget(self) -> None:
        with self._lock:
            if self.stats.requests >= self.settings.request_budget:
                raise FetchError("budget", f"the scan's request budget ({self.settings.request_budget}) is spent")
            self.stats.requests += 1

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.BoundedSemaphore(self.settings.per_host))

    def _download(self, url: str, cached: Page | None) -> Page:
        current = url
        headers: dict[str, str] = {}
        if cached and cached.status == 200:  # revalidate an old entry instead of downloading it again
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        with PageDeadline(self.settings.total_timeout) as deadline:
            for _ in range(self.settings.max_redirects + 1):
                check_url(current, self.settings.allow_hosts)
                outcome = self._exchange(url, current, headers, cached, deadline)
                if isinstance(outcome, Page):
                    return outcome
                current = outcome
        raise FetchError("redirects", f"more than {self.settings.max_redirects} redirects")

    def _exchange(self, url: str, current: str, headers: dict[str, str], cached: Page | None,
                  deadline: PageDeadline) -> Page | str:
        """One hop: the page, or the URL it redirects to. A 5xx answer or a failed connection is
        tried again, `retries` times while the page's time allows, each try spending one request
        of the budget."""
        s = self.settings
        for attempt in range(s.retries + 1):
            if attempt:
                time.sleep(s.backoff * 2 ** (attempt - 1))
            with self._host_slot(current):
                if deadline.passed:  # waiting for the host's slot counts too
                    raise _too_slow(deadline)
                self._spend_budget()  # here, so that a request never sent (no slot, no time) costs nothing
                try:
                    response = self._request(current, headers, deadline)
                except _NoConnection:
                    if self._may_retry(attempt, deadline):
                        continue
                    raise
                with response, deadline.watching():
                    if deadline.fired:  # the headers were cut short: nothing in them is to be trusted
                        raise _too_slow(deadline)
                    if response.status_code in RETRIED_STATUSES and self._may_retry(attempt, deadline):
                        continue
                    if response.status_code in _REDIRECTS:
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchError("http-status", f"HTTP {response.status_code} redirect without a Location")
                        return urljoin(current, location)
                    if response.status_code == 304 and cached:
                        with self._lock:
                            self.stats.revalidated += 1
                        return replace(cached, fetched_at=time.time(), from_cache=False)
                    return self._read(url, current, response, deadline)
        raise AssertionError("the last attempt returns or raises")

    def _may_retry(self, attempt: int, deadline: PageDeadline) -> bool:
        """Tries are left, and the wait before the next one ends before the page's time does."""
        return attempt < self.settings.retries and self.settings.backoff * 2 ** attempt < deadline.remaining()

    def _request(self, url: str, headers: dict[str, str], deadline: PageDeadline) -> requests.Response:
        s = self.settings
        connect_timeout = min(s.connect_timeout, deadline.remaining())  # reads are the deadline's timer's
        try:
            return self._session.get(url, headers=headers, stream=True, allow_redirects=False,
                                     timeout=(connect_timeout, s.read_timeout))
        except requests.exceptions.RequestException as exc:
            if deadline.passed or (isinstance(exc, requests.exceptions.ConnectTimeout) and connect_timeout < s.connect_timeout):
                raise _too_slow(deadline) from None
            raise self._request_error(exc) from None

    def _request_error(self, exc: requests.exceptions.RequestException) -> FetchError:
        s = self.settings
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return _NoConnection("timeout", f"timeout: no connection within {s.connect_timeout:g} s")
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return FetchError("timeout", f"timeout: no answer within {s.read_timeout:g} s")
        blocked = _BLOCKED.search(str(exc))
        if blocked:
            return FetchError("blocked", blocked.group(0))
        # Once urllib3's retries are spent, requests reports a read timeout as a ConnectionError.
        reason = getattr(exc.args[0] if exc.args else None, "reason", None)
        if isinstance(reason, ReadTimeoutError):
            return FetchError("timeout", f"timeout: no answer within {s.read_timeout:g} s")
        if isinstance(reason, NewConnectionError):  # refused, unreachable, not resolved: no request went out
            return _NoConnection("connection", f"connection failed ({type(reason).__name__})")
        return FetchError("connection", f"connection failed ({type(reason or exc).__name__})")

    def _read(self, url: str, final_url: str, response: requests.Response, deadline: PageDeadline) -> Page:
        s = self.settings
        status = response.status_code
        if status in REMEMBERED_STATUSES:
            return Page(url, final_url, status, _content_type(response), b"", fetched_at=time.time())
        if status != 200:
            raise FetchError("http-status", f"HTTP {status} {response.reason or ''}".strip())
        content_type = _content_type(response)
        if content_type not in ACCEPTED_TYPES:
            raise FetchError("content-type", f"not HTML or text ({content_type or 'no content type'})")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > s.max_bytes:
            raise FetchError("too-large", f"too large: {int(declared):,} bytes, the limit is {s.max_bytes:,}")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):  # decoded, so a compressed bomb is capped too
                size += len(chunk)
                if size > s.max_bytes:
                    raise FetchError("too-large", f"too large: over {s.max_bytes:,} bytes")
                if deadline.passed:
                    raise _too_slow(deadline)
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            if deadline.passed:
                raise _too_slow(deadline) from None
            raise FetchError("timeout" if "timed out" in str(exc).lower() else "connection",
                             f"the page broke off while reading ({type(exc).__name__})") from None
        if deadline.fired:  # a body without a length ends where the timer cut it: not the page
            raise _too_slow(deadline)
        charset = response.encoding if "charset" in (response.headers.get("Content-Type") or "").lower() else None
        if charset:
            content_type = f"{content_type}; charset={charset}"
        return Page(url, final_url, status, content_type, b"".join(chunks), response.headers.get("ETag"),
                    response.headers.get("Last-Modified"), time.time())


def _too_slow(deadline: PageDeadline) -> FetchError:
    return FetchError("timeout", f"timeout: the page took over {deadline.seconds:g} s")


class _NoConnection(FetchError):
    """No connection to send the request on: worth another try, unlike an answer that broke off."""


def _usable(page: Page) -> Page:
    if page.status in REMEMBERED_STATUSES:
        where = " (cached)" if page.from_cache else ""
        raise FetchError("http-status", f"page not found (HTTP {page.status}){where}")
    return page
