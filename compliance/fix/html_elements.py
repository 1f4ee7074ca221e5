"""Where each element of an HTML file starts and ends, in characters of the file, with the
text a reader sees in it: what a fix needs to put a paragraph beside one or take one out.

The scan's own parser (ingest.html) knows blocks by line only; this one, run only when a fix
is made, keeps offsets. An element closed implicitly (`<p>a<p>b`) has no end here: fixes
leave it alone rather than guess.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

_VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "base", "col", "embed", "param", "track"}
_NO_TEXT = {"script", "style", "noscript", "template", "svg", "title"}
CONTAINERS = {"article", "main", "body"}


@dataclass
class Element:
    tag: str
    start: int  # where its start tag begins
    inner_start: int  # where its start tag ends
    parent: int  # index of the element around it, -1 at the top
    line: int
    inner_end: int | None = None  # where its end tag begins; None: closed implicitly or never
    end: int | None = None  # where its end tag ends
    end_line: int = 0
    first_piece: int = 0  # its text is the document's text pieces [first_piece, last_piece)
    last_piece: int = 0


class _Locator(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = text
        self.line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.line_starts.append(index + 1)
        self.elements: list[Element] = []
        self.open: list[int] = []
        self.open_tags: Counter[str] = Counter()  # counted, not searched for: a deeply nested page stays linear
        self.pieces: list[str] = []  # the text, in order; each element knows its range
        self.silent = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs) -> None:
        raw = self.get_starttag_text() or ""
        start = self._offset()
        if tag in _VOID:
            if tag == "br":
                self._text(" ")
            return
        parent = self.open[-1] if self.open else -1
        self.elements.append(Element(tag, start, start + len(raw), parent, self.getpos()[0], first_piece=len(self.pieces)))
        self.open.append(len(self.elements) - 1)
        self.open_tags[tag] += 1
        if tag in _NO_TEXT:
            self.silent += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self._text(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags[tag]:
            return
        start = self._offset()
        close = self.source.find(">", start)
        end = len(self.source) if close == -1 else close + 1
        while self.open:
            element = self.elements[self.open.pop()]
            self.open_tags[element.tag] -= 1
            element.last_piece = len(self.pieces)
            if element.tag in _NO_TEXT:
                self.silent -= 1
            if element.tag == tag:
                element.inner_end, element.end, element.end_line = start, end, self.getpos()[0]
                break

    def handle_data(self, data: str) -> None:
        if not self.silent:
            self._text(data)

    def _text(self, data: str) -> None:
        self.pieces.append(data)


@dataclass
class Elements:
    """A page's elements, and the text pieces their texts are made of."""

    elements: list[Element]
    pieces: list[str]

    def __getitem__(self, index: int) -> Element:
        return self.elements[index]

    def text(self, index: int) -> str:
        element = self.elements[index]
        return " ".join("".join(self.pieces[element.first_piece:element.last_piece]).split())


def locate_elements(text: str) -> Elements:
    locator = _Locator(text)
    locator.feed(text)
    locator.close()
    return Elements(locator.elements, locator.pieces)


def element_of(elements: Elements, text: str, line: int, end_line: int) -> int | None:
    """The innermost closed element whose whole text is `text` and that holds lines
    [line, end_line]: the element a block of the scan came from."""
    holding = [i for i, e in enumerate(elements.elements) if e.end is not None and e.line <= line <= end_line <= e.end_line
               and e.end - e.start >= len(text)]
    for index in sorted(holding, key=lambda i: elements[i].end - elements[i].start):  # innermost first
        if elements.text(index) == text:
            return index
    return None


_FLOW = {"p", "div", "section", "figure", "blockquote", "pre", "table", "ul", "ol", "dl", "address",
         "h1", "h2", "h3", "h4", "h5", "h6"}
_FLOW_PARENTS = {"div", "section"} | CONTAINERS


def in_flow(elements: Elements, index: int) -> int:
    """The element holding `index` (or itself) after which a new paragraph may stand: a block
    whose parent takes paragraphs (a <div>, <section>, <article>, <main> or <body>), not a
    list item or a table cell; or the container itself when the text sits right in it."""
    while True:
        element = elements[index]
        parent = element.parent
        if element.tag in CONTAINERS or parent == -1:
            return index
        if element.tag in _FLOW and elements[parent].tag in _FLOW_PARENTS:
            return index
        index = parent
