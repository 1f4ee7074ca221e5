"""A one-line progress display on stderr, for people at a terminal only.

Under cron or in CI (stderr not a terminal) it stays silent, so logs hold results, not
hundreds of carriage returns.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Call with (done, total); redraws at most every `interval` seconds and clears at the end."""

    def __init__(self, label: str, stream: TextIO, interval: float = 0.2):
        self.label = label
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0

    @classmethod
    def for_terminal(cls, label: str, stream: TextIO | None = None) -> "Progress | None":
        stream = stream or sys.stderr
        return cls(label, stream) if stream.isatty() else None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        if done >= total:
            self.stream.write("\r\033[K")
        else:
            width = 30
            filled = width * done // max(total, 1)
            rate = done / max(now - self.started, 1e-9)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)\033[K")
        self.stream.flush()
