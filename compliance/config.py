"""Project configuration: `compliance.yaml` (or `[tool.compliance]` in pyproject.toml).

Found from the working directory upward, so CI or cron can run a bare `compliance scan`.
Paths in it are relative to the file, whose folder is the project root every file is named
from (`project_root`). Command-line flags win over it.

    paths: [reposts/]       # what `compliance scan` scans when no path is named
    sources: [sources/]
    rules: rules/desk.yaml
    fail_on: warning
    baseline: .compliance-baseline.json
    max_bytes: 5000000
    fetch: false            # true: verify credited links online (see compliance.fetch.options)
    index: .compliance/sources.idx      # --index
    state: .compliance/state.db         # --state (this is the default)
    notify: https://hooks.example/T0/B0/secret   # --notify; `--no-state` on the command line turns it off
    report_dir: reports                 # --report-dir
    format: [html, json]                # --format: one name or a list
    jobs: 2                             # --jobs
    keep_runs: 20                       # --keep-runs: html run folders kept, 0 keeps all
    lock_timeout: 300                   # --lock-timeout, seconds
    select: [all]                       # --select: the rules that run (default: the pack's enabled ones)
    extend_select: [excerpt-limit]      # --extend-select: run these too
    ignore: [caption-duplicated]        # --ignore: and not these (see compliance.checks.selection)
    waivers:
      - paths: ["partners/acme/*"]
        rules: [attribution-missing]
        reason: "ACME content is licensed without credit (contract 2024-17)"
        expires: 2025-12-31
    review_waivers: .compliance-waivers.yaml   # where `compliance review` appends accepted findings (the default)
"""
from __future__ import annotations

import datetime as dt
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from compliance.checks.selection import RuleIds, Selection
from compliance.checks.globs import check_globs
from compliance.checks.suppressions import Waiver
from compliance.checks.yamlfile import LinedDict, load_lined_yaml
from compliance.errors import ComplianceError
from compliance.ingest.read import read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_NAMES = ("compliance.yaml", ".compliance.yaml")
_KEYS = {"paths", "sources", "rules", "fail_on", "baseline", "waivers", "max_bytes", "fetch",
         "index", "state", "notify", "report_dir", "format", "jobs", "keep_runs", "lock_timeout",
         "select", "extend_select", "ignore", "review_waivers"}
_WAIVER_KEYS = {"paths", "rules", "reason", "expires", "fingerprints", "reviewer", "date", "content_hash"}
# The file of waivers `compliance review` writes (a reviewer accepted a finding), in the project
# root unless `review_waivers:` names another; every scan reads it when it is there.
DEFAULT_REVIEW_WAIVERS = ".compliance-waivers.yaml"
FAIL_ON_CHOICES = ("error", "warning", "info", "never")


@dataclass
class Config:
    path: Path | None = None
    paths: list[Path] = field(default_factory=list)  # the reposts a bare `compliance scan` scans
    sources: list[Path] = field(default_factory=list)
    rules: str | None = None
    fail_on: str | None = None
    baseline: Path | None = None
    max_bytes: int | None = None
    waivers: list[Waiver] = field(default_factory=list)
    fetch: dict[str, Any] = field(default_factory=dict)  # FetchSettings fields (compliance.fetch.options)
    # what a scheduled `scan` would otherwise need flags for
    index: Path | None = None
    state: Path | None = None
    notify: str | None = None
    report_dir: Path | None = None
    formats: list[str] = field(default_factory=list)
    jobs: int | None = None
    keep_runs: int | None = None
    lock_timeout: float | None = None
    selection: Selection = field(default_factory=Selection)  # select, extend_select, ignore
    review_waivers: Path | None = None  # `review_waivers:`; see review_waivers_path


