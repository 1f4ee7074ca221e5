"""Reports are written atomically: a reader sees the old file or the new one, never half."""
from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from compliance.errors import ComplianceError
from compliance.leftovers import remove_leftovers


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
        prefix = f".{target.name}."
        remove_leftovers(target.parent, re.compile(re.escape(prefix) + r"(?P<pid>\d+)\.[a-z0-9_]+\.tmp"),
                         re.compile(re.escape(prefix) + r"[a-z0-9_]{8}\.tmp"))  # (named by no process: older versions)
        descriptor, temporary = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; reports are shared artefacts
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ComplianceError(f"cannot write the report: {exc.strerror or exc}", str(path)) from None
