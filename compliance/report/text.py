"""The terminal format: one line per finding, `path:line:col: severity rule message`, then a summary.

On a terminal it may be coloured, show each finding's lines of the repost with carets under
them (`--show-source`, as ruff and rustc do), or count findings per rule instead of listing
them (`--statistics`). Everything taken from a repost, a file name or a pack is escaped
first (`terminal_safe`), and colour added after, so no text can write escapes of its own.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from compliance.errors import InputError
from compliance.ingest.read import HTML_SUFFIXES, decode
from compliance.report.context import ReportInput
from compliance.report.summary import summarize

# Control characters (but tab and newline) and bidirectional overrides: a file name or a
# repost's text carrying them must not move the cursor, recolour or reorder the terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SOURCE_WIDTH = 100  # characters of a repost's line shown under a finding: a .txt paragraph is one long line
SOURCE_LINES = 4  # lines of a finding shown, at most
_MAX_SOURCE_BYTES = 16 * 1024 * 1024


def terminal_safe(text: str) -> str:
    """`text` with every character a terminal would act on shown as an escape (`\\x1b`)."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def count(number: int, noun: str) -> str:
    """'1 document', '2 documents': the summary is read by people."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def wants_color(stream, environ: dict | None = None) -> bool:
    """Colour only on a terminal, as https://no-color.org and https://force-color.org say:
    a non-empty NO_COLOR turns it off, then a non-empty FORCE_COLOR on; TERM=dumb is no colour."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


_SGR = {"bold": "1", "dim": "2", "red": "31", "yellow": "33", "blue": "34", "cyan": "36", "bold-red": "1;31",
        "bold-yellow": "1;33", "bold-blue": "1;34"}
_SEVERITY_STYLE = {"error": "bold-red", "warning": "bold-yellow", "info": "bold-blue"}


