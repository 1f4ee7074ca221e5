"""The CI gate: baselines, suppressions in documents and in configuration, config files, changed files."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from compliance.cli.main import main

SEED = "niac-missiles-repost.txt"



def scan_json(*args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json", "--output", "report.json", "-q"])
    return code, json.loads(Path("report.json").read_text(encoding="utf-8"))


def findings(report: dict, path: str) -> dict[str, dict]:
    document = next(d for d in report["documents"] if d["path"] == path)
    return {f["rule"]: f for f in document["findings"]}


def prepend(path: Path, text: str) -> None:
    path.write_text(text + path.read_text(encoding="utf-8"), encoding="utf-8")


# -- baselines -------------------------------------------------------------------------------

def test_baseline_lets_old_findings_pass_and_fails_a_new_one(desk):
    assert main(["baseline", "create", "reposts", "--sources", "sources", "--output", "base.json"]) == 0
    code, report = scan_json("reposts", "--sources", "sources", "--baseline", "base.json")
    assert code == 0 and report["summary"]["findings"] == 0 and report["summary"]["suppressed"] == 5
    assert findings(report, f"reposts/{SEED}")["attribution-missing"]["suppressed"]["kind"] == "baseline"

    wework = desk / "reposts" / "wework-investigation.md"
    wework.write_text(re.sub(r"Source: VentureBeat.*", "Source: Reuters", wework.read_text(encoding="utf-8")), encoding="utf-8")
    code, report = scan_json("reposts", "--sources", "sources", "--baseline", "base.json")
    assert code == 1
    assert report["summary"]["by_rule"] == {"attribution-mismatch": 1}


def test_baseline_survives_edits_elsewhere_and_counts_entries_that_are_gone(desk):
    main(["baseline", "create", "reposts", "--sources", "sources", "--output", "base.json"])
    seed = desk / "reposts" / SEED
    text = seed.read_text(encoding="utf-8").replace("War\n", "War\nExtra header line\n\nAn added first paragraph of the desk's own.\n")
    seed.write_text(text, encoding="utf-8")
    (desk / "reposts" / "home-depot-sales.txt").unlink()
    code, report = scan_json("reposts", "--sources", "sources", "--baseline", "base.json")
    assert code == 0
    assert report["summary"]["baseline"] == {"file": "base.json", "accepted": 4, "gone": 1}
    assert findings(report, f"reposts/{SEED}")["caption-duplicated"]["line"] == 21


def test_a_missing_or_broken_baseline_is_a_one_line_error(desk, capsys):
    assert main(["scan", "reposts", "--sources", "sources", "--baseline", "nope.json"]) == 2
    Path("bad.json").write_text("{not json", encoding="utf-8")
    assert main(["scan", "reposts", "--sources", "sources", "--baseline", "bad.json"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[0].startswith("compliance: error: nope.json: baseline not found")
    assert errors[1].startswith("compliance: error: bad.json:1: baseline is not valid JSON")


# -- suppressions in the document ------------------------------------------------------------

def test_html_comment_suppresses_a_rule_for_the_whole_document(desk):
    prepend(desk / "reposts" / "nasa-moon-shot.html", "<!-- compliance: ignore attribution-mismatch -- syndication deal with Al Jazeera -->\n\n")
    code, report = scan_json("reposts", "--sources", "sources")
    found = findings(report, "reposts/nasa-moon-shot.html")
    assert found["attribution-mismatch"]["suppressed"] == {"kind": "inline", "reason": "syndication deal with Al Jazeera"}
    assert "suppressed" not in found["caption-duplicated"]


def test_markdown_comment_above_a_paragraph_covers_only_that_paragraph(desk):
    md = desk / "reposts" / "dup.md"
    paragraph = "The photo of the harbour at dawn is shown twice, once small and once large, on purpose."
    md.write_text(
        "# Harbour\n\nSource: VentureBeat\n\n<!-- compliance: ignore caption-duplicated -- shown twice on purpose -->\n"
        f"{paragraph}\n\n{paragraph}\n\nAnother paragraph, long enough to count, repeated below in full.\n\n"
        "Another paragraph, long enough to count, repeated below in full.\n", encoding="utf-8")
    _, report = scan_json(str(md))
    repeats = [f for f in report["documents"][0]["findings"] if f["rule"] == "caption-duplicated"]
    suppressed = [f for f in repeats if "suppressed" in f]
    active = [f for f in repeats if "suppressed" not in f]
    assert [f["line"] for f in suppressed] == [6] and [f["line"] for f in active] == [10]


def test_text_directive_line_suppresses_and_is_not_article_text(desk):
    seed = desk / "reposts" / SEED
    prepend(seed, "compliance: ignore attribution-missing, caption-duplicated -- cleared by legal, ticket 7\n")
    code, report = scan_json(str(seed), "--sources", "sources")
    assert code == 0
    document = report["documents"][0]
    assert {f["suppressed"]["reason"] for f in document["findings"]} == {"cleared by legal, ticket 7"}
    assert document["title"].startswith("Iran's Missile Deal")


# -- waivers and the configuration file ------------------------------------------------------

def test_config_found_upward_lets_ci_run_a_bare_scan(desk, monkeypatch):
    (desk / "compliance.yaml").write_text("sources: [sources]\nfail_on: never\n", encoding="utf-8")
    monkeypatch.chdir(desk / "reposts")
    assert main(["scan", ".", "-q"]) == 0
    assert main(["scan", ".", "-q", "--fail-on", "warning"]) == 1  # the flag wins


def test_pyproject_tool_table_is_read(desk):
    (desk / "pyproject.toml").write_text('[tool.compliance]\nsources = ["sources"]\nfail_on = "never"\n', encoding="utf-8")
    code, report = scan_json("reposts")
    assert code == 0 and report["summary"]["matched"] == 4


def test_waiver_suppresses_until_it_expires_and_then_is_reported(desk, capsys):
    (desk / "compliance.yaml").write_text(
        "sources: [sources]\nwaivers:\n"
        "  - paths: ['nasa-*']\n    rules: [attribution-mismatch]\n    reason: Al Jazeera syndication deal\n"
        "  - paths: ['niac-*']\n    rules: [attribution-missing]\n    reason: trial licence\n    expires: 2020-01-31\n",
        encoding="utf-8")
    code, report = scan_json("reposts")
    assert findings(report, "reposts/nasa-moon-shot.html")["attribution-mismatch"]["suppressed"]["kind"] == "waiver"
    assert "suppressed" not in findings(report, f"reposts/{SEED}")["attribution-missing"]
    assert report["summary"]["expired_waivers"][0]["expired"] == "2020-01-31"
    assert "compliance.yaml:6: waiver expired on 2020-01-31" in capsys.readouterr().err
    assert code == 1


def test_bad_config_is_a_one_line_error_with_the_line(desk, capsys):
    (desk / "compliance.yaml").write_text("sources: [sources]\nwaivers:\n  - paths: ['x']\n    rules: [y]\n", encoding="utf-8")
    assert main(["scan", "reposts"]) == 2
    assert capsys.readouterr().err.strip() == "compliance: error: compliance.yaml:3: waiver needs 'reason'"


# -- changed files only ----------------------------------------------------------------------

def git(*args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True, env=env).stdout


def test_changed_since_scans_only_added_modified_and_renamed_reposts(desk):
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "published")
    git("mv", "reposts/desk-column.md", "reposts/desk-column-renamed.md")
    prepend(desk / "reposts" / "home-depot-sales.txt", "Updated\n")
    shutil.copy(desk / "reposts" / SEED, desk / "reposts" / "new-repost.txt")
    (desk / "reposts" / "wework-investigation.md").unlink()
    code, report = scan_json("reposts", "--sources", "sources", "--changed-since", "HEAD")
    assert [d["path"] for d in report["documents"]] == ["reposts/desk-column-renamed.md", "reposts/home-depot-sales.txt", "reposts/new-repost.txt"]
    assert report["summary"]["changed_since"] == "HEAD"


def test_changed_since_an_unknown_ref_is_a_one_line_error(desk, capsys):
    git("init", "-q", "-b", "main")
    assert main(["scan", "reposts", "--changed-since", "no-such-ref"]) == 2
    assert capsys.readouterr().err.startswith("compliance: error: git rev-parse")


def test_a_folder_baseline_also_serves_files_passed_one_by_one(desk):
    """pre-commit passes changed files by name; the baseline made from the folder still applies."""
    main(["baseline", "create", "reposts", "--sources", "sources", "--output", "base.json"])
    seed = str(Path("reposts") / SEED)
    code, report = scan_json(seed, "--sources", "sources", "--baseline", "base.json")
    assert code == 0 and report["summary"]["suppressed"] == 2
