"""SARIF 2.1.0, for GitHub code scanning and other SARIF readers.

One run; `tool.driver.rules` lists the rules in force (`report.rules`), and every finding is a
result pointing at its document (relative to the project root, the repository root in CI,
under `%SRCROOT%`) and lines.
A result's `partialFingerprints` hold `finding_fingerprint`: rule, path and the normalised
excerpt, not the line, so a finding keeps its identity when the file is edited elsewhere.
Suppressed findings stay, with a `suppressions` entry saying why.

Identical inputs give byte-identical output: no timestamps, documents in path order.
"""
from __future__ import annotations

import functools
import json
import re
from importlib import metadata
from typing import Any
from urllib.parse import quote

from compliance import __version__
from compliance.model import DocumentResult, Finding, Severity, finding_fingerprint
from compliance.report.context import ReportInput, RuleInfo

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "complianceFinding/v1"  # a new recipe gets a new key, so old alerts are not mismatched
SRCROOT = "%SRCROOT%"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
MIME_TYPES = {"txt": "text/plain", "md": "text/markdown", "html": "text/html"}
SUPPRESSION_KINDS = {"inline": "inSource"}  # waivers and baselines live outside the document


def level(severity: Severity) -> str:
    return LEVELS[severity]


def rule_name(rule_id: str) -> str:
    """`attribution-missing` -> `AttributionMissing` (SARIF's reportingDescriptor.name)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rule_id) if part) or rule_id


def artifact_uri(path: str) -> str:
    """A document's report path as a relative URI reference: forward slashes, percent-encoded."""
    return quote(path.replace("\\", "/"), safe="/")


def _first_paragraph(text: str, rule_type: str) -> str:
    """The help's first paragraph on one line, without the docstring's `type: ` lead."""
    paragraph = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    paragraph = " ".join(line.strip() for line in paragraph.splitlines())
    lead = f"{rule_type}: "
    return paragraph[len(lead):] if rule_type and paragraph.startswith(lead) and len(paragraph) > len(lead) else paragraph


@functools.lru_cache(maxsize=1)
def _information_uri() -> str | None:
    """The project's home page, when the installed package declares one ([project.urls])."""
    try:
        meta = metadata.metadata("compliance")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source") and url.strip():
            return url.strip()
    home = meta.get("Home-page")
    return home if home and home.strip() and home.strip().upper() != "UNKNOWN" else None


def _rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    description = rule.description or rule.id
    return {
        "id": rule.id,
        "name": rule_name(rule.id),
        "shortDescription": {"text": description},
        "fullDescription": {"text": _first_paragraph(rule.help, rule.type) if rule.help.strip() else description},
        "help": {"text": rule.help.strip() or description},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {"type": rule.type},
    }


def _unknown_rule(rule_id: str, severity: Severity) -> dict[str, Any]:
    """A finding of a rule the report was not told about still gets a descriptor to point at."""
    return {
        "id": rule_id,
        "name": rule_name(rule_id),
        "shortDescription": {"text": rule_id},
        "defaultConfiguration": {"level": level(severity)},
    }


def _result(document: DocumentResult, finding: Finding, rule_index: int, artifact_index: int) -> dict[str, Any]:
    line = max(1, finding.line)
    region = {
        "startLine": line,
        "startColumn": max(1, finding.column),
        "endLine": max(line, finding.end_line or line),
    }
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(document.repository_path), "uriBaseId": SRCROOT, "index": artifact_index},
                "region": region,
            },
        }],
        "partialFingerprints": {FINGERPRINT_KEY: finding_fingerprint(document.repository_path, finding)},
    }
    if finding.suppression is not None:
        result["suppressions"] = [{
            "kind": SUPPRESSION_KINDS.get(finding.suppression.kind, "external"),
            "justification": finding.suppression.reason,
        }]
    return result


def sarif_dict(report: ReportInput) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    for rule in report.rules:
        if rule.id not in rule_index:
            rule_index[rule.id] = len(rules)
            rules.append(_rule_descriptor(rule))

    artifacts: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for document in report.ordered:
        artifact: dict[str, Any] = {"location": {"uri": artifact_uri(document.repository_path), "uriBaseId": SRCROOT}}
        if document.format in MIME_TYPES:
            artifact["mimeType"] = MIME_TYPES[document.format]
        artifacts.append(artifact)
        for finding in document.findings:
            if finding.rule not in rule_index:
                rule_index[finding.rule] = len(rules)
                rules.append(_unknown_rule(finding.rule, finding.severity))
            results.append(_result(document, finding, rule_index[finding.rule], len(artifacts) - 1))

    driver: dict[str, Any] = {"name": "compliance", "version": __version__}
    information_uri = _information_uri()
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = rules
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": driver},
            "columnKind": "unicodeCodePoints",
            "artifacts": artifacts,
            "results": results,
        }],
    }


def to_sarif(report: ReportInput) -> str:
    return json.dumps(sarif_dict(report), ensure_ascii=False, indent=2) + "\n"
