"""History: what each scan found, and which findings are new or resolved since the last one.

A finding is known by its fingerprint (rule, path from the project root, evidence; not the
line, so an edit above it keeps it the same finding) and counted: a second identical finding
in a file is new. New = active now and not open before; resolved = open before and not now.
Only the files a run looked at (and files gone from its folders) are compared, so a scan of
one folder, or with `--changed-since`, resolves nothing elsewhere.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import xxhash

from compliance.model import DocumentResult, finding_fingerprint
from compliance.state.store import OpenFinding, RunRecord


@dataclass(frozen=True)
class Comparison:
    new: list[OpenFinding]
    resolved: list[OpenFinding]


def open_findings(documents: list[DocumentResult]) -> list[OpenFinding]:
    """The active findings of a scan (after suppressions and the baseline), in report order.
    An unchanged result from the state brings its findings' fingerprints along."""
    found = []
    for d in sorted(documents, key=lambda d: d.path):
        if not d.findings:
            continue
        location = d.repository_path
        stored = getattr(d, "fingerprints", None)
        for i, f in enumerate(d.findings):
            if f.is_active:
                found.append(OpenFinding(location, stored[i] if stored is not None else finding_fingerprint(location, f),
                                         f.rule, f.severity.value, f.line, f.message))
    return found


def by_location(findings: list[OpenFinding]) -> dict[str, list[OpenFinding]]:
    grouped: dict[str, list[OpenFinding]] = {}
    for o in findings:
        grouped.setdefault(o.location, []).append(o)
    return grouped


def findings_digest(findings: list[OpenFinding]) -> tuple[str, int]:
    """(digest, count) of one location's open findings, as the state keeps them: equal only
    when every field of every finding is, in the same order."""
    text = "\x1e".join(f"{o.fingerprint}\x1f{o.rule}\x1f{o.severity}\x1f{o.line}\x1f{o.message}" for o in findings)
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass")), len(findings)


def compare(previous: list[OpenFinding], current: list[OpenFinding], moved: dict[str, str] | None = None) -> Comparison:
    """`previous`: the open findings of the locations in scope before this run. `moved`: the
    files whose name changed but not their bytes (old location -> new), whose findings are
    the same findings under another name (the fingerprint holds the path, so they are known
    by rule, line and message): neither new nor resolved, and no alert."""
    moved = moved or {}
    arrived = set(moved.values())

    def key_before(o: OpenFinding) -> tuple:
        return (moved[o.location], o.rule, o.line, o.message) if o.location in moved else (o.location, o.fingerprint)

    def key_now(o: OpenFinding) -> tuple:
        return (o.location, o.rule, o.line, o.message) if o.location in arrived else (o.location, o.fingerprint)

    before = Counter(key_before(o) for o in previous)
    new = []
    for finding in current:
        key = key_now(finding)
        if before[key] > 0:
            before[key] -= 1
        else:
            new.append(finding)
    resolved, left = [], Counter(before)
    for finding in previous:
        key = key_before(finding)
        if left[key] > 0:
            left[key] -= 1
            resolved.append(finding)
    return Comparison(new, resolved)


def history_text(runs: list[RunRecord]) -> str:
    if not runs:
        return "no runs recorded yet\n"
    rows = [("RUN", "STARTED (UTC)", "DOCS", "RECHECKED", "FINDINGS", "OPEN", "NEW", "RESOLVED", "ERR/WARN/INFO", "SECONDS")]
    for r in runs:
        sev = "/".join(str(r.by_severity.get(s, 0)) for s in ("error", "warning", "info"))
        rows.append((str(r.id), r.started, str(r.documents), str(r.rechecked), str(r.findings), str(r.open), str(r.new),
                     str(r.resolved), sev, f"{r.duration:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows) + "\n"


def history_json(runs: list[RunRecord]) -> str:
    return json.dumps({"runs": [r.as_dict() for r in runs]}, ensure_ascii=False, indent=2) + "\n"
