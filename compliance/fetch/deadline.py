"""One time limit per page, over its connections, headers, body, retries and redirect hops.

Socket timeouts bound each wait for data, not their sum: a server that sends a header
byte every few seconds, or a fixed-length body a byte at a time, never trips them, and
held a page limited to 60 s for 150. So a timer shuts the page's connection down when its
time is up, which ends whatever read is waiting on it, through requests and urllib3 alike,
for HTTPS too; the client then reports the page as a timeout.

The connection (safety.GuardedConnection) tells the deadline of the thread that uses it
which socket to watch, when it connects and whenever it sends a request on it. Looking a
host up has no socket to cut: safety.resolve waits for the resolver only as long as the
page's time allows.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

_local = threading.local()


class PageDeadline:
    """Use as `with PageDeadline(seconds) as deadline:` around everything one page costs."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: socket.socket | None = None
        self.fired = False  # the timer shut a connection down: what was read after it is not to be trusted
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> PageDeadline:
        _local.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _local.deadline = None
        self._timer.cancel()
        self.release()

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.fired or time.monotonic() >= self._ends

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock`'s connection down when the time is up (at once if it is already)."""
        try:
            # A duplicate descriptor: TLS wrapping detaches the socket object urllib3 connected,
            # but shutting down any descriptor of a connection ends reads on all of them.
            watched = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return  # already closed: nothing left to wait on
        with self._lock:
            previous, self._watched = self._watched, watched
            if self.fired:
                _shut_down(watched)
        if previous is not None:
            previous.close()

    def release(self) -> None:
        """Stop watching: the connection may go back to the pool, to serve another page."""
        with self._lock:
            watched, self._watched = self._watched, None
        if watched is not None:
            watched.close()

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Release on the way out, before the response gives its connection back to the pool."""
        try:
            yield
        finally:
            self.release()

    def _expire(self) -> None:
        with self._lock:
            self.fired = True
            if self._watched is not None:
                _shut_down(self._watched)


def _shut_down(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the other side closed it first


def current_deadline() -> PageDeadline | None:
    """The deadline of the page this thread is fetching, if any."""
    return getattr(_local, "deadline", None)


def watch_connection(sock: socket.socket | None) -> None:
    """Put `sock` under the deadline of the page this thread is fetching, if any."""
    deadline = current_deadline()
    if deadline is not None and sock is not None:
        deadline.watch(sock)
