"""Incremental state: a scheduled scan re-checks only what changed, and never corrupts its state."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLES, ROOT, downgrade_state

from compliance.checks import load_pack
from compliance.cli.main import EXIT_LOCKED, main
from compliance.pipeline import scan
from compliance.report import ReportInput, to_json
from compliance.report.html import render_pages
from compliance.state.cache import ScanCache
from compliance.state.incremental import Current, Stored, recheck_reason
from compliance.state.lock import StateLock
from compliance.state.session import lock_path
from compliance.state.store import SCHEMA_VERSION, StateStore

SCHEMA = json.loads((ROOT / "compliance" / "report" / "report.schema.json").read_text(encoding="utf-8"))



def scan_json(desk: Path, *extra: str, name: str = "report.json") -> dict:
    output = desk / name
    code = main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "--format", "json",
                 "--output", str(output), "-q", *extra])
    assert code in (0, 1)
    report = json.loads(output.read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    return report


def without_incremental(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    report["summary"].pop("incremental", None)
    return report


def runs(path: Path) -> list:
    store = StateStore.open(path, create=False)
    try:
        return store.runs()
    finally:
        store.close()


def test_second_scan_of_an_unchanged_folder_rechecks_nothing_and_reports_the_same(desk):
    first = scan_json(desk)
    second = scan_json(desk)
    assert first["summary"]["incremental"] == {"rechecked": 5, "cached": 0, "new_findings": 5, "resolved_findings": 0}
    assert second["summary"]["incremental"] == {"rechecked": 0, "cached": 5, "new_findings": 0, "resolved_findings": 0}
    full = scan_json(desk, "--no-state", name="full.json")
    assert "incremental" not in full["summary"]
    assert without_incremental(second) == full  # matches, spans, findings, evidence: all identical
    assert [r.rechecked for r in runs(desk / "state.db")] == [5, 0]


def test_cached_results_render_the_same_reports_as_a_full_scan(desk):
    """The HTML pages need the document and the source: a cached result carries both again."""
    pack = load_pack()

    def report(cache):
        result = scan([Path("reposts")], [Path("sources")], pack, cache=cache)
        return ReportInput(result.documents), result

    full, _ = report(None)
    store = StateStore.open(desk / "s.db")
    try:
        import datetime as dt

        today = dt.date.today()
        cache = ScanCache(store.documents(), pack, [], today, 5 * 1024 * 1024, results=store.result)
        primed, _ = report(cache)
        from compliance.state.store import RunChanges, RunRecord

        store.commit_run(RunRecord("t", 0, "v", 5, 5, 0, 0, 0, 0, {}, {}, []), RunChanges(upserts=cache.upserts))
        cache = ScanCache(store.documents(), pack, [], today, 5 * 1024 * 1024, results=store.result)
        cached, result = report(cache)
    finally:
        store.close()
    assert result.rechecked == 0 and cache.cached == 5
    assert render_pages(cached, "now") == render_pages(full, "now") == render_pages(primed, "now")
    assert to_json(cached) == to_json(full)


def test_changing_one_file_rechecks_exactly_that_file(desk):
    scan_json(desk)
    seed = desk / "reposts" / "niac-missiles-repost.txt"
    seed.write_text(seed.read_text(encoding="utf-8").replace("Iran", "Tehran", 1), encoding="utf-8")
    report = scan_json(desk)
    assert report["summary"]["incremental"]["rechecked"] == 1
    assert report["summary"]["incremental"]["cached"] == 4
    assert without_incremental(report) == scan_json(desk, "--no-state", name="full.json")


def test_touching_a_file_without_changing_it_rechecks_nothing(desk):
    scan_json(desk)
    seed = desk / "reposts" / "niac-missiles-repost.txt"
    seed.write_bytes(seed.read_bytes())  # new mtime, same content
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0


def test_changing_a_rule_rechecks_everything(desk):
    pack = desk / "desk.yaml"
    pack.write_text("version: 1\nextends: default\nrules:\n  - id: caption-duplicated\n    severity: warning\n", encoding="utf-8")
    scan_json(desk, "--rules", str(pack))
    assert scan_json(desk, "--rules", str(pack))["summary"]["incremental"]["rechecked"] == 0
    pack.write_text("version: 1\nextends: default\nrules:\n  - id: caption-duplicated\n    severity: error\n", encoding="utf-8")
    report = scan_json(desk, "--rules", str(pack))
    assert report["summary"]["incremental"]["rechecked"] == 5
    assert report["summary"]["by_severity"]["error"] == 5


def test_a_changed_waiver_is_honoured_by_cached_results(desk):
    scan_json(desk)
    (desk / "compliance.yaml").write_text(
        "waivers:\n  - paths: ['*niac*']\n    rules: [attribution-missing]\n    reason: licensed by contract\n", encoding="utf-8")
    report = scan_json(desk)
    assert report["summary"]["incremental"]["rechecked"] == 5
    seed = next(d for d in report["documents"] if d["path"] == "reposts/niac-missiles-repost.txt")
    assert next(f for f in seed["findings"] if f["rule"] == "attribution-missing")["suppressed"]["kind"] == "waiver"
    assert report["summary"]["incremental"]["resolved_findings"] == 1


def test_a_changed_catalogue_rechecks_only_what_it_touches_and_a_changed_matched_source_is_seen(desk):
    scan_json(desk)
    extra = desk / "sources" / "unrelated.md"
    extra.write_text("---\npublisher: Nobody\n---\n" + "An unrelated article about gardening in spring. " * 30, encoding="utf-8")
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0  # it shares no band key with any repost
    newsweek = next(p for p in (desk / "sources").iterdir() if "newsweek" in p.name)
    newsweek.write_text(newsweek.read_text(encoding="utf-8").replace("publisher: Newsweek", "publisher: Newsweek Magazine"),
                        encoding="utf-8")
    report = scan_json(desk)
    assert report["summary"]["incremental"]["rechecked"] == 1  # the one repost that had it among its candidates
    seed = next(d for d in report["documents"] if d["path"] == "reposts/niac-missiles-repost.txt")
    assert seed["source"]["publisher"] == "Newsweek Magazine"
    assert without_incremental(report)["documents"] == scan_json(desk, "--no-state", name="full.json")["documents"]


def test_a_baseline_and_changed_since_still_apply_with_state(desk):
    assert main(["baseline", "create", "reposts", "--sources", "sources", "--output", "base.json"]) == 0
    report = scan_json(desk, "--baseline", "base.json")
    assert report["summary"]["findings"] == 0 and report["summary"]["incremental"]["rechecked"] == 5
    report = scan_json(desk, "--baseline", "base.json")
    assert report["summary"]["findings"] == 0 and report["summary"]["incremental"]["rechecked"] == 0
    assert runs(desk / "state.db")[-1].open == 0


def test_removed_reposts_leave_the_state_and_resolve_their_findings(desk):
    scan_json(desk)
    (desk / "reposts" / "niac-missiles-repost.txt").unlink()
    report = scan_json(desk)
    assert report["summary"]["incremental"] == {"rechecked": 0, "cached": 4, "new_findings": 0, "resolved_findings": 2}
    store = StateStore.open(desk / "state.db", create=False)
    try:
        assert len(store.documents()) == 4
    finally:
        store.close()


def test_an_interrupted_run_leaves_the_previous_state_and_reports_intact(desk, monkeypatch):
    first = scan_json(desk)
    before = (desk / "report.json").read_bytes()
    for path in (desk / "reposts").iterdir():
        path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")

    import compliance.pipeline

    real, calls = compliance.pipeline._Checker._read, []

    def dies_on_the_third(checker, file, report_path):
        calls.append(report_path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(checker, file, report_path)

    monkeypatch.setattr(compliance.pipeline._Checker, "_read", dies_on_the_third)
    code = main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "--format", "json",
                 "--output", "report.json", "-q"])
    assert code == 130
    assert (desk / "report.json").read_bytes() == before
    assert len(runs(desk / "state.db")) == 1
    store = StateStore.open(desk / "state.db", create=False)
    assert store.integrity_ok()
    store.close()
    monkeypatch.setattr(compliance.pipeline._Checker, "_read", real)
    report = scan_json(desk)
    assert report["summary"]["incremental"]["rechecked"] == 5  # nothing of the broken run was kept
    assert report["summary"]["findings"] == first["summary"]["findings"]


def _scan_process(desk: Path, output: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "compliance", "scan", "reposts", "--sources", "sources", "--state", "state.db",
         "--format", "json", "--output", output, "-q", "--lock-timeout", "60"],
        cwd=desk, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_scans_on_one_state_both_finish_consistently(desk):
    processes = [_scan_process(desk, "a.json"), _scan_process(desk, "b.json")]
    outcomes = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [1, 1], outcomes
    recorded = runs(desk / "state.db")
    assert len(recorded) == 2
    assert sorted(r.rechecked for r in recorded) == [0, 5]  # the second waited, then found nothing to do
    assert [r.new for r in recorded] == [5, 0]
    a, b = (json.loads((desk / name).read_text(encoding="utf-8")) for name in ("a.json", "b.json"))
    assert without_incremental(a) == without_incremental(b)
    db = sqlite3.connect(desk / "state.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
        assert db.execute("SELECT count(*) FROM open_findings").fetchone()[0] == 5
    finally:
        db.close()


def test_a_scan_that_cannot_get_the_lock_gives_up_with_its_own_exit_code(desk, capsys):
    lock = StateLock(lock_path(desk / "state.db"), 0)
    lock.acquire()
    try:
        code = main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "-q", "--lock-timeout", "0.3"])
    finally:
        lock.release()
    assert code == EXIT_LOCKED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another compliance scan is using this state" in err and "state.db.lock" in err
    assert not (desk / "state.db").exists()


def test_a_file_that_is_not_a_state_database_is_refused_untouched(desk, capsys):
    notes = desk / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    assert main(["scan", "reposts", "--sources", "sources", "--state", str(notes), "-q"]) == 2
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    err = capsys.readouterr().err
    assert err.strip() == f"compliance: error: {notes}: not a compliance state database (refusing to write to it)"
    other = desk / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE mine (x)")
    db.commit()
    db.close()
    assert main(["scan", "reposts", "--sources", "sources", "--state", str(other), "-q"]) == 2
    assert "not a compliance state database" in capsys.readouterr().err


def test_a_state_from_a_newer_compliance_is_refused(desk, capsys):
    scan_json(desk)
    db = sqlite3.connect(desk / "state.db")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    assert main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "-q"]) == 2
    assert "newer than this compliance knows" in capsys.readouterr().err


def test_a_state_file_of_schema_1_is_migrated_in_place_and_keeps_everything(desk):
    """State files written before the alert queue existed (schema 1) keep working."""
    first = scan_json(desk)
    downgrade_state(desk / "state.db", 1)
    second = scan_json(desk)
    assert second["summary"]["incremental"] == {"rechecked": 0, "cached": 5, "new_findings": 0, "resolved_findings": 0}
    assert without_incremental(second) == without_incremental(first)
    db = sqlite3.connect(desk / "state.db")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA page_size").fetchone()[0] == 16384  # as the state was created
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()
    assert {"documents", "runs", "open_findings", "pending_alerts", "decisions", "document_traces", "catalogue_snapshot"} <= tables
    assert len(runs(desk / "state.db")) == 2
    store = StateStore.open(desk / "state.db", create=False)
    try:
        assert store.pending_alerts() == [] and store.integrity_ok()
    finally:
        store.close()


def test_a_state_of_schema_2_gets_traces_and_its_documents_without_one_are_rechecked_on_a_catalogue_change(desk):
    """A state written before traces were kept (schema 2) is migrated; a catalogue change then
    re-checks the documents it holds no trace of, as every catalogue change did then."""
    scan_json(desk)
    downgrade_state(desk / "state.db", 2)
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0  # the catalogue did not change
    (desk / "sources" / "unrelated.md").write_text("---\npublisher: Nobody\n---\n" + "Gardening in spring, at length. " * 40,
                                                   encoding="utf-8")
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 5
    (desk / "sources" / "unrelated.md").unlink()
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0  # traces kept since


def test_default_state_lies_beside_the_config_and_no_state_writes_nothing(tmp_path):
    shutil.copytree(EXAMPLES / "reposts", tmp_path / "reposts")
    shutil.copytree(EXAMPLES / "sources", tmp_path / "sources")
    (tmp_path / "compliance.yaml").write_text("sources: [sources]\n", encoding="utf-8")
    work = tmp_path / "reposts"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "compliance", "scan", ".", "-q", *args], cwd=work, capture_output=True, text=True)

    assert run("--no-state").returncode == 1
    assert not (tmp_path / ".compliance").exists() and not (work / ".compliance").exists()
    assert run().returncode == 1
    assert (tmp_path / ".compliance" / "state.db").is_file()
    assert not (work / ".compliance").exists()
    history = subprocess.run([sys.executable, "-m", "compliance", "history", "--format", "json"], cwd=work,
                             capture_output=True, text=True)
    assert history.returncode == 0 and len(json.loads(history.stdout)["runs"]) == 1


def test_notify_needs_state(desk, capsys):
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "--notify", "http://127.0.0.1:9/", "-q"]) == 2
    assert "--notify needs the state" in capsys.readouterr().err


def test_recheck_reasons():
    stored = Stored("a.txt", "r/a.txt", "h1", "rules", "cat", "s1", "d1")
    same = Current("a.txt", "r/a.txt", "h1", "rules", "cat")
    assert recheck_reason(stored, same, {"s1": "d1"}) is None
    assert recheck_reason(None, same, {}) == "new"
    assert recheck_reason(stored, Current("a.txt", "r/a.txt", "h2", "rules", "cat"), {"s1": "d1"}) == "content changed"
    assert recheck_reason(stored, Current("b.txt", "r/a.txt", "h1", "rules", "cat"), {"s1": "d1"}) == "path changed"
    assert recheck_reason(stored, Current("a.txt", "r/a.txt", "h1", "other", "cat"), {"s1": "d1"}) == "rules changed"
    assert recheck_reason(stored, same, {"s1": "d2"}) == "matched source changed"
    assert recheck_reason(stored, same, {}) == "matched source changed"
    assert recheck_reason(stored, Current("a.txt", "r/a.txt", "h1", "rules", "cat2"), {"s1": "d1"}) == "catalogue changed"


def test_watch_scans_again_only_after_a_change(desk):
    from compliance.cli.watch import snapshot, watch

    inputs = [desk / "reposts", desk / "sources"]
    scans: list[int] = []

    def run():
        scans.append(main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "-q"]))

    def sleep(_seconds):
        if len(scans) == 1 and not (desk / "reposts" / "new.txt").exists():
            shutil.copy(desk / "reposts" / "niac-missiles-repost.txt", desk / "reposts" / "new.txt")

    watch(lambda: snapshot(inputs), run, 1.0, sleep=sleep, rounds=4)
    assert scans == [1, 1]  # the first look, then once after the new file; not on the unchanged rounds
    assert [r.rechecked for r in runs(desk / "state.db")] == [5, 1]


def test_watch_command_stops_cleanly_on_ctrl_c(desk, monkeypatch, capsys):
    import compliance.cli.watch

    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(compliance.cli.watch.time, "sleep", interrupted)
    assert main(["watch", "reposts", "--sources", "sources", "--state", "state.db", "--interval", "5"]) == 0
    assert "watch: scan finished with exit code 1" in capsys.readouterr().err
    assert len(runs(desk / "state.db")) == 1


def test_progress_is_drawn_on_a_terminal_only():
    import io

    from compliance.cli.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert Progress.for_terminal(False, io.StringIO()) is None  # cron: stderr is a file or a pipe
    assert Progress.for_terminal(True, Terminal()) is None  # --quiet
    stream = Terminal()
    progress = Progress.for_terminal(False, stream)
    for done in range(1, 1001):
        progress(done, 1000)
    progress.finish()
    drawn = stream.getvalue()
    assert drawn.count("\r") < 20  # throttled, not a thousand redraws
    assert "1000/1000" in drawn and drawn.endswith("\r\033[K")


# --- unchanged files by their stat signature, and their stored report rows


def _counting_reads(monkeypatch) -> list[str]:
    """The repost files the state hashes, as they are read."""
    import compliance.state.cache as cache_module

    reads: list[str] = []
    real = cache_module.read_bytes

    def counted(file, max_bytes):
        reads.append(Path(file).name)
        return real(file, max_bytes)

    monkeypatch.setattr(cache_module, "read_bytes", counted)
    return reads


def _documents_bytes(report: Path) -> str:
    """The report's bytes from its documents on: all of it but the summary."""
    text = report.read_text(encoding="utf-8")
    return text[text.index('  "documents": [') :]


