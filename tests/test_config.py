"""The configuration file carries everything a scheduled scan needs, so cron runs a bare
`compliance scan`: each key is used, relative to the file, and a flag always wins."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_notify import Receiver

import compliance.cli.main as cli
import compliance.state.notify as notify
from compliance.cli.main import EXIT_LOCKED, main
from compliance.state.lock import StateLock
from compliance.state.session import lock_path
from compliance.state.store import StateStore


def configure(desk: Path, settings: str) -> None:
    (desk / "compliance.yaml").write_text("sources: [sources]\n" + settings, encoding="utf-8")


@pytest.fixture
def inside(desk: Path, monkeypatch) -> Path:
    """Scans run from a folder below the configuration's, so relative paths show whose they are."""
    monkeypatch.chdir(desk / "reposts")
    return desk


def scan(*extra: str) -> int:
    return main(["scan", ".", "-q", *extra])


def run_count(state: Path) -> int:
    store = StateStore.open(state, create=False)
    try:
        return len(store.runs())
    finally:
        store.close()


def test_index(inside, capsys):
    configure(inside, "index: idx/sources.idx\n")
    assert scan("--no-state") == 1
    assert (inside / "idx" / "sources.idx").is_file()
    assert main(["index", "info", "--format", "json"]) == 0  # `index` commands use it too
    assert json.loads(capsys.readouterr().out)["sources"] == 4
    assert scan("--no-state", "--index", "mine.idx") == 1
    assert (inside / "reposts" / "mine.idx").is_file()  # a flag's path is the shell's


