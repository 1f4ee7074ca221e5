"""Scopes name the parts of a document a rule looks at, as Vale's scopes do.

    all          every block, the desk's header lines included
    page         every block, and on an HTML page its text outside the article too (headers,
                 footers, sidebars: where a template may put the disclaimer or credit line)
    title        the title
    body         paragraphs, headings and captions (the default)
    paragraphs   paragraphs only
    headings     headings only
    captions     captions only
    first:N      the first N blocks of the body
    last:N       the last N blocks of the body

A rule may list several scopes; it then sees the blocks of any of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from compliance.model import Block, BlockKind, Document

_EDGE = re.compile(r"^(first|last):(\d+)$")
_KINDS = {
    "paragraphs": {BlockKind.PARAGRAPH},
    "headings": {BlockKind.HEADING},
    "captions": {BlockKind.CAPTION},
    "title": {BlockKind.TITLE},
}
NAMES = ("all", "page", "body", *_KINDS, "first:N", "last:N")


@dataclass(frozen=True)
class Scope:
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, value: str | list[str]) -> "Scope":
        parts = [value] if isinstance(value, str) else list(value)
        for part in parts:
            if not isinstance(part, str) or not (part in ("all", "page", "body") or part in _KINDS or _EDGE.match(part)):
                raise ValueError(f"unknown scope {part!r} (known: {', '.join(NAMES)})")
        return cls(tuple(parts))

    def select(self, document: Document) -> list[Block]:
        if self.parts == ("all",):  # the common scopes, without building sets per rule
            return list(document.blocks)
        if "page" in self.parts:  # all of it: nothing else can add to it
            if not document.furniture:
                return list(document.blocks)
            return sorted([*document.blocks, *document.furniture], key=lambda b: (b.line, b.kind == BlockKind.FURNITURE))
        if self.parts == ("body",):
            return list(document.body)
        body = document.body
        chosen: set[int] = set()
        for part in self.parts:
            edge = _EDGE.match(part)
            if part == "all":
                chosen.update(id(b) for b in document.blocks)
            elif part == "body":
                chosen.update(id(b) for b in body)
            elif edge:
                count = int(edge.group(2))
                picked = body[:count] if edge.group(1) == "first" else body[-count:] if count else []
                chosen.update(id(b) for b in picked)
            else:
                chosen.update(id(b) for b in document.blocks if b.kind in _KINDS[part])
        return [b for b in document.blocks if id(b) in chosen]

    def __str__(self) -> str:
        return ",".join(self.parts)
