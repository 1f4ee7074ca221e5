"""Where each element of an HTML file starts and ends, in characters of the file, with the
text a reader sees in it: what a fix needs to put a paragraph beside one or take one out.

The scan's own parser (ingest.html) knows blocks by line only; this one, run only when a fix
is made, keeps offsets. An element closed implicitly (`<p>a<p>b`) has no end here: fixes
leave it alone rather than guess.
"""
from __future__ import annotations

from dataclasses import dataclass, field
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
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())


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
        self.elements.append(Element(tag, start, start + len(raw), parent, self.getpos()[0]))
        self.open.append(len(self.elements) - 1)
        if tag in _NO_TEXT:
            self.silent += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self._text(" ")

    def handle_endtag(self, tag: str) -> None:
        if not any(self.elements[i].tag == tag for i in self.open):
            return
        start = self._offset()
        close = self.source.find(">", start)
        end = len(self.source) if close == -1 else close + 1
        while self.open:
            element = self.elements[self.open.pop()]
            if element.tag in _NO_TEXT:
                self.silent -= 1
            if element.tag == tag:
                element.inner_end, element.end, element.end_line = start, end, self.getpos()[0]
                break

    def handle_data(self, data: str) -> None:
        if not self.silent:
            self._text(data)

    def _text(self, data: str) -> None:
        for index in self.open:
            self.elements[index].parts.append(data)


def locate_elements(text: str) -> list[Element]:
    locator = _Locator(text)
    locator.feed(text)
    locator.close()
    return locator.elements


def element_of(elements: list[Element], text: str, line: int, end_line: int) -> int | None:
    """The innermost closed element whose whole text is `text` and that holds lines
    [line, end_line]: the element a block of the scan came from."""
    best = None
    for index, element in enumerate(elements):
        if element.end is None or element.text != text or not element.line <= line <= end_line <= element.end_line:
            continue
        if best is None or element.end - element.start < elements[best].end - elements[best].start:
            best = index
    return best


def top_level(elements: list[Element], index: int) -> int:
    """The element holding `index` that sits right inside <article>, <main> or <body> (or `index`
    itself when it is one of those): where a new paragraph goes at the article's end."""
    while True:
        parent = elements[index].parent
        if elements[index].tag in CONTAINERS or parent == -1 or elements[parent].tag in CONTAINERS:
            return index
        index = parent
