"""The JSON report: the contract other tools read. Its shape is `report.schema.json`.

Identical inputs give byte-identical reports: no timestamps, documents in path order.
Adding a field is a minor schema version; removing or renaming one is a major version.
"""
from __future__ import annotations

import json
from typing import Any

from compliance import __version__
from compliance.model import DocumentResult, Finding, Match
from compliance.report.context import ReportInput
from compliance.report.summary import summarize

SCHEMA_VERSION = "1.2"  # 1.1: findings may carry "suppressed"; 1.2: summary.incremental


def _source(match: Match | None) -> dict[str, Any] | None:
    if match is None:
        return None
    s = match.source
    return {
        "id": s.id, "publisher": s.publisher, "url": s.url, "title": s.title, "license": s.license.value,
        "containment": match.containment, "coverage": match.coverage, "copied_words": match.copied_words,
        "spans": [
            {"line": span.line, "end_line": span.end_line, "words": span.length,
             "document_chars": list(span.doc_chars), "source_chars": list(span.source_chars)}
            for span in match.spans
        ],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    found = {
        "rule": finding.rule, "severity": finding.severity.value, "message": finding.message,
        "line": finding.line, "column": finding.column, "end_line": finding.end_line or finding.line,
        "excerpt": finding.excerpt, "evidence": finding.evidence,
    }
    if finding.suppression is not None:
        found["suppressed"] = {"kind": finding.suppression.kind, "reason": finding.suppression.reason}
    return found


def _document(d: DocumentResult) -> dict[str, Any]:
    return {"path": d.path, "format": d.format, "title": d.title, "source": _source(d.match),
            "findings": [_finding(f) for f in d.findings]}


def report_dict(report: ReportInput) -> dict[str, Any]:
    ordered = report.ordered
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "compliance", "version": __version__},
        "summary": {**summarize(ordered), **report.extra_summary},
        "documents": [_document(d) for d in ordered],
    }


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False)


def document_row(d: DocumentResult) -> str:
    """A document's line of the report (see `DocumentResult.json_row`)."""
    return _ROW_ENCODER.encode(_document(d))


def to_json(report: ReportInput) -> str:
    """Indented at the top, one document per line: still easy to read and diff, and written by
    json's C encoder (indenting every level goes through its pure-Python one, 10x slower)."""
    ordered = report.ordered
    head = json.dumps({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "compliance", "version": __version__},
        "summary": {**summarize(ordered), **report.extra_summary},
    }, ensure_ascii=False, indent=2)
    rows = ",\n".join("    " + (d.json_row or document_row(d)) for d in ordered)
    return f'{head[:-2]},\n  "documents": [\n{rows}\n  ]\n}}\n'