def find_config(start: Path) -> Path | None:
    """The nearest configuration file, named relative to `start` as messages show it."""
    for folder in (start.resolve(), *start.resolve().parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return Path(os.path.relpath(folder / name, start))
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "compliance" in _read_toml(pyproject).get("tool", {}):
            return Path(os.path.relpath(pyproject, start))
    return None


def project_root(config_path: Path | None, working_folder: Path) -> Path:
    """The folder every file is named from (resolved): the configuration file's folder, else the
    top of the git work tree holding the working folder, else the working folder, as ruff and
    pre-commit do. Reports, baselines, the state and waivers then name a file the same way
    whichever folder a scan runs from or is pointed at."""
    if config_path is not None:
        return config_path.resolve().parent
    here = working_folder.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():  # a folder, or a file in a linked work tree or submodule
            return folder
    return here


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path, 1024 * 1024))
    except RecursionError:
        raise ComplianceError("cannot read TOML: nested too deeply", str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ComplianceError(f"cannot read TOML: {exc}", str(path)) from None


def _line(data: Any, key: str | None = None) -> int | None:
    if isinstance(data, LinedDict):
        return data.key_lines.get(key, data.line) if key else data.line
    return None


def _list_of_text(value: Any, what: str, where: str, line: int | None) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ComplianceError(f"'{what}' must be a list of text", where, line)
    return value


def _waiver(entry: Any, where: str, line: int | None) -> Waiver:
    if not isinstance(entry, dict):
        raise ComplianceError("each waiver must be a mapping with paths, rules and reason", where, line)
    line = _line(entry) or line
    for key in entry:
        if key not in _WAIVER_KEYS:
            raise ComplianceError(f"unknown waiver field '{key}' (known: {', '.join(sorted(_WAIVER_KEYS))})", where, _line(entry, key) or line)
    for key in ("paths", "rules", "reason"):
        if not entry.get(key):
            raise ComplianceError(f"waiver needs '{key}'", where, line)
    reason = entry["reason"]
    if not isinstance(reason, str):
        raise ComplianceError("waiver 'reason' must be text", where, _line(entry, "reason") or line)
    expires, decided = (_waiver_date(entry, key, where, line) for key in ("expires", "date"))
    reviewer = entry.get("reviewer", "")
    if not isinstance(reviewer, str):
        raise ComplianceError("waiver 'reviewer' must be text", where, _line(entry, "reviewer") or line)
    fingerprints = _list_of_text(entry["fingerprints"], "fingerprints", where, _line(entry, "fingerprints") or line) if "fingerprints" in entry else []
    content_hash = entry.get("content_hash", "")
    if not isinstance(content_hash, str):
        raise ComplianceError("waiver 'content_hash' must be text", where, _line(entry, "content_hash") or line)
    paths = _list_of_text(entry["paths"], "paths", where, line)
    try:
        check_globs(paths)
    except ValueError as exc:
        raise ComplianceError(f"waiver 'paths': {exc}", where, _line(entry, "paths") or line) from None
    return Waiver(
        tuple(paths), tuple(_list_of_text(entry["rules"], "rules", where, line)),
        reason, expires, f"{where}:{line}" if line else where, tuple(fingerprints), reviewer, decided, content_hash,
    )


def _waiver_date(entry: dict[str, Any], key: str, where: str, line: int | None) -> dt.date | None:
    value = entry.get(key)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ComplianceError(f"waiver '{key}' must be a date (YYYY-MM-DD), not {value!r}", where, _line(entry, key) or line) from None
    if isinstance(value, dt.datetime):
        return value.date()
    if value is not None and not isinstance(value, dt.date):
        raise ComplianceError(f"waiver '{key}' must be a date (YYYY-MM-DD)", where, _line(entry, key) or line)
    return value


def _waiver_list(waivers: Any, where: str, line: int | None) -> list[Waiver]:
    if not isinstance(waivers, list):
        raise ComplianceError("'waivers' must be a list", where, line)
    item_lines = getattr(waivers, "item_lines", [None] * len(waivers))
    return [_waiver(entry, where, item_line) for entry, item_line in zip(waivers, item_lines)]


def review_waivers_path(config: Config, working_folder: Path) -> Path:
    """Where `compliance review` appends accepted findings, and every scan reads them from."""
    return config.review_waivers or project_root(config.path, working_folder) / DEFAULT_REVIEW_WAIVERS


def load_waiver_file(path: Path) -> list[Waiver]:
    """The waivers of a review waivers file (`waivers:` holding a list, as in the configuration);
    none when there is no such file yet."""
    if not path.exists():
        return []
    data = load_lined_yaml(path)
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"waivers"}:
        raise ComplianceError("a waivers file holds one key, 'waivers:', with a list of waivers", str(path), _line(data))
    return _waiver_list(data.get("waivers") or [], str(path), _line(data, "waivers"))


def _whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _formats(value: Any, where: str, line: int | None) -> list[str]:
    from compliance.report import FORMATS

    known = sorted([*FORMATS, "html"])
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ComplianceError(f"'format' must be a format name or a list of them ({', '.join(known)})", where, line)
    item_lines = getattr(names, "item_lines", [line] * len(names))
    for name, item_line in zip(names, item_lines):
        if name not in known:
            raise ComplianceError(f"unknown format {name!r} (known: {', '.join(known)})", where, item_line)
    return list(names)


def _rule_ids(data: dict[str, Any], key: str, where: str) -> RuleIds:
    """A list of rule ids, each with its line: an unknown one is reported once the pack is known."""
    line = _line(data, key)
    ids = _list_of_text(data[key], key, where, line)
    lines = getattr(ids, "item_lines", [line] * len(ids))
    return RuleIds(tuple(ids), tuple((where, item_line) for item_line in lines))


