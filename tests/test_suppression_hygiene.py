"""Suppressions that name no known rule, suppress nothing in this scan, or give no reason when
the pack requires one are findings of their own, as ruff flags an unused `noqa`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLES, ROOT

from compliance.checks import load_pack
from compliance.cli.main import main
from compliance.errors import ComplianceError

SCHEMA = json.loads((ROOT / "compliance" / "report" / "report.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def edited(desk: Path) -> Path:
    """The examples, with suppressions an editor might leave behind (desk: the working folder)."""
    niac = desk / "reposts" / "niac-missiles-repost.txt"
    lines = niac.read_text(encoding="utf-8").split("\n")
    assert lines[4] == lines[16] == ""  # blank lines above the first paragraph and above the caption
    lines[4] = "compliance: ignore atribution-missing"  # a typo: covers the whole file, suppresses nothing
    lines[16] = "compliance: ignore caption-duplicated -- the desk shows the photo twice"  # used
    niac.write_text("\n".join(lines), encoding="utf-8")
    wework = desk / "reposts" / "wework-investigation.md"
    text = wework.read_text(encoding="utf-8")
    wework.write_text(text.replace("A spokesperson for the NYAG",
                                   "<!-- compliance: ignore excerpt-limit, caption-duplicated -- licensed -->\n"
                                   "A spokesperson for the NYAG", 1), encoding="utf-8")
    return desk


def findings(desk: Path, *args: str) -> dict[str, list[tuple[int, str, str]]]:
    output = desk / "report.json"
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--fail-on", "never",
                 "--format", "json", "--output", str(output), *args]) == 0
    report = json.loads(output.read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    return {d["path"]: [(f["line"], f["rule"], f["message"]) for f in d["findings"]
                        if f["rule"].startswith("suppression-")] for d in report["documents"]}


def test_unknown_and_unused_suppression_comments_are_warnings(edited):
    found = findings(edited)
    assert found["reposts/niac-missiles-repost.txt"] == [
        (5, "suppression-unknown-rule", "suppression names unknown rule 'atribution-missing' (did you mean 'attribution-missing'?)"),
    ]
    assert found["reposts/wework-investigation.md"] == [
        (17, "suppression-unused", "unused suppression: excerpt-limit, caption-duplicated found nothing here"),
    ]
    assert found["reposts/home-depot-sales.txt"] == []


def test_a_suppression_of_a_rule_that_does_not_run_is_unused_and_says_so(edited):
    found = findings(edited, "--ignore", "caption-duplicated")
    assert (17, "suppression-unused", "unused suppression: excerpt-limit found nothing here; caption-duplicated does not run "
            "in this scan") in found["reposts/wework-investigation.md"]
    assert found["reposts/niac-missiles-repost.txt"][-1] == (
        17, "suppression-unused", "unused suppression: caption-duplicated does not run in this scan")


def test_select_and_ignore_turn_the_suppression_rules_off(edited):
    assert all(not f for f in findings(edited, "--ignore", "suppression-unused,suppression-unknown-rule").values())
    assert all(not f for f in findings(edited, "--select", "attribution-missing,caption-duplicated").values())


def test_a_suppression_of_what_only_fetching_finds_is_not_judged_without_fetching(desk):
    wework = desk / "reposts" / "wework-investigation.md"
    wework.write_text("<!-- compliance: ignore attribution-unverified -- the site blocks robots -->\n"
                      + wework.read_text(encoding="utf-8"), encoding="utf-8")
    assert findings(desk)["reposts/wework-investigation.md"] == []


def test_a_suppression_without_reason_is_a_warning_when_the_pack_requires_one(edited):
    pack = edited / "pack.yaml"
    pack.write_text("extends: default\nsuppressions:\n  require_reason: true\n", encoding="utf-8")
    found = findings(edited, "--rules", str(pack))
    assert (5, "suppression-no-reason", "suppression of atribution-missing gives no reason "
            "(the pack requires one: `-- why` after the rule ids)") in found["reposts/niac-missiles-repost.txt"]
    assert all(rule != "suppression-no-reason" for f in findings(edited).values() for _, rule, _ in f)


def test_an_inherited_require_reason_and_its_errors(tmp_path):
    parent = tmp_path / "parent.yaml"
    parent.write_text("extends: default\nsuppressions: {require_reason: true}\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {parent.name}\n", encoding="utf-8")
    assert load_pack(child).require_reason and not load_pack().require_reason
    child.write_text(f"extends: {parent.name}\nsuppressions:\n  require_reason: 'yes'\n", encoding="utf-8")
    with pytest.raises(ComplianceError) as caught:
        load_pack(child)
    assert str(caught.value) == f"{child}:3: suppressions: 'require_reason' must be true or false"


def test_unknown_and_unused_waivers_are_findings_on_the_configuration_file(edited):
    (edited / "compliance.yaml").write_text("""\
sources: [sources]
waivers:
  - paths: ["reposts/wework-*"]
    rules: [attribution-missing]
    reason: "licensed without credit"
  - paths: ["reposts/niac-*"]
    rules: [attribution-missing, disclaimer-mising]
    reason: "licensed by phone"
  - paths: ["partners/*"]
    rules: [all]
    reason: "not scanned here: not judged"
  - paths: ["reposts/home-*"]
    rules: [excerpt-limit]
    reason: "expired: reported as such, not judged"
    expires: 2020-01-01
""", encoding="utf-8")
    found = findings(edited)
    assert found["compliance.yaml"] == [
        (3, "suppression-unused", "unused waiver: attribution-missing found nothing in the files it covers"),
        (6, "suppression-unknown-rule", "waiver names unknown rule 'disclaimer-mising' (did you mean 'disclaimer-missing'?)"),
    ]


def test_the_state_gives_the_same_findings_as_a_fresh_scan(edited):
    def with_state():
        output = edited / "state.json"
        main(["scan", "reposts", "--sources", "sources", "-q", "--format", "json", "--output", str(output)])
        return [d["findings"] for d in json.loads(output.read_text(encoding="utf-8"))["documents"]]
    first, second = with_state(), with_state()
    assert first == second and any(f["rule"] == "suppression-unknown-rule" for d in first for f in d)


def test_the_text_report_shows_them_with_the_rest(edited, capsys):
    shutil.rmtree(edited / "sources")
    main(["scan", "reposts", "--no-state"])
    assert "reposts/niac-missiles-repost.txt:5:1: warning suppression-unknown-rule suppression names unknown rule " \
           "'atribution-missing'" in capsys.readouterr().out
