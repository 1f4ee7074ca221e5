"""Reviewers' decisions (`compliance review`): what they are, whether they still hold, and
what reports and exports show of them.

A decision is kept with the content hash its document had when it was made: once the document
changes, the reviewer decided on text that is no longer there, so the decision is *reopened*
(kept, shown as such, but no longer applied). Decisions are never updated in place; a later
one on the same document (or finding) supersedes the earlier, which stays as history.

    publish / hold   the whole document (fingerprint None)
    accept           one finding (by its baseline fingerprint), with a reason; it also becomes
                     a waiver (compliance.review.waivers), which is what the scan honours
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any, Iterable

from compliance.state.store import DecisionRow, StateStore

STATUSES = ("publish", "hold", "accept")
REPORT_STATUS = {"publish": "publish", "hold": "hold", "accept": "accepted"}  # the words the HTML report shows
MAX_REASON = 2000  # characters: a reason is a sentence or two, not a document
EXPORT_FIELDS = ("id", "doc_path", "doc_hash", "fingerprint", "rule", "status", "reason", "expires", "reviewer", "at", "state")


@dataclass(frozen=True)
class DecisionView:
    """A stored decision and where it stands now."""

    row: DecisionRow
    state: str  # current | superseded | reopened | expired

    def as_dict(self) -> dict[str, Any]:
        r = self.row
        return {"id": r.id, "doc_path": r.doc_path, "doc_hash": r.doc_hash, "fingerprint": r.fingerprint, "rule": r.rule,
                "status": r.status, "reason": r.reason, "expires": r.expires, "reviewer": r.reviewer, "at": r.decided,
                "state": self.state}


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expired(expires: str | None, today: dt.date) -> bool:
    try:
        return expires is not None and dt.date.fromisoformat(expires) < today
    except ValueError:
        return False


def assess(rows: Iterable[DecisionRow], hashes: dict[str, str], today: dt.date | None = None) -> list[DecisionView]:
    """Each decision with its state, oldest first. `hashes`: report path -> current content
    hash (documents the state does not know keep their decisions)."""
    today = today or dt.date.today()
    rows = list(rows)
    latest: dict[tuple[str, str | None], int] = {}
    for row in rows:
        latest[(row.doc_path, row.fingerprint)] = row.id
    views = []
    for row in rows:
        current = hashes.get(row.doc_path)
        if latest[(row.doc_path, row.fingerprint)] != row.id:
            state = "superseded"
        elif row.doc_hash is not None and current is not None and current != row.doc_hash:
            state = "reopened"
        elif _expired(row.expires, today):
            state = "expired"
        else:
            state = "current"
        views.append(DecisionView(row, state))
    return views


def decisions_for_report(store: StateStore, hashes: dict[str, str], today: dt.date | None = None
                         ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The HTML report's `decisions` (doc path -> decision) and `finding_decisions`
    (fingerprint -> decision): the decisions that hold, in the shape the templates render
    ({"status": publish|hold|accepted, "reviewer", "at", "reason"}). Reopened, expired and
    superseded ones are left out: a report must not say "publish" of text nobody has read."""
    if not store.has_decisions():
        return {}, {}
    documents: dict[str, dict[str, str]] = {}
    findings: dict[str, dict[str, str]] = {}
    for view in assess(store.decisions(), hashes, today):
        if view.state != "current":
            continue
        r = view.row
        shown = {"status": REPORT_STATUS.get(r.status, r.status), "reviewer": r.reviewer, "at": r.decided, "reason": r.reason}
        if r.fingerprint is None:
            documents[r.doc_path] = shown
        else:
            findings[r.fingerprint] = shown
    return documents, findings


def _spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @, a tab or return first) is
    prefixed with a quote: reasons and reviewer names are anyone's text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_decisions(views: list[DecisionView], fmt: str) -> str:
    rows = [view.as_dict() for view in views]
    if fmt == "json":
        return json.dumps({"decisions": rows}, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow([_spreadsheet_safe(row[name]) for name in EXPORT_FIELDS])
    return out.getvalue()
