"""Plain-text reposts laid out as desks post them.

    Title line

    Category
    Post At: Sep 07/2024 07:50PM

    First paragraph ...

    Disclaimer: ...

Paragraphs are separated by blank lines; the lines of one paragraph are joined with spaces.
"""
from __future__ import annotations

import re

from compliance.model import Block, BlockKind

POSTED_LINE = re.compile(r"^\s*(post(ed)?\s+(at|on)|published( on)?|category)\s*:", re.IGNORECASE)
_SHORT_LABEL_WORDS = 4
_MAX_TITLE_WORDS = 40  # a longer first line is the article itself, written on one line


def split_paragraphs(lines: list[str], first_line: int = 1) -> list[tuple[str, int, int]]:
    """Split lines on blank lines; return (joined text, first line, last line) per paragraph."""
    paragraphs: list[tuple[str, int, int]] = []
    current: list[str] = []
    start = first_line
    for number, raw in enumerate(lines, start=first_line):
        line = raw.strip()
        if line:
            if not current:
                start = number
            current.append(line)
        elif current:
            paragraphs.append((" ".join(current), start, number - 1))
            current = []
    if current:
        paragraphs.append((" ".join(current), start, first_line + len(lines) - 1))
    return paragraphs


def _is_meta_paragraph(raw_lines: list[str]) -> bool:
    """A block of short labels with a `Post At:` style line: the desk's header, not article text."""
    if not any(POSTED_LINE.match(line) for line in raw_lines):
        return False
    return all(POSTED_LINE.match(line) or len(line.split()) <= _SHORT_LABEL_WORDS for line in raw_lines)


def parse_plaintext(text: str) -> tuple[str, list[Block]]:
    lines = text.splitlines()
    paragraphs = split_paragraphs(lines)
    blocks: list[Block] = []
    title = ""
    for index, (joined, start, end) in enumerate(paragraphs):
        raw_lines = [line.strip() for line in lines[start - 1 : end]] if index <= 2 else []  # only the head can be a header
        if index == 0 and len(raw_lines) == 1 and len(joined.split(None, _MAX_TITLE_WORDS)) <= _MAX_TITLE_WORDS \
                and not POSTED_LINE.match(raw_lines[0]):
            title = joined
            blocks.append(Block(BlockKind.TITLE, joined, start, end))
        elif index <= 2 and _is_meta_paragraph(raw_lines):
            blocks.append(Block(BlockKind.META, joined, start, end))
        else:
            column = len(lines[start - 1]) - len(lines[start - 1].lstrip()) + 1
            blocks.append(Block(BlockKind.PARAGRAPH, joined, start, end, column))
    return title, blocks