def _signatures(state: Path) -> dict[str, str | None]:
    store = StateStore.open(state, create=False)
    try:
        return {Path(f).name: row.signature for f, row in store.documents().items()}
    finally:
        store.close()


@pytest.fixture
def settled(monkeypatch):
    """Files count as long left alone as soon as written (the desk was copied a moment ago)."""
    monkeypatch.setattr("compliance.state.incremental.RACY_NS", 0)


def test_an_unchanged_file_is_not_read_again_and_its_stored_row_is_the_full_scans(desk, monkeypatch, settled):
    scan_json(desk)
    reads = _counting_reads(monkeypatch)
    second = scan_json(desk)
    assert reads == [] and second["summary"]["incremental"]["cached"] == 5
    full = scan_json(desk, "--no-state", name="full.json")
    assert without_incremental(second) == full
    assert _documents_bytes(desk / "report.json") == _documents_bytes(desk / "full.json")  # rows written as stored, byte for byte


def test_a_touched_file_is_read_once_found_unchanged_and_not_read_after(desk, monkeypatch, settled):
    scan_json(desk)
    seed = desk / "reposts" / "niac-missiles-repost.txt"
    before = _signatures(desk / "state.db")["niac-missiles-repost.txt"]
    assert before is not None
    status = seed.stat()
    os.utime(seed, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))  # touched: a new modification time
    reads = _counting_reads(monkeypatch)
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0
    assert reads == ["niac-missiles-repost.txt"]
    after = _signatures(desk / "state.db")["niac-missiles-repost.txt"]
    assert after is not None and after != before  # the new signature is kept: the next run reads nothing
    reads.clear()
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0 and reads == []


