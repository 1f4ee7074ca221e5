"""Findings about suppressions themselves, as ruff flags an unused `noqa` (RUF100).

A suppression comment or a configuration waiver that names no known rule, or that suppresses
nothing in this scan, is stale: it will hide the next real finding in its place without anyone
having looked at it. So is one whose reason the pack requires and nobody wrote. Each is a
warning of its own (`suppression-unknown-rule`, `suppression-unused`, `suppression-no-reason`),
which select/ignore and waivers treat like any other rule's.
"""
from __future__ import annotations

import datetime as dt
import difflib

from compliance.checks.engine import BUILTIN_RULES, FILE_RULES
from compliance.checks.globs import matches
from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver, suppressing_directive, suppressing_waiver, waiver_fingerprint
from compliance.ingest.directives import NO_REASON
from compliance.model import Document, DocumentResult, Finding

UNUSED, UNKNOWN, NO_REASON_RULE = "suppression-unused", "suppression-unknown-rule", "suppression-no-reason"
# Rule types whose findings only a scan that fetches credited pages can raise: a suppression of
# them is not judged by a scan that does not fetch (the pre-commit hook, say).
_FETCH_ONLY_TYPES = {"attribution-unverified"}


def _known(pack: RulePack) -> set[str]:
    return {rule.id for rule in pack.rules} | set(BUILTIN_RULES) | {"all"}


def _unknown_message(what: str, rule_id: str, known: set[str]) -> str:
    close = difflib.get_close_matches(rule_id, sorted(known - {"all"}), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{what} names unknown rule '{rule_id}'{hint}"


def _judged(pack: RulePack, rule_id: str, fetching: bool) -> bool:
    """Whether this scan can tell that a suppression of `rule_id` is unused."""
    rule = next((r for r in pack.rules if r.id == rule_id), None)
    return fetching or rule is None or rule.type not in _FETCH_ONLY_TYPES


def _unused_message(what: str, idle: list[str], off: list[str]) -> str:
    parts = []
    if idle:
        parts.append(f"{', '.join(idle)} found nothing {'here' if what == 'suppression' else 'in the files it covers'}")
    if off:
        parts.append(f"{', '.join(off)} {'does' if len(off) == 1 else 'do'} not run in this scan")
    return f"unused {what}: {'; '.join(parts)}"


def _unused(pack: RulePack, rules: tuple[str, ...], used: set[str], fetching: bool) -> tuple[list[str], list[str]]:
    """(rules that ran and found nothing to suppress, rules that did not run) of a suppression."""
    if "all" in rules:
        return (["all"] if not used else []), []
    known = _known(pack)
    idle, off = [], []
    for rule_id in rules:
        if rule_id not in known or rule_id in used or not _judged(pack, rule_id, fetching):
            continue
        (idle if pack.runs(rule_id) or rule_id in FILE_RULES else off).append(rule_id)
    return idle, off


def directive_findings(document: Document, findings: list[Finding], pack: RulePack, fetching: bool = False) -> list[Finding]:
    """Findings about the document's suppression comments, given its findings once marked."""
    if not document.directives:
        return []
    used: list[set[str]] = [set() for _ in document.directives]
    for finding in findings:
        if finding.suppression is not None and finding.suppression.kind == "inline":
            index = suppressing_directive(document, finding)
            if index is not None:
                used[index].add(finding.rule)
    known = _known(pack)
    out = []
    for directive, rules_used in zip(document.directives, used):
        where = {"line": directive.line, "end_line": directive.end_line, "excerpt": ", ".join(directive.rules)}
        if pack.runs(UNKNOWN):
            for rule_id in directive.rules:
                if rule_id not in known:
                    out.append(Finding(UNKNOWN, BUILTIN_RULES[UNKNOWN][0], _unknown_message("suppression", rule_id, known),
                                       **where, evidence={"rule": rule_id}))
        if pack.runs(UNUSED):
            idle, off = _unused(pack, directive.rules, rules_used, fetching)
            if idle or off:
                out.append(Finding(UNUSED, BUILTIN_RULES[UNUSED][0], _unused_message("suppression", idle, off), **where,
                                   evidence={"unused": idle, "not_running": off}))
        if pack.require_reason and pack.runs(NO_REASON_RULE) and directive.reason == NO_REASON:
            out.append(Finding(NO_REASON_RULE, BUILTIN_RULES[NO_REASON_RULE][0],
                               f"suppression of {', '.join(directive.rules)} gives no reason "
                               "(the pack requires one: `-- why` after the rule ids)", **where))
    return out


def _origin_line(waiver: Waiver) -> int:
    _, _, line = waiver.origin.rpartition(":")
    return int(line) if line.isdigit() else 1


def waiver_findings(waivers: list[Waiver], pack: RulePack, documents: list[DocumentResult], today: dt.date,
                    fetching: bool = False) -> list[Finding]:
    """Findings about the configuration's live waivers, given this scan's documents. A waiver is
    judged unused only on the files the scan covered: a partial scan says nothing of the rest."""
    known = _known(pack)
    out = []
    for waiver in waivers:
        if waiver.expired(today):
            continue  # already reported as expired
        line = _origin_line(waiver)
        where = {"line": line, "end_line": line, "excerpt": ", ".join(waiver.rules)}
        if pack.runs(UNKNOWN):
            for rule_id in waiver.rules:
                if rule_id not in known:
                    out.append(Finding(UNKNOWN, BUILTIN_RULES[UNKNOWN][0], _unknown_message("waiver", rule_id, known),
                                       **where, evidence={"rule": rule_id}))
        if not pack.runs(UNUSED):
            continue
        covered = [d for d in documents if d.format != "config" and any(matches(waiver.paths, p) for p in (d.path, d.location) if p)]
        if not covered:
            continue
        used = {f.rule for d in covered for f in d.findings if f.suppression is not None and f.suppression.kind == "waiver"
                and suppressing_waiver((d.path, d.location), f.rule, waivers, today,
                                       waiver_fingerprint((d.path, d.location), f, waivers)) is waiver}
        idle, off = _unused(pack, waiver.rules, used, fetching)
        if idle or off:
            out.append(Finding(UNUSED, BUILTIN_RULES[UNUSED][0], _unused_message("waiver", idle, off), **where,
                               evidence={"unused": idle, "not_running": off, "files": len(covered)}))
    return out


def config_result(config_path: str, findings: list[Finding], waivers: list[Waiver], today: dt.date) -> DocumentResult:
    """The configuration file as a document of the report, holding the findings about its
    waivers (`config_path`: from the project root). Waivers may waive these too."""
    from compliance.checks.suppressions import apply_waivers

    marked = apply_waivers((config_path,), sorted(findings, key=lambda f: (f.line, f.rule)), waivers, today)
    return DocumentResult(config_path, "config", "", None, marked, location=config_path)
