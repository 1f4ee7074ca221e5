"""The fetch settings of a scan: command-line flags over the configuration's `fetch:` section.

    fetch:
      enabled: true            # or simply `fetch: true`
      allow_hosts: [intranet.example]
      request_budget: 200
      cache: .compliance/http-cache.sqlite   # relative to the configuration file
      cache_lifetime: 7d       # seconds, or a number with s, m, h or d
      timeout: 15              # read timeout, seconds
"""
from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from compliance.errors import ComplianceError
from compliance.fetch.settings import FetchSettings

DEFAULT_CACHE = Path(".compliance") / "http-cache.sqlite"
_KEYS = {"enabled", "allow_hosts", "request_budget", "cache", "cache_lifetime", "timeout"}
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """Seconds from 3600, '3600', '90m', '12h' or '7d'; ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value).lower())
    if not found:
        raise ValueError(f"a duration is seconds or a number with s, m, h or d (e.g. 7d), not {value!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _duration_arg(value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return int(value)


def add_fetch_options(command: argparse.ArgumentParser, *, adding_source: bool | None = None) -> None:
    """The fetch flags, shared by the commands that scan and by `sources add`, whose help says
    what each does there: `sources add` fetches its one URL whatever --fetch says. Unless
    `adding_source` is given, it is told by the command's name."""
    if adding_source is None:
        adding_source = command.prog.split()[-2:] == ["sources", "add"]
    if adding_source:
        group = command.add_argument_group("fetching the page")
        fetch_help = "no effect here: `sources add` always fetches URL (from the HTTP cache when fresh)"
        offline_help = "take the page from the HTTP cache only, whatever its age; an error if it is not there"
        budget_help = "at most N HTTP requests for the page, each redirect counting as one (default: 200)"
    else:
        group = command.add_argument_group("verifying attributions online")
        fetch_help = "fetch pages that attribution lines link to (not in the catalogue) and compare them"
        offline_help = "like --fetch, but from the HTTP cache only"
        budget_help = "at most N HTTP requests per scan (default: 200)"
    group.add_argument("--fetch", action="store_true", default=None, help=fetch_help)
    group.add_argument("--offline", action="store_true", help=offline_help)
    group.add_argument("--allow-host", action="append", metavar="HOST",
                       help="allow fetching from this host even if it resolves to a private or loopback address (repeatable)")
    group.add_argument("--request-budget", type=_positive_int, metavar="N", help=budget_help)
    group.add_argument("--cache-lifetime", type=_duration_arg, metavar="DURATION",
                       help="reuse cached pages this long before revalidating, e.g. 3600, 12h, 7d (default: 7d)")
    group.add_argument("--http-cache", type=Path, metavar="FILE",
                       help="HTTP cache file (default: .compliance/http-cache.sqlite beside the configuration, or here)")


def config_fetch(value: Any, where: str, line: int | None, base: Path) -> dict[str, Any]:
    """Validate a configuration's `fetch:` value into FetchSettings fields (one-line errors)."""
    if isinstance(value, bool):
        return {"enabled": value}
    if not isinstance(value, dict):
        raise ComplianceError("'fetch' must be true, false or a mapping", where, line)
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise ComplianceError(f"unknown fetch setting '{unknown[0]}' (known: {', '.join(sorted(_KEYS))})", where, line)
    found: dict[str, Any] = {"enabled": bool(value.get("enabled", True))}
    key_lines = getattr(value, "key_lines", {})  # a LinedDict knows each key's line
    key = None
    try:
        for key in value:
            _check_key(key, value[key], found, base)
    except ValueError as exc:
        raise ComplianceError(f"fetch: {exc}", where, key_lines.get(key, line)) from None
    return found


def _check_key(key: str, value: Any, found: dict[str, Any], base: Path) -> None:
    """One `fetch:` setting into `found`; ValueError saying what is wrong."""
    if key == "allow_hosts":
        hosts = [value] if isinstance(value, str) else value
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise ValueError("'allow_hosts' must be a list of host names")
        found["allow_hosts"] = frozenset(hosts)
    elif key == "request_budget":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("'request_budget' must be a whole number of at least 1")
        found["request_budget"] = value
    elif key == "cache":
        if not isinstance(value, str):
            raise ValueError("'cache' must be a file name")
        found["cache_path"] = base / value
    elif key == "cache_lifetime":
        found["cache_lifetime"] = parse_duration(value)
    elif key == "timeout":
        found["read_timeout"] = parse_duration(value)


def fetch_settings(args: argparse.Namespace, configured: dict[str, Any], config_path: Path | None) -> FetchSettings:
    """Flags win over the configuration; the cache lives beside the configuration, or here."""
    settings = replace(FetchSettings(), **configured)
    base = config_path.parent if config_path else Path(".")
    changes: dict[str, Any] = {}
    if getattr(args, "fetch", None) or getattr(args, "offline", False):
        changes["enabled"] = True
    if getattr(args, "offline", False):
        changes["offline"] = True
    if getattr(args, "allow_host", None):
        changes["allow_hosts"] = settings.allow_hosts | frozenset(args.allow_host)
    if getattr(args, "request_budget", None):
        changes["request_budget"] = args.request_budget
    if getattr(args, "cache_lifetime", None) is not None:
        changes["cache_lifetime"] = args.cache_lifetime
    if getattr(args, "http_cache", None):
        changes["cache_path"] = args.http_cache
    elif settings.cache_path is None:
        changes["cache_path"] = base / DEFAULT_CACHE
    return replace(settings, **changes)