def test_an_edit_of_the_same_size_with_its_modification_time_put_back_is_seen(desk, monkeypatch, settled):
    """`touch -d`, `cp -p` or a tool keeping timestamps: the change time still moves."""
    scan_json(desk)
    seed = desk / "reposts" / "niac-missiles-repost.txt"
    status = seed.stat()
    text = seed.read_text(encoding="utf-8")
    edited = text.replace("Iran", "Oman", 1)
    assert edited != text and len(edited.encode()) == status.st_size
    time.sleep(0.05)  # past the kernel's timestamp tick
    seed.write_text(edited, encoding="utf-8")
    os.utime(seed, ns=(status.st_atime_ns, status.st_mtime_ns))
    now = seed.stat()
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (status.st_size, status.st_mtime_ns, status.st_ino)
    report = scan_json(desk)
    assert report["summary"]["incremental"]["rechecked"] == 1
    assert without_incremental(report) == scan_json(desk, "--no-state", name="full.json")


def test_a_file_changed_moments_ago_is_not_trusted_by_its_signature(desk, monkeypatch):
    """Within RACY_NS of its last change a file may change again inside the same timestamp: it
    is hashed on every run until left alone long enough."""
    scan_json(desk)
    assert set(_signatures(desk / "state.db").values()) == {None}
    reads = _counting_reads(monkeypatch)
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 0
    assert len(reads) == 5
    from compliance.state.incremental import file_signature

    status = (desk / "reposts").stat()
    assert file_signature(status, status.st_mtime_ns + 10**12) is None  # a folder has no signature


