"""Plan the fixes of a scan's findings, file by file, and prove each before it is kept.

For every finding that counts, the rule type that found it says how to fix it (`fix()` beside
`check()` in its module) or why it cannot. The edits of a file are made in memory, the file is
read again from them, and the rules run on it once more: a fix is kept only when its finding
is gone and nothing new appeared. Nothing here writes; `write.write_fixed` does.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from compliance.checks import check_document
from compliance.checks.engine import BUILTIN_RULES
from compliance.checks.rulepack import RulePack
from compliance.checks.rules import RULE_TYPES
from compliance.errors import ComplianceError, InputError
from compliance.fix.context import FixContext
from compliance.fix.edits import Fix, apply_edits, compatible
from compliance.fix.places import FileText
from compliance.ingest import DEFAULT_MAX_BYTES, parse_document
from compliance.ingest.read import decode, read_bytes
from compliance.model import Document, DocumentResult, Finding, Match

NOT_A_RULE = "a finding about the file itself (it could not be read or checked); not a text a fix can change"
CLASH = "its edit overlaps another fix's; run the fix again"
UNPROVEN = "the fixed file would still have this finding (or a new one), so the fix was not made; fix it by hand"
CHANGED = "the file changed since it was scanned; scan it again"
NOT_UTF8 = "the file is {codec}, not UTF-8: fixes write UTF-8 only, so fix it by hand (or save it as UTF-8)"


@dataclass
class FilePlan:
    """One file's fixes: its bytes before and after, what was fixed, what is left and why."""

    result: DocumentResult
    path: Path | None  # the file on disk; None when it could not be read
    before: bytes = b""
    after: bytes = b""
    fixed: list[Fix] = field(default_factory=list)
    left: list[tuple[Finding, str]] = field(default_factory=list)  # findings not fixed, and why

    @property
    def changes(self) -> bool:
        return self.after != self.before


def not_fixable_reason(rule_type: str) -> str:
    """Why findings of a rule type are never fixed: its module's FIX."""
    return getattr(RULE_TYPES[rule_type], "FIX", "no fix is known for it")


def plan_fixes(results: list[DocumentResult], pack: RulePack, max_bytes: int = DEFAULT_MAX_BYTES) -> list[FilePlan]:
    return [_plan_safely(result, pack, max_bytes) for result in results]


def _plan_safely(result: DocumentResult, pack: RulePack, max_bytes: int) -> FilePlan:
    """A bug of ours on one file leaves that file as it is, and the others are still fixed."""
    try:
        return _plan(result, pack, max_bytes)
    except Exception as exc:  # noqa: BLE001 - said on the file's findings, never a traceback
        why = f"fixing this file failed ({type(exc).__name__}: {exc}); it was left as it is; please report it"
        path = Path(result.document.file_path) if result.document and result.document.file_path else None
        return FilePlan(result, path, left=[(f, why) for f in result.findings if f.is_active])


def _plan(result: DocumentResult, pack: RulePack, max_bytes: int) -> FilePlan:
    active = [f for f in result.findings if f.is_active]
    document = result.document
    if document is None or not document.file_path:
        return FilePlan(result, None, left=[(f, NOT_A_RULE if f.rule in BUILTIN_RULES else CHANGED) for f in active])
    path = Path(document.file_path)
    plan = FilePlan(result, path)
    try:
        plan.before = plan.after = read_bytes(path, max_bytes)
        _, _, codec = decode(plan.before, document.format == "html", str(path))
        if codec != "utf-8":
            plan.left = [(f, NOT_UTF8.format(codec=codec)) for f in active]
            return plan
        file = FileText(plan.before, document.format)
        current = parse_document(file.text, path, document.path)
    except (InputError, ComplianceError, UnicodeDecodeError):
        plan.left = [(f, CHANGED) for f in active]
        return plan
    if current.blocks != document.blocks:
        plan.left = [(f, CHANGED) for f in active]
        return plan
    rules = {rule.id: rule for rule in pack.rules}
    fixes: list[tuple[Fix, Finding]] = []
    for finding in active:
        rule = rules.get(finding.rule)
        if rule is None:
            plan.left.append((finding, NOT_A_RULE if finding.rule in BUILTIN_RULES else "no rule of the pack has this id"))
            continue
        fixer = getattr(RULE_TYPES[rule.type], "fix", None)
        if fixer is None:
            plan.left.append((finding, f"not fixable: {not_fixable_reason(rule.type)}"))
            continue
        context = FixContext(file, current, rule, pack, tuple(result.matches), tuple(active))
        outcome = fixer(finding, context)
        if isinstance(outcome, Fix):
            fixes.append((outcome, finding))
        else:
            plan.left.append((finding, outcome))
    kept, clashing = compatible([fix for fix, _ in fixes])
    by_fix = {id(fix): finding for fix, finding in fixes}
    plan.left += [(by_fix[id(fix)], CLASH) for fix in clashing]
    proven = _proven(kept, current, file, result.matches, pack)
    plan.left += [(by_fix[id(fix)], UNPROVEN) for fix in kept if fix not in proven]
    plan.fixed = proven
    plan.after = apply_edits(plan.before, [edit for fix in proven for edit in fix.edits]) if proven else plan.before
    plan.left.sort(key=lambda item: (item[0].line, item[0].rule))
    return plan


def _proven(fixes: list[Fix], document: Document, file: FileText, matches: list[Match], pack: RulePack) -> list[Fix]:
    """The fixes that, made together, take their findings away and bring none: all of them if
    they can, else as many as can, one by one."""
    if not fixes:
        return []
    before = Counter(f.rule for f in check_document(document, matches, pack))

    def holds(chosen: list[Fix]) -> bool:
        data = apply_edits(file.data, [edit for fix in chosen for edit in fix.edits])
        try:
            fixed = parse_document(FileText(data, file.fmt).text, Path(document.file_path), document.path)
        except (InputError, ComplianceError, UnicodeDecodeError):
            return False
        after = Counter(f.rule for f in check_document(fixed, matches, pack))
        gone = Counter(fix.rule for fix in chosen)
        return all(after[rule] <= before[rule] - gone[rule] for rule in after.keys() | gone.keys())

    if holds(fixes):
        return fixes
    chosen: list[Fix] = []
    for fix in fixes:
        if holds([*chosen, fix]):
            chosen.append(fix)
    return chosen
