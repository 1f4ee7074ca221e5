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
    # reviewers' decisions that hold (compliance.state.decisions.decisions_for_report), HTML only:
    decisions: dict[str, dict[str, str]] = field(default_factory=dict)  # document path -> decision
    finding_decisions: dict[str, dict[str, str]] = field(default_factory=dict)  # finding fingerprint -> decision

    @property
    def ordered(self) -> list[DocumentResult]:
        return sorted(self.documents, key=lambda d: d.path)

    def fails_gate(self, severity: Severity) -> bool:
        return self.fail_on is not None and severity.rank >= self.fail_on.rank
