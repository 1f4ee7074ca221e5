"""The state database (`.compliance/state.db`): what one scheduled scan leaves for the next.

SQLite in WAL mode, so `compliance history` can read while a scan writes. It holds
- `documents`: per repost file, the content hash, the fingerprints its result depends on and
  the result itself (findings and match, as JSON);
- `runs`: one row per scan (time, counts by rule and severity, documents scanned and
  re-checked, new and resolved findings);
- `open_findings`: the active findings of the last scan of each file, by fingerprint, so the
  next run can tell new findings from old;
- `pending_alerts` (schema 2): webhook alerts not yet confirmed delivered, oldest first, so a
  receiver that was down gets them at a later run (see compliance.state.notify);
- `decisions` (schema 3): what reviewers decided in `compliance review` (publish, hold, accept
  a finding), with the document's content hash at the time (see compliance.state.decisions).
- `document_traces` and `catalogue_snapshot` (schema 4, `CATALOGUE_TRACES`): per repost file
  the band keys it looked up and its candidates, and the catalogue the stored results hold for,
  so that a catalogue change re-checks only the reposts it touches (compliance.state.incremental).
- `documents.signature` and `document_rows` (schema 5, `UNCHANGED_FILES`): the file's stat
  signature when hashed and its JSON report line, so that an unchanged repost is neither read
  nor rendered again.
- `documents.outcome`, `catalogue_aliases` and `open_digests` (schema 6, `OUTCOMES`): what a
  run needs of an unchanged result (findings and their fingerprints, whether it matched), so
  that the full result (its matches and spans) is read only when a report shows it; the
  catalogues whose untouched results hold for a later one, so that a catalogue change rewrites
  no row it leaves; and a digest of each location's open findings, so that a run reads and
  writes the open findings of the locations whose findings changed only.

A run writes everything in one transaction at its end: a run that is interrupted or fails
leaves the previous state as it was. `PRAGMA user_version` is the schema version, migrated
forward on open; `PRAGMA application_id` marks the file as ours, so that `--state` pointed at
someone else's file is refused rather than written to.
"""
from __future__ import annotations

import datetime as dt
import json
import functools
import math
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from compliance.errors import ComplianceError
import numpy as np
import xxhash

from compliance.state.incremental import CatalogueSnapshot, Stored

SCHEMA_VERSION = 6
APPLICATION_ID = 0x434D504C  # "CMPL"
PAGE_SIZE = 16384
_SQLITE_MAGIC = b"SQLite format 3\x00"

# MIGRATIONS[n] takes a database at version n-1 to version n.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE documents (
        file TEXT PRIMARY KEY,          -- absolute path of the repost file
        report_path TEXT NOT NULL,
        location TEXT NOT NULL,         -- from the project root: what fingerprints use
        content_hash TEXT NOT NULL,
        rules_fp TEXT NOT NULL,
        catalogue_fp TEXT NOT NULL,
        source_id TEXT,
        source_digest TEXT,
        result TEXT NOT NULL,           -- DocumentResult as JSON (incremental.result_json)
        run_id INTEGER NOT NULL         -- the run that last checked it
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started TEXT NOT NULL,          -- ISO 8601, UTC
        duration REAL NOT NULL,
        version TEXT NOT NULL,
        documents INTEGER NOT NULL,
        rechecked INTEGER NOT NULL,
        findings INTEGER NOT NULL,      -- active findings in this scan's report
        open INTEGER NOT NULL,          -- active findings known to the state after this run
        new INTEGER NOT NULL,
        resolved INTEGER NOT NULL,
        by_severity TEXT NOT NULL,
        by_rule TEXT NOT NULL,
        paths TEXT NOT NULL
    );
    CREATE TABLE open_findings (
        location TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        line INTEGER NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX open_findings_location ON open_findings (location);
    """,
    # (no semicolons in comments: migrations are split into statements at them)
    2: """
    CREATE TABLE pending_alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- delivery order
        url TEXT NOT NULL,              -- the webhook as given, secret included
        payload TEXT NOT NULL,          -- the exact JSON body to POST
        run_id INTEGER NOT NULL,        -- the run whose new findings it reports
        queued TEXT NOT NULL            -- ISO 8601, UTC
    );
    """,
    3: """
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_path TEXT NOT NULL,         -- the document's report path, from the project root
        doc_hash TEXT,                  -- its content hash when decided: another one reopens the decision
        fingerprint TEXT,               -- the finding decided on, NULL for the whole document
        rule TEXT,                      -- that finding's rule
        status TEXT NOT NULL,           -- publish, hold or accept
        reason TEXT NOT NULL,
        expires TEXT,                   -- YYYY-MM-DD or NULL
        reviewer TEXT NOT NULL,
        decided TEXT NOT NULL           -- ISO 8601, UTC
    );
    CREATE INDEX decisions_doc_path ON decisions (doc_path);
    """,
}

# One step of its own, so that a branch adding another migration merges by renumbering it.
# A state written before it has no traces: its documents' results are of an older
# RESULT_FORMAT, so the first run after it re-checks them all and writes their traces.
CATALOGUE_TRACES = """
    CREATE TABLE document_traces (
        file TEXT PRIMARY KEY,          -- as in documents
        keys BLOB NOT NULL,             -- incremental.trace_keys: uint32, sorted
        candidates TEXT NOT NULL        -- JSON list of the source ids its keys found
    );
    CREATE TABLE catalogue_snapshot (
        fingerprint TEXT NOT NULL,      -- incremental.catalogue_fingerprint
        digests TEXT NOT NULL,          -- JSON object, source id -> content hash
        overfull BLOB NOT NULL          -- uint64 keys of buckets over MAX_BUCKET, sorted
    );
