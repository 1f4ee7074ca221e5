"""`compliance rule`: what a rule checks, from its type's docstring, as `ruff rule` says it; and
the reference in docs/ generated from the same text, which must not go stale."""
from __future__ import annotations

import json

import pytest
from conftest import ROOT

from compliance.checks import load_pack
from compliance.checks.engine import BUILTIN_RULES
from compliance.checks.ruledoc import parse_docstring, reference_markdown
from compliance.checks.rules import RULE_TYPES
from compliance.cli.main import main

REFERENCE = ROOT / "docs" / "rules-reference.md"


def test_a_rule_of_the_pack_shows_type_severity_options_and_examples(capsys):
    assert main(["rule", "caption-duplicated"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("caption-duplicated (type repetition)\n")
    assert "severity: warning; scope: body; enabled: yes; defined in: compliance/packs/default.yaml:" in out
    assert "A caption or paragraph pasted twice" in out
    assert "  min_words (whole number, at least 1; default 6): shorter repeats are ignored" in out
    assert "Passes:\n\n    This illustrative image shows a drone over Kermanshah" in out
    assert "Fails (cut off, then in full):\n\n    This illustrative image shows a drone over... " in out


def test_what_the_pack_sets_is_shown_beside_the_default(tmp_path, capsys):
    pack = tmp_path / "desk.yaml"
    pack.write_text("extends: default\nrules:\n  - id: caption-duplicated\n    min_words: 9\n", encoding="utf-8")
    assert main(["rule", "caption-duplicated", "--rules", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "  min_words (whole number, at least 1; default 6): shorter repeats are ignored\n      set by this rule: 9\n" in out
    assert f"defined in: {pack}:3" in out


def test_built_ins_and_unused_types_are_explained_too(capsys):
    assert main(["rule", "suppression-unused"]) == 0
    assert capsys.readouterr().out.startswith("suppression-unused (built-in)\n\n  severity: warning; scope: file")
    assert main(["rule", "forbidden-text", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["severity"] is None and doc["options"][0]["name"] == "patterns" and doc["options"][0]["required"]
    assert [e["kind"] for e in doc["examples"]] == ["passes", "fails"]


def test_all_as_json_lists_the_pack_then_unused_types_then_built_ins(capsys):
    assert main(["rule", "--all", "--format", "json"]) == 0
    ids = [d["id"] for d in json.loads(capsys.readouterr().out)]
    pack_ids = [rule.id for rule in load_pack().rules]
    assert ids == [*pack_ids, "forbidden-text", *BUILTIN_RULES]


@pytest.mark.parametrize("args, message", [
    (["rule", "atribution-missing"], "compliance: error: unknown rule 'atribution-missing' (known: attribution-mismatch, "),
    (["rule"], "compliance: error: name one rule (compliance rule ID), or --all"),
    (["rule", "excerpt-limit", "--all"], "compliance: error: name one rule (compliance rule ID), or --all"),
])
def test_a_wrong_request_is_a_one_line_error(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


@pytest.mark.parametrize("type_name", sorted(RULE_TYPES))
def test_every_rule_type_shows_a_passing_and_a_failing_example(type_name):
    """What a rule author owes the reader (compliance/checks/rules/__init__.py)."""
    summary, prose, examples = parse_docstring(RULE_TYPES[type_name].__doc__ or "")
    assert (RULE_TYPES[type_name].__doc__ or "").startswith(f"{type_name}: ") and summary
    assert {"passes", "fails"} <= {e.kind for e in examples}
    assert all(e.text.strip() for e in examples)


def test_the_committed_reference_is_up_to_date():
    expected = reference_markdown(load_pack())
    assert REFERENCE.read_text(encoding="utf-8") == expected, (
        "docs/rules-reference.md is stale: run `python -m compliance rule --all --format markdown --rules default "
        "> docs/rules-reference.md` and commit it")


def test_rules_md_links_the_reference():
    assert "(rules-reference.md)" in (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
