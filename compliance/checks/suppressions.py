"""Post-check: mark findings that editors have suppressed, in the document or by a waiver.

Suppressed findings stay in every report, with their reason; they only stop failing the gate.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable

from compliance.checks.globs import matches
from compliance.model import Document, Finding, Suppression, finding_fingerprint


@dataclass(frozen=True)
class Waiver:
    """A configuration entry: these rules do not fail the gate for these paths, until `expires`.

    With `fingerprints` (what `compliance review` writes when a reviewer accepts a finding) it
    covers only those findings: accepting one finding must not accept the next one of its rule
    in the same file. With `content_hash` only while the file is as the reviewer saw it
    (`for_content`)."""

    paths: tuple[str, ...]
    rules: tuple[str, ...]
    reason: str
    expires: dt.date | None = None
    origin: str = ""
    fingerprints: tuple[str, ...] = ()
    reviewer: str = ""
    date: dt.date | None = None  # when it was decided
    # The document's content hash when a reviewer accepted the finding (`compliance review`):
    # a changed document reopens the decision, so the waiver no longer covers it.
    content_hash: str = ""

    def for_content(self, paths: tuple[str, ...], content_hash: Callable[[], str]) -> bool:
        """Whether it may hold for the file named `paths` whose hash `content_hash` gives (asked
        only when the waiver is pinned and names the file)."""
        if not self.content_hash or not any(matches(self.paths, path) for path in paths):
            return True
        return self.content_hash == content_hash()

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, paths: tuple[str, ...], rule: str, fingerprint: str | None = None) -> bool:
        """`paths`: the file's names from the project root (its report path, and its real path
        when it is a link); either may match (`compliance.checks.globs`). `fingerprint`: the
        finding's (`model.finding_fingerprint`), which a waiver with `fingerprints` needs."""
        rule_ok = "all" in self.rules or rule in self.rules
        if self.fingerprints and fingerprint not in self.fingerprints:
            return False
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


def suppressing_waiver(paths: tuple[str, ...], rule: str, waivers: list[Waiver], today: dt.date,
                       fingerprint: str | None = None) -> Waiver | None:
    """The waiver that suppresses a finding of `rule` in the file known by `paths`, if any."""
    return next((w for w in waivers if not w.expired(today) and w.covers(paths, rule, fingerprint)), None)


def waiver_fingerprint(paths: tuple[str, ...], finding: Finding, waivers: list[Waiver]) -> str | None:
    """The finding's fingerprint when some waiver needs it (only then: it costs a hash). The
    fingerprint names the file by its real path (`DocumentResult.repository_path`), the last
    of `paths`."""
    if not any(w.fingerprints for w in waivers):
        return None
    return finding_fingerprint(next((p for p in reversed(paths) if p), ""), finding)


def apply_waivers(paths: tuple[str, ...], findings: list[Finding], waivers: list[Waiver], today: dt.date) -> list[Finding]:
    marked = []
    for finding in findings:
        if finding.suppression is None:
            waiver = suppressing_waiver(paths, finding.rule, waivers, today, waiver_fingerprint(paths, finding, waivers))
            if waiver is not None:
                finding = replace(finding, suppression=Suppression("waiver", waiver.reason))
        marked.append(finding)
    return marked
