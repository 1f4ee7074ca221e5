"""The JSON report: the contract other tools read. Its shape is `report.schema.json`.

Identical inputs give byte-identical reports: no timestamps, documents in path order.
Adding a field is a minor schema version; removing or renaming one is a major version.
"""
from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from typing import Any

from compliance import __version__
from compliance.model import DocumentResult, Finding, Match, Span
from compliance.report.context import ReportInput
from compliance.report.summary import summarize

SCHEMA_VERSION = "1.4"  # 1.1: findings may carry "suppressed"; 1.2: summary.incremental; 1.3: paths from the project root;
# 1.4: documents[].sources, every source a document copies (`source` is the first of them), and summary.skipped_links


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
            "sources": [_source(match) for match in d.matches], "findings": [_finding(f) for f in d.findings]}


def report_dict(report: ReportInput) -> dict[str, Any]:
    ordered = report.ordered
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "compliance", "version": __version__},
        "summary": {**summarize(ordered), **report.extra_summary},
        "documents": [_document(d) for d in ordered],
    }


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False)
_encode = _ROW_ENCODER.encode
_string = encode_basestring  # json's own string escaping (C), as _ROW_ENCODER applies it


def _json(value: Any) -> str:
    """`_encode(value)`, with the scalars a row is made of done without an encoder call."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return _encode(value)


def _span_json(span: Span) -> str:
    # Every field is an int (Span is built from token offsets): formatted as json writes ints.
    (doc_start, doc_end), (source_start, source_end) = span.doc_chars, span.source_chars
    return (f'{{"line": {span.line:d}, "end_line": {span.end_line:d}, "words": {span.doc_end - span.doc_start:d}, '
            f'"document_chars": [{doc_start:d}, {doc_end:d}], "source_chars": [{source_start:d}, {source_end:d}]}}')


def _source_json(match: Match | None) -> str:
    if match is None:
        return "null"
    s = match.source
    return (f'{{"id": {_json(s.id)}, "publisher": {_json(s.publisher)}, "url": {_json(s.url)}, "title": {_json(s.title)}, '
            f'"license": {_json(s.license.value)}, "containment": {_json(match.containment)}, '
            f'"coverage": {_json(match.coverage)}, "copied_words": {_json(match.copied_words)}, '
            f'"spans": [{", ".join(map(_span_json, match.spans))}]}}')


def _finding_json(f: Finding) -> str:
    suppressed = "" if f.suppression is None else (
        f', "suppressed": {{"kind": {_json(f.suppression.kind)}, "reason": {_json(f.suppression.reason)}}}')
    return (f'{{"rule": {_json(f.rule)}, "severity": {_json(f.severity.value)}, "message": {_json(f.message)}, '
            f'"line": {_json(f.line)}, "column": {_json(f.column)}, "end_line": {_json(f.end_line or f.line)}, '
            f'"excerpt": {_json(f.excerpt)}, "evidence": {_encode(f.evidence) if f.evidence else "{}"}{suppressed}}}')


def document_row(d: DocumentResult) -> str:
    """A document's line of the report (see `DocumentResult.json_row`): exactly
    `_ROW_ENCODER.encode(_document(d))`, written out field by field: building the dicts and
    encoding them took 26 us of a worker's time per repost, this 19."""
    primary = _source_json(d.match)
    sources = ", ".join([primary, *map(_source_json, d.matches[1:])]) if d.matches else ""
    return (f'{{"path": {_json(d.path)}, "format": {_json(d.format)}, "title": {_json(d.title)}, '
            f'"source": {primary}, "sources": [{sources}], "findings": [{", ".join(map(_finding_json, d.findings))}]}}')


def to_json(report: ReportInput) -> str:
    """Indented at the top, one document per line: still easy to read and diff, and written by
    json's C encoder (indenting every level goes through its pure-Python one, 10x slower)."""
    ordered = report.ordered
    head = json.dumps({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "compliance", "version": __version__},
        "summary": {**summarize(ordered), **report.extra_summary},
    }, ensure_ascii=False, indent=2)
    # 10 MB of rows for 10,000 reposts, copied once (indenting each row first copied them twice: 21 ms, now 3)
    rows = ",\n    ".join([d.json_row or document_row(d) for d in ordered])
    indent = "    " if rows else ""
    return f'{head[:-2]},\n  "documents": [\n{indent}{rows}\n  ]\n}}\n'

