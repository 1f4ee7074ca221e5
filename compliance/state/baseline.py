"""Baselines: today's findings, accepted, so that a gate fails only on new ones.

A finding is recorded by its fingerprint (rule, path and evidence, not the line), so editing
elsewhere in a file keeps it matched. Counts matter: a second identical finding is new. The
path is the file's from the working folder (the repository root in CI), so a baseline made
by scanning a folder also serves a pre-commit hook that passes files one by one.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from compliance import __version__
from compliance.errors import ComplianceError
from compliance.model import DocumentResult, Suppression, finding_fingerprint

BASELINE_VERSION = 1


@dataclass(frozen=True)
class BaselineOutcome:
    documents: list[DocumentResult]
    matched: int  # findings the baseline accepted
    gone: int  # baseline entries that no longer occur


def baseline_json(documents: list[DocumentResult]) -> str:
    entries = [
        {"fingerprint": finding_fingerprint(d.repository_path, f), "rule": f.rule, "path": d.repository_path, "excerpt": f.excerpt}
        for d in sorted(documents, key=lambda d: d.repository_path)
        for f in d.findings
        if f.suppression is None or f.suppression.kind == "baseline"
    ]
    payload = {"version": BASELINE_VERSION, "tool": {"name": "compliance", "version": __version__}, "findings": entries}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def load_baseline(path: Path) -> Counter[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ComplianceError("baseline not found (create one with `compliance baseline create`)", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ComplianceError(f"cannot read baseline: {exc}", str(path)) from None
    except json.JSONDecodeError as exc:
        raise ComplianceError(f"baseline is not valid JSON: {exc.msg}", str(path), exc.lineno) from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(data.get("findings"), list):
        raise ComplianceError(f"not a compliance baseline (version {BASELINE_VERSION} with a 'findings' list)", str(path))
    try:
        return Counter(str(entry["fingerprint"]) for entry in data["findings"])
    except (TypeError, KeyError):
        raise ComplianceError("baseline entries need a 'fingerprint'", str(path)) from None


def apply_baseline(documents: list[DocumentResult], baseline: Counter[str], name: str) -> BaselineOutcome:
    remaining = Counter(baseline)
    matched = 0
    marked_documents = []
    for document in documents:
        findings = []
        for finding in document.findings:
            key = finding_fingerprint(document.repository_path, finding)
            if finding.suppression is None and remaining[key] > 0:
                remaining[key] -= 1
                matched += 1
                finding = replace(finding, suppression=Suppression("baseline", f"accepted in baseline {name}"))
            findings.append(finding)
        marked_documents.append(replace(document, findings=findings))
    return BaselineOutcome(marked_documents, matched, sum(remaining.values()))