"""
MIGRATIONS[4] = CATALOGUE_TRACES

# What spares an unchanged repost its read and its rendering: rows written before it have
# neither, so their files are hashed once more (and the signature then stored) and their
# report rows rendered as before. The rows live in a table of their own: a run that carries
# every result to a new catalogue rewrites each `documents` row, and would rewrite them too.
# (No comment after a column added: SQLite copies the rest of the statement into the table's
# definition.) signature: incremental.file_signature and the content hash it stands for.
UNCHANGED_FILES = """
    ALTER TABLE documents ADD COLUMN signature TEXT;
    CREATE TABLE document_rows (
        file TEXT PRIMARY KEY,          -- as in documents
        report_row TEXT NOT NULL        -- its JSON report line (DocumentResult.json_row), after its checksum
    );
"""
MIGRATIONS[5] = UNCHANGED_FILES

# What an unchanged repost costs a JSON, SARIF or JUnit run: this small row, not its whole
# result (matches with their spans, each matched source read from the index) parsed and
# rebuilt. Rows written before it have none: their results are restored in full once, and
# their outcomes kept. outcome: incremental.outcome_json.
# A catalogue change leaves most results as they are: rather than each such row rewritten with
# the new catalogue's fingerprint, one alias says that the results stored for the old catalogue
# (but those the change touched, whose fingerprint is blanked) hold for the new one.
# open_digests: one row per location with open findings, written with them. A state whose
# digests do not add up to its open findings (written before them, or damaged) is read whole
# once and its digests written again.
OUTCOMES = """
    ALTER TABLE documents ADD COLUMN outcome TEXT;
    CREATE TABLE catalogue_aliases (
        fingerprint TEXT PRIMARY KEY,   -- documents.catalogue_fp of results stored for an earlier catalogue
        holds_for TEXT NOT NULL         -- the catalogue they hold for now (catalogue_snapshot.fingerprint)
    );
    CREATE TABLE open_digests (
        location TEXT PRIMARY KEY,      -- as in open_findings
        digest TEXT NOT NULL,           -- history.findings_digest of its open findings
        count INTEGER NOT NULL          -- how many
    );
