"""A one-line progress bar on stderr, for people watching a long scan in a terminal.

Only when stderr is a terminal and not `--quiet`: under cron the output is mail, and a
hundred carriage-return updates are noise there.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO, label: str = "scanning", interval: float = 0.1, width: int = 30):
        self.stream = stream
        self.label = label
        self.interval = interval  # seconds between redraws: drawing is not free at 10,000 files
        self.width = width
        self._last = 0.0
        self._drawn = False

    @classmethod
    def for_terminal(cls, quiet: bool, stream: TextIO | None = None, label: str = "scanning") -> "Progress | None":
        stream = stream or sys.stderr
        stream = getattr(stream, "unescaped", stream)  # the bar's own control characters must reach the terminal
        return cls(stream, label) if not quiet and stream.isatty() else None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        filled = round(self.width * done / total) if total else self.width
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")  # clear the line: the report follows
            self.stream.flush()
