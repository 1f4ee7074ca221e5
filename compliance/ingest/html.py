"""HTML reposts, whole pages or fragments, read with the standard library's HTMLParser.

HTMLParser reports the line of every tag, which lets findings point into the file. The parser
cuts the page into candidate blocks, each knowing where it stands. On a whole saved page,
trafilatura decides which of them are the article (`compliance.ingest.extract`); on a fragment
or a desk's template, or a page trafilatura cannot read, the article is what sits in <article>
(or <main>) when the page has one, else the whole body, without navigation, headers, footers,
asides and forms. Scripts, styles and hidden elements are never text. <figcaption> text, and
elements whose class names a caption, are captions; <title> (or the first <h1>) the title. On
a whole page, the standfirst under the title that the page declares its description is META,
like the title: the page's summary of the article, not its text.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

from compliance.model import Block, BlockKind, Link

_SKIPPED = {"script", "style", "noscript", "template", "svg", "select", "iframe", "object", "canvas", "annotation", "annotation-xml"}
_CHROME = {"nav", "header", "footer", "aside", "form", "button"}
_BLOCKS = {"p", "li", "blockquote", "pre", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "div", "section", "article", "main", "body", "caption", "address", "tr", "ul", "ol", "figure", "table"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "base", "col", "embed", "param", "track"}
_CONTAINERS = {"article", "main"}
# "caption", "wp-caption-text", "image__caption", "thumbcaption"; not "no-caption" or "has-caption".
_CAPTION_CLASS = re.compile(r"^(?!no-|has-|without)[\w-]*caption(?:[-_]*text)?$", re.IGNORECASE)
_ROLES = {"figcaption": "caption", "h1": "h1", **dict.fromkeys(("h2", "h3", "h4", "h5", "h6"), "heading"),
          **dict.fromkeys(_CHROME, "chrome")}


def names_a_caption(kind: str) -> bool:
    """Whether an element's "tag.class" names a caption."""
    return any(_CAPTION_CLASS.match(token) for token in kind.partition(".")[2].split())


_IMAGE_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original", "data-lazy", "src", "srcset")


def _image_address(attrs: dict[str, str | None]) -> str:
    """Where a picture comes from: lazy-loading pages put a placeholder ("data:...") in `src`
    that every picture shares, and the real address in a data- attribute."""
    for name in _IMAGE_ATTRIBUTES:
        value = (attrs.get(name) or "").strip()
        if value and not value.startswith("data:"):
            return value.split()[0]
    return ""


