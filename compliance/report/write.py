"""Reports are written atomically: a reader sees the old file or the new one, never half."""
from __future__ import annotations

import stat
from pathlib import Path

from compliance.atomic import replace_atomically
from compliance.errors import ComplianceError


def write_atomic(path: Path, content: str) -> None:
    """Replace `path` in one step (removing the temporary files of killed writers of it). A
    symlink is written through (the link stays); a device or pipe such as /dev/stdout is
    written to directly, since it cannot be replaced."""
    target = path.resolve() if path.is_symlink() else path
    try:
        if target.is_dir():
            raise ComplianceError("is a folder; --output needs a file name", str(path))
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(content)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(target, content.encode("utf-8"), legacy_leftovers=True)
    except OSError as exc:
        raise ComplianceError(f"cannot write the report: {exc.strerror or exc}", str(path)) from None