class _Paint:
    """Wraps already escaped text in colour codes, or leaves it as it is."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if self.enabled and text else text


@dataclass(frozen=True)
class TextOptions:
    color: bool = False
    show_source: bool = False
    statistics: bool = False
    root: Path | None = None  # files are read again from here for show_source (the project root)


def to_text(report: ReportInput, options: TextOptions | None = None) -> str:
    options = options or TextOptions()
    paint = _Paint(options.color)
    lines: list[str] = []
    if options.statistics:
        lines.extend(_statistics(report, paint))
    else:
        source = _SourceLines(options.root) if options.show_source else None
        for document in report.ordered:
            path = terminal_safe(document.path)
            for f in document.findings:
                note = paint("dim", terminal_safe(f" (suppressed: {f.suppression.reason})")) if f.suppression else ""
                where = paint("bold", path) + paint("cyan", ":") + f"{f.line}" + paint("cyan", ":") + f"{f.column}" + paint("cyan", ":")
                lines.append(f"{where} {paint(_SEVERITY_STYLE.get(f.severity.value, 'bold'), f.severity.value)} "
                             f"{paint('bold', terminal_safe(f.rule))} {terminal_safe(f.message)}{note}")
                if source is not None:
                    lines.extend(source.excerpt(document.repository_path, f.line, f.column, f.end_line, f.excerpt,
                                                paint, _SEVERITY_STYLE.get(f.severity.value, "bold")))
    lines.extend(_summary(report, paint))
    return "\n".join(lines) + "\n"


def _summary(report: ReportInput, paint: _Paint) -> list[str]:
    summary = summarize(report.documents)
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n) or "no findings"
    if summary["suppressed"]:
        counts += f" ({summary['suppressed']} suppressed)"
    extra = report.extra_summary
    skipped = f", {count(extra['skipped_files'], 'other file')} skipped" if extra.get("skipped_files") else ""
    lines = []
    if "baseline" in extra:
        b = extra["baseline"]
        lines.append(terminal_safe(f"baseline {b['file']}: {count(b['accepted'], 'finding')} accepted, "
                                   f"{b['gone']} {'entry no longer occurs' if b['gone'] == 1 else 'entries no longer occur'}"))
    if "incremental" in extra:
        inc = extra["incremental"]
        lines.append(f"state: re-checked {inc['rechecked']} of {count(summary['documents'], 'document')}, {inc['cached']} unchanged; "
                     f"{count(inc['new_findings'], 'new finding')}, {inc['resolved_findings']} resolved since the last run")
    lines.append(paint("bold", f"{count(summary['documents'], 'document')} scanned ({summary['matched']} matched a source{skipped}): {counts}"))
    return lines


def _statistics(report: ReportInput, paint: _Paint) -> list[str]:
    """`COUNT  RULE  SEVERITY  SUMMARY`, most frequent first, as `ruff --statistics` prints them
    (active findings only; the summary line after says how many were suppressed)."""
    counts: Counter[tuple[str, str]] = Counter()
    for document in report.documents:
        for f in document.findings:
            if f.is_active:
                counts[(f.rule, f.severity.value)] += 1
    described = {rule.id: rule.description for rule in report.rules}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if not rows:
        return []
    widths = (max(len(str(n)) for _, n in rows), max(len(rule) for (rule, _), _ in rows), max(len(s) for (_, s), _ in rows))
    lines = []
    for (rule, severity), number in rows:
        summary = terminal_safe(described.get(rule, "").rstrip("."))
        lines.append(f"{paint('bold', str(number).rjust(widths[0]))}  {paint('bold', terminal_safe(rule).ljust(widths[1]))}  "
                     f"{paint(_SEVERITY_STYLE.get(severity, 'bold'), severity.ljust(widths[2]))}  {summary}".rstrip())
    return lines


class _SourceLines:
    """The lines of the files findings point at, read again (once each) for --show-source."""

    def __init__(self, root: Path | None):
        self.root = root or Path.cwd()
        self.files: dict[str, list[str] | None] = {}

    def _lines(self, name: str) -> list[str] | None:
        if name not in self.files:
            try:
                path = self.root / name
                if not path.is_file() or path.stat().st_size > _MAX_SOURCE_BYTES:
                    raise OSError
                data = path.read_bytes()
                try:  # in the encoding the scan read it with
                    text = decode(data, path.suffix.lower() in HTML_SUFFIXES, name)[0]
                except InputError:
                    text = data.decode("utf-8", errors="replace")
                self.files[name] = text.splitlines()
            except (OSError, ValueError):
                self.files[name] = None  # gone, a folder, unreadable: the finding line says enough
        return self.files[name]

    def excerpt(self, name: str, line: int, column: int, end_line: int | None, quoted: str,
                paint: Callable[[str, str], str], style: str) -> list[str]:
        """The lines from `line` to `end_line`, underlined from `column` to the end of the text, or
        only under `quoted` (the finding's excerpt) when the line has it exactly there."""
        lines = self._lines(name)
        if not lines or not 1 <= line <= len(lines):
            return []
        last = min(max(end_line or line, line), len(lines))
        shown = list(range(line, min(last, line + SOURCE_LINES - 1) + 1))
        gutter = len(str(shown[-1]))
        bar = paint("blue", " " * (gutter + 1) + "|")
        out = [bar]
        for number in shown:
            raw = lines[number - 1].replace("\t", " ")
            start = column - 1 if number == line else len(raw) - len(raw.lstrip())
            start = min(max(start, 0), len(raw))
            stop = start + len(quoted) if number == line and quoted and raw.startswith(quoted, start) else None
            text, first, length = _window(raw, start, stop)
            out.append(paint("blue", f"{number:>{gutter}} |") + (" " + text if text else ""))
            if length:
                out.append(bar + " " + " " * first + paint(style, "^" * length))
        if last > shown[-1]:
            out.append(paint("blue", " " * (gutter + 1) + "|") + f" ... ({count(last - shown[-1], 'more line')})")
        out.append(bar)
        return out


def _window(raw: str, start: int, stop: int | None = None) -> tuple[str, int, int]:
    """(the escaped text shown of a line, where the carets start in it, how many): at most
    SOURCE_WIDTH characters, from a little before `start` when the line is longer; carets from
    `start` to `stop` (default: the end of the text)."""
    text = raw.rstrip()
    begin = 0 if start < SOURCE_WIDTH - 20 else start - 20
    end = begin + SOURCE_WIDTH
    head, tail = ("…" if begin else ""), ("…" if end < len(text) else "")
    stop = min(end, len(text) if stop is None else stop)
    before = terminal_safe(text[begin:start])
    marked = terminal_safe(text[start:stop])
    return head + before + terminal_safe(text[start:end]) + tail, len(head) + len(before), len(marked)
