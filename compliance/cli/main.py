"""`compliance` command line.

Exit codes: 0 no finding at or above --fail-on; 1 there are; 2 usage, configuration,
catalogue or rule-pack errors. User errors are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compliance import __version__
from compliance.checks import BUILTIN_RULES, load_pack
from compliance.checks.rulepack import DEFAULT_PACK, RulePack
from compliance.errors import ComplianceError
from compliance.ingest import DEFAULT_MAX_BYTES
from compliance.model import Severity
from compliance.pipeline import scan
from compliance.checks.rules import RULE_TYPES
from compliance.report import FORMATS, ReportInput, RuleInfo, write_atomic

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_ON_CHOICES = ("error", "warning", "info", "never")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compliance", description="Check reposted articles before and after they are published.")
    parser.add_argument("--version", action="version", version=f"compliance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan_cmd = commands.add_parser("scan", help="scan reposts and report findings")
    scan_cmd.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="repost files or folders (walked recursively)")
    scan_cmd.add_argument("--sources", action="append", type=Path, default=[], metavar="PATH",
                          help="source catalogue: a folder of files with front matter, or a .jsonl file (repeatable)")
    scan_cmd.add_argument("--rules", default=DEFAULT_PACK, metavar="FILE", help="rule pack (default: the bundled default pack)")
    scan_cmd.add_argument("--format", choices=sorted(FORMATS), default="text", help="report format (default: text)")
    scan_cmd.add_argument("--output", type=Path, metavar="FILE", help="write the report here (atomically) instead of stdout")
    scan_cmd.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default="error",
                          help="exit 1 when a finding is at least this severe (default: error)")
    scan_cmd.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                          help=f"files larger than this are reported as input-too-large (default: {DEFAULT_MAX_BYTES})")
    scan_cmd.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    rules_cmd = commands.add_parser("rules", help="list the rules in force")
    rules_cmd.add_argument("--rules", default=DEFAULT_PACK, metavar="FILE", help="rule pack (default: the bundled default pack)")
    return parser


def _rule_infos(pack: RulePack) -> list[RuleInfo]:
    infos = []
    for rule in pack.rules:
        doc = (RULE_TYPES[rule.type].__doc__ or "").strip()
        summary = doc.split("\n", 1)[0].split(": ", 1)[-1]
        infos.append(RuleInfo(rule.id, rule.type, rule.severity, rule.description or summary, doc))
    for rule_id, (severity, description) in BUILTIN_RULES.items():
        infos.append(RuleInfo(rule_id, "built-in", severity, description))
    return infos


def _fails(report: ReportInput) -> bool:
    return any(f.is_active and report.fails_gate(f.severity) for d in report.documents for f in d.findings)


def _run_scan(args: argparse.Namespace) -> int:
    pack = load_pack(args.rules)
    for path in args.paths:
        if not path.exists():
            raise ComplianceError("no such file or folder", str(path))
    result = scan(args.paths, args.sources, pack, args.max_bytes)
    for error in result.catalogue_errors:
        print(f"compliance: error: {error}", file=sys.stderr)
    report_input = ReportInput(
        result.documents, _rule_infos(pack), None if args.fail_on == "never" else Severity(args.fail_on),
        {"skipped_files": result.skipped_files, "sources": result.source_count},
    )
    report = FORMATS[args.format](report_input)
    if args.output:
        write_atomic(args.output, report)
        if not args.quiet and args.format != "text":
            sys.stdout.write(FORMATS["text"](report_input))
    elif not args.quiet or args.format != "text":
        sys.stdout.write(report)
    if result.catalogue_errors:
        return EXIT_USAGE
    return EXIT_FINDINGS if _fails(report_input) else EXIT_OK


def _list_rules(pack: RulePack) -> str:
    rows = [("ID", "TYPE", "SEVERITY", "ENABLED", "SCOPE", "DEFINED IN")]
    for rule in pack.rules:
        rows.append((rule.id, rule.type, rule.severity.value, "yes" if rule.enabled else "no", str(rule.scope), rule.origin))
    for rule_id, (severity, _) in BUILTIN_RULES.items():
        rows.append((rule_id, "built-in", severity.value, "yes", "file", "compliance"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "scan":
            return _run_scan(args)
        sys.stdout.write(_list_rules(load_pack(args.rules)))
        return EXIT_OK
    except ComplianceError as error:
        print(f"compliance: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("compliance: interrupted", file=sys.stderr)
        return 130
