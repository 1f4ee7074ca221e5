"""`compliance watch`: for a desk without cron, scan again whenever an input changed.

Every `--interval` seconds it takes a snapshot of what a scan reads (the repost files, the
catalogue, the rule pack, the configuration: names, sizes and modification times, no contents)
and scans when the snapshot differs from the last one. The scan itself uses the state, so it
re-checks only what changed; the snapshot only spares it the reading when nothing did.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterable

Snapshot = frozenset[tuple[str, int, int]]


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """(path, size, mtime) of every file under `paths`, hidden folders (the state's own) skipped."""
    files: list[Path] = []
    for root in paths:
        if root.is_file():
            files.append(root)
            continue
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            files.extend(Path(folder) / name for name in filenames if not name.startswith("."))
    seen: set[tuple[str, int, int]] = set()
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue  # gone between the walk and the stat: the next snapshot sees it gone
        seen.add((str(file), info.st_size, info.st_mtime_ns))
    return frozenset(seen)


def watch(take: Callable[[], Snapshot], run: Callable[[], object], interval: float,
          sleep: Callable[[float], None] | None = None, rounds: int | None = None) -> None:
    """Run once, then again after each change; `rounds` bounds the loop (tests), else until Ctrl-C."""
    sleep = sleep or time.sleep
    last: Snapshot | None = None
    done = 0
    while rounds is None or done < rounds:
        current = take()
        if current != last:
            run()
            last = take()  # after the run: its own writes (reports beside the reposts) do not retrigger
        done += 1
        if rounds is None or done < rounds:
            sleep(interval)