def _scheduling(data: dict[str, Any], config: Config, where: str, base: Path) -> None:
    """The settings of a scheduled scan (`index` to `lock_timeout`) into `config`."""
    for key in ("index", "state", "report_dir"):
        if key in data:
            if not isinstance(data[key], str) or not data[key]:
                raise ComplianceError(f"'{key}' must be a {'folder' if key == 'report_dir' else 'file'} name", where, _line(data, key))
            setattr(config, key, base / data[key])
    if "notify" in data:
        url = data["notify"]
        try:
            valid = isinstance(url, str) and urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).hostname)
        except ValueError:
            valid = False
        if not valid:  # the value is not shown: a webhook URL carries its secret
            raise ComplianceError("'notify' must be an http(s) URL", where, _line(data, "notify"))
        config.notify = url
    if "format" in data:
        config.formats = _formats(data["format"], where, _line(data, "format"))
    if "jobs" in data:
        if not _whole(data["jobs"], 1):
            raise ComplianceError("'jobs' must be a whole number of at least 1", where, _line(data, "jobs"))
        config.jobs = data["jobs"]
    if "keep_runs" in data:
        if not _whole(data["keep_runs"], 0):
            raise ComplianceError("'keep_runs' must be a whole number (0 keeps every run)", where, _line(data, "keep_runs"))
        config.keep_runs = data["keep_runs"]
    if "lock_timeout" in data:
        seconds = data["lock_timeout"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or math.isnan(seconds) or seconds < 0:
            raise ComplianceError("'lock_timeout' must be a number of seconds, 0 or more", where, _line(data, "lock_timeout"))
        config.lock_timeout = float(seconds)


def load_config(path: Path) -> Config:
    """Raises ComplianceError; ComplianceErrors with every mistake the schema finds, when there is one."""
    try:
        return _load_config(path)
    except ComplianceError as error:
        from compliance.checks.schema import with_every_error

        raise with_every_error(error, [("config", path)]) from None


def _load_config(path: Path) -> Config:
    where = str(path)
    if path.name == "pyproject.toml":
        data = _read_toml(path).get("tool", {}).get("compliance", {})
    else:
        data = load_lined_yaml(path) or {}
    if not isinstance(data, dict):
        raise ComplianceError("configuration must be a mapping", where, _line(data))
    for key in data:
        if key not in _KEYS:
            raise ComplianceError(f"unknown setting '{key}' (known: {', '.join(sorted(_KEYS))})", where, _line(data, key))
    base = path.parent
    config = Config(path=path)
    if "paths" in data:
        config.paths = [base / p for p in _list_of_text(data["paths"], "paths", where, _line(data, "paths"))]
    if "sources" in data:
        config.sources = [base / p for p in _list_of_text(data["sources"], "sources", where, _line(data, "sources"))]
    if "rules" in data:
        rules = data["rules"]
        if not isinstance(rules, str):
            raise ComplianceError("'rules' must name one rule pack", where, _line(data, "rules"))
        config.rules = rules if rules == "default" else str(base / rules)
    if "fail_on" in data:
        if data["fail_on"] not in FAIL_ON_CHOICES:
            raise ComplianceError(f"'fail_on' must be one of {', '.join(FAIL_ON_CHOICES)}", where, _line(data, "fail_on"))
        config.fail_on = data["fail_on"]
    if "baseline" in data:
        if not isinstance(data["baseline"], str):
            raise ComplianceError("'baseline' must be a file name", where, _line(data, "baseline"))
        config.baseline = base / data["baseline"]
    if "max_bytes" in data:
        if isinstance(data["max_bytes"], bool) or not isinstance(data["max_bytes"], int) or data["max_bytes"] <= 0:
            raise ComplianceError("'max_bytes' must be a positive whole number", where, _line(data, "max_bytes"))
        config.max_bytes = data["max_bytes"]
    if "fetch" in data:
        from compliance.fetch.options import config_fetch

        config.fetch = config_fetch(data["fetch"], where, _line(data, "fetch"), base)
    _scheduling(data, config, where, base)
    if {"select", "extend_select", "ignore"} & set(data):
        config.selection = Selection(
            _rule_ids(data, "select", where) if "select" in data else None,
            _rule_ids(data, "extend_select", where) if "extend_select" in data else RuleIds(),
            _rule_ids(data, "ignore", where) if "ignore" in data else RuleIds(),
        )
    if "review_waivers" in data:
        if not isinstance(data["review_waivers"], str) or not data["review_waivers"]:
            raise ComplianceError("'review_waivers' must be a file name", where, _line(data, "review_waivers"))
        config.review_waivers = base / data["review_waivers"]
    config.waivers = _waiver_list(data.get("waivers") or [], where, _line(data, "waivers"))
    return config
