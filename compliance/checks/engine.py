"""Run the rules of a pack over one document and the sources it copies."""
from __future__ import annotations

from collections.abc import Sequence

from compliance.checks.context import CheckContext
from compliance.checks.rulepack import RulePack
from compliance.checks.rules import RULE_TYPES
from compliance.errors import CheckTimeout
from compliance.model import Document, Finding, Match, PageCheck, Severity

# Findings the scan itself raises about files it cannot read; not configurable by packs.
BUILTIN_RULES = {
    "input-unreadable": (Severity.ERROR, "the file cannot be read as text (binary, not UTF-8, bad front matter...)"),
    "input-too-large": (Severity.ERROR, "the file is over the size limit (--max-bytes)"),
    "internal-error": (Severity.ERROR, "compliance itself failed on the file: a bug to report"),
    "check-timeout": (Severity.ERROR, "a rule ran past its time budget on the file, which was not fully checked"),
    # about suppressions, as ruff flags an unused `noqa`: a stale one would hide the next real finding
    "suppression-unused": (Severity.WARNING, "a suppression comment or waiver that suppresses nothing in this scan"),
    "suppression-unknown-rule": (Severity.WARNING, "a suppression comment or waiver names a rule id that no rule has"),
    "suppression-no-reason": (Severity.WARNING, "a suppression comment gives no reason, and the pack requires one"),
}
# The built-ins about a file itself always run (`compliance.checks.selection`): a file that was
# not checked must never pass unnoticed.
FILE_RULES = frozenset({"input-unreadable", "input-too-large", "internal-error", "check-timeout"})


def required_texts(pack: RulePack) -> tuple[str, ...]:
    """Texts the desk adds to every repost: matching leaves them out of what it counts."""
    # enabled by the pack, whether or not this scan selects the rule: `--ignore disclaimer-missing`
    # must not change what matching counts as copied
    return tuple(rule.options["text"] for rule in pack.rules if rule.enabled and rule.type == "required-text")


def check_document(document: Document, matches: Sequence[Match] | Match | None, pack: RulePack,
                   pages: list[PageCheck] | None = None) -> list[Finding]:
    """`matches`: every source the document copies, the one it copies most of first (or that one alone)."""
    copied = tuple(matches) if isinstance(matches, Sequence) else (matches,) if matches is not None else ()
    findings: list[Finding] = []
    desk_texts = required_texts(pack)
    shared: dict = {}
    for rule in pack.enabled_rules:
        if not rule.applies_to(document.path):
            continue
        context = CheckContext(document, copied[0] if copied else None, rule.scope.select(document), rule,
                               tuple(pages or ()), desk_texts, shared, copied)
        try:
            findings.extend(RULE_TYPES[rule.type].check(context))
        except CheckTimeout as exc:  # the other rules still check the file
            findings.append(Finding("check-timeout", BUILTIN_RULES["check-timeout"][0], f"{rule.id}: {exc}"))
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))