def test_state(inside, capsys):
    configure(inside, "state: var/state.db\n")
    assert scan() == 1
    assert run_count(inside / "var" / "state.db") == 1
    assert main(["history", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 1
    assert scan("--state", "mine.db") == 1
    assert run_count(inside / "reposts" / "mine.db") == 1 and run_count(inside / "var" / "state.db") == 1


def test_notify(inside, capsys, monkeypatch):
    monkeypatch.setattr(notify, "BACKOFF", 0.05)
    with Receiver() as configured, Receiver() as other:
        configure(inside, f"notify: {configured.url}\n")
        assert scan() == 1
        assert len(configured.bodies) == 1 and configured.bodies[0]["run"]["id"] == 1
        (inside / "reposts" / "copy.txt").write_bytes((inside / "reposts" / "niac-missiles-repost.txt").read_bytes())
        assert scan("--notify", other.url) == 1
        assert len(configured.bodies) == 1 and [b["run"]["id"] for b in other.bodies] == [2]
        # --no-state turns the configured webhook off: no error, no state, nothing posted
        assert scan("--no-state") == 1
        assert capsys.readouterr().err == "" and len(configured.bodies) == 1
        assert scan("--no-state", "--notify", other.url) == 2  # explicitly asked for: still refused
        assert "--notify needs the state" in capsys.readouterr().err


def test_report_dir_and_format(inside, capsys):
    configure(inside, "report_dir: out\nformat: json\n")
    assert scan() == 1
    assert sorted(os.listdir(inside / "out")) == ["report.json"]
    assert scan("--report-dir", "here") == 1
    assert (inside / "reposts" / "here" / "report.json").is_file()
    assert scan("--output", "one.json") == 1  # --output wins over the configured folder
    assert (inside / "reposts" / "one.json").is_file()
    assert scan("--format", "sarif") == 1
    assert sorted(os.listdir(inside / "out")) == ["report.json", "report.sarif"]

    configure(inside, "report_dir: out2\nformat: [junit, github]\n")
    assert scan() == 1
    assert sorted(os.listdir(inside / "out2")) == ["github-annotations.txt", "junit.xml"]
    assert scan("--output", "two.json") == 2  # several formats cannot go to one file: say where they came from
    assert "the formats come from ../compliance.yaml: add --format" in capsys.readouterr().err
    assert scan("--output", "two.json", "--format", "json") == 1

    configure(inside, "report_dir: out3\nformat: html\n")
    assert scan() == 1
    assert (inside / "out3" / "latest" / "index.html").is_file()


def test_jobs(inside, monkeypatch):
    seen = []
    real_scan = cli.scan
    monkeypatch.setattr(cli, "scan", lambda *a, **kw: seen.append(kw["jobs"]) or real_scan(*a, **kw))
    configure(inside, "jobs: 1\n")
    assert scan("--no-state") == 1
    assert scan("--no-state", "-j", "2") == 1
    assert seen == [1, 2]


def test_keep_runs(inside):
    configure(inside, "report_dir: out\nformat: html\nkeep_runs: 1\n")

    def runs() -> list[str]:
        return [p for p in os.listdir(inside / "out") if p.startswith("run-")]

    assert scan("--no-state") == 1 and scan("--no-state") == 1
    assert runs() == [os.readlink(inside / "out" / "latest")]
    assert scan("--no-state", "--keep-runs", "0") == 1
    assert len(runs()) == 2


def test_lock_timeout(inside, capsys, monkeypatch):
    configure(inside, "state: state.db\nlock_timeout: 0.2\n")
    lock = StateLock(lock_path(inside / "state.db"), 0)
    lock.acquire()
    try:
        assert scan() == EXIT_LOCKED
        assert "gave up after 0.2s" in capsys.readouterr().err
        assert scan("--lock-timeout", "0.1") == EXIT_LOCKED
        assert "gave up after 0.1s" in capsys.readouterr().err
        configure(inside, "state: state.db\n")  # neither: the default
        monkeypatch.setattr(cli, "DEFAULT_LOCK_TIMEOUT", 0.15)
        assert scan() == EXIT_LOCKED
        assert "gave up after 0.15s" in capsys.readouterr().err
    finally:
        lock.release()


@pytest.mark.parametrize("setting, line, message", [
    ("index: 3", 2, "'index' must be a file name"),
    ("state: [a.db]", 2, "'state' must be a file name"),
    ("notify: ftp://hooks.example/SECRET", 2, "'notify' must be an http(s) URL"),
    ("notify: true", 2, "'notify' must be an http(s) URL"),
    ("report_dir: {a: b}", 2, "'report_dir' must be a folder name"),
    ("format: pdf", 2, "unknown format 'pdf' (known: github, html, json, junit, sarif, text)"),
    ("format:\n  - json\n  - pdf", 4, "unknown format 'pdf' (known: github, html, json, junit, sarif, text)"),
    ("format: []", 2, "'format' must be a format name or a list of them (github, html, json, junit, sarif, text)"),
    ("jobs: 0", 2, "'jobs' must be a whole number of at least 1"),
    ("jobs: true", 2, "'jobs' must be a whole number of at least 1"),
    ("keep_runs: -1", 2, "'keep_runs' must be a whole number (0 keeps every run)"),
    ("keep_runs: 2.5", 2, "'keep_runs' must be a whole number (0 keeps every run)"),
    ("lock_timeout: soon", 2, "'lock_timeout' must be a number of seconds, 0 or more"),
    ("lock_timeout: -1", 2, "'lock_timeout' must be a number of seconds, 0 or more"),
    ("lock_timeout: .nan", 2, "'lock_timeout' must be a number of seconds, 0 or more"),
])
def test_a_bad_value_is_a_one_line_error_naming_file_and_line(desk, capsys, setting, line, message):
    configure(desk, setting + "\n")
    assert main(["scan", "reposts", "-q"]) == 2
    err = capsys.readouterr().err
    assert err == f"compliance: error: compliance.yaml:{line}: {message}\n"
    assert "SECRET" not in err  # a webhook URL is not echoed: it carries its secret


def test_pyproject_takes_the_same_keys(desk, capsys):
    (desk / "pyproject.toml").write_text('[tool.compliance]\nsources = ["sources"]\nreport_dir = "out"\n'
                                         'format = ["json", "html"]\nkeep_runs = 1\nstate = "var/state.db"\n', encoding="utf-8")
    assert main(["scan", "reposts", "-q"]) == 1 and main(["scan", "reposts", "-q"]) == 1
    assert len([p for p in os.listdir(desk / "out") if p.startswith("run-")]) == 1
    assert (desk / "out" / "latest" / "report.json").is_file() and run_count(desk / "var" / "state.db") == 2
    (desk / "pyproject.toml").write_text('[tool.compliance]\njobs = 0\n', encoding="utf-8")
    assert main(["scan", "reposts", "-q"]) == 2
    assert capsys.readouterr().err == "compliance: error: pyproject.toml: 'jobs' must be a whole number of at least 1\n"


def test_paths_make_a_bare_scan_the_cron_line(inside, capsys):
    configure(inside, "paths: [reposts]\nformat: json\nreport_dir: out\n")
    assert main(["scan", "-q"]) == 1  # run from reposts/, the configuration's paths are its own
    report = json.loads((inside / "out" / "report.json").read_text(encoding="utf-8"))
    assert len(report["documents"]) == 5 and all(d["path"].startswith("reposts/") for d in report["documents"])
    assert main(["scan", "-q", "niac-missiles-repost.txt"]) == 1  # a path named wins
    report = json.loads((inside / "out" / "report.json").read_text(encoding="utf-8"))
    assert [d["path"] for d in report["documents"]] == ["reposts/niac-missiles-repost.txt"]
    configure(inside, "")
    assert main(["scan", "-q"]) == 2
    assert "nothing to scan" in capsys.readouterr().err
