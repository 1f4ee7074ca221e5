"""One scan at a time per state database: an advisory lock on `<state>.lock` beside it.

Cron starts a scan every few minutes whether or not the last one finished. The second waits
for the lock for a bounded time and then gives up with a clear message, so two runs never
read the same previous state and both record "new" findings against it. `flock` locks die
with their process, so a killed scan never leaves a stale lock behind: its forked workers
close their copy of the lock and die with it (`compliance.workers`).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from compliance.errors import ComplianceError
from compliance.workers import not_parent_only, parent_only

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are not serialised there
    fcntl = None  # type: ignore[assignment]


class LockTimeout(ComplianceError):
    """Another scan holds the state; the CLI exits with its own code for it."""


class StateLock:
    """An flock on `path`, waited for `timeout` seconds; then `busy` (a `LockTimeout`, unless
    `timeout_error` says otherwise) is raised. Also the index's (`pipeline.index_lock`)."""

    def __init__(self, path: Path, timeout: float, poll: float = 0.1,
                 busy: str = "another compliance scan is using this state; gave up after {timeout:g}s (--lock-timeout)",
                 timeout_error: type[ComplianceError] | None = None):
        self.path = path
        self.timeout = timeout
        self.poll = poll
        self.busy = busy
        self.timeout_error = timeout_error or LockTimeout
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # never through a link: one planted at the lock's name would create a file at its target
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            if self.path.is_symlink():
                raise ComplianceError("is a symbolic link; compliance keeps its lock file itself (remove the link)",
                                      str(self.path)) from None
            raise ComplianceError(f"cannot create the lock file: {exc.strerror or exc}", str(self.path)) from None
        if fcntl is None:  # pragma: no cover
            self._fd = fd
            return
        deadline = time.monotonic() + max(self.timeout, 0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise self.timeout_error(self.busy.format(timeout=self.timeout), str(self.path)) from None
                time.sleep(self.poll)
        self._fd = fd
        parent_only(fd)

    def release(self) -> None:
        if self._fd is not None:
            not_parent_only(self._fd)
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "StateLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
