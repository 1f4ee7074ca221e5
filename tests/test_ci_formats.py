"""The CI formats: SARIF 2.1.0 (against the official schema), JUnit XML, GitHub Actions annotations.

Each is checked on real scans of the examples, and on reports built by hand for what the
examples do not have (suppressions, info findings, hostile text).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, EXAMPLES, ROOT

from compliance.cli.main import main
from compliance.model import DocumentResult, Finding, Severity, Suppression
from compliance.report import FORMATS, ReportInput, RuleInfo
from compliance.report.github import annotation, escape_data, escape_property, to_github
from compliance.report.junit import to_junit
from compliance.report.sarif import FINGERPRINT_KEY, rule_name, to_sarif

SEED = "niac-missiles-repost.txt"
REPOSTS, SOURCES = EXAMPLES / "reposts", EXAMPLES / "sources"
SARIF_SCHEMA_FILE = DATA / "sarif-schema-2.1.0.json"
DOCUMENTS = sorted(p.name for p in REPOSTS.iterdir())
ERROR_RULES = {"excerpt-limit", "attribution-mismatch", "attribution-missing"}  # the examples' errors


@contextlib.contextmanager
def inside(folder: Path):
    """Run from `folder`, as CI runs from the repository root: file locations are relative to it."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def scan(output: Path, fmt: str, *args: str, reposts: Path = REPOSTS, sources: Path = SOURCES) -> tuple[int, str]:
    """Scan a copy of the repost folder holding a configuration file, which makes it the project
    root (wherever the scan runs from), so that locations are the bare file names."""
    desk = output.parent / f"desk-{output.name}"
    shutil.rmtree(desk, ignore_errors=True)
    shutil.copytree(reposts, desk)
    (desk / "compliance.yaml").write_text("{}\n", encoding="utf-8")
    with inside(desk):
        code = main(["scan", ".", "--sources", str(sources), "--format", fmt, "--output", str(output), "-q", *args])
    return code, output.read_text(encoding="utf-8")


