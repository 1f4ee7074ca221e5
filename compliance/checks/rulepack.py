"""Rule packs: YAML lists of rules that pick a rule type and set its options.

    version: 1
    extends: default            # or a path relative to this file
    matching: {min_containment: 0.5}
    suppressions: {require_reason: true}   # a suppression comment without a reason is a warning
    rules:
      - id: disclaimer-missing  # a rule already defined upstream: only what changes
        severity: warning
      - id: no-cookie-banner
        type: forbidden-text
        severity: warning
        patterns: ["we use cookies"]

A rule that `extends` one with the same id inherits its fields. Every error names the file
and the line.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from compliance.checks.options import Option
from compliance.checks.rules import RULE_TYPES
from compliance.checks.scope import Scope
from compliance.checks.yamlfile import LinedDict, LinedList, load_lined_yaml
from compliance.checks.globs import check_globs, matches
from compliance.errors import ComplianceError
from compliance.model import Severity
from compliance.similarity.matcher import MatchSettings

DEFAULT_PACK = "default"
PACK_VERSION = 1
_RULE_FIELDS = {"id", "type", "severity", "enabled", "message", "scope", "paths", "description"}
_PACK_FIELDS = {"version", "extends", "matching", "rules", "description", "suppressions"}
_SUPPRESSION_FIELDS = {"require_reason"}


@dataclass(frozen=True)
class Rule:
    id: str
    type: str
    severity: Severity
    enabled: bool
    scope: Scope
    options: dict[str, Any]
    message: str | None = None
    paths: tuple[str, ...] = ()
    description: str = ""
    origin: str = ""  # file:line where the rule was (last) defined

    def applies_to(self, path: str) -> bool:
        """`path`: from the project root; globs as in .gitignore (`compliance.checks.globs`)."""
        return not self.paths or matches(self.paths, path)


@dataclass
class RulePack:
    rules: list[Rule]
    matching: MatchSettings
    files: list[str] = field(default_factory=list)
    require_reason: bool = False  # `suppressions: {require_reason: true}`: suppression-no-reason
    # rules (and built-ins) that select/ignore turned off (checks.selection): they do not run, but
    # a required text stays the desk's own, left out of what matching counts as copied
    deselected: frozenset[str] = frozenset()

    @property
    def enabled_rules(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled and rule.id not in self.deselected]

    def runs(self, rule_id: str) -> bool:
        """Whether a rule of the pack, or a built-in, runs in this scan."""
        return rule_id not in self.deselected and all(rule.enabled for rule in self.rules if rule.id == rule_id)

    def fingerprint(self) -> str:
        """Changes whenever anything that decides findings changes (for incremental scans)."""
        payload = json.dumps(
            [[r.id, r.type, r.severity.value, r.enabled, str(r.scope), r.options, r.message, r.paths] for r in self.rules]
            + [self.matching.__dict__]
            # only when set, so that packs without them keep the fingerprints they had
            + ([{"require_reason": True}] if self.require_reason else [])
            + ([sorted(self.deselected)] if self.deselected else []),
            sort_keys=True, default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def default_pack_path() -> Path:
    return Path(str(resources.files("compliance") / "packs" / "default.yaml"))


def _resolve(reference: str, relative_to: Path | None) -> Path:
    if reference == DEFAULT_PACK:
        return default_pack_path()
    path = Path(reference)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to.parent / path
    return path


def _raw_pack(
    path: Path, seen: tuple[Path, ...], extended_from: tuple[str, int] | None = None,
) -> tuple[dict[str, LinedDict], list[str], dict[str, Any], list[str], dict[str, Any]]:
    """Rules by id (merged along `extends`), their order, matching settings, files read.

    Each merged rule keeps, per field, the file and line the field was written at, so that
    an error in an inherited field names the pack it stands in.
    """
    resolved = path.resolve()
    if resolved in seen:
        where, line = extended_from or (str(path), None)
        raise ComplianceError("'extends' makes a cycle: " + " -> ".join(str(p) for p in (*seen, resolved)), where, line)
    if not path.exists():
        raise ComplianceError("rule pack not found", str(path))
    data = load_lined_yaml(path)
    where = str(path)
    if not isinstance(data, LinedDict):
        raise ComplianceError("a rule pack must be a mapping with a 'rules' list", where, getattr(data, "line", 1))
    for key in data:
        if key not in _PACK_FIELDS:
            raise ComplianceError(f"unknown field '{key}' (known: {', '.join(sorted(_PACK_FIELDS))})", where, data.key_lines[key])
    if data.get("version", PACK_VERSION) != PACK_VERSION:
        raise ComplianceError(f"pack version {data.get('version')!r} is not supported (this tool reads version {PACK_VERSION})", where, data.key_lines["version"])
    rules: dict[str, LinedDict] = {}
    order: list[str] = []
    matching: dict[str, Any] = {}
    files: list[str] = []
    suppressions: dict[str, Any] = {}
    if "extends" in data:
        parent = data["extends"]
        if not isinstance(parent, str):
            raise ComplianceError("'extends' must name one pack ('default' or a path)", where, data.key_lines["extends"])
        parent_path = _resolve(parent, path)
        if not parent_path.exists():
            raise ComplianceError(f"'extends': rule pack {parent!r} not found", where, data.key_lines["extends"])
        if not parent_path.is_file():  # a folder, a device, a FIFO: said here, where the user wrote it
            raise ComplianceError(f"'extends': {parent!r} is not a regular file", where, data.key_lines["extends"])
        rules, order, matching, files, suppressions = _raw_pack(parent_path, (*seen, resolved), (where, data.key_lines["extends"]))
    files.append(where)
    if "matching" in data:
        if not isinstance(data["matching"], dict):
            raise ComplianceError("'matching' must be a mapping of settings", where, data.key_lines["matching"])
        matching = {**matching, **{k: (v, where, data["matching"].key_lines[k]) for k, v in data["matching"].items()}}
    if "suppressions" in data:
        settings = data["suppressions"]
        if not isinstance(settings, LinedDict):
            raise ComplianceError("'suppressions' must be a mapping (require_reason: true or false)", where, data.key_lines["suppressions"])
        for key, value in settings.items():
            if key not in _SUPPRESSION_FIELDS:
                raise ComplianceError(f"suppressions: unknown setting '{key}' (known: {', '.join(sorted(_SUPPRESSION_FIELDS))})",
                                      where, settings.key_lines[key])
            if not isinstance(value, bool):
                raise ComplianceError(f"suppressions: '{key}' must be true or false", where, settings.key_lines[key])
        suppressions = {**suppressions, **settings}
    entries = data.get("rules", LinedList())
    if not isinstance(entries, list):
        raise ComplianceError("'rules' must be a list", where, data.key_lines.get("rules", 1))
    for entry, entry_line in zip(entries, getattr(entries, "item_lines", [])):
        if not isinstance(entry, LinedDict):
            raise ComplianceError("each rule must be a mapping with at least an 'id'", where, entry_line)
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            raise ComplianceError("rule has no 'id'", where, entry.line)
        merged = LinedDict({**rules.get(rule_id, {}), **entry})
        merged.line = entry.line
        merged.key_lines = {**getattr(rules.get(rule_id), "key_lines", {}), **entry.key_lines}
        merged.key_origins = {  # type: ignore[attr-defined]
            **getattr(rules.get(rule_id), "key_origins", {}), **{key: where for key in entry},
        }
        merged.origin = where  # type: ignore[attr-defined]
        if rule_id not in rules:
            order.append(rule_id)
        rules[rule_id] = merged
    return rules, order, matching, files, suppressions


def _build_rule(raw: LinedDict) -> Rule:
    where = getattr(raw, "origin", "")

    def fail(message: str, key: str | None = None) -> ComplianceError:
        if key in raw.key_lines:
            return ComplianceError(f"rule '{raw.get('id')}': {message}", raw.key_origins[key], raw.key_lines[key])
        return ComplianceError(f"rule '{raw.get('id')}': {message}", where, raw.line)

    rule_type = raw.get("type")
    if rule_type is None:
        raise fail("has no 'type'")
    if not isinstance(rule_type, str) or rule_type not in RULE_TYPES:
        raise fail(f"unknown type {rule_type!r} (known: {', '.join(sorted(RULE_TYPES))})", "type")
    module = RULE_TYPES[rule_type]
    try:
        severity = Severity.parse(raw.get("severity", "error"))
    except ValueError as exc:
        raise fail(str(exc), "severity") from None
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("'enabled' must be true or false", "enabled")
    try:
        scope = Scope.parse(raw.get("scope", module.DEFAULT_SCOPE))
    except ValueError as exc:
        raise fail(str(exc), "scope") from None
    paths = raw.get("paths", [])
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise fail("'paths' must be a list of globs", "paths")
    try:
        check_globs(paths)
    except ValueError as exc:
        raise fail(f"'paths': {exc}", "paths") from None
    options_spec: dict[str, Option] = module.OPTIONS
    options: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _RULE_FIELDS:
            continue
        if key not in options_spec:
            known = sorted(_RULE_FIELDS | set(options_spec))
            inherited_from = raw.key_origins.get(key)
            if "type" in raw.key_origins and inherited_from != raw.key_origins["type"]:
                # the type was changed below the pack that set the option: the change is the user's to undo
                raise fail(f"type {rule_type} does not take option '{key}', which the rule inherits from "
                           f"{inherited_from}:{raw.key_lines[key]}; give a rule of another type an id of its own", "type")
            raise fail(f"unknown option '{key}' for type {rule_type} (known: {', '.join(known)})", key)
        try:
            options[key] = options_spec[key].validate(key, value)
        except ValueError as exc:
            raise fail(str(exc), key) from None
    for key, spec in options_spec.items():
        if key not in options:
            if spec.required:
                raise fail(f"type {rule_type} needs option '{key}'")
            options[key] = spec.default
    validate = getattr(module, "validate_options", None)
    if validate is not None:
        try:
            validate(options)
        except ValueError as exc:
            raise fail(str(exc)) from None
    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise fail("'message' must be text", "message")
    return Rule(
        id=raw["id"], type=rule_type, severity=severity, enabled=enabled, scope=scope, options=options,
        message=message, paths=tuple(paths), description=str(raw.get("description") or ""),
        origin=f"{where}:{raw.line}",
    )


def load_pack(reference: str | Path = DEFAULT_PACK) -> RulePack:
    """Load a pack by path (or 'default'), following `extends`. Raises ComplianceError; with
    every mistake the schema finds in the pack and those it extends, when there is one."""
    path = _resolve(str(reference), None)
    try:
        return _load_pack(path)
    except ComplianceError as error:
        from compliance.checks.schema import pack_chain, with_every_error

        raise with_every_error(error, pack_chain(path, _resolve)) from None


def _load_pack(path: Path) -> RulePack:
    raw_rules, order, matching, files, suppressions = _raw_pack(path, ())
    rules = [_build_rule(raw_rules[rule_id]) for rule_id in order]
    for key, (value, where, line) in matching.items():
        try:
            MatchSettings.from_mapping({key: value})
        except ValueError as exc:
            raise ComplianceError(f"matching: {exc}", where, line) from None
    settings = MatchSettings.from_mapping({key: value for key, (value, _, _) in matching.items()})
    return RulePack(rules, settings, files, require_reason=bool(suppressions.get("require_reason", False)))