def test_a_damaged_stored_row_or_hash_is_not_taken_on_trust(desk, monkeypatch, settled):
    """A report row whose checksum fails is rendered again; a content hash that is not the one
    the signature stood for has the file read again."""
    scan_json(desk)
    db = sqlite3.connect(desk / "state.db")
    try:
        damaged = db.execute("SELECT count(*) FROM document_rows").fetchone()[0]
        db.execute("UPDATE document_rows SET report_row = substr(report_row, 1, 40) || '0' || substr(report_row, 42)")
        db.execute("UPDATE documents SET content_hash = 'x' WHERE file LIKE '%niac-missiles-repost.txt'")
        db.commit()
    finally:
        db.close()
    assert damaged == 5
    reads = _counting_reads(monkeypatch)
    report = scan_json(desk)
    assert reads == ["niac-missiles-repost.txt"]  # read again, found changed (to the damaged hash), re-checked
    assert report["summary"]["incremental"]["rechecked"] == 1
    scan_json(desk, "--no-state", name="full.json")
    assert _documents_bytes(desk / "report.json") == _documents_bytes(desk / "full.json")


def test_a_stored_span_that_is_not_one_is_refused(desk):
    """Restoring checks each span's values without a generator per span: the same refusals."""
    from compliance.state.incremental import result_from_json, result_json

    result = scan([Path("reposts")], [Path("sources")], load_pack())
    matched = next(d for d in result.documents if d.match is not None and d.match.spans)
    sources = {m.source.id: m.source for m in matched.matches}
    text = result_json(matched)
    restored = result_from_json(text, matched.path, matched.location, lambda: None, sources)
    assert [m.spans for m in restored.matches] == [m.spans for m in matched.matches]
    for bad in (True, -1, 1.0, "3", None):
        for at in (0, 4, (6, 0), (7, 1)):
            payload = json.loads(text)
            span = payload["matches"][0]["spans"][0]
            if isinstance(at, tuple):
                span[at[0]][at[1]] = bad
            else:
                span[at] = bad
            with pytest.raises((ValueError, TypeError)):
                result_from_json(json.dumps(payload), matched.path, matched.location, lambda: None, sources)
    for pair in ("ab", [1], [1, 2, 3]):
        payload = json.loads(text)
        payload["matches"][0]["spans"][0][6] = pair
        with pytest.raises(ValueError):
            result_from_json(json.dumps(payload), matched.path, matched.location, lambda: None, sources)
    payload = json.loads(text)
    payload["matches"][0]["spans"][0][4] = 0  # lines count from 1
    with pytest.raises(ValueError):
        result_from_json(json.dumps(payload), matched.path, matched.location, lambda: None, sources)


