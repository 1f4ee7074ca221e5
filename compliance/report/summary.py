"""Counts by rule and severity, shared by every format."""
from __future__ import annotations

from collections import Counter

from compliance.model import DocumentResult, Severity


def summarize(documents: list[DocumentResult]) -> dict:
    # One pass over tens of thousands of results, not one per count (a third of the time); an
    # unchanged document's counts come from the state (`tally`), its findings left unread.
    severities: list[str] = []
    rules: list[str] = []
    kept: Counter[tuple[str, str]] = Counter()
    with_findings = matched = suppressed = 0
    for d in documents:
        if d.matched:
            matched += 1
        tally = d.tally
        if tally is not None:
            for severity, rule, n in tally.counts:
                kept[severity, rule] += n
            suppressed += tally.suppressed
            with_findings += tally.active > 0
            continue
        counted = len(rules)
        for f in d.findings:
            if f.is_active:
                severities.append(f.severity.value)
                rules.append(f.rule)
            else:
                suppressed += 1
        with_findings += len(rules) > counted
    by_severity, by_rule = Counter(severities), Counter(rules)
    for (severity, rule), n in kept.items():
        by_severity[severity] += n
        by_rule[rule] += n
    return {
        "documents": len(documents),
        "documents_with_findings": with_findings,
        "matched": matched,
        "findings": len(severities) + sum(kept.values()),
        "suppressed": suppressed,
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in sorted(Severity, key=lambda s: -s.rank)},
        "by_rule": dict(sorted(by_rule.items())),
    }
