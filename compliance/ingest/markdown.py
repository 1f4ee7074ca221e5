"""Markdown reposts with optional YAML front matter, parsed with markdown-it-py.

markdown-it keeps each block's source lines, so findings point at the right line. A
paragraph that is only an image gives a caption (its alt text); so does an emphasised
paragraph right after an image, the way Markdown writers caption pictures.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from compliance.ingest.frontmatter import split_front_matter
from compliance.model import Block, BlockKind, Link

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@lru_cache(maxsize=1)
def parser() -> "MarkdownIt":
    """Made with the first Markdown file: a scan of text and HTML never imports markdown-it
    (a twentieth of a second of every command's start)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def _inline_text(token: Token, links: list[Link], line: int) -> tuple[str, bool, bool]:
    """Plain text of an inline token; also whether it is only an image / only emphasis."""
    parts: list[str] = []
    children = token.children or []
    only_image = bool(children) and all(c.type == "image" or not c.content.strip() and c.type == "text" for c in children)
    only_emphasis = bool(children) and children[0].type in ("em_open", "strong_open") and children[-1].type in ("em_close", "strong_close")
    link_text_start: int | None = None
    href = ""
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            if child.type != "html_inline":
                parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            link_text_start = len(parts)
        elif child.type == "link_close" and link_text_start is not None:
            links.append(Link(href, "".join(parts[link_text_start:]).strip(), line))
            link_text_start = None
    return " ".join("".join(parts).split()), only_image, only_emphasis


def parse_markdown(text: str, path: str) -> tuple[str, dict[str, Any], list[Block], list[Link]]:
    metadata, body, offset = split_front_matter(text, path)
    blocks: list[Block] = []
    links: list[Link] = []
    title = str(metadata.get("title") or "").strip()
    tokens = parser().parse(body)
    pending_kind: BlockKind | None = None
    after_image = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            pending_kind = BlockKind.TITLE if token.tag == "h1" and not any(b.kind == BlockKind.TITLE for b in blocks) else BlockKind.HEADING
            continue
        if token.type == "paragraph_open":
            pending_kind = BlockKind.PARAGRAPH
            continue
        if token.type != "inline" or token.map is None or pending_kind is None:
            continue
        start, end = token.map[0] + offset + 1, token.map[1] + offset
        text_, only_image, only_emphasis = _inline_text(token, links, start)
        kind = pending_kind
        pending_kind = None
        if kind == BlockKind.PARAGRAPH and (only_image or (after_image and only_emphasis)):
            kind = BlockKind.CAPTION
        after_image = only_image
        if not text_:
            continue
        if kind == BlockKind.TITLE and not title:
            title = text_
        blocks.append(Block(kind, text_, start, max(start, end)))
    return title, metadata, blocks, links
