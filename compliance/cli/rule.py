"""`compliance rule ID` and `compliance rule --all`: what a rule checks, as `ruff rule` says it."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compliance.checks.ruledoc import all_rule_docs, known_names, reference_markdown, rule_doc, to_markdown, to_text
from compliance.errors import ComplianceError
from compliance.report.text import terminal_safe


def add_rule_command(commands) -> None:
    command = commands.add_parser("rule", help="explain a rule: what it checks, its options and examples")
    command.add_argument("rule_id", nargs="?", metavar="ID", help="a rule id of the pack, a built-in rule, or a rule type")
    command.add_argument("--all", action="store_true", help="every rule of the pack, the types it does not use, and the built-ins")
    command.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                         help="text (default), json, or markdown (as docs/rules-reference.md)")
    command.add_argument("--rules", metavar="FILE", help="rule pack (default: the bundled default pack)")
    command.add_argument("--config", type=Path, metavar="FILE", help="configuration file")


def run_rule(args: argparse.Namespace, pack) -> int:
    if args.all == (args.rule_id is not None):
        raise ComplianceError("name one rule (compliance rule ID), or --all")
    if args.all:
        docs = all_rule_docs(pack)
        if args.format == "json":
            sys.stdout.write(json.dumps([d.as_dict() for d in docs], indent=2, ensure_ascii=False) + "\n")
        elif args.format == "markdown":
            sys.stdout.write(reference_markdown(pack))
        else:
            sys.stdout.write(terminal_safe("\n".join(to_text(d) for d in docs)))  # a pack's option values: anyone's text
        return 0
    doc = rule_doc(pack, args.rule_id)
    if doc is None:
        raise ComplianceError(f"unknown rule '{args.rule_id}' (known: {', '.join(known_names(pack))})")
    if args.format == "json":
        sys.stdout.write(json.dumps(doc.as_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(to_markdown(doc, 1) if args.format == "markdown" else terminal_safe(to_text(doc)))
    return 0
