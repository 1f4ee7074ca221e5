"""What every formatter receives: the scan's results and the facts about it they may show."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.model import DocumentResult, Severity


@dataclass(frozen=True)
class RuleInfo:
    """A rule as reports describe it (SARIF's tool.driver.rules, the HTML legend...)."""

    id: str
    type: str
    severity: Severity
    description: str  # one line
    help: str = ""  # longer text: the rule type's docstring


@dataclass
class ReportInput:
    documents: list[DocumentResult]
    rules: list[RuleInfo] = field(default_factory=list)
    fail_on: Severity | None = Severity.ERROR  # None: nothing fails the gate
    extra_summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier runs and this one (RunRecord.as_dict), oldest first
    # Fingerprints (`finding_fingerprint`) of the active findings that the last run did not
    # have; None when nothing is known of a last run (no state, or its first run).
    new_fingerprints: frozenset[str] | None = None
    # Reviewers' decisions, shown by the HTML report (docs/reports.md#decisions-in-the-html-report):
    # document path -> {"status", "reviewer", "at", "reason"}, and finding fingerprint -> the same.
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    finding_decisions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ordered(self) -> list[DocumentResult]:
        return sorted(self.documents, key=lambda d: d.path)

    def fails_gate(self, severity: Severity) -> bool:
        return self.fail_on is not None and severity.rank >= self.fail_on.rank
