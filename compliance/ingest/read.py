"""Reading a file a user named, safely: regular files only, never waited for, bounded.

Reposts, rule packs and configuration files are all read through here: a device, a FIFO or
an endless file named as one of them is refused, not read for ever.
"""
from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from compliance.errors import InputError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_NO_WAITING = getattr(os, "O_NONBLOCK", 0)
_NOT_INHERITED = getattr(os, "O_CLOEXEC", 0)


def read_bytes(file: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A regular file's bytes, at most `max_bytes` of them, or InputError saying why not. Every
    read of a repost goes through here (the state's hashing too): a device or a FIFO named
    like a repost is refused, never read or waited for."""
    try:
        # Opened without waiting (a FIFO would block the scan until written to) and checked
        # on the open file: a path looked up once, where stat then open looked it up twice.
        descriptor = os.open(file, os.O_RDONLY | _NO_WAITING | _NOT_INHERITED)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):  # a FIFO or device would block the scan, or never end
                raise InputError("input-unreadable", "not a regular file", str(file))
            size = status.st_size
            if size > max_bytes:
                raise InputError("input-too-large", f"file is {size:,} bytes, over the {max_bytes:,}-byte limit", str(file))
            parts, total = [], 0
            while chunk := os.read(descriptor, max(size + 1, 1 << 16)):  # one read, unless the file grew
                total += len(chunk)
                if total > max_bytes:  # grew past the limit while read
                    raise InputError("input-too-large", f"file grew over the {max_bytes:,}-byte limit while read", str(file))
                parts.append(chunk)
            return b"".join(parts)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise InputError("input-unreadable", f"cannot read file: {exc.strerror or exc}", str(file)) from None


def read_text(file: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a file as UTF-8 text (a BOM is allowed), or raise InputError saying why not."""
    data = read_bytes(file, max_bytes)
    if b"\x00" in data[:8192]:
        raise InputError("input-unreadable", "file is binary, not text", str(file))
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[bom : bom + exc.start].count(b"\n") + 1
        raise InputError("input-unreadable", f"not valid UTF-8 (byte {bom + exc.start})", str(file), line) from None
