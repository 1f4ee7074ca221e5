"""Finding a scan's processes by what their command line holds, in /proc (Linux): shared by
tests/test_kill.py and benchmarks/kill.py, which ask whether a killed scan's workers outlived it.
Plain Python, so that the benchmark need not import pytest."""
from __future__ import annotations

import os
from pathlib import Path


def alive_with(marker: str) -> list[int]:
    """Processes but this one whose command line holds `marker` (a desk's path): a scan or its
    workers. A process that ends while it is read is skipped."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
