"""Write a fixed repost: atomically (a temporary file beside it, then one rename), with the
file's permissions, and only if the file still holds what the fix was planned on."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from compliance.atomic import replace_atomically
from compliance.errors import ComplianceError
from compliance.ingest.read import read_bytes


def write_fixed(path: Path, before: bytes, after: bytes) -> None:
    """Replace `path`'s bytes `before` with `after`. A symlink is written through (the link
    stays). Raises ComplianceError, naming the file, if it changed meanwhile or cannot be written."""
    target = Path(os.path.realpath(path))
    try:
        try:
            now = read_bytes(target, len(before) + 1)
        except ComplianceError:  # grown past what it held, or gone
            now = None
        if now != before:
            raise ComplianceError("the file changed while it was being fixed; not written", str(path))
        mode = stat.S_IMODE(os.stat(target).st_mode)
        replace_atomically(target, after, mode)
    except OSError as exc:
        raise ComplianceError(f"cannot write the fixed file: {exc.strerror or exc}", str(path)) from None
