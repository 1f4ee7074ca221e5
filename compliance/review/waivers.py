"""Appending a reviewer's accepted finding to the review waivers file, as a waiver.

The file is YAML a person may also edit (comments, their own waivers), so it is never
re-dumped: the new entry is appended as text, the result parsed again to prove that every
earlier waiver is still there and the new one reads back as written, and only then put in
place atomically. A file that does not end in its `waivers:` list (someone wrote
`waivers: []`, or another key after it) is refused with a one-line error, not rewritten.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

from compliance.atomic import replace_atomically
from compliance.checks.globs import matches
from compliance.config import load_waiver_file
from compliance.errors import ComplianceError

HEADER = ("# Waivers recorded by `compliance review` when a reviewer accepts a finding (docs/reviewing.md).\n"
          "# Every scan reads this file; edit or remove entries as you would in compliance.yaml.\n"
          "waivers:\n")
_LOCK = threading.Lock()  # one server, several request threads: appends one at a time


@dataclass(frozen=True)
class AcceptedFinding:
    path: str  # the document's path from the project root
    rule: str
    fingerprint: str
    reason: str
    reviewer: str
    date: dt.date
    expires: dt.date | None = None
    content_hash: str | None = None  # the document as the reviewer saw it


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly `text`, whatever it holds
    (quotes, backslashes, line breaks, characters YAML does not allow raw)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0xFEFF, 0xFFFE, 0xFFFF, 0x2028, 0x2029):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out) + '"'


def glob_escaped(path: str) -> str:
    """The path as a waiver glob matching itself: .gitignore's special characters escaped, and
    anchored at the project root (a leading `/`) so it cannot match the same name elsewhere."""
    escaped = "".join("\\" + c if c in "*?[]!#\\" else c for c in path)
    return "/" + escaped.lstrip("/")


def entry_text(accepted: AcceptedFinding) -> str:
    lines = [f"  - paths: [{yaml_quoted(glob_escaped(accepted.path))}]",
             f"    rules: [{yaml_quoted(accepted.rule)}]",
             f"    fingerprints: [{yaml_quoted(accepted.fingerprint)}]",
             f"    reason: {yaml_quoted(accepted.reason)}",
             f"    reviewer: {yaml_quoted(accepted.reviewer)}",
             f"    date: {accepted.date.isoformat()}"]
    if accepted.expires is not None:
        lines.append(f"    expires: {accepted.expires.isoformat()}")
    if accepted.content_hash:
        lines.append(f"    content_hash: {yaml_quoted(accepted.content_hash)}")
    return "\n".join(lines) + "\n"


def append_waiver(path: Path, accepted: AcceptedFinding) -> None:
    """Append `accepted` to the waivers file at `path` (created with a header if missing)."""
    with _LOCK:
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        kept = load_waiver_file(path)  # a broken file is said here, before anything is written
        text = before if before.endswith("\n") or not before else before + "\n"
        if not before.strip():
            text = HEADER
        elif not kept and "waivers:" not in before:  # comments only: the list starts here
            text += "waivers:\n"
        text += entry_text(accepted)
        _put_in_place(path, text, kept, accepted, before)


def _put_in_place(path: Path, text: str, kept: list, accepted: AcceptedFinding, before: str) -> None:
    def check(temporary: Path) -> None:  # every earlier waiver still there, the new one as written
        try:
            after = load_waiver_file(temporary)
        except ComplianceError:
            after = None
        new = after[-1] if after and len(after) == len(kept) + 1 else None
        if (new is None or [(w.paths, w.rules, w.reason) for w in after[:-1]] != [(w.paths, w.rules, w.reason) for w in kept]
                or new.reason != accepted.reason or new.fingerprints != (accepted.fingerprint,)
                or not matches(new.paths, accepted.path)):
            raise ComplianceError("cannot append the waiver: the file does not end in its `waivers:` list; "
                                  "add it by hand or move the other keys above it", str(path))
        if (path.read_text(encoding="utf-8") if path.exists() else "") != before:  # edited meanwhile: keep their edit
            raise ComplianceError("the waivers file changed while the waiver was written; try again", str(path))

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        replace_atomically(path, text.encode("utf-8"), path.stat().st_mode & 0o777 if path.exists() else None, check)
    except OSError as exc:
        raise ComplianceError(f"cannot write the waivers file: {exc.strerror or exc}", str(path)) from None
