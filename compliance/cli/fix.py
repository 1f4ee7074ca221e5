"""`compliance fix` and `scan --fix` / `--diff`: make the fixes the rule types offer, as
`ruff check --fix` and `ruff check --diff` do. The command only wires: rule modules say how
to fix (compliance.fix), the planner proves each fix, one writer writes the files."""
from __future__ import annotations

import argparse
import difflib
import sys
from typing import Callable

from compliance.errors import ComplianceError
from compliance.fix.places import FileText
from compliance.fix.run import FilePlan, plan_fixes
from compliance.fix.write import write_fixed
from compliance.ingest import DEFAULT_MAX_BYTES
from compliance.model import Severity
from compliance.report.text import count, terminal_safe

DIFF_HELP = "print a unified diff of the fixes and change no file; exit 1 when there is something to fix, 0 when not"


def add_fix_command(commands, add_scan_inputs: Callable[[argparse.ArgumentParser], None]) -> None:
    command = commands.add_parser(
        "fix", help="fix the findings whose fix is certain (a missing credit or disclaimer, a duplicated caption), "
                    "rewriting the reposts in place",
        description="Scan, then fix in place what can be fixed with certainty, atomically and byte for byte otherwise; "
                    "list what remains, with why it is not fixed. Exit 0 when no finding at or above fail_on remains, 1 when "
                    "some do (with --diff: 1 when there is something to fix), 2 on usage or catalogue errors. See docs/fixing.md.")
    add_scan_inputs(command)
    command.add_argument("--diff", action="store_true", help=DIFF_HELP)
    command.add_argument("-q", "--quiet", action="store_true", help="print only what remains to fix by hand, and errors")


def add_scan_fix_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--fix", action="store_true",
                         help="first fix what can be fixed (as `compliance fix`), then scan and report what remains")
    command.add_argument("--diff", action="store_true", help=DIFF_HELP + " (no report)")


def run_fix(args: argparse.Namespace, scan: Callable[[], tuple], fail_on: str, report: bool = True) -> int:
    """Scan, plan the fixes, then show them (`--diff`) or write them. `scan` is the CLI's scan,
    returning (pack, result, ...); `report` False leaves what remains to the scan's report."""
    pack, result = scan()[:2]
    if result.catalogue_errors:
        raise ComplianceError("not fixing: the catalogue has errors (see above), and a fix made against part of it "
                              "could credit the wrong source")
    plans = plan_fixes(result.documents, pack, getattr(args, "max_bytes", None) or DEFAULT_MAX_BYTES)
    changing = [plan for plan in plans if plan.changes]
    fixed = sum(len(plan.fixed) for plan in plans)
    if args.diff:
        for plan in changing:
            sys.stdout.write(unified_diff(plan))
        left = sum(len(plan.left) for plan in plans)
        print(f"Would fix {count(fixed, 'finding')} in {count(len(changing), 'file')}"
              f"{f' ({left} to fix by hand)' if left else ''}.", file=sys.stderr)
        return 1 if changing else 0
    for plan in changing:
        try:
            write_fixed(plan.path, plan.before, plan.after)
        except ComplianceError as error:
            print(f"compliance: error: {error}", file=sys.stderr)
            plan.left = sorted([*plan.left, *((finding, "the file could not be written") for finding in _findings_of(plan))],
                               key=lambda item: (item[0].line, item[0].rule))
            plan.fixed = []
    fixed = sum(len(plan.fixed) for plan in plans)
    remaining = [(plan, finding, why) for plan in plans for finding, why in plan.left]
    quiet = getattr(args, "quiet", False)
    out = sys.stdout if report else sys.stderr
    if not quiet:
        for plan in plans:
            for fix in plan.fixed:
                out.write(terminal_safe(f"{plan.result.path}:{fix.line}: fixed {fix.rule}: {fix.description}") + "\n")
    if report:
        for plan, finding, why in remaining:
            out.write(terminal_safe(f"{plan.result.path}:{finding.line}:{finding.column}: {finding.severity.value} "
                                    f"{finding.rule} {finding.message} ({why})") + "\n")
    if not quiet or remaining and report:
        out.write(f"Found {count(fixed + len(remaining), 'finding')} ({fixed} fixed, {len(remaining)} remaining).\n")
    threshold = None if fail_on == "never" else Severity(fail_on)
    fails = threshold is not None and any(f.severity.rank >= threshold.rank for _, f, _ in remaining)
    return 1 if fails else 0


def _findings_of(plan: FilePlan):
    by_line = {(fix.rule, fix.line) for fix in plan.fixed}
    return [f for f in plan.result.findings if f.is_active and (f.rule, f.line) in by_line]


def unified_diff(plan: FilePlan) -> str:
    """The plan's change as `diff -u` shows it, line endings left out and anything a terminal
    would act on escaped (reposts are anyone's text)."""
    fmt = plan.result.format
    before = FileText(plan.before, fmt).text.splitlines(keepends=True)
    after = FileText(plan.after, fmt).text.splitlines(keepends=True)
    out = []
    for line in difflib.unified_diff(before, after, f"a/{plan.result.path}", f"b/{plan.result.path}"):
        text = line.rstrip("\r\n")
        out.append(terminal_safe(text) + "\n")
        if text == line and not line.startswith(("---", "+++", "@@")):
            out.append("\\ No newline at end of file\n")
    return "".join(out)
