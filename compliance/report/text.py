"""The terminal format: one line per finding, `path:line:col: severity rule message`, then a summary."""
from __future__ import annotations

from compliance.report.context import ReportInput
from compliance.report.summary import summarize


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
    skipped = f", {extra['skipped_files']} other files skipped" if extra.get("skipped_files") else ""
    if "baseline" in extra:
        b = extra["baseline"]
        lines.append(f"baseline {b['file']}: {b['accepted']} findings accepted, {b['gone']} entries no longer occur")
    if "incremental" in extra:
        inc = extra["incremental"]
        lines.append(f"state: re-checked {inc['rechecked']} of {summary['documents']} documents, {inc['cached']} unchanged; "
                     f"{inc['new_findings']} new findings, {inc['resolved_findings']} resolved since the last run")
    lines.append(
        f"{summary['documents']} documents scanned ({summary['matched']} matched a source{skipped}): {counts}"
    )
    return "\n".join(lines) + "\n"