def _reports(desk: Path, folder: str, *extra: str) -> tuple[int, dict[str, str]]:
    """A scan writing JSON, SARIF and JUnit; its exit code and the reports' texts, the JSON's
    `incremental` left out (a scan without state has none)."""
    code = main(["scan", "reposts", "--sources", "sources", "--format", "json", "--format", "sarif", "--format", "junit",
                 "--report-dir", folder, "-q", *extra])
    texts = {path.name: path.read_text(encoding="utf-8") for path in sorted((desk / folder).iterdir())}
    report = json.loads(texts["report.json"])
    report["summary"].pop("incremental", None)
    texts["report.json"] = json.dumps(report, ensure_ascii=False, indent=2)
    return code, texts


def test_unchanged_results_are_not_restored_for_json_sarif_and_junit_and_report_the_same(desk, monkeypatch):
    """An unchanged document costs its stored findings and report row: its matches (and the
    sources they name) are never rebuilt, and every report, the exit code and the history are
    those of a full scan."""
    import compliance.state.cache as cache_module

    restored = []
    whole = cache_module.result_from_json
    monkeypatch.setattr(cache_module, "result_from_json", lambda *a, **k: restored.append(a[1]) or whole(*a, **k))
    state = ("--state", "state.db")
    assert _reports(desk, "first", *state)[0] == 1
    seed = desk / "reposts" / "niac-missiles-repost.txt"
    seed.write_text(seed.read_text(encoding="utf-8").replace("Iran", "Tehran", 1), encoding="utf-8")
    (desk / "reposts" / "home-depot-sales.txt").unlink()
    code, reports = _reports(desk, "second", *state)
    assert restored == []
    assert (code, reports) == _reports(desk, "full", "--no-state")
    second = runs(desk / "state.db")[-1]
    assert (second.documents, second.rechecked) == (4, 1)
    store = StateStore.open(desk / "state.db", create=False)
    try:
        kept = sorted((o.location, o.fingerprint, o.rule, o.line) for o in store.open_findings())
    finally:
        store.close()
    fresh = desk / "fresh.db"
    _reports(desk, "again", "--state", str(fresh))
    store = StateStore.open(fresh, create=False)
    try:
        assert kept == sorted((o.location, o.fingerprint, o.rule, o.line) for o in store.open_findings())
    finally:
        store.close()


