"""forbidden-text: phrases that must not be published, such as scraping debris.

Patterns are regular expressions, matched case-insensitively against each block in scope.
A pattern that backtracks without end (`(a+)+$`) on some text is stopped after a time budget
per document, and the file gets a `check-timeout` finding instead of hanging the scan.

Options: `patterns` (required list).

PASSES (patterns: ["media playback is unsupported"])::

    Julian Assange has been arrested in London.

FAILS::

    Media playback is unsupported on your device
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import regex  # `re` with a timeout: a pack's pattern may backtrack for ever on some text

from compliance.checks.context import CheckContext
from compliance.checks.options import Option
from compliance.errors import CheckTimeout
from compliance.model import Finding

TYPE = "forbidden-text"
DEFAULT_SCOPE = "body"
FIX = "a human must decide how to reword the text"  # no `fix()`: never fixed automatically
OPTIONS = {"patterns": Option(list, required=True, help="regular expressions")}
BUDGET_SECONDS = 2.0  # all of the rule's patterns on one document


def validate_options(options: dict) -> None:
    for pattern in options["patterns"]:
        try:
            regex.compile(str(pattern))
        except regex.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None


def check(context: CheckContext) -> Iterator[Finding]:
    deadline = time.monotonic() + BUDGET_SECONDS
    for pattern in context.options["patterns"]:
        expression = regex.compile(str(pattern), regex.IGNORECASE)
        for block in context.blocks:
            try:
                found = expression.search(block.text, timeout=max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                raise CheckTimeout(f"pattern {str(pattern)!r} ran past {BUDGET_SECONDS:g}s on line {block.line}; "
                                   "the text was not fully checked (simplify the pattern)") from None
            if found:
                yield context.finding(f"forbidden text: \"{found.group(0)}\"", block, column=block.column + found.start() if block.line == block.end_line else block.column, excerpt=found.group(0), pattern=str(pattern))
