"""JSON Schemas of the configuration file and of rule packs (compliance/schemas/), shipped for
editors' YAML language servers, and used here to report every mistake in a file at once.

Loading stays on the hand-written checks, which stop at the first mistake with a message of
their own: importing jsonschema and building a validator would add a tenth of a second to
every scan. When they find a mistake, the file (and the packs it extends) is validated against
its schema, and every mistake found is reported, each with its file and line, in the same
words the hand-written checks use (`errorMessage`, which VS Code's YAML and JSON support show
too, and `x-noun`, which names what an unknown key or value is).

The rule pack schema is generated from the rule types' OPTIONS and the matching settings
(`rulepack_schema`); a test keeps the shipped file equal to it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from compliance.checks.yamlfile import LinedDict, LinedList, load_lined_yaml
from compliance.errors import ComplianceError, ComplianceErrors

SCHEMA_FILES = {"config": "config.schema.json", "rulepack": "rulepack.schema.json"}
SCHEMA_ID = "https://github.com/compliance/schemas/{}"  # an identifier only: nothing is fetched from it


def schema_path(name: str) -> Path:
    return Path(str(resources.files("compliance") / "schemas" / SCHEMA_FILES[name]))


def load_schema(name: str) -> dict:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


# -- generating the rule pack schema ----------------------------------------------------------

_KINDS = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array"}


def _option_schema(option) -> dict:
    from compliance.checks.options import _describe

    kinds = option.kind if isinstance(option.kind, tuple) else (option.kind,)
    types = []
    for kind in kinds:
        types.append(_KINDS[kind])
        if kind is list:
            types.append("string")  # one item may be written without the list
    schema: dict[str, Any] = {"type": sorted(set(types)) if len(set(types)) > 1 else types[0]}
    if option.help:
        schema["description"] = option.help
    expected = _describe(kinds)
    if option.minimum is not None:
        schema["minimum"] = option.minimum
        expected += f" of at least {option.minimum:g}" if option.maximum is None else f" from {option.minimum:g} to {option.maximum:g}"
    if option.maximum is not None:
        schema["maximum"] = option.maximum
    if option.default is not None:
        schema["default"] = option.default
    schema["errorMessage"] = f"must be {expected}"
    schema["x-message"] = f"option '{{name}}' must be {expected}, not {{value}}"
    return schema


def rulepack_schema() -> dict:
    """The rule pack schema, from the rule types and the matching settings of this version."""
    from compliance.checks.rulepack import PACK_VERSION
    from compliance.checks.rules import RULE_TYPES
    from compliance.similarity.matcher import _RANGES, MatchSettings

    fields_: dict[str, Any] = {
        "id": {"type": "string", "minLength": 1, "description": "the rule's name in reports, baselines and suppressions",
               "errorMessage": "must be a rule name"},
        "type": {"enum": sorted(RULE_TYPES), "x-noun": "type", "description": "the rule type (compliance rule TYPE explains it)"},
        "severity": {"enum": ["error", "warning", "info", "Error", "Warning", "Info", "ERROR", "WARNING", "INFO"],
                     "errorMessage": "must be error, warning or info", "default": "error",
                     "x-message": "severity must be one of info, warning, error, not {value}"},
        "enabled": {"type": "boolean", "errorMessage": "must be true or false", "default": True},
        "message": {"type": "string", "errorMessage": "must be text",
                    "description": "replaces the finding's message; {name} placeholders take its evidence fields"},
        "scope": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string", "errorMessage": "must be text"}}],
                  "errorMessage": "must be a scope (all, page, title, body, paragraphs, headings, captions, first:N, last:N) or a list of them"},
        "paths": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string", "errorMessage": "must be text"}}],
                  "errorMessage": "must be a list of globs", "description": "the rule applies only to files matching one"},
        "description": {"type": ["string", "number"], "description": "what reports say about the rule"},
    }
    common = {name: {"$ref": f"#/definitions/{name}"} for name in fields_}
    every_option: dict[str, Any] = {}
    branches = []
    for type_name, module in sorted(RULE_TYPES.items()):
        options = {name: _option_schema(option) for name, option in module.OPTIONS.items()}
        for name, schema in options.items():
            every_option.setdefault(name, {})  # checked by type once the rule's type is known
        branches.append({
            "if": {"required": ["type"], "properties": {"type": {"const": type_name}}},
            "then": {"properties": {**common, **options}, "additionalProperties": False,
                     "x-noun": f"option '{{key}}' for type {type_name}"},
        })
    branches.append({  # a rule that only changes an inherited one: its type, and so its options, come from upstream
        "if": {"not": {"required": ["type"]}},
        "then": {"properties": {**common, **every_option}, "additionalProperties": False, "x-noun": "option"},
    })
    matching = {}
    for item in fields(MatchSettings):
        default = getattr(MatchSettings, item.name)
        whole = isinstance(default, int)
        low, high = _RANGES.get(item.name, (1, None) if whole else (0.0, 1.0))
        entry: dict[str, Any] = {"type": "integer" if whole else "number", "minimum": low, "default": default}
        if high is not None:
            entry["maximum"] = high
        bound = f"at least {low}" if high is None else f"from {low} to {high}"
        entry["errorMessage"] = f"must be {'a whole number' if whole else 'a number'} {bound}"
        entry["x-message"] = f"matching: '{item.name}' must be {'a whole number' if whole else 'a number'} {bound}, not {{value}}"
        matching[item.name] = entry
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",  # what editors' YAML language servers read best
        "$id": SCHEMA_ID.format(SCHEMA_FILES["rulepack"]),
        "title": "compliance rule pack",
        "description": "A rule pack of compliance (docs/rules.md). Generated by compliance.checks.schema.rulepack_schema.",
        "type": "object",
        "x-noun": "field",
        "additionalProperties": False,
        "definitions": fields_,
        "properties": {
            "version": {"const": PACK_VERSION, "errorMessage": f"must be {PACK_VERSION} (the only version this tool reads)"},
            "extends": {"type": "string", "errorMessage": "must name one pack ('default' or a path)",
                        "description": "default, or the path of another pack relative to this file"},
            "description": {"type": ["string", "number"]},
            "matching": {"type": "object", "properties": matching, "additionalProperties": False, "x-noun": "matching setting",
                         "errorMessage": "must be a mapping of settings"},
            "suppressions": {"type": "object", "additionalProperties": False, "x-noun": "suppressions setting",
                             "errorMessage": "must be a mapping (require_reason: true or false)",
                             "properties": {"require_reason": {"type": "boolean", "errorMessage": "must be true or false",
                                                               "default": False}}},
            "rules": {"type": "array", "errorMessage": "must be a list",
                      "items": {"type": "object", "required": ["id"], "x-missing": "rule has no '{key}'",
                                "properties": {"type": {"$ref": "#/definitions/type"}},
                                "errorMessage": "must be a mapping with at least an 'id'", "allOf": branches}},
        },
    }


# -- validating -------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """What a JSON validator reads: dates (YAML and TOML parse them) as ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _line(data: Any, path: list) -> int | None:
    """The line of the value at `path`, as near as the parsed YAML knows it."""
    line = getattr(data, "line", None)
    node = data
    for step in path:
        if isinstance(node, LinedDict) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LinedList) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def _owner(data: Any, path: list) -> str:
    """'rule 'x': ' for anything inside a pack's rule, as the hand-written checks say it."""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            return f"rule '{rules[path[1]].get('id')}': "
    return ""


