"""`compliance schema config|rulepack`: the shipped JSON Schema, for an editor to point at."""
from __future__ import annotations

import argparse
import sys

from compliance.checks.schema import SCHEMA_FILES, schema_path


def add_schema_command(commands) -> None:
    command = commands.add_parser("schema", help="print the JSON Schema of the configuration file or of rule packs")
    command.add_argument("name", choices=sorted(SCHEMA_FILES), help="config or rulepack")
    command.add_argument("--path", action="store_true", help="print where the installed schema file is instead")


def run_schema(args: argparse.Namespace) -> int:
    path = schema_path(args.name)
    sys.stdout.write(f"{path}\n" if args.path else path.read_text(encoding="utf-8"))
    return 0
