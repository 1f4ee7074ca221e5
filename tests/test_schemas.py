"""The JSON Schemas of the configuration file and of rule packs: shipped in the package, true to
what loading accepts, and used to report every mistake in a file at once, with file and line."""
from __future__ import annotations

import json
import re
import sys

import jsonschema
import pytest
import yaml
from conftest import EXAMPLES, ROOT

from compliance.checks import load_pack
from compliance.checks.rulepack import default_pack_path
from compliance.checks.schema import load_schema, rulepack_schema, schema_errors, schema_path
from compliance.checks.yamlfile import load_lined_yaml
from compliance.cli.main import main
from compliance.config import _KEYS, _WAIVER_KEYS, load_config
from compliance.errors import ComplianceError, ComplianceErrors

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPOSTS, SOURCES = EXAMPLES / "reposts", EXAMPLES / "sources"


def test_the_shipped_pack_schema_is_the_one_the_rule_types_make():
    assert json.loads(schema_path("rulepack").read_text(encoding="utf-8")) == rulepack_schema(), (
        "compliance/schemas/rulepack.schema.json is stale: run `python -c \"import json; from compliance.checks.schema "
        "import rulepack_schema; print(json.dumps(rulepack_schema(), indent=2))\" > compliance/schemas/rulepack.schema.json`")


def test_the_schemas_are_valid_draft_7_and_name_every_key():
    from compliance.fetch.options import _KEYS as FETCH_KEYS

    for name in ("config", "rulepack"):
        jsonschema.Draft7Validator.check_schema(load_schema(name))
    config = load_schema("config")
    assert set(config["properties"]) == _KEYS
    assert set(config["definitions"]["waiver"]["properties"]) == _WAIVER_KEYS
    assert set(config["properties"]["fetch"]["anyOf"][1]["properties"]) == FETCH_KEYS


def test_the_wheel_carries_the_schemas():
    """.ci/routes installs the wheel alone and sees a configuration's mistakes all reported."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "schemas/*.json" in pyproject["tool"]["setuptools"]["package-data"]["compliance"]
    assert any(d.startswith("jsonschema") for d in pyproject["project"]["dependencies"])
    assert "bad.yaml:1: unknown setting 'colour'" in (ROOT / ".ci" / "routes").read_text(encoding="utf-8")


def _yaml_blocks(page: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / page).read_text(encoding="utf-8"), re.S)


def test_what_loading_accepts_the_schemas_accept_too(tmp_path):
    """The default pack, the docs' packs and configuration: no schema stricter than the tool."""
    assert schema_errors("rulepack", load_lined_yaml(default_pack_path()), "default.yaml") == []
    for block in _yaml_blocks("rules.md"):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and ("rules" in data or "extends" in data):
            path = tmp_path / "pack.yaml"
            path.write_text(block, encoding="utf-8")
            load_pack(path)
            assert schema_errors("rulepack", load_lined_yaml(path), str(path)) == []
    config_blocks = [b for b in _yaml_blocks("configuration.md") if b.startswith("# compliance.yaml")]
    assert config_blocks
    for block in config_blocks:
        path = tmp_path / "compliance.yaml"
        path.write_text(block, encoding="utf-8")
        load_config(path)
        assert schema_errors("config", load_lined_yaml(path), str(path)) == []


def test_every_mistake_of_a_configuration_is_reported_at_once(tmp_path, capsys):
    config = tmp_path / "compliance.yaml"
    config.write_text("""\
sources: [sources]
colour: yes
fail_on: sometimes
format: [html, pdf]
waivers:
  - paths: ["partners/*"]
    rules: [attribution-missing]
  - paths: ["b/*"]
    rules: all
    reason: ok
    until: 2026-01-01
fetch: {request_budget: 0}
""", encoding="utf-8")
    assert main(["scan", str(REPOSTS), "--no-state", "--config", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"compliance: error: {config}:{message}" for message in [
        "2: unknown setting 'colour' (known: baseline, extend_select, fail_on, fetch, format, ignore, index, jobs, keep_runs, "
        "lock_timeout, max_bytes, notify, paths, report_dir, review_waivers, rules, select, sources, state, waivers)",
        "3: 'fail_on' must be one of error, warning, info, never",
        "4: unknown format 'pdf' (known: github, html, json, junit, sarif, text)",
        "6: waiver needs 'reason'",
        "11: unknown waiver field 'until' (known: content_hash, date, expires, fingerprints, paths, reason, reviewer, rules)",
        "12: 'request_budget' must be a whole number of at least 1",
    ]]


def test_every_mistake_of_a_pack_and_of_the_pack_it_extends(tmp_path):
    parent = tmp_path / "parent.yaml"
    parent.write_text("extends: default\nrules:\n  - id: caption-duplicated\n    severity: fatal\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("""\
extends: parent.yaml
matching:
  min_containment: 1.5
rules:
  - id: debris
    type: forbidden-text
    patterns: ["we use cookies"]
    text: hello
  - id: another
    type: nope
  - type: repetition
""", encoding="utf-8")
    with pytest.raises(ComplianceErrors) as caught:
        load_pack(child)
    assert [str(ComplianceError.__str__(e)) for e in caught.value.errors] == [
        f"{child}:3: matching: 'min_containment' must be a number from 0.0 to 1.0, not 1.5",
        f"{child}:8: rule 'debris': unknown option 'text' for type forbidden-text (known: description, enabled, id, message, "
        "paths, patterns, scope, severity, type)",
        f"{child}:10: rule 'another': unknown type 'nope' (known: attribution-mismatch, attribution-missing, "
        "attribution-unverified, excerpt-limit, forbidden-text, repetition, required-text)",
        f"{child}:11: rule has no 'id'",
        f"{parent}:4: rule 'caption-duplicated': severity must be one of info, warning, error, not 'fatal'",
    ]


def test_one_mistake_keeps_the_hand_written_message(tmp_path):
    """What only the tool can tell (a pack that is not there) still comes with the schema's findings."""
    pack = tmp_path / "pack.yaml"
    pack.write_text("extends: missing.yaml\nrules:\n  - id: a\n    type: repetition\n    min_words: many\n", encoding="utf-8")
    with pytest.raises(ComplianceErrors) as caught:
        load_pack(pack)
    assert [e.line for e in caught.value.errors] == [1, 5]
    assert caught.value.errors[0].message == "'extends': rule pack 'missing.yaml' not found"
    assert caught.value.errors[1].message == "rule 'a': option 'min_words' must be a whole number of at least 1, not 'many'"
    pack.write_text("rules:\n  - id: a\n    type: repetition\n    min_words: 0\n", encoding="utf-8")
    with pytest.raises(ComplianceError) as single:
        load_pack(pack)
    assert str(single.value) == f"{pack}:4: rule 'a': option 'min_words' must be at least 1, not 0"


def test_pyproject_tables_are_checked_too(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.compliance]\nfail_on = "sometimes"\ncolour = true\n', encoding="utf-8")
    assert main(["scan", str(REPOSTS), "--no-state", "--config", str(tmp_path / "pyproject.toml")]) == 2
    err = capsys.readouterr().err
    assert "'fail_on' must be one of error, warning, info, never" in err and "unknown setting 'colour'" in err


def test_schema_prints_the_shipped_schema(capsys):
    assert main(["schema", "rulepack"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "compliance rule pack"
    assert main(["schema", "config", "--path"]) == 0
    assert capsys.readouterr().out.strip().endswith("config.schema.json")
