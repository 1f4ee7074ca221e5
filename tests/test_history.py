"""History: every scan records a run; new and resolved findings; `compliance history`; the HTML trend."""
from __future__ import annotations

import json

import pytest

from compliance.cli.main import main
from compliance.state.history import compare
from compliance.state.store import OpenFinding

SEED = "niac-missiles-repost.txt"



def scan(*extra: str) -> int:
    return main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "-q", *extra])


def history(capsys, *extra: str) -> list[dict]:
    capsys.readouterr()
    assert main(["history", "--state", "state.db", "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)["runs"]


def test_runs_record_counts_new_and_resolved_findings(desk, capsys):
    scan()
    scan()
    seed = desk / "reposts" / SEED
    text = seed.read_text(encoding="utf-8")
    # credit the publisher: resolves attribution-missing
    seed.write_text(text.replace("\n\n", "\n\nThis article was originally published by Newsweek.\n\n", 1), encoding="utf-8")
    scan()
    runs = history(capsys)
    assert [r["id"] for r in runs] == [1, 2, 3]
    first, second, third = runs
    assert (first["documents"], first["rechecked"], first["findings"], first["new"], first["resolved"]) == (5, 5, 5, 5, 0)
    assert (second["rechecked"], second["new"], second["resolved"], second["open"]) == (0, 0, 0, 5)
    assert (third["rechecked"], third["new"], third["resolved"], third["open"]) == (1, 0, 1, 4)
    assert first["by_severity"] == {"error": 3, "warning": 2, "info": 0}
    assert first["by_rule"]["caption-duplicated"] == 2 and "attribution-missing" not in third["by_rule"]
    assert first["paths"] == ["reposts"] and first["started"].endswith("Z")
    assert [r["id"] for r in history(capsys, "--limit", "2")] == [2, 3]


def test_history_as_text(desk, capsys):
    scan()
    capsys.readouterr()
    assert main(["history", "--state", "state.db"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["RUN", "STARTED", "(UTC)", "DOCS"]
    assert lines[1].split()[0] == "1" and "3/2/0" in lines[1]


def test_history_without_a_state_is_one_line(desk, capsys):
    assert main(["history", "--state", "missing.db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.db" in err
    assert not (desk / "missing.db").exists()


def test_a_partial_scan_resolves_nothing_elsewhere(desk, capsys):
    scan()
    assert main(["scan", f"reposts/{SEED}", "--sources", "sources", "--state", "state.db", "-q"]) == 1
    last = history(capsys)[-1]
    assert (last["documents"], last["new"], last["resolved"], last["open"]) == (1, 0, 0, 5)


def test_new_and_resolved_count_duplicates():
    def f(fp: str, location: str = "a.txt") -> OpenFinding:
        return OpenFinding(location, fp, "rule", "error", 1, "m")

    result = compare([f("x"), f("y")], [f("x"), f("x"), f("z")])
    assert [o.fingerprint for o in result.new] == ["x", "z"]
    assert [o.fingerprint for o in result.resolved] == ["y"]
    moved = compare([f("x", "a.txt")], [f("x", "b.txt")])
    assert len(moved.new) == 1 and len(moved.resolved) == 1


def test_html_report_shows_the_trend_of_open_findings(desk):
    for _ in range(3):
        scan("--format", "html", "--report-dir", "reports")
    index = (desk / "reports" / "latest" / "index.html").read_text(encoding="utf-8")
    assert 'id="trend"' in index
    assert index.count('class="dot"') == 3
    assert "Open findings over the last 3 runs" in index
    no_state = main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--format", "html", "--report-dir", "other"])
    assert no_state == 1
    assert 'id="trend"' not in (desk / "other" / "latest" / "index.html").read_text(encoding="utf-8")
