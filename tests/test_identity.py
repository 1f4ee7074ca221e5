"""File identity: every file is named from the project root, whatever folder a scan runs from
or is pointed at, so baselines, the state, history and reports agree between runs."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from compliance.cli.main import main
from compliance.state.baseline import BASELINE_VERSION


def scan_json(*args: str, name: str = "report.json") -> tuple[int, dict]:
    output = Path(name).resolve()
    code = main(["scan", *args, "--format", "json", "--output", str(output), "-q"])
    return code, json.loads(output.read_text(encoding="utf-8"))


@pytest.fixture
def project(desk) -> Path:
    """The examples as a desk's project: a configuration file at its root, two folders of reposts."""
    (desk / "compliance.yaml").write_text("sources: [sources]\n", encoding="utf-8")
    (desk / "reposts" / "wire").mkdir()
    for name in ("home-depot-sales.txt", "nasa-moon-shot.html"):
        shutil.move(desk / "reposts" / name, desk / "reposts" / "wire" / name)
    return desk


def test_a_baseline_made_at_the_root_serves_a_scan_from_a_subfolder(project, monkeypatch):
    assert main(["baseline", "create", "reposts"]) == 0
    baseline = json.loads((project / ".compliance-baseline.json").read_text(encoding="utf-8"))
    assert baseline["version"] == BASELINE_VERSION
    assert {e["path"] for e in baseline["findings"]} >= {"reposts/niac-missiles-repost.txt", "reposts/wire/nasa-moon-shot.html"}
    monkeypatch.chdir(project / "reposts" / "wire")
    code, report = scan_json("..", "--baseline", "../../.compliance-baseline.json", "--no-state")  # the root is found upward
    assert code == 0
    assert report["summary"]["baseline"]["gone"] == 0 and report["summary"]["baseline"]["accepted"] == len(baseline["findings"])
    assert {d["path"] for d in report["documents"]} >= {"reposts/niac-missiles-repost.txt", "reposts/wire/home-depot-sales.txt"}


def test_a_partial_scan_does_not_call_the_rest_of_the_baseline_gone(project):
    assert main(["baseline", "create", "reposts"]) == 0
    code, report = scan_json("reposts/wire", "--baseline", ".compliance-baseline.json", "--no-state")
    assert code == 0 and report["summary"]["baseline"]["gone"] == 0
    (project / "reposts" / "wire" / "home-depot-sales.txt").unlink()  # gone from the folder scanned: its entries are gone
    code, report = scan_json("reposts/wire", "--baseline", ".compliance-baseline.json", "--no-state")
    assert code == 0 and report["summary"]["baseline"]["gone"] == 1
    code, report = scan_json("reposts/wire/nasa-moon-shot.html", "--baseline", ".compliance-baseline.json", "--no-state")
    assert report["summary"]["baseline"]["gone"] == 0  # a file named on its own (a pre-commit hook) covers only itself


def test_changed_since_does_not_call_the_unchanged_files_entries_gone(project):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                            "GIT_COMMITTER_EMAIL": "t@x"})

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "reposts")
    assert main(["baseline", "create", "reposts"]) == 0
    (project / "reposts" / "new.txt").write_text((project / "reposts" / "desk-column.md").read_text(encoding="utf-8"), encoding="utf-8")
    code, report = scan_json("reposts", "--baseline", ".compliance-baseline.json", "--changed-since", "HEAD", "--no-state")
    assert [d["path"] for d in report["documents"]] == ["reposts/new.txt"]
    assert report["summary"]["baseline"]["gone"] == 0


def test_baseline_create_on_part_of_the_project_keeps_the_other_entries(project):
    assert main(["baseline", "create", "reposts"]) == 0
    before = json.loads((project / ".compliance-baseline.json").read_text(encoding="utf-8"))["findings"]
    (project / "reposts" / "wire" / "home-depot-sales.txt").unlink()
    assert main(["baseline", "create", "reposts/wire"]) == 0
    after = json.loads((project / ".compliance-baseline.json").read_text(encoding="utf-8"))["findings"]
    assert after == [e for e in before if e["path"] != "reposts/wire/home-depot-sales.txt"]
    assert any(e["path"] == "reposts/niac-missiles-repost.txt" for e in after)


