"""In-document suppressions, written by editors who have checked a finding by hand.

    <!-- compliance: ignore attribution-missing -- licensed by email, see ticket 42 -->
    compliance: ignore caption-duplicated -- the photo is shown twice on purpose   (.txt)

A directive on the line right above a paragraph covers that paragraph; anywhere else it
covers the whole document. Several rules are separated by commas; `all` covers every rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENT = re.compile(r"<!--\s*compliance:\s*ignore\s+(?P<body>.*?)\s*-->", re.IGNORECASE | re.DOTALL)
_TEXT_LINE = re.compile(r"^[ \t]*compliance:\s*ignore\s+(?P<body>.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
NO_REASON = "no reason given"


@dataclass(frozen=True)
class Directive:
    rules: tuple[str, ...]  # rule ids, or ("all",)
    reason: str
    line: int  # where the directive is
    end_line: int  # its last line; a paragraph starting on the next line is its target

    def covers_rule(self, rule: str) -> bool:
        return "all" in self.rules or rule in self.rules


def _parse(body: str, line: int, end_line: int) -> Directive:
    rules_part, _, reason = body.partition("--")
    rules = tuple(r.strip() for r in re.split(r"[,\s]+", rules_part) if r.strip())
    return Directive(rules or ("all",), reason.strip() or NO_REASON, line, end_line)


def find_directives(text: str, fmt: str) -> list[Directive]:
    if text.isascii() and "compliance" not in text.lower():  # nearly every repost: no regex needed
        return []
    pattern = _TEXT_LINE if fmt == "txt" else _COMMENT
    found = []
    for match in pattern.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        end_line = line + match.group(0).count("\n")
        found.append(_parse(" ".join(match.group("body").split()), line, end_line))
    return found


def blank_text_directives(text: str) -> str:
    """Directive lines are not article text: blank them, keeping every other line where it is."""
    return _TEXT_LINE.sub("", text)