def sarif_validator() -> jsonschema.protocols.Validator:
    """The official schema, checked by the validator of the JSON Schema draft it declares (draft-04)."""
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_sarif(log: dict) -> None:
    errors = sorted(sarif_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.fixture
def desk(tmp_path) -> Path:
    """A copy of the examples to edit."""
    shutil.copytree(REPOSTS, tmp_path / "reposts")
    shutil.copytree(SOURCES, tmp_path / "sources")
    return tmp_path


def hand_made() -> ReportInput:
    """A report the examples cannot produce: suppressions of each kind, an info finding, an unknown rule."""
    findings = [
        Finding("attribution-missing", Severity.ERROR, "no line credits Newsweek", line=6, end_line=6,
                excerpt="The deepening military ties", suppression=Suppression("inline", "ok by legal")),
        Finding("caption-duplicated", Severity.WARNING, "caption repeated", line=18, column=3, end_line=19,
                excerpt="This illustrative image", suppression=Suppression("waiver", "shown twice on purpose")),
        Finding("excerpt-limit", Severity.ERROR, "reuses 64% of the source", line=8, excerpt="Dow component"),
        Finding("house-style", Severity.INFO, "a note for the editor", line=2),
    ]
    rules = [
        RuleInfo("attribution-missing", "attribution-missing", Severity.ERROR, "nothing credits the source",
                 "attribution-missing: the repost copies a source\nand nothing credits it.\n\nMore text."),
        RuleInfo("caption-duplicated", "repetition", Severity.WARNING, "a caption pasted twice"),
        RuleInfo("excerpt-limit", "excerpt-limit", Severity.ERROR, "more than the licence allows"),
    ]
    return ReportInput([DocumentResult("desk/story.txt", "txt", "Story", None, findings)], rules)


# -- SARIF ---------------------------------------------------------------------------------------

def test_sarif_of_the_examples_validates_and_points_at_the_seed_lines(tmp_path):
    code, text = scan(tmp_path / "report.sarif", "sarif")
    assert code == 1
    log = json.loads(text)
    validate_sarif(log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "compliance" and driver["version"]
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert {"attribution-missing", "attribution-mismatch", "caption-duplicated", "excerpt-limit",
            "disclaimer-missing", "input-unreadable", "input-too-large"} <= set(ids)
    missing = rules[ids.index("attribution-missing")]
    assert missing["name"] == "AttributionMissing"
    assert missing["shortDescription"]["text"] and missing["fullDescription"]["text"] and missing["help"]["text"]
    assert missing["defaultConfiguration"]["level"] == "error"
    assert rules[ids.index("caption-duplicated")]["defaultConfiguration"]["level"] == "warning"

    results = run["results"]
    assert len(results) == 5
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert run["artifacts"][location["artifactLocation"]["index"]]["location"]["uri"] == location["artifactLocation"]["uri"]
        assert len(result["partialFingerprints"][FINGERPRINT_KEY]) == 32
        assert "suppressions" not in result
    seed = {r["ruleId"]: r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == SEED}
    assert set(seed) == {"attribution-missing", "caption-duplicated"}
    assert seed["attribution-missing"]["level"] == "error"
    assert seed["attribution-missing"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 6, "startColumn": 1, "endLine": 6}
    assert seed["caption-duplicated"]["level"] == "warning"
    assert seed["caption-duplicated"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 18
    assert "credits Newsweek" in seed["attribution-missing"]["message"]["text"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris == sorted(uris)
    assert [a["location"]["uri"] for a in run["artifacts"]] == DOCUMENTS


def test_sarif_fingerprint_survives_a_line_inserted_above_while_the_line_moves(desk):
    def seed_results(name: str) -> dict[str, dict]:
        _, text = scan(desk / name, "sarif", reposts=desk / "reposts", sources=desk / "sources")
        log = json.loads(text)
        validate_sarif(log)
        return {r["ruleId"]: r for r in log["runs"][0]["results"]
                if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == SEED}

    before = seed_results("before.sarif")
    seed = desk / "reposts" / SEED
    lines = seed.read_text(encoding="utf-8").split("\n")
    assert lines[4] == "" and lines[5].startswith("The deepening military ties")
    seed.write_text("\n".join(lines[:5] + [""] + lines[5:]), encoding="utf-8")  # a blank line atop the body
    after = seed_results("after.sarif")

    assert set(before) == set(after) == {"attribution-missing", "caption-duplicated"}
    for rule in before:
        old, new = (r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in (before[rule], after[rule]))
        assert new == old + 1
        assert after[rule]["partialFingerprints"] == before[rule]["partialFingerprints"]
    assert before["attribution-missing"]["partialFingerprints"] != before["caption-duplicated"]["partialFingerprints"]


def test_sarif_suppressions_info_level_and_unknown_rules():
    log = json.loads(to_sarif(hand_made()))
    validate_sarif(log)
    run = log["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    assert results["attribution-missing"]["suppressions"] == [{"kind": "inSource", "justification": "ok by legal"}]
    assert results["caption-duplicated"]["suppressions"] == [{"kind": "external", "justification": "shown twice on purpose"}]
    assert "suppressions" not in results["excerpt-limit"]
    assert results["house-style"]["level"] == "note"
    assert results["caption-duplicated"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 18, "startColumn": 3, "endLine": 19}
    rules = run["tool"]["driver"]["rules"]
    assert rules[results["house-style"]["ruleIndex"]]["id"] == "house-style"  # not in report.rules, still described
    missing = rules[results["attribution-missing"]["ruleIndex"]]
    assert missing["fullDescription"]["text"] == "the repost copies a source and nothing credits it."
    assert missing["help"]["text"].endswith("More text.")
    caption = rules[results["caption-duplicated"]["ruleIndex"]]
    assert caption["fullDescription"]["text"] == caption["help"]["text"] == "a caption pasted twice"
    assert run["artifacts"] == [{"location": {"uri": "desk/story.txt", "uriBaseId": "%SRCROOT%"}, "mimeType": "text/plain"}]


def test_sarif_uri_of_an_awkward_file_name_is_a_valid_relative_reference():
    finding = Finding("excerpt-limit", Severity.ERROR, 'uses <script>alert("x")</script> & more', line=1)
    report = ReportInput([DocumentResult('world/a <b&"c"#1.txt', "txt", "", None, [finding])])
    log = json.loads(to_sarif(report))
    validate_sarif(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "world/a%20%3Cb%26%22c%22%231.txt"
    assert log["runs"][0]["results"][0]["message"]["text"] == 'uses <script>alert("x")</script> & more'


def test_the_schema_check_is_not_vacuous():
    log = json.loads(to_sarif(hand_made()))
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    del log["runs"][0]["tool"]["driver"]["name"]
    errors = list(sarif_validator().iter_errors(log))
    assert len(errors) == 3


def test_sarif_names_the_project_home_page_when_the_package_declares_one(monkeypatch):
    import compliance.report.sarif as sarif

    monkeypatch.setattr(sarif, "_information_uri", lambda: "https://example.org/compliance")
    log = json.loads(to_sarif(hand_made()))
    validate_sarif(log)
    assert log["runs"][0]["tool"]["driver"]["informationUri"] == "https://example.org/compliance"


def test_rule_names_are_camel_case():
    assert rule_name("attribution-missing") == "AttributionMissing"
    assert rule_name("input-too-large") == "InputTooLarge"
    assert rule_name("no_player.debris") == "NoPlayerDebris"


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github"])
def test_identical_inputs_give_byte_identical_reports(tmp_path, fmt):
    _, first = scan(tmp_path / "a", fmt)
    _, second = scan(tmp_path / "b", fmt)
    assert first == second


def test_the_cli_offers_the_ci_formats():
    assert {"sarif", "junit", "github"} <= set(FORMATS)


# -- JUnit ---------------------------------------------------------------------------------------

def junit(tmp_path: Path, *args: str, **kwargs) -> tuple[int, ET.Element]:
    code, text = scan(tmp_path / "junit.xml", "junit", *args, **kwargs)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return code, ET.fromstring(text.encode("utf-8"))


def failures_by_case(root: ET.Element) -> dict[str, list[ET.Element]]:
    return {case.get("name"): case.findall("failure") for case in root.iter("testcase")}


def test_junit_has_a_testcase_per_document_and_fails_only_errors_by_default(tmp_path):
    code, root = junit(tmp_path)
    assert code == 1
    assert root.tag == "testsuites" and root.get("name") == "compliance"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "compliance"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == DOCUMENTS == [c.get("file") for c in cases]
    assert all(c.get("classname") == "compliance" for c in cases)

    failures = [f for c in cases for f in c.findall("failure")]
    assert {f.get("type") for f in failures} == ERROR_RULES and len(failures) == 3
    failed_cases = sum(1 for c in cases if c.find("failure") is not None)
    for element in (root, suite):
        assert element.get("tests") == "5" and element.get("failures") == str(failed_cases) == "3"
        assert element.get("errors") == "0"

    seed = next(c for c in cases if c.get("name") == SEED)
    (failure,) = seed.findall("failure")
    assert failure.get("message").startswith("attribution-missing: copies 100% of its text from Newsweek")
    assert failure.text.startswith(f"{SEED}:6:1: error attribution-missing copies")
    assert seed.find("system-out").text.startswith(f"{SEED}:18:1: warning caption-duplicated caption repeated")


def test_junit_fail_on_warning_fails_warnings_too_and_never_fails_nothing(tmp_path):
    _, root = junit(tmp_path, "--fail-on", "warning")
    failures = [f.get("type") for fs in failures_by_case(root).values() for f in fs]
    assert sorted(failures) == sorted([*ERROR_RULES, "caption-duplicated", "caption-duplicated"])
    assert [f.get("type") for f in failures_by_case(root)[SEED]] == ["attribution-missing", "caption-duplicated"]
    assert root.find("testsuite/testcase[@name='nasa-moon-shot.html']/system-out") is None
    assert root.get("failures") == "3"

    code, root = junit(tmp_path, "--fail-on", "never")
    assert code == 0
    assert not any(failures_by_case(root).values()) and root.get("failures") == "0" and root.get("tests") == "5"
    assert len([line for out in root.iter("system-out") for line in out.text.splitlines()]) == 5


def test_junit_escapes_file_names_and_finding_text(desk):
    hostile = 'a<b&"c".txt'
    caption = '<script>alert("x")</script> Photo of the harbour at dawn, taken by the desk photographer on Monday.'
    (desk / "reposts" / hostile).write_text(
        f"A title\n\nNews\nPost At: Nov 20/2024 09:12AM\n\nThe council met on Tuesday about the harbour.\n\n{caption}\n\n{caption}\n",
        encoding="utf-8",
    )
    _, root = junit(desk, "--fail-on", "warning", reposts=desk / "reposts", sources=desk / "sources")
    assert len(root.findall("testsuite/testcase")) == 6
    case = next(c for c in root.iter("testcase") if c.get("name") == hostile)
    assert case.get("file") == hostile
    repeated = next(f for f in case.findall("failure") if f.get("type") == "caption-duplicated")
    assert '<script>alert("x")</script>' in repeated.get("message")
    assert repeated.text.startswith(f"{hostile}:8:1: warning caption-duplicated ")
    assert '<script>alert("x")</script>' in repeated.text


def test_junit_suppressed_and_below_gate_findings_go_to_system_out():
    report = hand_made()
    text = to_junit(report)
    root = ET.fromstring(text.encode("utf-8"))
    case = root.find("testsuite/testcase")
    assert [f.get("type") for f in case.findall("failure")] == ["excerpt-limit"]
    out = case.find("system-out").text.splitlines()
    assert out == [
        "desk/story.txt:6:1: error attribution-missing no line credits Newsweek (suppressed, inline: ok by legal)",
        "desk/story.txt:18:3: warning caption-duplicated caption repeated (suppressed, waiver: shown twice on purpose)",
        "desk/story.txt:2:1: info house-style a note for the editor",
    ]
    report.fail_on = None
    root = ET.fromstring(to_junit(report).encode("utf-8"))
    assert root.find("testsuite/testcase/failure") is None and root.get("failures") == "0"


def test_junit_survives_characters_xml_cannot_carry():
    finding = Finding("forbidden", Severity.ERROR, "bell \x07, form feed \x0c, null \x00 and ]]> & <tag>", line=3)
    report = ReportInput([DocumentResult("weird\x1b.txt", "txt", "", None, [finding])])
    root = ET.fromstring(to_junit(report).encode("utf-8"))
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == "forbidden: bell \ufffd, form feed \ufffd, null \ufffd and ]]> & <tag>"
    assert root.find("testsuite/testcase").get("name") == "weird\ufffd.txt"


# -- GitHub Actions ------------------------------------------------------------------------------

def test_github_annotations_of_the_examples(desk, capsys):
    (desk / "reposts" / "compliance.yaml").write_text("{}\n", encoding="utf-8")  # the project root
    with inside(desk / "reposts"):
        assert main(["scan", ".", "--sources", "../sources", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(line.startswith(("::error ", "::warning ")) for line in lines)
    assert (
        "::error file=niac-missiles-repost.txt,line=6,col=1,endLine=6,title=attribution-missing::"
        "copies 100%25 of its text from Newsweek (source newsweek-iran-russia-missiles-niac) but no line credits Newsweek"
    ) in lines
    assert (
        "::warning file=niac-missiles-repost.txt,line=18,col=1,endLine=18,title=caption-duplicated::"
        "caption repeated in one paragraph (cut off, then in full): "
        "\"This illustrative image shows an Iranian-made Shahed-136 drone flying…\""
    ) in lines
    assert lines[0].startswith("::error file=home-depot-sales.txt,line=8,col=1,endLine=8,title=excerpt-limit::")


def test_github_escaping():
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("dir,1/a:b%\r\n.txt") == "dir%2C1/a%3Ab%25%0D%0A.txt"
    assert escape_property("%3A") == "%253A"  # escaped once, not twice
    finding = Finding("rule:x,y", Severity.INFO, "two\nlines, 10%", line=4, column=2, end_line=5)
    line = annotation("a,b:c.txt", finding)
    assert line == "::notice file=a%2Cb%3Ac.txt,line=4,col=2,endLine=5,title=rule%3Ax%2Cy::two%0Alines, 10%25"
    assert "\n" not in line


def test_github_leaves_out_suppressed_findings_and_prints_nothing_else():
    text = to_github(hand_made())
    assert text.splitlines() == [
        "::error file=desk/story.txt,line=8,col=1,endLine=8,title=excerpt-limit::reuses 64%25 of the source",
        "::notice file=desk/story.txt,line=2,col=1,endLine=2,title=house-style::a note for the editor",
    ]
    assert text.endswith("\n")
    assert to_github(ReportInput([DocumentResult("clean.txt", "txt", "", None, [])])) == ""


def test_locations_are_relative_to_the_project_root_not_the_scanned_folder(tmp_path, capsys):
    """Annotations and code scanning need paths from the repository root (here: the git work tree's)."""
    with inside(ROOT):
        main(["scan", "examples/reposts", "--sources", "examples/sources", "--format", "github"])
        lines = capsys.readouterr().out.splitlines()
        _, log = scan_from_root(tmp_path)
    assert any(line.startswith("::error file=examples/reposts/niac-missiles-repost.txt,line=6,") for line in lines)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert "examples/reposts/niac-missiles-repost.txt" in uris


def scan_from_root(tmp_path: Path) -> tuple[int, dict]:
    output = tmp_path / "root.sarif"
    code = main(["scan", "examples/reposts", "--sources", "examples/sources", "--format", "sarif", "--output", str(output), "-q"])
    return code, json.loads(output.read_text(encoding="utf-8"))
