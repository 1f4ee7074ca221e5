"""The terminal format: one line per finding, `path:line:col: severity rule message`, then a summary."""
from __future__ import annotations

import re

from compliance.report.context import ReportInput
from compliance.report.summary import summarize

# Control characters (but tab and newline) and bidirectional overrides: a file name or a
# repost's text carrying them must not move the cursor, recolour or reorder the terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every character a terminal would act on shown as an escape (`\\x1b`)."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def count(number: int, noun: str) -> str:
    """'1 document', '2 documents': the summary is read by people."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def to_text(report: ReportInput) -> str:
    lines = []
    for document in report.ordered:
        for f in document.findings:
            note = f" (suppressed: {f.suppression.reason})" if f.suppression else ""
            lines.append(f"{document.path}:{f.line}:{f.column}: {f.severity.value} {f.rule} {f.message}{note}")
    summary = summarize(report.documents)
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n) or "no findings"
    if summary["suppressed"]:
        counts += f" ({summary['suppressed']} suppressed)"
    extra = report.extra_summary
    skipped = f", {count(extra['skipped_files'], 'other file')} skipped" if extra.get("skipped_files") else ""
    if "baseline" in extra:
        b = extra["baseline"]
        lines.append(f"baseline {b['file']}: {count(b['accepted'], 'finding')} accepted, "
                     f"{b['gone']} {'entry no longer occurs' if b['gone'] == 1 else 'entries no longer occur'}")
    if "incremental" in extra:
        inc = extra["incremental"]
        lines.append(f"state: re-checked {inc['rechecked']} of {count(summary['documents'], 'document')}, {inc['cached']} unchanged; "
                     f"{count(inc['new_findings'], 'new finding')}, {inc['resolved_findings']} resolved since the last run")
    lines.append(
        f"{count(summary['documents'], 'document')} scanned ({summary['matched']} matched a source{skipped}): {counts}"
    )
    return terminal_safe("\n".join(lines)) + "\n"
