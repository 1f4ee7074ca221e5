"""`--statistics` and `--show-source` on the commands that print the text report, and colour
on a terminal only (NO_COLOR, FORCE_COLOR)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from compliance.report.context import ReportInput
from compliance.report.text import TextOptions, to_text, wants_color


def add_text_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--statistics", action="store_true",
                         help="count findings per rule instead of listing them (text report)")
    command.add_argument("--show-source", action="store_true",
                         help="under each finding, the lines of the file it points at, underlined (text report)")


@dataclass(frozen=True)
class TextReport:
    """The text report for a file (never coloured) and for the terminal (coloured if it is one)."""

    options: TextOptions = TextOptions()

    @classmethod
    def of(cls, args: argparse.Namespace, root: Path) -> TextReport:
        return cls(TextOptions(statistics=bool(getattr(args, "statistics", False)),
                               show_source=bool(getattr(args, "show_source", False)), root=root))

    def file(self, report: ReportInput) -> str:
        return to_text(report, self.options)

    def terminal(self, report: ReportInput) -> str:
        return to_text(report, replace(self.options, color=wants_color(sys.stdout)))
