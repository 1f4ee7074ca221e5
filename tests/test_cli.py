"""The command line as users and CI run it: exit codes, formats, errors without tracebacks."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLES, ROOT

from compliance.cli.main import main

SCHEMA = json.loads((ROOT / "compliance" / "report" / "report.schema.json").read_text(encoding="utf-8"))
REPOSTS, SOURCES = EXAMPLES / "reposts", EXAMPLES / "sources"


def run(*args: str) -> subprocess.CompletedProcess:
    """The installed entry point, in a child process, as a shell would run it (from the checkout,
    whose `.compliance/` state belongs to the developer: scans here keep none)."""
    if args[:1] == ("scan",):
        args = ("scan", "--no-state", *args[1:])
    return subprocess.run([sys.executable, "-m", "compliance", *args], capture_output=True, text=True, cwd=ROOT)


def json_report(tmp_path: Path, *args: str) -> dict:
    output = tmp_path / "report.json"
    assert main(["scan", *args, "--format", "json", "--output", str(output), "--fail-on", "never", "-q"]) == 0
    return json.loads(output.read_text(encoding="utf-8"))


def test_scan_of_the_examples_prints_findings_and_fails(capsys):
    assert main(["scan", str(REPOSTS), "--sources", str(SOURCES)]) == 1
    out = capsys.readouterr().out
    assert "niac-missiles-repost.txt:6:1: error attribution-missing" in out
    assert "niac-missiles-repost.txt:18:1: warning caption-duplicated" in out
    assert "disclaimer-missing" not in out
    assert out.strip().splitlines()[-1].startswith("5 documents scanned (4 matched a source)")


def test_report_validates_against_the_schema_and_lists_documents_in_path_order(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the project root, whether or not the checkout is a git work tree
    report = json_report(tmp_path, str(REPOSTS), "--sources", str(SOURCES))
    jsonschema.validate(report, SCHEMA)
    paths = [d["path"] for d in report["documents"]]
    assert paths == sorted(paths) and "examples/reposts/niac-missiles-repost.txt" in paths
    seed = next(d for d in report["documents"] if d["path"] == "examples/reposts/niac-missiles-repost.txt")
    assert seed["source"]["id"] == "newsweek-iran-russia-missiles-niac"
    assert seed["source"]["publisher"] == "Newsweek"
    assert seed["source"]["containment"] > 0.95 and seed["source"]["spans"]
    assert {f["rule"] for f in seed["findings"]} == {"attribution-missing", "caption-duplicated"}
    assert report["summary"]["by_rule"]["caption-duplicated"] == 2


def test_identical_inputs_give_byte_identical_reports(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for output in (first, second):
        main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--format", "json", "--output", str(output), "-q", "--no-state"])
    assert first.read_bytes() == second.read_bytes()
    # with the state, only the account of the work saved differs (summary.incremental)
    with_state = []
    for output in (tmp_path / "c.json", tmp_path / "d.json"):
        main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--format", "json", "--output", str(output), "-q"])
        report = json.loads(output.read_text(encoding="utf-8"))
        with_state.append(report["summary"].pop("incremental"))
        assert report == json.loads(first.read_text(encoding="utf-8"))
    assert [s["rechecked"] for s in with_state] == [5, 0]


@pytest.mark.parametrize("fail_on, expected", [("error", 1), ("warning", 1), ("never", 0)])
def test_fail_on_sets_the_exit_code(fail_on, expected):
    assert main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--fail-on", fail_on, "-q"]) == expected


def test_warnings_alone_fail_only_with_fail_on_warning(tmp_path):
    pack = tmp_path / "warn.yaml"
    pack.write_text("extends: default\nrules:\n  - id: attribution-missing\n    severity: warning\n", encoding="utf-8")
    seed = str(REPOSTS / "niac-missiles-repost.txt")
    assert main(["scan", seed, "--sources", str(SOURCES), "--rules", str(pack), "-q"]) == 0
    assert main(["scan", seed, "--sources", str(SOURCES), "--rules", str(pack), "--fail-on", "warning", "-q"]) == 1


def test_clean_folder_exits_zero(tmp_path):
    shutil.copy(REPOSTS / "wework-investigation.md", tmp_path)
    assert main(["scan", str(tmp_path), "--sources", str(SOURCES), "-q"]) == 0


def test_bad_files_become_findings_and_the_scan_goes_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the project root: files are named from it
    shutil.copy(REPOSTS / "wework-investigation.md", tmp_path)
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait\n".encode("latin-1"))
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    (tmp_path / "big.txt").write_text("word " * 2000, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    report = json_report(tmp_path, str(tmp_path), "--sources", str(SOURCES), "--max-bytes", "5000")
    rules = {d["path"]: [f["rule"] for f in d["findings"]] for d in report["documents"]}
    assert rules["binary.txt"] == ["input-unreadable"]
    assert rules["latin1.txt"] == ["input-unreadable"]
    assert rules["broken.md"] == ["input-unreadable"]
    assert rules["big.txt"] == ["input-too-large"]
    assert rules["wework-investigation.md"] == []
    assert "notes.pdf" not in rules and report["summary"]["skipped_files"] == 1


@pytest.mark.parametrize("args, message", [
    (["scan", "no/such/folder"], "no/such/folder: no such file or folder"),
    (["scan", "examples/reposts", "--rules", "missing.yaml"], "missing.yaml: rule pack not found"),
    (["rules", "--rules", "tests/data/bad-pack.yaml"], "tests/data/bad-pack.yaml:4: rule 'x': unknown type 'nope' (known: attribution-mismatch, "
     "attribution-missing, attribution-unverified, excerpt-limit, forbidden-text, repetition, required-text)"),
])
def test_user_errors_are_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"compliance: error: {message}"
    assert "Traceback" not in result.stderr


def test_a_bad_catalogue_entry_is_reported_and_the_rest_still_scanned(tmp_path):
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES, sources)
    (sources / "broken.md").write_text("---\ntitle: No publisher here\n---\n\nSome text.\n", encoding="utf-8")
    result = run("scan", str(REPOSTS), "--sources", str(sources))
    assert result.returncode == 2
    assert f"{sources / 'broken.md'}: source has no 'publisher'" in result.stderr
    assert "attribution-missing" in result.stdout


def test_usage_errors_exit_2():
    assert run("scan").returncode == 2
    assert run("scan", "examples/reposts", "--fail-on", "sometimes").returncode == 2


def test_rules_lists_ids_types_and_severities(capsys):
    assert main(["rules"]) == 0
    rows = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]  # columns as wide as the longest id
    for line in ["disclaimer-missing required-text", "caption-duplicated repetition warning",
                 "attribution-unverified attribution-unverified warning"]:
        assert any(row.startswith(line) for row in rows)
    out = "\n".join(rows)
    assert "input-unreadable" in out


def test_output_file_is_replaced_atomically_and_never_left_half_written(tmp_path):
    output = tmp_path / "report.json"
    output.write_text("previous report", encoding="utf-8")
    main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--format", "json", "--output", str(output), "-q"])
    assert json.loads(output.read_text(encoding="utf-8"))["documents"]
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("stage", ["rules", "matching"])
def test_a_crash_on_one_document_is_reported_and_the_scan_goes_on(tmp_path, monkeypatch, stage):
    """A bug in a rule, or in matching, must not cost the desk the rest of its scan: the other
    documents of its chunk, which go through each stage with it, are checked as usual."""
    from compliance.checks.rules import repetition
    from compliance.similarity.matcher import Matcher

    def broken(context):
        if context.document.path.endswith("/nasa-moon-shot.html"):
            raise RuntimeError("boom")
        return iter(())

    find_candidates = Matcher.find_candidates

    def broken_lookup(matcher, document):
        if document.path.endswith("/nasa-moon-shot.html"):
            raise RuntimeError("boom")
        return find_candidates(matcher, document)

    if stage == "rules":
        monkeypatch.setattr(repetition, "check", broken)
    else:
        monkeypatch.setattr(Matcher, "find_candidates", broken_lookup)
    report = json_report(tmp_path, str(REPOSTS), "--sources", str(SOURCES))
    rules = {Path(d["path"]).name: [f["rule"] for f in d["findings"]] for d in report["documents"]}
    assert rules["nasa-moon-shot.html"] == ["internal-error"]
    assert rules["niac-missiles-repost.txt"] == ["attribution-missing"] + (["caption-duplicated"] if stage == "matching" else [])
    assert len(rules) == len(list(REPOSTS.iterdir()))


def test_several_formats_go_to_the_report_folder_under_their_usual_names(tmp_path):
    code = main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--format", "json", "--format", "sarif",
                 "--format", "junit", "--report-dir", str(tmp_path), "-q"])
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.json", "report.sarif"]
    assert json.loads((tmp_path / "report.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_html_with_other_formats_shares_the_run_folder(tmp_path):
    main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--format", "html", "--format", "sarif",
          "--report-dir", str(tmp_path), "-q"])
    latest = tmp_path / "latest"
    assert {"index.html", "report.json", "report.sarif"} <= {p.name for p in latest.iterdir()}


def test_output_with_html_is_a_usage_error(tmp_path, capsys):
    assert main(["scan", str(REPOSTS), "--format", "html", "--output", str(tmp_path / "x.html")]) == 2
    assert "--output takes a single non-HTML format" in capsys.readouterr().err


def test_output_through_a_symlink_keeps_the_link_and_uses_shared_permissions(tmp_path):
    real, link = tmp_path / "real.json", tmp_path / "latest.json"
    real.write_text("old", encoding="utf-8")
    link.symlink_to(real.name)
    main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--format", "json", "--output", str(link), "-q"])
    assert link.is_symlink() and json.loads(real.read_text(encoding="utf-8"))["documents"]
    assert real.stat().st_mode & 0o044  # readable by others (as the umask allows), not mkstemp's 0600


def test_output_onto_a_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["scan", str(REPOSTS), "--format", "json", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith("is a folder; --output needs a file name")


def test_a_one_line_txt_repost_is_still_matched(tmp_path):
    text = (REPOSTS / "niac-missiles-repost.txt").read_text(encoding="utf-8")
    body = " ".join(text.split("\n\n")[2:-1])
    (tmp_path / "oneline.txt").write_text(body + "\n", encoding="utf-8")
    report = json_report(tmp_path, str(tmp_path), "--sources", str(SOURCES))
    assert report["documents"][0]["source"]["publisher"] == "Newsweek"


def test_scanning_without_sources_warns(capsys):
    main(["scan", str(REPOSTS), "-q"])
    assert "no sources loaded" in capsys.readouterr().err


def test_an_unreadable_folder_is_a_finding(tmp_path, monkeypatch):
    """As listing a folder fails when it cannot be read (root reads every folder, so it is simulated)."""
    discover_module = sys.modules["compliance.ingest.discover"]
    real_entries = discover_module._entries

    def entries(folder):
        if Path(folder).name == "locked":
            raise PermissionError(13, "Permission denied", folder)
        return real_entries(folder)

    (tmp_path / "locked").mkdir()
    shutil.copy(REPOSTS / "wework-investigation.md", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(discover_module, "_entries", entries)
    report = json_report(tmp_path / "out", str(tmp_path), "--sources", str(SOURCES))
    rules = {d["path"]: [f["rule"] for f in d["findings"]] for d in report["documents"]}
    assert rules == {"locked": ["input-unreadable"], "wework-investigation.md": []}


def test_scan_help_names_every_configuration_file_it_looks_for(capsys):
    from compliance.config import CONFIG_NAMES

    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert all(name in shown for name in CONFIG_NAMES) and "pyproject.toml" in shown


def test_each_document_row_is_written_as_the_json_encoder_writes_it():
    """Workers write rows field by field for speed; they must be the encoder's bytes exactly,
    for real results and for the odd values a report may carry."""
    import dataclasses
    import datetime as dt

    from compliance.checks import load_pack
    from compliance.model import Finding, Severity, Suppression
    from compliance.pipeline import scan
    from compliance.report import json_report as row_format

    results = scan([REPOSTS, ROOT / "tests" / "data" / "ingest"], [SOURCES], load_pack(), today=dt.date(2026, 1, 1)).documents
    matched = next(r for r in results if r.match and r.findings)
    odd = Finding("caption-duplicated", Severity.INFO, 'quote " backslash \\ tab \t newline \n bell \x07 — é 😀', 3, 2, None,
                  "", {"nested": {"list": [1, 2.5, None, True, "ü"]}, "nan": float("nan"), "big": 10**30},
                  Suppression("waiver", "until 2027 — «legal» says so"))
    results += [
        dataclasses.replace(matched, title="Ünïcode \u2028 title", findings=[odd, *matched.findings]),
        dataclasses.replace(matched, match=dataclasses.replace(matched.match, containment=float("nan"), source=dataclasses.replace(
            matched.match.source, url=None, title=None)), findings=[]),
    ]
    assert len(results) > 8 and any(r.match is None for r in results)
    for result in results:
        assert row_format.document_row(result) == row_format._ROW_ENCODER.encode(row_format._document(result))


def test_the_command_exits_at_once_with_its_code_and_all_of_its_output():
    """`compliance` ends the process without tearing the interpreter down: what it printed
    must still arrive in full, buffered output included (so Python runs buffered here)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "compliance", "scan", "--no-state", *args],
                              capture_output=True, text=True, cwd=ROOT, env=env)

    text = command(str(REPOSTS), "--sources", str(SOURCES))
    assert text.returncode == 1 and text.stdout.strip().splitlines()[-1].startswith("5 documents scanned")
    report = command(str(REPOSTS), "--sources", str(SOURCES), "--format", "json")
    assert len(json.loads(report.stdout)["documents"]) == len(list(REPOSTS.iterdir()))
    missing = command(str(REPOSTS), "--format", "json", "--fail-on", "never")
    assert missing.returncode == 0 and "no sources loaded" in missing.stderr and json.loads(missing.stdout)["documents"]


