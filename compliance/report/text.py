"""The terminal format: one line per finding, `path:line:col: severity rule message`, then a summary."""
from __future__ import annotations

from typing import Any

from compliance.model import DocumentResult
from compliance.report.summary import summarize


def to_text(documents: list[DocumentResult], extra_summary: dict[str, Any] | None = None) -> str:
    lines = []
    for document in sorted(documents, key=lambda d: d.path):
        for f in document.findings:
            lines.append(f"{document.path}:{f.line}:{f.column}: {f.severity.value} {f.rule} {f.message}")
    summary = summarize(documents)
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n) or "no findings"
    extra = extra_summary or {}
    skipped = f", {extra['skipped_files']} other files skipped" if extra.get("skipped_files") else ""
    lines.append(
        f"{summary['documents']} documents scanned ({summary['matched']} matched a source{skipped}): {counts}"
    )
    return "\n".join(lines) + "\n"
