"""Read one repost file into a `Document`."""
from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path

from compliance.errors import ComplianceError, InputError
from compliance.ingest.directives import blank_text_directives, find_directives
from compliance.ingest.discover import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES
from compliance.ingest.html import parse_html
from compliance.ingest.markdown import parse_markdown
from compliance.ingest.plaintext import POSTED_LINE, parse_plaintext
from compliance.model import Block, BlockKind, Document, Link

_HEADER_POSTED = re.compile(r"(^|[·|•\-–—]\s*)post(ed)?\s+(at|on)\s*:", re.IGNORECASE)
_HEADER_MAX_WORDS = 12
_NO_WAITING = getattr(os, "O_NONBLOCK", 0)
_NOT_INHERITED = getattr(os, "O_CLOEXEC", 0)
_BARE_URL = re.compile(r"https?://[^\s<>()\"']+")


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


def _mark_desk_header(blocks: list[Block]) -> list[Block]:
    """Lines like "Business · Post At: May 28/2024" are the desk's header, not article text."""
    marked = []
    for index, block in enumerate(blocks):
        is_header = (
            index < 4
            and block.kind == BlockKind.PARAGRAPH
            and len(block.text.split(None, _HEADER_MAX_WORDS)) <= _HEADER_MAX_WORDS  # not splitting a whole paragraph
            and (_HEADER_POSTED.search(block.text) or POSTED_LINE.match(block.text))
        )
        marked.append(Block(BlockKind.META, block.text, block.line, block.end_line, block.column) if is_header else block)
    return marked


def _bare_links(blocks: list[Block]) -> list[Link]:
    # Most blocks hold no address: a substring test spares them the expression.
    return [Link(m.group(0).rstrip(".,;"), "", b.line) for b in blocks if "http" in b.text for m in _BARE_URL.finditer(b.text)]


def load_document(file: Path, report_path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    return parse_document(read_text(file, max_bytes), file, report_path)


def parse_document(text: str, file: Path, report_path: str) -> Document:
    """The document `file` holds, its text read already (`read_text`)."""
    fmt = SUPPORTED_SUFFIXES[file.suffix.lower()]
    metadata: dict = {}
    links: list[Link] = []
    directives = find_directives(text, fmt)
    try:
        if fmt == "txt":
            title, blocks = parse_plaintext(blank_text_directives(text) if directives else text)
        elif fmt == "md":
            title, metadata, blocks, links = parse_markdown(text, str(file))
        else:
            title, blocks, links = parse_html(text)
    except ComplianceError as exc:
        raise InputError("input-unreadable", exc.message, str(file), exc.line) from None
    blocks = _mark_desk_header(blocks)
    links = links + [link for link in _bare_links(blocks) if link.url not in {l.url for l in links}]
    return Document(report_path, fmt, title, blocks, metadata, links, str(file), directives)
