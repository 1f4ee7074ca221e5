"""forbidden-text: phrases that must not be published, such as scraping debris.

Patterns are regular expressions, matched case-insensitively against each block in scope.

Options: `patterns` (required list).

PASSES (patterns: ["media playback is unsupported"])::

    Julian Assange has been arrested in London.

FAILS::

    Media playback is unsupported on your device
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from compliance.checks.context import CheckContext
from compliance.checks.options import Option
from compliance.model import Finding

TYPE = "forbidden-text"
DEFAULT_SCOPE = "body"
OPTIONS = {"patterns": Option(list, required=True, help="regular expressions")}


def validate_options(options: dict) -> None:
    for pattern in options["patterns"]:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None


def check(context: CheckContext) -> Iterator[Finding]:
    for pattern in context.options["patterns"]:
        expression = re.compile(str(pattern), re.IGNORECASE)
        for block in context.blocks:
            found = expression.search(block.text)
            if found:
                yield context.finding(f"forbidden text: \"{found.group(0)}\"", block, column=block.column + found.start() if block.line == block.end_line else block.column, excerpt=found.group(0), pattern=str(pattern))