"""
MIGRATIONS[6] = OUTCOMES


@dataclass(frozen=True)
class OpenFinding:
    location: str
    fingerprint: str
    rule: str
    severity: str
    line: int
    message: str


@dataclass
class RunRecord:
    started: str
    duration: float
    version: str
    documents: int
    rechecked: int
    findings: int
    open: int
    new: int
    resolved: int
    by_severity: dict[str, int]
    by_rule: dict[str, int]
    paths: list[str]
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "started": self.started, "duration": round(self.duration, 3), "version": self.version,
                "documents": self.documents, "rechecked": self.rechecked, "findings": self.findings, "open": self.open,
                "new": self.new, "resolved": self.resolved, "by_severity": self.by_severity, "by_rule": self.by_rule,
                "paths": self.paths}


@dataclass(frozen=True)
class PendingAlert:
    id: int
    url: str
    payload: str
    run_id: int
    queued: str


@dataclass(frozen=True)
class DecisionRow:
    """One reviewer's decision as stored; `compliance.state.decisions` says whether it still holds."""

    id: int
    doc_path: str
    doc_hash: str | None
    fingerprint: str | None
    rule: str | None
    status: str
    reason: str
    expires: str | None
    reviewer: str
    decided: str


@dataclass(frozen=True)
class DocumentRow:
    file: str
    stored: Stored
    result: str | None  # incremental.result_json; None as read: `StateStore.result` reads it when it is wanted
    signature: str | None = None  # incremental.file_signature and content hash when its bytes were hashed (None: hash them)
    report_row: str | None = None  # its JSON report line as rendered with the result (None: render it)
    outcome: str | None = None  # incremental.outcome_json (None: written before it, restore the whole result)


@dataclass
class RunChanges:
    """Everything one run writes, applied in a single transaction."""

    upserts: list[DocumentRow] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)  # files gone from the scanned folders
    scope: set[str] = field(default_factory=set)  # locations whose open findings this run replaces
    open: list[OpenFinding] = field(default_factory=list)  # the open findings of those locations now (see every_digest)
    traces: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file, keys, candidates) of the upserts
    # (the catalogue the stored results were validated against, this run's) when this run's
    # catalogue change leaves most of them as they are; `invalidated`: the files it touched
    # that this run did not check again (outside the folders scanned, or not cacheable).
    carry: tuple[str, str] | None = None
    invalidated: list[str] = field(default_factory=list)
    # The digests (history.findings_digest, count) of the open findings written, by location;
    # `every_digest`, when given, replaces the whole table (a state whose digests did not add up).
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)
    every_digest: dict[str, tuple[str, int]] | None = None
    signatures: list[tuple[str, str]] = field(default_factory=list)  # (signature, file): hashed again, bytes unchanged
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (outcome, file): stored before outcomes were kept
    catalogue_fp: str = ""
    snapshot: CatalogueSnapshot | None = None  # the catalogue now, when it is not the one stored


def refuse_unless_regular(path: Path) -> None:
    """A FIFO, a device or a socket is no database: opening a FIFO to read its first bytes
    waited for a writer for ever, and SQLite would make its journal beside /dev/null."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # not there yet: it is created (other problems are said where it is opened)
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a folder is refused with its own message
        raise ComplianceError("not a regular file; --state needs a database file", str(path))


def _is_foreign(path: Path) -> bool:
    """A non-empty file that is not SQLite: not ours to touch."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError:
        return False
    return bool(head) and head != _SQLITE_MAGIC


def _damage_is_one_line(method):
    """A damaged database (a page overwritten, a table gone) fails on a read, not on opening:
    say so in one line naming the file, as every other state problem is said."""
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise ComplianceError(f"state database is damaged ({exc}); remove it to start afresh, or use another --state",
                                  str(self.path)) from None
    return guarded