def test_only_a_scan_about_to_exit_leaves_its_results_unfreed(tmp_path):
    """The command (`main(exiting=True)`) leaves a scan's results and the paused collector to
    the exit; called in a process that goes on (tests, `watch`), a scan frees them."""
    import gc

    from compliance.cli import main as cli

    args = ["scan", str(REPOSTS), "--sources", str(SOURCES), "--no-state", "-q", "--format", "json",
            "--output", str(tmp_path / "r.json")]
    assert gc.isenabled()
    try:
        assert main(args) == 1
        assert gc.isenabled() and cli._left_for_exit == []
        assert main(args, exiting=True) == 1
        assert not gc.isenabled()
        assert len(cli._left_for_exit[0].documents) == len(list(REPOSTS.iterdir()))
    finally:
        cli._left_for_exit.clear()
        gc.enable()


def test_a_scan_that_does_not_fetch_never_imports_the_http_client():
    """requests and urllib3 cost a tenth of a second of every command's start; only --fetch needs them."""
    program = ("import sys\nfrom compliance.cli.main import main\n"
               f"main(['scan', {str(REPOSTS)!r}, '--sources', {str(SOURCES)!r}, '--no-state', '-q'])\n"
               "print(sorted(m for m in ('requests', 'urllib3', 'trafilatura') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_the_summary_counts_only_active_findings_and_the_documents_that_have_them(tmp_path):
    """A document whose every finding is waived has none left to count; its waived ones are
    counted as suppressed."""
    config = tmp_path / "compliance.yaml"
    config.write_text("waivers:\n  - paths: ['niac-*']\n    rules: [attribution-missing, caption-duplicated]\n"
                      "    reason: licensed by phone\n", encoding="utf-8")
    plain_report = json_report(tmp_path, str(REPOSTS), "--sources", str(SOURCES), "--no-state")
    waived = json_report(tmp_path, str(REPOSTS), "--sources", str(SOURCES), "--no-state", "--config", str(config))["summary"]
    plain = plain_report["summary"]
    seed_findings = len(next(d for d in plain_report["documents"] if d["path"].endswith("/niac-missiles-repost.txt"))["findings"])
    assert seed_findings >= 2 and plain["suppressed"] == 0
    assert waived["documents_with_findings"] == plain["documents_with_findings"] - 1
    assert waived["suppressed"] == seed_findings
    assert waived["findings"] == plain["findings"] - seed_findings == sum(waived["by_severity"].values())
    assert waived["matched"] == plain["matched"] == 4
