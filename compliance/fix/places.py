"""Where a fix puts or takes text, in each format, as byte offsets of the file on disk.

`FileText` holds a repost's bytes and its decoded text; its methods turn "a paragraph after
the article", "a line before this block", "this block out" into `Edit`s, writing in the
file's own ways: its line endings, its indentation, HTML-escaped in HTML, a front-matter
field in Markdown. Each method checks that the place holds the block the scan saw, and
returns None when it cannot be sure: a fix is never a guess.
"""
from __future__ import annotations

import codecs
import html
import json
import re
from dataclasses import dataclass
from functools import cached_property

from compliance.fix.edits import Edit
from compliance.fix.html_elements import CONTAINERS, Elements, element_of, in_flow, locate_elements
from compliance.model import Block

_WORD = re.compile(r"\w+")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")
_TAG_OR_COMMENT = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_EMBEDS = re.compile(r"<(?:img|picture|video|audio|iframe|object|embed|table|svg|canvas)\b", re.IGNORECASE)
_MARKDOWN_MARKUP = re.compile(r"[*_\[\]`<>!]")


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


@dataclass
class FileText:
    """A repost's bytes as read for fixing, and its text (UTF-8, after a byte-order mark)."""

    data: bytes
    fmt: str  # "txt" | "md" | "html"

    @cached_property
    def bom(self) -> int:
        return len(codecs.BOM_UTF8) if self.data.startswith(codecs.BOM_UTF8) else 0

    @cached_property
    def text(self) -> str:
        return self.data[self.bom:].decode("utf-8")

    @cached_property
    def newline(self) -> str:
        """The file's own line ending: CRLF stays CRLF."""
        crlf = self.text.count("\r\n")
        if crlf and crlf * 2 >= self.text.count("\n"):
            return "\r\n"
        return "\r" if "\n" not in self.text and "\r" in self.text else "\n"  # old Mac files: CR alone

    @cached_property
    def lines(self) -> list[str]:
        """Lines as the format's parser counts them: `str.splitlines` for text and Markdown,
        "\\n" for HTML (as html.parser does); each with its ending."""
        if self.fmt == "html":
            return self.text.split("\n")
        return self.text.splitlines(keepends=True) or [""]

    @cached_property
    def line_starts(self) -> list[int]:
        starts, at = [], 0
        for index, line in enumerate(self.lines):
            starts.append(at)
            at += len(line) + (1 if self.fmt == "html" and index < len(self.lines) - 1 else 0)
        return starts

    @cached_property
    def elements(self) -> Elements:
        return locate_elements(self.text)

    def byte(self, char: int) -> int:
        return self.bom + len(self.text[:char].encode("utf-8"))

    def edit(self, start: int, end: int, text: str, order: int = 0) -> Edit:
        """An edit of characters [start, end) of the text, as bytes of the file."""
        return Edit(self.byte(start), self.byte(end), text, order)

    # -- lines (text and Markdown) --
    def _content_end(self, line: int) -> int:
        """Where line `line`'s text ends, before its line ending."""
        raw = self.lines[line - 1]
        return self.line_starts[line - 1] + len(raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"))

    def _blank(self, line: int) -> bool:
        return not self.lines[line - 1].strip()

    def _holds(self, block: Block, start: int, end: int) -> bool:
        """Whether characters [start, end) hold the block's words, in order (Markdown may wrap
        them in markup; text files hold exactly them)."""
        raw = self.text[start:end]
        if self.fmt == "txt":
            return " ".join(part.strip() for part in raw.splitlines() if part.strip()) == block.text
        words = iter(_words(raw))
        return all(word in words for word in _words(block.text))

    def _block_lines(self, block: Block) -> tuple[int, int] | None:
        if not 1 <= block.line <= block.end_line <= len(self.lines):
            return None
        start = self.line_starts[block.line - 1]
        start += len(self.lines[block.line - 1]) - len(self.lines[block.line - 1].lstrip())
        end = self._content_end(block.end_line)
        return (start, end) if self._holds(block, start, end) else None

    # -- what fixes ask for --
    def append(self, blocks: list[Block], text: str, order: int = 0) -> Edit | None:
        """`text` as a new paragraph at the article's end: after the last of `blocks` in HTML
        (inside the article), after the file's last line of text otherwise."""
        if self.fmt == "html":
            return self._append_html(blocks, text, order)
        last = next((n for n in range(len(self.lines), 0, -1) if not self._blank(n)), None)
        if last is None:
            return self.edit(len(self.text), len(self.text), text + self.newline, order)
        at = self._content_end(last)
        return self.edit(at, at, self.newline * 2 + text, order)

    def insert_before(self, block: Block, text: str, order: int = 0) -> Edit | None:
        """`text` as a paragraph of its own right before `block`."""
        if self.fmt == "html":
            index = self._element(block)
            if index is None:
                return None
            element = self.elements[index]
            head = self.text[self._line_start(element.start):element.start]
            paragraph = f"<p>{html.escape(text, quote=False)}</p>"
            return self.edit(element.start, element.start, paragraph + (self.newline + head if not head.strip() else ""), order)
        place = self._block_lines(block)
        if place is None:
            return None
        at = self.line_starts[block.line - 1]
        indent = self.text[at:place[0]]
        return self.edit(at, at, indent + text + self.newline * 2, order)

    def replace(self, block: Block, text: str, through: Block | None = None) -> Edit | None:
        """`block`'s text (and the blocks after it up to `through`) replaced by `text`."""
        last = through or block
        if self.fmt == "html":
            index = self._element(block)
            if index is None or through is not None:
                return None
            element = self.elements[index]
            assert element.inner_end is not None
            return self.edit(element.inner_start, element.inner_end, html.escape(text, quote=False))
        first_place, last_place = self._block_lines(block), self._block_lines(last)
        if first_place is None or last_place is None:
            return None
        return self.edit(first_place[0], last_place[1], text)

    def remove(self, block: Block) -> Edit | None:
        """`block` taken out, with the blank lines that separated it (or its element, in HTML)."""
        if self.fmt == "html":
            index = self._element(block)
            if index is None:
                return None
            element = self.elements[index]
            assert element.end is not None
            start, end = element.start, element.end
            parent = self.elements[element.parent] if element.parent >= 0 else None
            if parent is not None and parent.tag == "figure" and parent.end is not None \
                    and self.elements.text(element.parent) == block.text \
                    and self.text.find(self.text[parent.start:parent.end]) < parent.start:
                start, end = parent.start, parent.end  # the same figure twice, picture and all: the copy goes whole
            elif _EMBEDS.search(self.text, element.inner_start, element.inner_end or end):
                return None  # a picture or a table goes with it: not for a fix to decide
            start, end = self._whole_lines(start, end)
            return self.edit(start, end, "")
        place = self._block_lines(block)
        if place is None or self.fmt == "md" and re.search(r"!\[|<img", self.text[place[0]:place[1]], re.IGNORECASE):
            return None  # a Markdown image's alt text: taking it out would take the picture
        following = next((n for n in range(block.end_line + 1, len(self.lines) + 1) if not self._blank(n)), None)
        if following is not None:
            return self.edit(self.line_starts[block.line - 1], self.line_starts[following - 1], "")
        previous = next((n for n in range(block.line - 1, 0, -1) if not self._blank(n)), None)
        start = self._content_end(previous) if previous else self.line_starts[block.line - 1]
        return self.edit(start, self._content_end(block.end_line), "")

    def remove_within(self, block: Block, cut: str, kept: str) -> Edit | None:
        """Take `cut` (and the space after it) out of `block`, where `kept` follows it."""
        if self.fmt == "html":
            index = self._element(block)
            if index is None:
                return None
            element = self.elements[index]
            region = (element.inner_start, element.inner_end)
        else:
            lines = self._block_lines(block)
            if lines is None:
                return None
            region = lines
        visible, offsets = self._visible(*region)  # type: ignore[arg-type]
        target = " ".join(cut.split())
        found = visible.find(target + " " + " ".join(kept.split())) if kept else -1
        if found < 0:
            found = visible.find(target + " ".join(kept.split()))
        if found < 0:
            return None
        start = offsets[found]
        after = found + len(target)
        while after < len(visible) and visible[after] == " ":
            after += 1
        end = offsets[after] if after < len(visible) else region[1]
        removed = self.text[start:end]
        if self.fmt == "html" and "<" in removed or self.fmt == "md" and _MARKDOWN_MARKUP.search(removed):
            return None  # markup inside the copy: taking it out could break the markup
        return self.edit(start, end, "")

    def set_front_matter(self, key: str, value: str) -> Edit | None:
        """A `key: "value"` line added at the end of Markdown front matter (its order and
        comments untouched); None without front matter, or when the key is there already."""
        if self.fmt != "md" or not self.lines or self.lines[0].rstrip("\r\n") != "---":
            return None
        for index in range(1, len(self.lines)):
            raw = self.lines[index]
            if raw.rstrip("\r\n") in ("---", "..."):
                at = self.line_starts[index]
                return self.edit(at, at, f"{key}: {json.dumps(value, ensure_ascii=False)}{self.newline}")
            if re.match(rf"{re.escape(key)}\s*:", raw):
                return None
        return None

    # -- helpers --
    def _line_start(self, at: int) -> int:
        return self.text.rfind("\n", 0, at) + 1

    def _whole_lines(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) grown to whole lines when nothing else stands on them."""
        line_start = self._line_start(start)
        line_end = self.text.find("\n", end)
        line_end = len(self.text) if line_end == -1 else line_end + 1
        if not self.text[line_start:start].strip() and not self.text[end:line_end].strip():
            return line_start, line_end
        return start, end

    def _element(self, block: Block) -> int | None:
        return element_of(self.elements, block.text, block.line, block.end_line)

    def _append_html(self, blocks: list[Block], text: str, order: int) -> Edit | None:
        paragraph = f"<p>{html.escape(text, quote=False)}</p>"
        for block in reversed(blocks):
            index = self._element(block)
            if index is None:
                continue
            outer = self.elements[in_flow(self.elements, index)]
            if outer.tag in CONTAINERS:
                at = outer.inner_end
            else:
                at = outer.end
            if at is None:
                return None
            head = self.text[self._line_start(outer.start):outer.start]
            rest = self.text[at:self.text.find("\n", at) if "\n" in self.text[at:] else len(self.text)]
            own_line = not head.strip() and not rest.strip() and outer.tag not in CONTAINERS
            return self.edit(at, at, (self.newline + head + paragraph) if own_line else paragraph, order)
        return None

    def _visible(self, start: int, end: int) -> tuple[str, list[int]]:
        """What a reader sees of characters [start, end): tags out and entities read in HTML,
        whitespace runs made one space; and where each of its characters starts in the file."""
        chars: list[str] = []
        offsets: list[int] = []
        at = start
        raw = self.text
        while at < end:
            if self.fmt == "html" and raw[at] == "<":
                tag = _TAG_OR_COMMENT.match(raw, at, end)
                if tag:
                    at = tag.end()
                    continue
            if self.fmt == "html" and raw[at] == "&":
                entity = _ENTITY.match(raw, at, end)
                if entity:
                    for char in html.unescape(entity.group()):
                        chars.append(" " if char.isspace() else char)
                        offsets.append(at)
                    at = entity.end()
                    continue
            char = raw[at]
            if char.isspace():
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    offsets.append(at)
            else:
                chars.append(char)
                offsets.append(at)
            at += 1
        while chars and chars[-1] == " ":
            chars.pop()
            offsets.pop()
        return "".join(chars), offsets
