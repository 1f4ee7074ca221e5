"""Counts by rule and severity, shared by every format."""
from __future__ import annotations

from collections import Counter

from compliance.model import DocumentResult, Severity


def summarize(documents: list[DocumentResult]) -> dict:
    active = [f for d in documents for f in d.findings if f.is_active]
    by_severity = Counter(f.severity.value for f in active)
    by_rule = Counter(f.rule for f in active)
    return {
        "documents": len(documents),
        "documents_with_findings": sum(1 for d in documents if any(f.is_active for f in d.findings)),
        "matched": sum(1 for d in documents if d.match),
        "findings": sum(by_severity.values()),
        "suppressed": sum(1 for d in documents for f in d.findings if not f.is_active),
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in sorted(Severity, key=lambda s: -s.rank)},
        "by_rule": dict(sorted(by_rule.items())),
    }
