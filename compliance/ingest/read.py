"""Reading a file a user named, safely: regular files only, never waited for, bounded.

Reposts, rule packs and configuration files are all read through here: a device, a FIFO or
an endless file named as one of them is refused, not read for ever.
"""
from __future__ import annotations

import codecs
import os
import re
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


# Byte-order marks, longest first: UTF-32's little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECLARED = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
HTML_SUFFIXES = (".html", ".htm")  # read as HTML: they may declare their encoding
_PRESCAN = 1024  # how far a browser looks for a page's declared encoding (HTML's prescan)
# Labels HTML reads as another encoding than Python's codec of that name: a page declaring
# ISO-8859-1 is windows-1252 in every browser (its quotes and dashes are 0x80-0x9f).
_AS_BROWSERS_READ = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                     "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254"}


def declared_encoding(data: bytes) -> str | None:
    """The encoding an HTML page declares in a `<meta>` of its first 1,024 bytes, as a codec
    name Python knows (None if none is declared, or one Python does not know)."""
    found = _DECLARED.search(data[:_PRESCAN])
    if not found:
        return None
    label = found.group(1).decode("ascii").lower()
    try:
        return _AS_BROWSERS_READ.get(label) or codecs.lookup(label).name
    except LookupError:
        return None


def decode(data: bytes, html: bool, origin: str) -> tuple[str, int, str]:
    """A repost's text, the length of its byte-order mark and the codec it was read with:
    UTF-8 unless a mark says otherwise, or an HTML page that is not UTF-8 declares its
    encoding (saved pages keep their site's windows-1252 or Shift_JIS). InputError if none
    reads it."""
    bom, codec = 0, "utf-8"
    for mark, marked in _BOMS:
        if data.startswith(mark):
            bom, codec = len(mark), marked
            break
    if codec == "utf-8" and b"\x00" in data[:8192]:
        raise InputError("input-unreadable", "file is binary, not text", origin)
    try:
        return data[bom:].decode(codec), bom, codec
    except UnicodeDecodeError as exc:
        failed = exc
    declared = declared_encoding(data) if html and not bom else None
    if declared and not declared.startswith("utf"):  # a page wrongly claiming UTF-8 stays an error
        try:
            return data.decode(declared), 0, declared
        except UnicodeDecodeError as exc:
            raise InputError("input-unreadable", f"not valid {declared}, as it declares (byte {exc.start})", origin,
                             data[: exc.start].count(b"\n") + 1) from None
    line = data[bom : bom + failed.start].count(b"\n") + 1
    hint = "; an HTML page may declare its encoding in a <meta charset>" if html else "; save it as UTF-8"
    raise InputError("input-unreadable", f"not valid {codec.upper()} (byte {bom + failed.start}){hint}", origin, line)


def read_text(file: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a file as text (`decode`), or raise InputError saying why not."""
    return decode(read_bytes(file, max_bytes), file.suffix.lower() in HTML_SUFFIXES, str(file))[0]