_DESCRIPTIONS = {"description", "og:description", "twitter:description"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """Not shown by browsers: metadata copies of the article, templates for scripts."""
    return any(name == "hidden" or name == "style" and value and _HIDDEN_STYLE.search(value) for name, value in attrs)


@dataclass(slots=True)
class Candidate:
    """A block of text as the page holds it, and what says whether it is the article's."""

    kind: BlockKind
    text: str
    line: int
    end_line: int
    in_container: bool  # inside <article> or <main>
    chrome: bool  # inside navigation, a header, footer, aside, form or button
    tag: str  # the innermost block element around it: p, li, div, td, h2...
    parent: int  # the element around that one, by its number in document order
    parent_kind: str  # that element's tag and class: "div.article-body"
    link_chars: int  # characters of its text inside links
    image: str = ""  # a caption's picture: the last image before it that no other caption claimed


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.roles: list[str | None] = []  # what each open element makes of the text inside (_ROLES)
        self.depth = dict.fromkeys(("chrome", "caption", "h1", "heading"), 0)  # open elements of each role
        self.serials: list[int] = []  # each open element's number in document order
        self.block_elements: list[tuple[str, int]] = [("body", -1)]  # open block elements, innermost last: (tag, parent)
        self.kinds: list[str] = []  # each element's tag and class, by its number
        self.open_tags: Counter[str] = Counter()
        self.skipped_depth = 0
        self.title_parts: list[str] = []
        self.in_title = False
        self.blocks: list[Candidate] = []
        self.links: list[tuple[Link, int, bool, bool]] = []  # (link, index of its block, in container, chrome)
        self.current: list[str] = []
        self.current_line = 0
        # Where the text began: its block element, that one's parent, inside <article>/<main>, in chrome.
        self.current_place: tuple[str, int, bool, bool] | None = None
        self.current_kind = BlockKind.PARAGRAPH
        self.current_link_chars = 0
        self.container_depth = 0
        self.link_stack: list[tuple[str, int, int]] = []
        self.last_image = ""  # the latest <img> not yet claimed by a caption
        self.own_urls: set[str] = set()  # the page's own address: <link rel="canonical">, <meta property="og:url">
        self.descriptions: set[str] = set()  # its summary: <meta name="description">, og:, twitter:

    # -- block handling --
    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            line = self.current_line or self.getpos()[0]
            tag, parent, inside, chrome = self.current_place or (*self.block_elements[-1], self.container_depth > 0, self._chrome())
            image = ""
            if self.current_kind is BlockKind.CAPTION:
                image, self.last_image = self.last_image, ""
            self.blocks.append(Candidate(self.current_kind, text, line, max(line, self.getpos()[0]), inside, chrome,
                                         tag, parent, self.kinds[parent] if parent >= 0 else "", self.current_link_chars, image))
        self.current = []
        self.current_line = 0
        self.current_place = None
        self.current_link_chars = 0
        self.current_kind = self._kind_for_stack()

    def _chrome(self) -> bool:
        return self.depth["chrome"] > 0

    def _kind_for_stack(self) -> BlockKind:
        # Counts of open elements, not a walk of the stack: deeply nested pages stay linear.
        depth = self.depth
        if depth["caption"]:
            return BlockKind.CAPTION
        if depth["h1"]:
            return BlockKind.TITLE
        if depth["heading"]:
            return BlockKind.HEADING
        return BlockKind.PARAGRAPH

    def _push(self, tag: str, caption: bool = False, classes: str = "") -> None:
        if tag in _BLOCKS:
            self.block_elements.append((tag, self.serials[-1] if self.serials else -1))
        self.stack.append(tag)
        role = _ROLES.get(tag) or ("caption" if caption else None)
        self.roles.append(role)
        if role:
            self.depth[role] += 1
        self.serials.append(len(self.kinds))
        self.kinds.append(f"{tag}.{classes}" if classes else tag)
        self.open_tags[tag] += 1

    def _pop(self) -> str:
        tag = self.stack.pop()
        self.serials.pop()
        self.open_tags[tag] -= 1
        role = self.roles.pop()
        if role:
            self.depth[role] -= 1
        if tag in _BLOCKS:
            self.block_elements.pop()
        return tag

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.skipped_depth:  # an <svg> has <title>s of its own
            self.in_title = True
            return
        if tag in _VOID:
            if tag in ("link", "meta"):
                self._own_url(dict(attrs))
            elif tag == "img" and not self.skipped_depth:
                self.last_image = _image_address(dict(attrs))
            if tag == "br" and self.current:
                self.current.append(" ")
            return
        if self.skipped_depth or tag in _SKIPPED or _hidden(attrs):
            self._push(tag)
            self.skipped_depth += 1
            return
        if tag == "a" and self.open_tags["a"]:
            self.handle_endtag("a")  # links do not nest: browsers close the open one, and each link's text stays its own
        if tag in _BLOCKS and self.stack and self.stack[-1] == "p":
            self.handle_endtag("p")  # a block closes an open <p>, as browsers do with <p>a<p>b
        if tag in _BLOCKS:
            self._flush()
        classes = " ".join(value for name, value in attrs if name in ("class", "itemprop") and value)
        self._push(tag, "aption" in classes and any(_CAPTION_CLASS.match(token) for token in classes.split()), classes)
        if tag in _CONTAINERS:
            self.container_depth += 1
        if tag in _BLOCKS or not self.current_line and self.roles[-1] == "caption":  # <span class="caption">
            self.current_kind = self._kind_for_stack()
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.link_stack.append((href, len(self.current), self.getpos()[0]))

    def _own_url(self, attrs: dict[str, str | None]) -> None:
        if (attrs.get("rel") or "").lower() == "canonical" and attrs.get("href"):
            self.own_urls.add(attrs["href"] or "")
        elif (attrs.get("property") or attrs.get("name") or "").lower() == "og:url" and attrs.get("content"):
            self.own_urls.add(attrs["content"] or "")
        elif (attrs.get("property") or attrs.get("name") or "").lower() in _DESCRIPTIONS and attrs.get("content"):
            self.descriptions.add(attrs["content"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.in_title:
            self.in_title = False
            return
        if not self.open_tags[tag]:
            return  # a stray end tag; browsers ignore it too
        while self.stack:
            open_tag = self._pop()
            if self.skipped_depth:
                self.skipped_depth -= 1
                if open_tag == tag:
                    return
                continue
            if open_tag == "a" and self.link_stack:
                href, start, line = self.link_stack.pop()
                text = " ".join("".join(self.current[start:]).split())
                self.links.append((Link(href, text, line), len(self.blocks), self.container_depth > 0, self._chrome()))
            if open_tag in _BLOCKS:
                self._flush()
            if open_tag in _CONTAINERS:
                self.container_depth -= 1
            if open_tag == tag:
                break
        if not self.current_line:  # not in the middle of a block's text (after a <span class="caption">)
            self.current_kind = self._kind_for_stack()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.skipped_depth:
            return
        if not self.current_line and data.strip():
            self.current_line = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
            self.current_place = (*self.block_elements[-1], self.container_depth > 0, self._chrome())
        if self.open_tags["a"]:
            self.current_link_chars += len(data.strip())
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


def _plain_selection(candidates: list[Candidate]) -> list[int]:
    """Without an extractor: the blocks of <article> or <main> if the page has one, else all, less the chrome."""
    has_container = any(c.in_container and not c.chrome for c in candidates)
    return [i for i, c in enumerate(candidates) if not c.chrome and (c.in_container or not has_container)]


def parse_html(text: str, extract: bool | None = None) -> tuple[str, list[Block], list[Link]]:
    """The title, the article's blocks and its links (`parse_page`)."""
    page = parse_page(text, extract)
    return page.title, page.blocks, page.links


@dataclass
class Page:
    title: str
    blocks: list[Block]  # the article's
    links: list[Link]  # the article's
    furniture: list[Block]  # the rest of the page's text, as FURNITURE blocks


def parse_page(text: str, extract: bool | None = None) -> Page:
    """An HTML page read: the title, the article's blocks and links, and the rest of its text.
    `extract`: whether trafilatura decides which blocks are the article
    (`extract.article_blocks`); by default, for whole saved pages only (`extract.whole_page`)."""
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    candidates = parser.blocks
    chosen = None
    summary = None
    if extract is not False:
        from compliance.ingest import extract as extractor

        if extract or extractor.whole_page(text, candidates):
            chosen = extractor.article_blocks(text, candidates, parser.own_urls)
            if chosen is not None:
                summary = extractor.summary(candidates, chosen, parser.descriptions)
    if chosen is None:  # a fragment, a desk's template, or a page trafilatura cannot read
        chosen = _plain_selection(candidates)
        has_container = any(c.in_container and not c.chrome for c in candidates)
        links = [link for link, _, inside, chrome in parser.links if not chrome and (inside or not has_container)]
    else:
        kept = set(chosen)
        links = [link for link, index, _, _ in parser.links if index in kept]
    page_title = " ".join("".join(parser.title_parts).split())
    blocks: list[Block] = []
    title = page_title
    seen_title = False
    for index in chosen:
        candidate = candidates[index]
        kind = BlockKind.META if index == summary else candidate.kind
        if kind == BlockKind.TITLE:
            if seen_title:
                kind = BlockKind.HEADING
            else:
                seen_title = True
                title = title or candidate.text
        blocks.append(Block(kind, candidate.text, candidate.line, candidate.end_line, image=candidate.image))
    taken = set(chosen)
    # Not a link's text alone: a list of other stories' headlines ("Sources: Despite Huge
    # Sales, ...") is no line of this page's; a credit line has its label outside its link.
    furniture = [Block(BlockKind.FURNITURE, c.text, c.line, c.end_line) for i, c in enumerate(candidates)
                 if i not in taken and c.kind != BlockKind.TITLE and c.link_chars < 0.9 * len(c.text)]
    return Page(title, blocks, links, furniture)