def test_a_version_1_baseline_written_from_another_folder_is_still_read(project, capsys):
    """Version 1 named files from the working folder of the scan that made it (here: reposts/)."""
    assert main(["baseline", "create", "reposts"]) == 0
    current = json.loads((project / ".compliance-baseline.json").read_text(encoding="utf-8"))
    from compliance.model import Finding, Severity, finding_fingerprint

    old = []
    for entry in current["findings"]:
        path = entry["path"].removeprefix("reposts/")
        probe = Finding(entry["rule"], Severity.ERROR, "", excerpt=entry["excerpt"])
        old.append({**entry, "path": path, "fingerprint": finding_fingerprint(path, probe)})
    (project / "reposts" / "old-baseline.json").write_text(json.dumps({"version": 1, "findings": old}), encoding="utf-8")
    capsys.readouterr()
    assert main(["scan", "reposts", "--baseline", "reposts/old-baseline.json", "--no-state"]) == 0
    assert "a version 1 baseline, its paths read from" in capsys.readouterr().err
    code, report = scan_json("reposts", "--baseline", "reposts/old-baseline.json", "--no-state")
    assert code == 0 and report["summary"]["baseline"] == {"file": "reposts/old-baseline.json", "accepted": len(old), "gone": 0}


def test_a_subfolder_scan_after_a_full_scan_reuses_the_state(project, monkeypatch):
    _, full = scan_json("reposts")
    assert full["summary"]["incremental"]["rechecked"] == 5
    _, part = scan_json("reposts/wire")
    assert part["summary"]["incremental"]["rechecked"] == 0 and len(part["documents"]) == 2
    monkeypatch.chdir(project / "reposts")
    _, again = scan_json(".")  # from another folder, the same state (beside the configuration) and names
    incremental = again["summary"]["incremental"]
    assert incremental["rechecked"] == 0 and incremental["new_findings"] == 0 and incremental["resolved_findings"] == 0


def test_a_state_written_with_working_folder_paths_brings_no_new_findings(project):
    """Before project roots, a scan run from reposts/ named files from there: the first run after
    the upgrade re-checks them under their new names, with no finding new or resolved."""
    _, first = scan_json("reposts")
    import compliance.cli.main

    state = compliance.cli.main.STATE_FILE  # where the tests keep the default state
    db = sqlite3.connect(state)
    with db:
        for table in ("documents", "open_findings"):
            db.execute(f"UPDATE {table} SET location = substr(location, length('reposts/') + 1)")
        db.execute("UPDATE documents SET report_path = substr(report_path, length('reposts/') + 1)")
    db.close()
    _, report = scan_json("reposts")
    incremental = report["summary"]["incremental"]
    assert incremental["rechecked"] == 5
    assert incremental["new_findings"] == 0 and incremental["resolved_findings"] == 0
    assert report["summary"]["findings"] == first["summary"]["findings"]


def test_two_folders_holding_the_same_names_are_two_sets_of_documents(desk):
    shutil.copytree(desk / "reposts", desk / "mirror")
    code, report = scan_json("reposts", "mirror", "--sources", "sources", "--no-state")
    paths = [d["path"] for d in report["documents"]]
    assert len(paths) == len(set(paths)) == 10
    assert "mirror/niac-missiles-repost.txt" in paths and "reposts/niac-missiles-repost.txt" in paths
    assert main(["scan", "reposts", "mirror", "--sources", "sources", "--no-state", "--format", "html",
                 "--report-dir", "out", "-q"]) == 1
    pages = list((desk / "out" / "latest" / "documents").iterdir())
    assert len(pages) == sum(1 for d in report["documents"] if d["findings"]) == 6  # a page per document with findings
    assert sum(p.name.startswith("mirror-") for p in pages) == 3


def test_a_scan_of_the_whole_project_leaves_the_catalogue_out(project):
    code, report = scan_json(".", "--no-state")
    paths = [d["path"] for d in report["documents"]]
    assert paths and not any(p.startswith("sources/") for p in paths)
