"""`--select`, `--extend-select` and `--ignore` on the commands that scan."""
from __future__ import annotations

import argparse

from compliance.checks.rulepack import RulePack
from compliance.checks.selection import RuleIds, Selection, apply_selection
from compliance.config import Config


def add_selection_options(command: argparse.ArgumentParser) -> None:
    for flag, what in (("--select", "run only these rules (`all`: every rule)"),
                       ("--extend-select", "run these rules too"),
                       ("--ignore", "do not run these rules")):
        command.add_argument(flag, action="append", metavar="RULE[,RULE...]",
                             help=f"{what}; comma-separated, repeatable; wins over the configuration's "
                                  f"`{flag[2:].replace('-', '_')}`, which wins over the pack")


def flag_selection(args: argparse.Namespace) -> Selection:
    return Selection(
        RuleIds.from_flag("--select", getattr(args, "select", None)),
        RuleIds.from_flag("--extend-select", getattr(args, "extend_select", None)) or RuleIds(),
        RuleIds.from_flag("--ignore", getattr(args, "ignore", None)) or RuleIds(),
    )


def selected(pack: RulePack, args: argparse.Namespace, config: Config) -> RulePack:
    """The pack with the rules the configuration, then the flags, select (flags win)."""
    return apply_selection(pack, [config.selection, flag_selection(args)])