def _name(path: list) -> str | None:
    return next((step for step in reversed(path) if isinstance(step, str)), None)


def _messages(error, data: Any) -> list[tuple[str, int | None]]:
    """(message, line) for one jsonschema error, in the hand-written checks' words."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    owner = _owner(data, path)
    name = _name(path)
    prefix = "" if owner or not path or path[0] != "matching" or len(path) == 1 else "matching: "
    if error.validator == "additionalProperties":
        node = data
        for step in path:
            node = node[step]
        known = sorted(schema.get("properties", {}))
        noun = schema.get("x-noun", "setting")
        extra = [key for key in node if key not in schema.get("properties", {})]
        named = (lambda key: noun.format(key=key)) if "{key}" in noun else (lambda key: f"{noun} '{key}'")
        return [(f"{owner}{prefix}unknown {named(key)} (known: {', '.join(known)})", _line(data, [*path, key])) for key in extra]
    if error.validator == "required":
        missing = [key for key in error.validator_value if not (isinstance(error.instance, dict) and key in error.instance)]
        template = schema.get("x-missing", "needs '{key}'")
        return [(template.format(key=key), _line(data, path)) for key in missing]
    if error.validator == "enum" and "x-noun" in schema:
        known = ", ".join(str(v) for v in schema["enum"])
        return [(f"{owner}unknown {schema['x-noun']} {error.instance!r} (known: {known})", _line(data, path))]
    if error.validator in ("if", "then", "allOf"):
        return []  # their sub-errors say what is wrong
    if "x-message" in schema:  # the hand-written check's own words, with the value written
        return [(f"{owner}{schema['x-message'].format(value=repr(error.instance), name=name)}", _line(data, path))]
    expected = schema.get("errorMessage")
    if expected:
        subject = f"'{name}'" if name is not None else "the file"
        if path and isinstance(path[-1], int) and name is not None:
            subject = f"each item of '{name}'"
        if error.validator == "type" and not path:
            return [(f"must be {expected}" if not expected.startswith("must") else expected, _line(data, path))]
        return [(f"{owner}{prefix}{subject} {expected}", _line(data, path))]
    where = "/".join(str(step) for step in path) or "the file"
    return [(f"{owner}{where}: {error.message}", _line(data, path))]


def schema_errors(name: str, data: Any, where: str) -> list[ComplianceError]:
    """Every mistake the schema `name` finds in `data` (parsed from the file `where`)."""
    import jsonschema  # a tenth of a second: only for a file already known to have a mistake

    validator = jsonschema.Draft7Validator(load_schema(name))
    found: dict[tuple[int | None, str], ComplianceError] = {}

    def collect(errors) -> None:
        for error in errors:
            if error.validator in ("allOf", "if", "then") or (error.validator == "anyOf" and not error.schema.get("errorMessage")):
                collect(error.context or [])
                continue
            if error.validator == "anyOf" and isinstance(error.instance, (dict, list)):
                # a mapping or list where that is one of the choices: say what is wrong inside it
                kind = "object" if isinstance(error.instance, dict) else "array"
                chosen = [i for i, branch in enumerate(error.validator_value) if branch.get("type") == kind]
                inside = [e for e in error.context or [] if chosen and e.relative_schema_path[0] == chosen[0]
                          and (e.relative_path or e.validator not in ("minItems", "minLength", "type"))]
                if inside:
                    collect(inside)
                    continue
            for message, line in _messages(error, data):
                found.setdefault((line, message), ComplianceError(message, where, line))

    collect(validator.iter_errors(_plain(data)))
    return sorted(found.values(), key=lambda e: (e.line or 0, e.message))


def with_every_error(first: ComplianceError, files: list[tuple[str, Path]]) -> ComplianceError:
    """`first` (what loading stopped at) together with everything the schemas find in `files`
    (name, path): one error when that is all there is, else a ComplianceErrors."""
    errors: list[ComplianceError] = []
    for name, path in files:
        try:
            data = load_lined_yaml(path) if path.suffix != ".toml" else _toml_table(path)
        except ComplianceError:
            continue  # not even YAML: `first` says so
        if isinstance(data, dict):
            errors.extend(schema_errors(name, data, str(path)))
    if not errors:
        return first
    same = [e for e in errors if e.path == first.path and e.line == first.line]
    if len(same) <= 1:  # the hand-written check's words (they show the value), or what only it knows
        errors = [e for e in errors if e not in same] + [first]
    errors.sort(key=lambda e: (str(e.path), e.line or 0))
    return errors[0] if len(errors) == 1 else ComplianceErrors(errors)


def _toml_table(path: Path) -> Any:
    from compliance.config import _read_toml

    return _read_toml(path).get("tool", {}).get("compliance", {})


def pack_chain(path: Path, resolve: Callable[[str, Path], Path]) -> list[tuple[str, Path]]:
    """A pack and the packs it extends, as far as they can be read, for `with_every_error`."""
    chain: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    while path.exists() and path.resolve() not in seen and len(chain) < 32:
        seen.add(path.resolve())
        chain.append(("rulepack", path))
        try:
            data = load_lined_yaml(path)
        except ComplianceError:
            break
        parent = data.get("extends") if isinstance(data, dict) else None
        if not isinstance(parent, str):
            break
        path = resolve(parent, path)
    return chain