class StateStore:
    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path, create: bool = True) -> "StateStore":
        """Open (and create or migrate) the state database; every failure is one line naming it."""
        where = str(path)
        if path.is_dir():
            raise ComplianceError("is a folder; --state needs a file name", where)
        if path.is_symlink():  # SQLite follows it, and would create a planted link's target
            raise ComplianceError("is a symbolic link; name the real file with --state", where)
        if not path.exists() and not create:
            raise ComplianceError("no state database here (a scan with state creates it)", where)
        refuse_unless_regular(path)
        if _is_foreign(path):
            raise ComplianceError("not a compliance state database (refusing to write to it)", where)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            store = cls(path, db)
            store._prepare()
        except sqlite3.DatabaseError as exc:
            raise ComplianceError(f"cannot open the state database: {exc}", where) from None
        except OSError as exc:
            raise ComplianceError(f"cannot create the state database: {exc.strerror or exc}", where) from None
        return store

    def _prepare(self) -> None:
        db = self._db
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if application_id != APPLICATION_ID and (application_id != 0 or has_tables):
            raise ComplianceError("not a compliance state database (refusing to write to it)", str(self.path))
        if version > SCHEMA_VERSION:
            raise ComplianceError(f"state database has schema {version}, newer than this compliance knows ({SCHEMA_VERSION}); "
                                  "upgrade compliance or use another --state", str(self.path))
        if version == 0 and not has_tables:
            # Pages of 16 KB: a repost's row of keys (about 2 KB) left half of a 4 KB page empty,
            # as two did not fit in one (a new state a quarter smaller). Only a new file takes it.
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.execute("PRAGMA journal_mode=WAL")  # readers (history) never block the writer
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses at most the last commit, never corrupts
        if version < SCHEMA_VERSION:
            with self.transaction():
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    # statement by statement: executescript() would commit halfway
                    for statement in MIGRATIONS[step].split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    class _Tx:
        def __init__(self, db: sqlite3.Connection):
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, kind, value, traceback) -> None:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def transaction(self) -> "StateStore._Tx":
        return StateStore._Tx(self._db)

    def close(self) -> None:
        self._db.close()

    # --- reading

    # A row whose values are not of their column's type (SQLite keeps whatever it is given: an
    # edit by hand, a tool writing the file, a bit flipped inside a value) is passed over as if
    # it were not there: a document is then checked again, a run left out of the history.

    @_damage_is_one_line
    def documents(self) -> dict[str, DocumentRow]:
        """Every file's row without its full result (most runs need only the outcome of most)."""
        aliases = self.catalogue_aliases()
        rows = self._db.execute(
            "SELECT d.file, report_path, location, content_hash, rules_fp, catalogue_fp, source_id, source_digest,"
            " signature, r.report_row, outcome FROM documents AS d LEFT JOIN document_rows AS r ON r.file = d.file")
        return {r[0]: DocumentRow(r[0], Stored(r[1], r[2], r[3], r[4], aliases.get(r[5], r[5]), r[6], r[7]), None, r[8],
                                  _checked_row(r[9]), r[10])
                for r in rows if _typed(r, _DOCUMENT_TYPES)}

    @_damage_is_one_line
    def catalogue_aliases(self) -> dict[str, str]:
        """Catalogue fingerprint of stored results -> the catalogue they hold for now."""
        rows = self._db.execute("SELECT fingerprint, holds_for FROM catalogue_aliases")
        return {r[0]: r[1] for r in rows if _typed(r, (_TEXT, _TEXT))}

    @_damage_is_one_line
    def result(self, file: str) -> str | None:
        """A file's full stored result (incremental.result_json), None when there is none usable."""
        row = self._db.execute("SELECT result FROM documents WHERE file = ?", (file,)).fetchone()
        return row[0] if row is not None and isinstance(row[0], str) else None

    @_damage_is_one_line
    def catalogue_snapshot(self) -> CatalogueSnapshot | None:
        row = self._db.execute("SELECT fingerprint, digests, overfull FROM catalogue_snapshot").fetchone()
        if row is None or not _typed(row, (_TEXT, _TEXT, (bytes,))) or len(row[2]) % 8:
            return None
        try:
            digests = json.loads(row[1])
        except (ValueError, RecursionError):
            return None
        if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
            return None
        return CatalogueSnapshot(row[0], digests, np.frombuffer(row[2], dtype="<u8").astype(np.uint64))

    @_damage_is_one_line
    def traces(self, catalogue_fp: str) -> list[tuple[str, bytes, str]]:
        """(file, keys, candidates) of the documents whose results hold for `catalogue_fp`; keys
        and candidates None for a document without a usable trace (it is re-checked)."""
        rows = self._db.execute("SELECT d.file, t.keys, t.candidates FROM documents AS d LEFT JOIN document_traces AS t"
                                " ON t.file = d.file WHERE d.catalogue_fp = ? OR d.catalogue_fp IN"
                                " (SELECT fingerprint FROM catalogue_aliases WHERE holds_for = ?)", (catalogue_fp, catalogue_fp))
        return [r if _typed(r, (_TEXT, (bytes,), _TEXT)) and len(r[1]) % 4 == 0 else (r[0], None, None)
                for r in rows if isinstance(r[0], str)]

    @_damage_is_one_line
    def open_findings(self) -> list[OpenFinding]:
        rows = self._db.execute("SELECT location, fingerprint, rule, severity, line, message FROM open_findings")
        return [OpenFinding(*r) for r in rows if _typed(r, _OPEN_FINDING_TYPES)]

    @_damage_is_one_line
    def open_findings_at(self, locations: list[str]) -> list[OpenFinding]:
        """The open findings of these locations only, in the order they were written."""
        found = []
        for start in range(0, len(locations), 500):
            chunk = locations[start:start + 500]
            rows = self._db.execute("SELECT location, fingerprint, rule, severity, line, message FROM open_findings"
                                    f" WHERE location IN ({','.join('?' * len(chunk))}) ORDER BY rowid", chunk)
            found.extend(OpenFinding(*r) for r in rows if _typed(r, _OPEN_FINDING_TYPES))
        return found

    @_damage_is_one_line
    def open_digests(self) -> tuple[dict[str, tuple[str, int]], bool]:
        """Location -> (digest, count) of its open findings, and whether they add up to the
        open findings stored (counting them reads every page of the table: damage is found)."""
        rows = self._db.execute("SELECT location, digest, count FROM open_digests")
        digests = {r[0]: (r[1], r[2]) for r in rows if _typed(r, (_TEXT, _TEXT, _WHOLE))}
        stored = self._db.execute("SELECT count(*) FROM open_findings").fetchone()[0]
        return digests, sum(count for _, count in digests.values()) == stored

    @_damage_is_one_line
    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Oldest first; with `limit`, the last `limit` runs."""
        query = "SELECT id, started, duration, version, documents, rechecked, findings, open, new, resolved, by_severity, by_rule, paths FROM runs ORDER BY id DESC"
        rows = self._db.execute(query + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
        runs = [run for run in map(_run_record, rows) if run is not None]
        return runs[::-1]

    @_damage_is_one_line
    def pending_alerts(self, url: str | None = None) -> list[PendingAlert]:
        """Oldest first; with `url`, only the alerts for that webhook."""
        query = "SELECT id, url, payload, run_id, queued FROM pending_alerts"
        rows = self._db.execute(query + (" WHERE url = ?" if url is not None else "") + " ORDER BY id",
                                (url,) if url is not None else ())
        return [PendingAlert(*r) for r in rows if _typed(r, _ALERT_TYPES)]

    @_damage_is_one_line
    def document_hashes(self) -> dict[str, str]:
        """Report path -> content hash of every document the last scans checked (no results read)."""
        rows = self._db.execute("SELECT report_path, content_hash FROM documents")
        return {r[0]: r[1] for r in rows if isinstance(r[0], str) and isinstance(r[1], str)}

    @_damage_is_one_line
    def locations(self, report_path: str) -> set[str]:
        """The real paths (from the project root) of the documents reported as `report_path`."""
        rows = self._db.execute("SELECT location FROM documents WHERE report_path = ?", (report_path,))
        return {r[0] for r in rows if isinstance(r[0], str)}

    @_damage_is_one_line
    def decisions(self) -> list[DecisionRow]:
        """Oldest first."""
        rows = self._db.execute("SELECT id, doc_path, doc_hash, fingerprint, rule, status, reason, expires, reviewer, decided"
                                " FROM decisions ORDER BY id")
        return [DecisionRow(*r) for r in rows if _typed(r, _DECISION_TYPES)]

    @_damage_is_one_line
    def has_decisions(self) -> bool:
        return self._db.execute("SELECT 1 FROM decisions LIMIT 1").fetchone() is not None

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # --- writing: one transaction per run

    @_damage_is_one_line
    def commit_run(self, run: RunRecord, changes: RunChanges,
                   alert: Callable[[RunRecord], tuple[str, str]] | None = None) -> int:
        """`alert` builds (url, JSON payload) from the run once it has its id; the alert is queued
        in the same transaction, so no run is ever recorded without the alert of its new findings."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (started, duration, version, documents, rechecked, findings, open, new, resolved, by_severity, by_rule, paths)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.started, run.duration, run.version, run.documents, run.rechecked, run.findings, run.open, run.new,
                 run.resolved, json.dumps(run.by_severity), json.dumps(run.by_rule), json.dumps(run.paths)))
            run_id = int(cursor.lastrowid)
            db.executemany("DELETE FROM documents WHERE file = ?", [(f,) for f in changes.deletes])
            db.executemany("DELETE FROM document_traces WHERE file = ?", [(f,) for f in changes.deletes])
            db.executemany("DELETE FROM document_rows WHERE file = ?", [(f,) for f in changes.deletes])
            db.executemany("UPDATE documents SET signature = ? WHERE file = ?", changes.signatures)
            db.executemany("UPDATE documents SET outcome = ? WHERE file = ?", changes.outcomes)
            db.executemany(
                "INSERT OR REPLACE INTO documents (file, report_path, location, content_hash, rules_fp, catalogue_fp, source_id,"
                " source_digest, result, signature, outcome, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(row.file, *_stored_tuple(row.stored), row.result, row.signature, row.outcome, run_id) for row in changes.upserts])
            # A row rendered by this run replaces the stored one; a result without one (no JSON report
            # asked for) leaves none behind that could be stale.
            db.executemany("DELETE FROM document_rows WHERE file = ?", [(row.file,) for row in changes.upserts if row.report_row is None])
            db.executemany("INSERT OR REPLACE INTO document_rows (file, report_row) VALUES (?,?)",
                           [(row.file, _summed_row(row.report_row)) for row in changes.upserts if row.report_row is not None])
            db.executemany("INSERT OR REPLACE INTO document_traces (file, keys, candidates) VALUES (?,?,?)", changes.traces)
            if changes.carry is not None:
                before, now = changes.carry
                db.executemany("UPDATE documents SET catalogue_fp = '' WHERE file = ?", [(f,) for f in changes.invalidated])
                db.execute("UPDATE catalogue_aliases SET holds_for = ? WHERE holds_for = ?", (now, before))
                db.execute("DELETE FROM catalogue_aliases WHERE fingerprint = ?", (now,))  # its rows are this run's
                db.execute("INSERT OR REPLACE INTO catalogue_aliases (fingerprint, holds_for) VALUES (?,?)", (before, now))
            if changes.snapshot is not None:
                snapshot = changes.snapshot
                db.execute("DELETE FROM catalogue_snapshot")
                db.execute("INSERT INTO catalogue_snapshot (fingerprint, digests, overfull) VALUES (?,?,?)",
                           (snapshot.fingerprint, json.dumps(snapshot.digests, separators=(",", ":")),
                            np.ascontiguousarray(snapshot.overfull, dtype="<u8").tobytes()))
            if changes.every_digest is not None:  # `open` holds every open finding
                db.execute("DELETE FROM open_findings")
                db.execute("DELETE FROM open_digests")
            else:
                db.executemany("DELETE FROM open_findings WHERE location = ?", [(loc,) for loc in sorted(changes.scope)])
                db.executemany("DELETE FROM open_digests WHERE location = ?", [(loc,) for loc in sorted(changes.scope)])
            db.executemany("INSERT INTO open_findings (location, fingerprint, rule, severity, line, message) VALUES (?,?,?,?,?,?)",
                           [(o.location, o.fingerprint, o.rule, o.severity, o.line, o.message) for o in changes.open])
            db.executemany("INSERT INTO open_digests (location, digest, count) VALUES (?,?,?)",
                           [(loc, *value) for loc, value in (changes.every_digest or changes.digests).items()])
            run.id = run_id
            if alert is not None:
                url, body = alert(run)
                queued = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                db.execute("INSERT INTO pending_alerts (url, payload, run_id, queued) VALUES (?,?,?,?)", (url, body, run_id, queued))
        return run_id

    @_damage_is_one_line
    def add_decision(self, decision: DecisionRow) -> int:
        """One statement, committed at once; `decision.id` is ignored. Returns the new id."""
        cursor = self._db.execute(
            "INSERT INTO decisions (doc_path, doc_hash, fingerprint, rule, status, reason, expires, reviewer, decided)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (decision.doc_path, decision.doc_hash, decision.fingerprint, decision.rule, decision.status, decision.reason,
             decision.expires, decision.reviewer, decision.decided))
        return int(cursor.lastrowid)

    @_damage_is_one_line
    def remove_decision(self, decision_id: int) -> bool:
        return self._db.execute("DELETE FROM decisions WHERE id = ?", (decision_id,)).rowcount > 0

    @_damage_is_one_line
    def remove_alert(self, alert_id: int) -> None:
        """Called the moment an alert is confirmed delivered: one statement, committed at once."""
        self._db.execute("DELETE FROM pending_alerts WHERE id = ?", (alert_id,))

    @_damage_is_one_line
    def trim_alerts(self, limit: int) -> list[PendingAlert]:
        """Drop the oldest alerts beyond `limit` (all webhooks together); returns those dropped."""
        with self.transaction() as db:
            rows = db.execute("SELECT id, url, payload, run_id, queued FROM pending_alerts ORDER BY id DESC LIMIT -1 OFFSET ?",
                              (limit,)).fetchall()
            db.executemany("DELETE FROM pending_alerts WHERE id = ?", [(r[0],) for r in rows])
        return [PendingAlert(*r) for r in reversed(rows)]


