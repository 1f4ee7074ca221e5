"""The JSON report: the contract other tools read. Its shape is `report.schema.json`.

Identical inputs give byte-identical reports: no timestamps, documents in path order.
Adding a field is a minor schema version; removing or renaming one is a major version.
"""
from __future__ import annotations

import json
from typing import Any

from compliance import __version__
from compliance.model import DocumentResult, Finding, Match
from compliance.report.summary import summarize

SCHEMA_VERSION = "1.0"


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
    return {
        "rule": finding.rule, "severity": finding.severity.value, "message": finding.message,
        "line": finding.line, "column": finding.column, "end_line": finding.end_line or finding.line,
        "excerpt": finding.excerpt, "evidence": finding.evidence,
    }


def report_dict(documents: list[DocumentResult], extra_summary: dict[str, Any] | None = None) -> dict[str, Any]:
    ordered = sorted(documents, key=lambda d: d.path)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "compliance", "version": __version__},
        "summary": {**summarize(ordered), **(extra_summary or {})},
        "documents": [
            {"path": d.path, "format": d.format, "title": d.title, "source": _source(d.match),
             "findings": [_finding(f) for f in d.findings]}
            for d in ordered
        ],
    }


def to_json(documents: list[DocumentResult], extra_summary: dict[str, Any] | None = None) -> str:
    return json.dumps(report_dict(documents, extra_summary), ensure_ascii=False, indent=2) + "\n"
