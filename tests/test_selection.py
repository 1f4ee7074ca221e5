"""`--select`, `--extend-select`, `--ignore` and their configuration keys, as ruff has them:
flags win over the configuration, which wins over the pack; an unknown id is a one-line error
naming the flag, or the file and line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES

from compliance.cli.main import main

REPOSTS, SOURCES = EXAMPLES / "reposts", EXAMPLES / "sources"


def rules_found(tmp_path: Path, *args: str) -> dict[str, list[str]]:
    output = tmp_path / "report.json"
    code = main(["scan", str(REPOSTS), "--sources", str(SOURCES), "--no-state", "-q", "--fail-on", "never",
                 "--format", "json", "--output", str(output), *args])
    assert code == 0
    report = json.loads(output.read_text(encoding="utf-8"))
    return {Path(d["path"]).name: sorted(f["rule"] for f in d["findings"]) for d in report["documents"]}


def test_select_runs_only_the_rules_named(tmp_path):
    found = rules_found(tmp_path, "--select", "attribution-missing")
    assert found["niac-missiles-repost.txt"] == ["attribution-missing"]
    assert all(rules in ([], ["attribution-missing"]) for rules in found.values())


def test_ignore_and_extend_select_comma_separated_and_repeatable(tmp_path):
    everything = rules_found(tmp_path)
    assert "caption-duplicated" in everything["niac-missiles-repost.txt"]
    found = rules_found(tmp_path, "--ignore", "caption-duplicated,excerpt-limit", "--ignore", "attribution-mismatch")
    assert found["niac-missiles-repost.txt"] == ["attribution-missing"]
    assert found["home-depot-sales.txt"] == [] and found["nasa-moon-shot.html"] == []
    found = rules_found(tmp_path, "--select", "attribution-missing", "--extend-select", "excerpt-limit")
    assert found["home-depot-sales.txt"] == ["excerpt-limit"]


def test_ignoring_the_disclaimer_rule_leaves_matching_as_it_was(tmp_path):
    """The desk's disclaimer is left out of what matching counts, whether or not its rule runs."""
    def message(*args):
        output = tmp_path / "r.json"
        main(["scan", str(REPOSTS / "niac-missiles-repost.txt"), "--sources", str(SOURCES), "--no-state", "-q",
              "--format", "json", "--output", str(output), *args])
        findings = json.loads(output.read_text(encoding="utf-8"))["documents"][0]["findings"]
        return next(f["message"] for f in findings if f["rule"] == "attribution-missing")
    assert message() == message("--ignore", "disclaimer-missing")


def test_a_rule_the_pack_disables_runs_when_selected(tmp_path):
    pack = tmp_path / "pack.yaml"
    pack.write_text("extends: default\nrules:\n  - id: excerpt-limit\n    enabled: false\n", encoding="utf-8")
    assert rules_found(tmp_path, "--rules", str(pack))["home-depot-sales.txt"] == []
    assert rules_found(tmp_path, "--rules", str(pack), "--extend-select", "excerpt-limit")["home-depot-sales.txt"] == ["excerpt-limit"]


def test_flags_win_over_the_configuration_which_wins_over_the_pack(tmp_path):
    config = tmp_path / "compliance.yaml"
    config.write_text("select: [attribution-missing, caption-duplicated]\nignore: caption-duplicated\n", encoding="utf-8")
    found = rules_found(tmp_path, "--config", str(config))
    assert found["niac-missiles-repost.txt"] == ["attribution-missing"]
    found = rules_found(tmp_path, "--config", str(config), "--extend-select", "caption-duplicated")
    assert found["niac-missiles-repost.txt"] == ["attribution-missing", "caption-duplicated"]
    found = rules_found(tmp_path, "--config", str(config), "--select", "excerpt-limit")
    assert found["home-depot-sales.txt"] == ["excerpt-limit"] and found["niac-missiles-repost.txt"] == []


def test_rules_lists_what_the_configuration_selects(tmp_path, capsys, monkeypatch):
    (tmp_path / "compliance.yaml").write_text("extend_select: []\nignore: [excerpt-limit]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["rules"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["excerpt-limit"][3] == "no" and rows["attribution-missing"][3] == "yes"


@pytest.mark.parametrize("args, config, message", [
    (["--select", "attribution-missing,atribution-mismatch"], None, "compliance: error: --select: unknown rule 'atribution-mismatch' (known: all, "),
    (["--ignore", "input-unreadable"], None,
     "compliance: error: --ignore: 'input-unreadable' cannot be ignored: it reports a file that was not (fully) checked"),
    ([], "fail_on: error\nignore:\n  - caption-duplicated\n  - excerpt-limt\n",
     "compliance: error: {config}:4: 'ignore': unknown rule 'excerpt-limt' (known: all, "),
    ([], "extend_select: nope\n", "compliance: error: {config}:1: 'extend_select': unknown rule 'nope' (known: all, "),
    ([], "select: [1, 2]\n", "compliance: error: {config}:1: 'select' must be a list of text"),
])
def test_an_unknown_rule_is_a_one_line_error_naming_where_it_came_from(tmp_path, capsys, args, config, message):
    if config is not None:
        (tmp_path / "compliance.yaml").write_text(config, encoding="utf-8")
        args = [*args, "--config", str(tmp_path / "compliance.yaml")]
    assert main(["scan", str(REPOSTS), "--no-state", "-q", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(config=tmp_path / "compliance.yaml")) and err.count("\n") == 1, err


def test_baseline_create_takes_the_flags_too(tmp_path):
    output = tmp_path / "baseline.json"
    assert main(["baseline", "create", str(REPOSTS), "--sources", str(SOURCES), "--select", "excerpt-limit",
                 "--output", str(output)]) == 0
    assert {e["rule"] for e in json.loads(output.read_text(encoding="utf-8"))["findings"]} == {"excerpt-limit"}
