"""HTML reposts, whole pages or fragments, read with the standard library's HTMLParser.

HTMLParser reports the line of every tag, which lets findings point into the file. The
article is what sits in <article> (or <main>) when the page has one, else the whole body;
navigation, headers, footers, asides, forms, scripts and styles are dropped. <figcaption>
text becomes a caption; <title> (or the first <h1>) the title.
"""
from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from compliance.model import Block, BlockKind, Link

_DROPPED = {"nav", "header", "footer", "aside", "form", "script", "style", "noscript", "template", "svg", "button", "select"}
_BLOCKS = {"p", "li", "blockquote", "pre", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "div", "section", "article", "main", "body", "caption", "address", "tr", "ul", "ol", "figure", "table"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "base", "col", "embed", "param", "track"}
_CONTAINERS = {"article", "main"}


class _ArticleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.open_tags: Counter[str] = Counter()
        self.dropped_depth = 0
        self.title_parts: list[str] = []
        self.in_title = False
        # (kind, text, line, end_line, inside article/main)
        self.blocks: list[tuple[BlockKind, str, int, int, bool]] = []
        self.links: list[tuple[Link, bool]] = []
        self.current: list[str] = []
        self.current_line = 0
        self.current_kind = BlockKind.PARAGRAPH
        self.container_depth = 0
        self.link_stack: list[tuple[str, int, int]] = []

    # -- block handling --
    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            line = self.current_line or self.getpos()[0]
            self.blocks.append((self.current_kind, text, line, max(line, self.getpos()[0]), self.container_depth > 0))
        self.current = []
        self.current_line = 0
        self.current_kind = self._kind_for_stack()

    def _kind_for_stack(self) -> BlockKind:
        # Counts of open tags, not a walk of the stack: deeply nested pages stay linear.
        if self.open_tags["figcaption"]:
            return BlockKind.CAPTION
        if self.open_tags["h1"]:
            return BlockKind.TITLE
        if any(self.open_tags[h] for h in ("h2", "h3", "h4", "h5", "h6")):
            return BlockKind.HEADING
        return BlockKind.PARAGRAPH

    def _push(self, tag: str) -> None:
        self.stack.append(tag)
        self.open_tags[tag] += 1

    def _pop(self) -> str:
        tag = self.stack.pop()
        self.open_tags[tag] -= 1
        return tag

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.dropped_depth:  # an <svg> has <title>s of its own
            self.in_title = True
            return
        if tag in _VOID:
            if tag == "br" and self.current:
                self.current.append(" ")
            return
        if self.dropped_depth or tag in _DROPPED:
            if tag not in _VOID:
                self._push(tag)
                self.dropped_depth += 1
            return
        if tag == "a" and self.open_tags["a"]:
            self.handle_endtag("a")  # links do not nest: browsers close the open one, and each link's text stays its own
        if tag in _BLOCKS and self.stack and self.stack[-1] == "p":
            self.handle_endtag("p")  # a block closes an open <p>, as browsers do with <p>a<p>b
        if tag in _BLOCKS:
            self._flush()
        self._push(tag)
        if tag in _CONTAINERS:
            self.container_depth += 1
        if tag in _BLOCKS:
            self.current_kind = self._kind_for_stack()
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.link_stack.append((href, len(self.current), self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.in_title:
            self.in_title = False
            return
        if not self.open_tags[tag]:
            return  # a stray end tag; browsers ignore it too
        while self.stack:
            open_tag = self._pop()
            if self.dropped_depth:
                self.dropped_depth -= 1
                if open_tag == tag:
                    return
                continue
            if open_tag == "a" and self.link_stack:
                href, start, line = self.link_stack.pop()
                text = " ".join("".join(self.current[start:]).split())
                self.links.append((Link(href, text, line), self.container_depth > 0))
            if open_tag in _BLOCKS:
                self._flush()
            if open_tag in _CONTAINERS:
                self.container_depth -= 1
            if open_tag == tag:
                break
        self.current_kind = self._kind_for_stack()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.dropped_depth:
            return
        if not self.current and data.strip():
            self.current_line = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
        self.current.append(data)

    def close(self) -> None:
        # What feed() leaves unread, outside a script or style, is a tag, comment or
        # declaration that never closes. Python before 3.13.4 (gh-135462) would re-read the
        # rest of the file at every "<" in it (`<a<a<a...`: minutes for a few hundred KB);
        # browsers drop it, and so do we.
        if not self.cdata_elem and self.rawdata.startswith("<") and self.rawdata not in ("<", "</"):
            self.rawdata = ""
        super().close()
        self._flush()


def parse_html(text: str) -> tuple[str, list[Block], list[Link]]:
    parser = _ArticleParser()
    parser.feed(text)
    parser.close()
    has_container = any(inside for *_, inside in parser.blocks)
    chosen = [(k, t, a, b) for k, t, a, b, inside in parser.blocks if inside or not has_container]
    links = [link for link, inside in parser.links if inside or not has_container]
    page_title = " ".join("".join(parser.title_parts).split())
    blocks: list[Block] = []
    title = page_title
    seen_title = False
    for kind, text_, line, end_line in chosen:
        if kind == BlockKind.TITLE:
            if seen_title:
                kind = BlockKind.HEADING
            else:
                seen_title = True
                title = title or text_
        blocks.append(Block(kind, text_, line, end_line))
    return title, blocks, links
