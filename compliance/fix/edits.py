"""What a fix is: text edits at byte offsets of the file as it is on disk, with the reason.

Offsets are bytes, not characters, so that applying edits copies every other byte of the
file as it was: its encoding mark, its line endings, whatever the parsers made of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edit:
    """Replace the bytes [start, end) with `text` (UTF-8); start == end inserts."""

    start: int
    end: int
    text: str
    order: int = 0  # of two insertions at one place, the lower goes first (a credit before the disclaimer)

    def overlaps(self, other: "Edit") -> bool:
        """Whether the two touch the same bytes: an insertion inside the other's range does, two
        insertions at one point or an insertion at either end of a range do not."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Fix:
    """One finding's fix: what it does, in words, and the edits that do it."""

    rule: str
    line: int
    description: str  # "added the attribution line ..."
    edits: tuple[Edit, ...] = field(default_factory=tuple)


def apply_edits(data: bytes, edits: list[Edit]) -> bytes:
    """`data` with `edits` (which must not overlap) made; every other byte copied as it was."""
    out, at = [], 0
    for number, edit in sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[1].order, item[0])):
        out.append(data[at:edit.start])
        out.append(edit.text.encode("utf-8"))
        at = max(at, edit.end)
    out.append(data[at:])
    return b"".join(out)


def compatible(fixes: list[Fix]) -> tuple[list[Fix], list[Fix]]:
    """The fixes that can be made together (the earlier wins) and those that clash with them."""
    kept: list[Fix] = []
    clashing: list[Fix] = []
    for fix in fixes:
        if any(edit.overlaps(other) for other_fix in kept for other in other_fix.edits for edit in fix.edits):
            clashing.append(fix)
        else:
            kept.append(fix)
    return kept, clashing
