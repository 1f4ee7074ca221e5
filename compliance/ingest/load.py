"""Read one repost file into a `Document`."""
from __future__ import annotations

import re
from pathlib import Path

from compliance.errors import ComplianceError, InputError
from compliance.ingest.directives import blank_text_directives, find_directives
from compliance.ingest.discover import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES
from compliance.ingest.html import parse_page
from compliance.ingest.markdown import parse_markdown
from compliance.ingest.plaintext import POSTED_LINE, parse_plaintext
from compliance.ingest.read import read_text
from compliance.model import Block, BlockKind, Document, Link

_HEADER_POSTED = re.compile(r"(^|[·|•\-–—]\s*)post(ed)?\s+(at|on)\s*:", re.IGNORECASE)
_HEADER_MAX_WORDS = 12
_BARE_URL = re.compile(r"https?://[^\s<>()\"']+")


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
    furniture: list[Block] = []
    try:
        if fmt == "txt":
            title, blocks = parse_plaintext(blank_text_directives(text) if directives else text)
        elif fmt == "md":
            title, metadata, blocks, links = parse_markdown(text, str(file))
        else:
            page = parse_page(text)
            title, blocks, links, furniture = page.title, page.blocks, page.links, page.furniture
    except ComplianceError as exc:
        raise InputError("input-unreadable", exc.message, str(file), exc.line) from None
    blocks = _mark_desk_header(blocks)
    links = links + [link for link in _bare_links(blocks) if link.url not in {l.url for l in links}]
    return Document(report_path, fmt, title, blocks, metadata, links, str(file), directives, furniture)