def test_a_baseline_restores_the_matches_of_unchanged_results_and_reports_as_a_full_scan(desk, monkeypatch):
    """A baseline marks findings on copies of the results, which read their matches: restored
    then, from the full stored result."""
    import compliance.state.cache as cache_module

    assert main(["baseline", "create", "reposts", "--sources", "sources", "--output", "base.json"]) == 0
    entries = json.loads((desk / "base.json").read_text(encoding="utf-8"))
    entries["findings"] = entries["findings"][::2]  # some findings accepted, others not
    (desk / "base.json").write_text(json.dumps(entries), encoding="utf-8")
    state = ("--state", "state.db", "--baseline", "base.json")
    _reports(desk, "first", *state)
    restored = []
    whole = cache_module.result_from_json
    monkeypatch.setattr(cache_module, "result_from_json", lambda *a, **k: restored.append(a[1]) or whole(*a, **k))
    code, reports = _reports(desk, "second", *state)
    assert len(restored) == 5 and runs(desk / "state.db")[-1].rechecked == 0
    assert (code, reports) == _reports(desk, "full", "--no-state", "--baseline", "base.json")


def test_a_state_of_schema_5_restores_its_results_whole_once_then_keeps_their_outcomes(desk, monkeypatch):
    """Its rows have no outcome: restored whole once (as that version did), and kept with one."""
    import compliance.state.cache as cache_module

    first = scan_json(desk)
    downgrade_state(desk / "state.db", 5)
    restored = []
    whole = cache_module.result_from_json
    monkeypatch.setattr(cache_module, "result_from_json", lambda *a, **k: restored.append(a[1]) or whole(*a, **k))
    second = scan_json(desk)
    assert second["summary"]["incremental"]["cached"] == 5 and len(restored) == 5
    assert without_incremental(second) == without_incremental(first)
    # Its open findings had no digests: read whole once, and their digests written.
    assert second["summary"]["incremental"]["new_findings"] == second["summary"]["incremental"]["resolved_findings"] == 0
    store = StateStore.open(desk / "state.db", create=False)
    try:
        digests, complete = store.open_digests()
        assert complete and sum(count for _, count in digests.values()) == first["summary"]["findings"] > 0
    finally:
        store.close()
    restored.clear()
    seed = desk / "reposts" / "niac-missiles-repost.txt"
    seed.write_text(seed.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert scan_json(desk)["summary"]["incremental"]["rechecked"] == 1
    assert without_incremental(scan_json(desk)) == without_incremental(scan_json(desk, "--no-state", name="full.json"))
    assert restored == []


def test_a_run_rewrites_the_open_findings_of_the_files_whose_findings_changed_only(desk):
    def rewritten() -> list[str]:
        """The locations whose open findings were deleted (to be written again) since the last call."""
        db = sqlite3.connect(desk / "state.db")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS rewritten (location TEXT)")
            db.execute("CREATE TRIGGER IF NOT EXISTS note_rewritten AFTER DELETE ON open_findings"
                       " BEGIN INSERT INTO rewritten VALUES (old.location); END")
            locations = sorted({row[0] for row in db.execute("SELECT location FROM rewritten")})
            db.execute("DELETE FROM rewritten")
            db.commit()
            return locations
        finally:
            db.close()

    first = scan_json(desk)
    assert rewritten() == []
    second = scan_json(desk)
    assert rewritten() == [] and second["summary"]["incremental"]["new_findings"] == 0
    edited = "reposts/niac-missiles-repost.txt"
    seed = desk / edited
    lines = seed.read_text(encoding="utf-8").split("\n")
    seed.write_text("\n".join([lines[0], "", *lines[1:]]), encoding="utf-8")  # its findings one line lower
    third = scan_json(desk)
    assert rewritten() == [edited]
    assert third["summary"]["findings"] == first["summary"]["findings"] and third["summary"]["incremental"]["new_findings"] == 0
    assert [r.open for r in runs(desk / "state.db")] == [first["summary"]["findings"]] * 3


def test_a_catalogue_change_rewrites_no_row_it_leaves_and_blanks_those_it_touched_unscanned(desk):
    """Results the change does not touch hold for the new catalogue through one alias, not a
    rewrite of their rows; a touched file the run did not scan is checked at its next scan."""
    def updated() -> int:
        """`documents` rows updated since the last call (a trigger counts them)."""
        db = sqlite3.connect(desk / "state.db")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS updates (file TEXT)")
            db.execute("CREATE TRIGGER IF NOT EXISTS note_update AFTER UPDATE ON documents BEGIN INSERT INTO updates VALUES (old.file); END")
            count = db.execute("SELECT count(*) FROM updates").fetchone()[0]
            db.execute("DELETE FROM updates")
            db.commit()
            return count
        finally:
            db.close()

    index = ("--index", "index.db")
    scan_json(desk, *index)
    updated()
    unrelated = "---\npublisher: Nobody\n---\n\n" + "Gardening in spring, at length, with tulips and patience. " * 40
    (desk / "sources" / "unrelated.md").write_text(unrelated, encoding="utf-8")
    assert scan_json(desk, *index)["summary"]["incremental"]["rechecked"] == 0
    assert updated() == 0
    assert scan_json(desk, *index)["summary"]["incremental"]["rechecked"] == 0  # the alias holds run after run
    # A copy of one repost catalogued as a source touches it; a scan of another file leaves it unchecked.
    copied = (desk / "reposts" / "home-depot-sales.txt").read_text(encoding="utf-8")
    (desk / "sources" / "copy.md").write_text("---\npublisher: Copycat Wire\n---\n\n" + copied, encoding="utf-8")
    code = main(["scan", "reposts/niac-missiles-repost.txt", "--sources", "sources", "--state", "state.db", *index,
                 "--format", "json", "--output", "one.json", "-q"])
    assert code in (0, 1)

    def catalogue_of(name: str) -> str:
        db = sqlite3.connect(desk / "state.db")
        try:
            return db.execute("SELECT catalogue_fp FROM documents WHERE location = ?", (f"reposts/{name}",)).fetchone()[0]
        finally:
            db.close()

    assert catalogue_of("home-depot-sales.txt") == ""  # touched, not scanned: checked at its next scan
    assert catalogue_of("desk-column.md") != ""
    report = scan_json(desk, *index)
    assert report["summary"]["incremental"]["rechecked"] >= 1 and catalogue_of("home-depot-sales.txt") != ""
    assert without_incremental(report) == scan_json(desk, "--no-state", *index, name="full.json")


def test_an_unchanged_run_counts_from_the_state_without_reading_findings_and_gates_and_records_as_a_full_scan(desk, monkeypatch):
    """A JSON report, the exit code and the history of a run in which nothing changed come from
    the counts the state keeps per document: no stored finding is read back, and the summary,
    every --fail-on level and the run's record are those a full scan gives. A file whose
    findings changed is compared from its findings."""
    from compliance.state.incremental import StoredResult

    first = scan_json(desk, "--fail-on", "never")
    read = []
    whole = StoredResult._read_findings
    monkeypatch.setattr(StoredResult, "_read_findings", lambda self: read.append(self.path) or whole(self))
    full = scan_json(desk, "--no-state", "--fail-on", "never", name="full.json")
    for level in ("error", "warning", "info", "never"):
        expected = main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--format", "json",
                         "--output", "f.json", "--fail-on", level])
        again = main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "-q", "--format", "json",
                      "--output", "a.json", "--fail-on", level])
        assert again == expected, level
        assert again == (0 if level == "never" else 1)  # the gate from the counts alone: every document unchanged
    second = scan_json(desk, "--fail-on", "never")
    assert read == [] and second["summary"]["incremental"]["cached"] == 5
    assert without_incremental(second) == full and first["summary"]["findings"] > 0
    records = runs(desk / "state.db")
    assert len({(r.findings, r.open, json.dumps(r.by_severity), json.dumps(r.by_rule)) for r in records}) == 1
    assert records[0].findings == full["summary"]["findings"] and records[0].by_rule == full["summary"]["by_rule"]
    assert records[0].by_severity == full["summary"]["by_severity"]
    # A file whose findings changed: its findings compared; the unchanged files' still unread.
    edited = "reposts/niac-missiles-repost.txt"
    seed = desk / edited
    seed.write_text(seed.read_text(encoding="utf-8").replace("Iran", "Tehran", 1), encoding="utf-8")
    third = scan_json(desk, "--fail-on", "never")
    assert read == [] and third["summary"]["incremental"]["rechecked"] == 1
    assert without_incremental(third) == scan_json(desk, "--no-state", "--fail-on", "never", name="full.json")
    assert (runs(desk / "state.db")[-1].findings, runs(desk / "state.db")[-1].open) == (third["summary"]["findings"],) * 2


def test_stored_findings_damaged_behind_sound_counts_are_one_line_when_read(desk, capsys):
    """The counts are checked when a row is read, its findings only when a report reads them:
    a JSON report never does, a SARIF report stops with one line naming the document."""
    scan_json(desk)
    db = sqlite3.connect(desk / "state.db", isolation_level=None)
    file, outcome = db.execute("SELECT file, outcome FROM documents WHERE outcome LIKE '%\"severity\"%' ORDER BY file").fetchone()
    head = outcome.partition("\n")[0]
    db.execute("UPDATE documents SET outcome = ? WHERE file = ?", (head + '\n{"findings":[{"rule":7}],"fingerprints":[]}', file))
    db.close()
    again = scan_json(desk)
    assert again["summary"]["incremental"]["cached"] == 5
    assert without_incremental(again) == scan_json(desk, "--no-state", name="full.json")
    capsys.readouterr()
    assert main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "--format", "sarif",
                 "--output", "r.sarif", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stored findings of reposts/" in err[0] and "damaged" in err[0], err
