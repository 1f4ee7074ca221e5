"""`compliance test DIR`: fixture reposts annotated with the findings they expect, as `semgrep
--test` has them. The default pack's fixtures (tests/packs/default/, the examples adapted) run
through the command here, and a wrong expectation fails with a clear report."""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT

from compliance.cli.fixture_test import parse_fixture
from compliance.cli.main import main

FIXTURES = ROOT / "tests" / "packs" / "default"


def test_the_default_pack_passes_its_fixtures(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["test", "tests/packs/default", "-v"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "ok    tests/packs/default/niac-missiles-repost.txt (2 findings as expected)" in out
    assert "ok    tests/packs/default/wework-investigation.md (0 findings as expected)" in out
    assert out[-1] == "8 fixtures: 8 passed, 0 failed"


def test_every_rule_of_the_default_pack_that_can_fire_offline_has_a_fixture():
    expected = set()
    for path in FIXTURES.glob("*.*"):
        expected |= {rule for _, rule in parse_fixture(path.read_text(encoding="utf-8"), path.suffix[1:])[1]}
    assert expected >= {"attribution-missing", "attribution-mismatch", "caption-duplicated", "excerpt-limit",
                        "disclaimer-missing", "suppression-unused"}


@pytest.fixture
def fixtures(tmp_path) -> Path:
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    return copy


def test_a_wrong_expectation_fails_and_says_what_and_where(fixtures, capsys):
    niac = fixtures / "niac-missiles-repost.txt"
    niac.write_text(niac.read_text(encoding="utf-8").replace("# expect: attribution-missing", "# expect: attribution-mismatch"),
                    encoding="utf-8")
    nasa = fixtures / "nasa-moon-shot.html"
    nasa.write_text(nasa.read_text(encoding="utf-8").replace(" <!-- expect: caption-duplicated -->", ""), encoding="utf-8")
    assert main(["test", str(fixtures)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"FAIL  {nasa}",
        f"  {nasa}:10: unexpected caption-duplicated: caption repeated on lines 10 and 11 (twice): \"This illustration "
        "of SpaceX's concept for a commercial lunar lander s…\"",
        f"FAIL  {niac}",
        f"  {niac}:7: expected attribution-mismatch, not found",
        f"  {niac}:7: unexpected attribution-missing: copies 100% of its text from Newsweek (source "
        "newsweek-iran-russia-missiles-niac) but no line credits Newsweek",
        "8 fixtures: 6 passed, 2 failed (1 expected finding missing, 2 unexpected findings)",
    ]


def test_an_expectation_naming_no_rule_of_the_pack_fails(fixtures, capsys):
    desk = fixtures / "desk-column.md"
    desk.write_text("<!-- expect: atribution-missing -->\n" + desk.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["test", str(fixtures)]) == 1
    out = capsys.readouterr().out
    assert f"  {desk}:1: expects 'atribution-missing', which is no rule of this pack\n" in out
    assert out.endswith("8 fixtures: 7 passed, 1 failed (1 unknown rule expected)\n")


def test_a_pack_is_tested_against_its_own_fixtures(tmp_path, capsys):
    """A desk's pack, its rule and its fixtures, as a rule author writes them."""
    (tmp_path / "pack.yaml").write_text("extends: default\nrules:\n  - id: caption-duplicated\n    enabled: false\n"
                                        "  - id: player-debris\n    type: forbidden-text\n    severity: warning\n"
                                        "    patterns: ['media playback is unsupported']\n", encoding="utf-8")
    cases = tmp_path / "cases"
    shutil.copytree(FIXTURES, cases)
    nasa = cases / "nasa-moon-shot.html"
    text = nasa.read_text(encoding="utf-8")
    nasa.write_text(text.replace(" <!-- expect: caption-duplicated -->", "").replace(
        "<p>Source: Reuters</p>", "<p>Media playback is unsupported on your device</p> <!-- expect: player-debris -->\n"
        "<p>Source: Reuters</p>"), encoding="utf-8")
    niac = cases / "niac-missiles-repost.txt"
    niac.write_text(niac.read_text(encoding="utf-8").replace("# expect: caption-duplicated\n", ""), encoding="utf-8")
    # caption-duplicated no longer runs: the desk's suppression of it is now unused
    suppressed = cases / "niac-caption-suppressed.txt"
    suppressed.write_text(suppressed.read_text(encoding="utf-8").replace(
        "compliance: ignore caption-duplicated", "# expect: suppression-unused\ncompliance: ignore caption-duplicated"),
        encoding="utf-8")
    assert main(["test", str(cases), "--rules", str(tmp_path / "pack.yaml")]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out == "8 fixtures: 8 passed, 0 failed\n"


def test_annotation_forms():
    text = ("Title\n\n# expect: a, b\n# expect: b\nParagraph one.\n\nParagraph two.  # expect: c\n"
            "# not an annotation: #expect-ing things\n")
    blanked, expected, named = parse_fixture(text, "txt")
    assert expected == Counter({(5, "a"): 1, (5, "b"): 2, (7, "c"): 1})
    assert blanked.split("\n")[2:7] == ["", "", "Paragraph one.", "", "Paragraph two."]
    assert named == {"a": 3, "b": 3, "c": 7}
    html = "<p>One</p> <!-- expect: x -->\n<!-- expect: y -->\n<p>Two</p>\n<!-- a comment -->\n"
    blanked, expected, _ = parse_fixture(html, "html")
    assert expected == Counter({(1, "x"): 1, (3, "y"): 1})
    assert blanked == "<p>One</p>\n\n<p>Two</p>\n<!-- a comment -->\n"
    # the other format's form is text there: a .md heading may start with #
    assert parse_fixture("# expect: x\n", "md")[1] == Counter()


def test_a_folder_without_fixtures_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "sources").mkdir()
    assert main(["test", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"compliance: error: {tmp_path}: no fixtures (.htm, .html, .markdown, .md, .txt files outside sources/)\n"
    assert main(["test", str(tmp_path / "nowhere")]) == 2
