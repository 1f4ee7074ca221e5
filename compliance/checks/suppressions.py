"""Post-check: mark findings that editors have suppressed, in the document or by a waiver.

Suppressed findings stay in every report, with their reason; they only stop failing the gate.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from compliance.checks.globs import matches
from compliance.model import Document, Finding, Suppression


@dataclass(frozen=True)
class Waiver:
    """A configuration entry: these rules do not fail the gate for these paths, until `expires`."""

    paths: tuple[str, ...]
    rules: tuple[str, ...]
    reason: str
    expires: dt.date | None = None
    origin: str = ""

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, paths: tuple[str, ...], rule: str) -> bool:
        """`paths`: the file's names from the project root (its report path, and its real path
        when it is a link); either may match (`compliance.checks.globs`)."""
        rule_ok = "all" in self.rules or rule in self.rules
        return rule_ok and any(matches(self.paths, path) for path in paths)


def _paragraph_span(document: Document, directive) -> tuple[int, int] | None:
    for block in document.body:  # above the title or the desk's header it covers the document
        if block.line == directive.end_line + 1 or (block.line == directive.end_line and block.column > 1):
            return block.line, block.end_line
    return None


def suppressing_directive(document: Document, finding: Finding) -> int | None:
    """The index of the first directive that covers `finding`, if any (the one that suppresses it)."""
    for index, directive in enumerate(document.directives):
        if not directive.covers_rule(finding.rule):
            continue
        target = _paragraph_span(document, directive)
        if target is None or target[0] <= finding.line <= target[1]:
            return index
    return None


def apply_directives(document: Document, findings: list[Finding]) -> list[Finding]:
    if not document.directives:
        return findings
    marked = []
    for finding in findings:
        index = suppressing_directive(document, finding)
        if index is not None:
            finding = replace(finding, suppression=Suppression("inline", document.directives[index].reason))
        marked.append(finding)
    return marked


def suppressing_waiver(paths: tuple[str, ...], rule: str, waivers: list[Waiver], today: dt.date) -> Waiver | None:
    """The waiver that suppresses a finding of `rule` in the file known by `paths`, if any."""
    return next((w for w in waivers if not w.expired(today) and w.covers(paths, rule)), None)


def apply_waivers(paths: tuple[str, ...], findings: list[Finding], waivers: list[Waiver], today: dt.date) -> list[Finding]:
    marked = []
    for finding in findings:
        if finding.suppression is None:
            waiver = suppressing_waiver(paths, finding.rule, waivers, today)
            if waiver is not None:
                finding = replace(finding, suppression=Suppression("waiver", waiver.reason))
        marked.append(finding)
    return marked
