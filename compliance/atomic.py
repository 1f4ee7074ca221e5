"""Files replaced whole or not at all: a reader sees the old file or the new one, never half.

The new bytes go to a temporary file beside the target, named after the writer's process id
(`.NAME.PID.RANDOM.tmp`, so that `compliance.leftovers` can remove a killed writer's), are
flushed to disk, and one rename puts them in place. Reports, fixed reposts and the review
waivers file are written this way.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable

from compliance.leftovers import remove_leftovers

# Any file's temporary name as `replace_atomically` makes it (mkstemp's 8 random characters).
_OWNED = re.compile(r"\..+\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp")
_CLEANED: set[str] = set()  # folders this process has cleaned: a fix writes many files in one



def default_mode() -> int:
    """What a new file gets from the umask (mkstemp makes 0600; these files are shared)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def replace_atomically(target: Path, data: bytes, mode: int | None = None,
                       check: Callable[[Path], None] | None = None, legacy_leftovers: bool = False) -> None:
    """Put `data` at `target` in one rename, with `mode` (default: the umask's). `check` may
    inspect the written temporary file and raise to keep the target as it was. Raises OSError.
    `legacy_leftovers`: also remove this file's temporary names of versions before they held a
    process id, once an hour old (reports only)."""
    prefix = f".{target.name}."
    folder = os.path.abspath(target.parent)
    if legacy_leftovers or folder not in _CLEANED:
        remove_leftovers(target.parent, _OWNED, re.compile(re.escape(prefix) + r"[a-z0-9_]{8}\.tmp") if legacy_leftovers else None)
        _CLEANED.add(folder)
    descriptor, temporary = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, default_mode() if mode is None else mode)
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
