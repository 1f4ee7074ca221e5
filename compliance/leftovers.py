"""Temporary files of runs that were killed: removed by the next run, never another live run's.

Indexes, report folders and reports are written under a temporary name holding the writer's
process id and renamed into place when complete. `kill -9` (the OOM killer, a cron timeout)
skips the clean-up, and a million-source index's temporary file is gigabytes; so whoever
writes there next removes the temporary files whose process is gone. A process that is alive
keeps its files, even when its id was reused by another program: a leftover then waits for a
later run. (Process ids are of this machine: runs on several machines writing one shared
folder are not told apart.)
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

# A temporary name written before names held a process id (a report folder's `.run-k2j3x_a9.tmp`)
# is removed once no run can still be writing it.
UNOWNED_AFTER = 3600.0


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except (OverflowError, ValueError):  # not a process id at all
        return False
    return True


def remove_leftovers(folder: Path, owned: re.Pattern[str], unowned: re.Pattern[str] | None = None) -> list[Path]:
    """Remove the entries of `folder` whose name `owned` matches (fully) and whose process (the
    pattern's group `pid`) is gone, and those `unowned` matches that are older than
    `UNOWNED_AFTER`; return what was removed. Best effort: what cannot be removed stays."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        found = owned.fullmatch(entry.name)
        if found:
            stale = not process_alive(int(found.group("pid")))
        elif unowned is not None and unowned.fullmatch(entry.name):
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > UNOWNED_AFTER
            except OSError:
                continue
        else:
            continue
        if not stale:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed
