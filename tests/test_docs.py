"""The README and docs/ say nothing about the command line that is not so."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from conftest import ROOT

from compliance.cli.main import _parser
from compliance.config import _KEYS

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    flags = {option for action in parser._actions for option in action.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= _flags(sub)
    return flags


def test_the_readme_is_a_front_door_under_200_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 200


# Flags of other commands a page shows: `ray start --head`, benchmarks/bench_cluster.py's.
OTHER_COMMANDS_FLAGS = {"cluster.md": {"--head", "--reposts", "--dev"}}


def test_every_flag_the_docs_name_exists():
    known = _flags(_parser())
    named = {}
    for page in PAGES:
        if page.name in ("performance.md", "development.md"):
            continue  # they show the benchmark's and the evaluation's scripts
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", page.read_text(encoding="utf-8")):
            if flag not in OTHER_COMMANDS_FLAGS.get(page.name, ()):
                named.setdefault(flag, page.name)
    unknown = {flag: page for flag, page in named.items() if flag not in known}
    assert not unknown, f"flags the CLI does not have: {unknown}"


def test_every_configuration_key_in_the_table_exists_and_every_key_is_documented():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", page, re.MULTILINE))
    assert documented - _KEYS == set()
    assert _KEYS - documented == set(), "keys the configuration page does not describe"


def test_relative_links_lead_somewhere():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not re.match(r"[a-z]+:", target) and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken
