"""Which rules run: `select`, `extend_select` and `ignore`, as ruff has them.

The pack says which of its rules are enabled; the configuration file, then the command line,
may change that. Each layer, in that order: `select` (when given) replaces the set of rules
that run, `extend_select` adds to it, `ignore` takes away. `all` names every rule. So a flag
wins over the file, and the file over the pack.

The built-in rules that report a file itself (`input-unreadable`...) always run: a file that
was not checked must never pass unnoticed. The built-in rules about suppressions
(`suppression-unused`...) can be selected and ignored like a pack's rules.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compliance.errors import ComplianceError

if TYPE_CHECKING:
    from compliance.checks.rulepack import RulePack

ALL = "all"


@dataclass(frozen=True)
class RuleIds:
    """Rule ids as written, each with where it was written (`--select`, or `file:line`)."""

    ids: tuple[str, ...] = ()
    origins: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def from_flag(cls, flag: str, values: list[str] | None) -> RuleIds | None:
        """`--select a,b --select c`: comma-separated and repeatable, as ruff reads them."""
        if values is None:
            return None
        ids = tuple(part.strip() for value in values for part in value.split(",") if part.strip())
        return cls(ids, tuple((flag, None) for _ in ids))


@dataclass(frozen=True)
class Selection:
    """One layer: the configuration file's, or the command line's."""

    select: RuleIds | None = None
    extend_select: RuleIds = field(default_factory=RuleIds)
    ignore: RuleIds = field(default_factory=RuleIds)

    def __bool__(self) -> bool:
        return self.select is not None or bool(self.extend_select.ids) or bool(self.ignore.ids)


def _check_known(ids: RuleIds, key: str, known: set[str]) -> None:
    from compliance.checks.engine import FILE_RULES

    for rule_id, (where, line) in zip(ids.ids, ids.origins):
        if rule_id not in known:
            shown = ", ".join(sorted(known - {ALL}))
            if where.startswith("--"):
                raise ComplianceError(f"{where}: unknown rule '{rule_id}' (known: {ALL}, {shown})")
            raise ComplianceError(f"'{key}': unknown rule '{rule_id}' (known: {ALL}, {shown})", where, line)
        if key == "ignore" and rule_id in FILE_RULES:
            label = where if where.startswith("--") else f"'{key}'"
            raise ComplianceError(f"{label}: '{rule_id}' cannot be ignored: it reports a file that was not (fully) checked",
                                  None if where.startswith("--") else where, line)


def apply_selection(pack: RulePack, layers: list[Selection]) -> RulePack:
    """`pack` with its rules enabled or not as the layers say (later layers win).
    An unknown rule id is a ComplianceError naming the flag, or the file and line."""
    if not any(layers):
        return pack
    from compliance.checks.engine import BUILTIN_RULES, FILE_RULES  # the configuration imports this module: keep it light

    selectable = [rule.id for rule in pack.rules] + [r for r in BUILTIN_RULES if r not in FILE_RULES]
    known = {*selectable, *FILE_RULES, ALL}
    enabled = {rule_id for rule_id in selectable if pack.runs(rule_id)}

    def expand(ids: RuleIds) -> set[str]:
        return set(selectable) if ALL in ids.ids else set(ids.ids) - FILE_RULES

    for layer in layers:
        for key, ids in (("select", layer.select), ("extend_select", layer.extend_select), ("ignore", layer.ignore)):
            if ids is not None:
                _check_known(ids, key, known)
        if layer.select is not None:
            enabled = expand(layer.select)
        enabled |= expand(layer.extend_select)
        enabled -= expand(layer.ignore)
    # a rule the pack disables and a layer selects is enabled; one a layer turns off is deselected
    rules = [dataclasses.replace(rule, enabled=True) if rule.id in enabled and not rule.enabled else rule for rule in pack.rules]
    return dataclasses.replace(pack, rules=rules, deselected=frozenset(set(selectable) - enabled))