_TEXT, _WHOLE, _MAYBE_TEXT = (str,), (int,), (str, type(None))
_DOCUMENT_TYPES = (_TEXT,) * 6 + (_MAYBE_TEXT, _MAYBE_TEXT, _MAYBE_TEXT, (object,), _MAYBE_TEXT)
_OPEN_FINDING_TYPES = (_TEXT, _TEXT, _TEXT, _TEXT, _WHOLE, _TEXT)
_ALERT_TYPES = (_WHOLE, _TEXT, _TEXT, _WHOLE, _TEXT)
_DECISION_TYPES = (_WHOLE, _TEXT, _MAYBE_TEXT, _MAYBE_TEXT, _MAYBE_TEXT, _TEXT, _TEXT, _MAYBE_TEXT, _TEXT, _TEXT)
_RUN_TYPES = (_WHOLE, _TEXT, (int, float), _TEXT, *(_WHOLE,) * 6, _TEXT, _TEXT, _TEXT)


def _summed_row(row: str) -> str:
    """A report row as stored: after a checksum, so that a damaged one is rendered again
    rather than written into a report (validating it as JSON would cost what it spares)."""
    return xxhash.xxh3_64_hexdigest(row.encode("utf-8", "surrogatepass")) + row


def _checked_row(stored: Any) -> str | None:
    if not isinstance(stored, str) or len(stored) < 16:
        return None
    row = stored[16:]
    try:
        return row if xxhash.xxh3_64_hexdigest(row.encode("utf-8", "surrogatepass")) == stored[:16] else None
    except UnicodeError:
        return None


def _typed(row: tuple, types: tuple[tuple[type, ...], ...]) -> bool:
    # map, not a generator: every row of the state passes here (300,000 for 100,000 reposts)
    return len(row) == len(types) and all(map(isinstance, row, types))


def _run_record(row: tuple) -> RunRecord | None:
    """A `runs` row, or None when a value is not what a run writes there."""
    if not _typed(row, _RUN_TYPES) or not math.isfinite(row[2]):
        return None
    try:
        by_severity, by_rule, paths = (json.loads(text) for text in row[10:13])
    except (ValueError, RecursionError):
        return None
    counts = all(isinstance(c, dict) and all(isinstance(k, str) and type(v) is int for k, v in c.items()) for c in (by_severity, by_rule))
    if not counts or not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return None
    return RunRecord(*row[1:10], by_severity, by_rule, paths, id=row[0])


def _stored_tuple(stored: Stored) -> tuple:
    return (stored.report_path, stored.location, stored.content_hash, stored.rules_fp, stored.catalogue_fp,
            stored.source_id, stored.source_digest)
