"""Baselines: today's findings, accepted, so that a gate fails only on new ones.

A finding is recorded by its fingerprint (rule, path and evidence, not the line), so editing
elsewhere in a file keeps it matched. Counts matter: a second identical finding is new. The
path is the file's from the project root (`config.project_root`), so a baseline serves a
scan from any folder, of any part of the project, and a pre-commit hook that passes files
one by one.

Version 1 named files from the working folder of the scan that made it. Such a baseline is
still read: its paths are taken from the folder (its own, the project root's or the working
folder's) where most of them name existing files, and its fingerprints are worked out again
from each entry's rule, path and excerpt.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from compliance import __version__
from compliance.errors import ComplianceError, InputError
from compliance.ingest.read import read_bytes
from compliance.model import DocumentResult, Finding, Severity, Suppression, finding_fingerprint

BASELINE_VERSION = 2  # 2: paths from the project root; 1: from the working folder of the scan that made it


@dataclass(frozen=True)
class BaselineOutcome:
    documents: list[DocumentResult]
    matched: int  # findings the baseline accepted
    gone: int  # baseline entries, among the files this scan covered, that no longer occur


@dataclass
class Baseline:
    entries: list[dict[str, Any]] = field(default_factory=list)  # fingerprint, rule, path, excerpt
    note: str | None = None  # how an older baseline was read, for the user

    def counts(self) -> Counter[str]:
        return Counter(entry["fingerprint"] for entry in self.entries)


def _entries(documents: list[DocumentResult]) -> list[dict[str, Any]]:
    return [
        {"fingerprint": finding_fingerprint(d.repository_path, f), "rule": f.rule, "path": d.repository_path, "excerpt": f.excerpt}
        for d in sorted(documents, key=lambda d: d.repository_path)
        for f in d.findings
        if f.suppression is None or f.suppression.kind == "baseline"
    ]


def baseline_json(documents: list[DocumentResult], kept: Baseline | None = None,
                  in_scope: Callable[[str], bool] | None = None) -> str:
    """The baseline of `documents`; with `kept` (the file being replaced) and `in_scope` (the
    paths this scan covered), the entries of files outside the scan are kept as they were:
    a baseline made from one folder must not drop the rest of the project's."""
    entries = _entries(documents)
    if kept is not None and in_scope is not None:
        entries += [entry for entry in kept.entries if not in_scope(entry["path"])]
        entries.sort(key=lambda entry: entry["path"])
    payload = {"version": BASELINE_VERSION, "tool": {"name": "compliance", "version": __version__}, "findings": entries}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


MAX_BYTES = 512 * 1024 * 1024  # a baseline of a million findings is about 250 MB


def load_baseline(path: Path, project_root: Path | None = None) -> Baseline:
    if not path.exists():
        raise ComplianceError("baseline not found (create one with `compliance baseline create`)", str(path))
    try:
        # a regular file, bounded: `--baseline /dev/zero` read until memory ran out, a FIFO hung
        data = json.loads(read_bytes(path, MAX_BYTES).decode("utf-8-sig"))  # a BOM, as Windows editors write
    except InputError as exc:
        raise ComplianceError(f"cannot read baseline: {exc.message}", str(path)) from None
    except UnicodeDecodeError as exc:
        raise ComplianceError(f"cannot read baseline: not valid UTF-8 (byte {exc.start})", str(path)) from None
    except json.JSONDecodeError as exc:
        raise ComplianceError(f"baseline is not valid JSON: {exc.msg}", str(path), exc.lineno) from None
    except RecursionError:
        raise ComplianceError("baseline is nested too deeply to be a compliance baseline", str(path)) from None
    if not isinstance(data, dict) or data.get("version") not in (1, BASELINE_VERSION) or not isinstance(data.get("findings"), list):
        raise ComplianceError(f"not a compliance baseline (version {BASELINE_VERSION} with a 'findings' list)", str(path))
    entries = []
    for entry in data["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise ComplianceError("baseline entries need a 'fingerprint'", str(path))
        entries.append({"fingerprint": entry["fingerprint"], "rule": str(entry.get("rule", "")),
                        "path": str(entry.get("path", "")), "excerpt": str(entry.get("excerpt", ""))})
    baseline = Baseline(entries)
    if data["version"] == 1:
        _upgrade(baseline, path, (project_root or Path.cwd()).resolve())
    return baseline


def _upgrade(baseline: Baseline, path: Path, root: Path) -> None:
    """Re-key a version 1 baseline's entries from the folder its paths were written from."""
    bases = list(dict.fromkeys([root, path.resolve().parent, Path.cwd().resolve()]))
    paths = {entry["path"] for entry in baseline.entries}
    base = max(bases, key=lambda folder: sum((folder / name).is_file() for name in paths))  # the first on a tie
    if base == root:
        return  # written from the project root, as CI does: its fingerprints hold as they are
    for entry in baseline.entries:
        name = Path(os.path.relpath(base / entry["path"], root)).as_posix()
        # The fingerprint reads only the rule, the path and the excerpt's words.
        probe = Finding(entry["rule"], Severity.INFO, "", excerpt=entry["excerpt"])
        entry.update(path=name, fingerprint=finding_fingerprint(name, probe))
    baseline.note = (f"{path}: a version 1 baseline, its paths read from {base}; "
                     "write it again with `compliance baseline create` to keep them from the project root")


def apply_baseline(documents: list[DocumentResult], baseline: Baseline, name: str,
                   in_scope: Callable[[str], bool] | None = None) -> BaselineOutcome:
    """Mark the findings the baseline accepts. Entries count as gone only for files the scan
    covered (`in_scope(path)`): a scan of one folder, or of changed files, says nothing of
    the others."""
    remaining = baseline.counts()
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
    paths = {entry["fingerprint"]: entry["path"] for entry in baseline.entries}
    gone = sum(count for key, count in remaining.items() if in_scope is None or in_scope(paths.get(key, "")))
    return BaselineOutcome(marked_documents, matched, gone)
