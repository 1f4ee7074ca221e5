"""In-document suppressions, written by editors who have checked a finding by hand.

    <!-- compliance: ignore attribution-missing -- licensed by email, see ticket 42 -->
    compliance: ignore caption-duplicated -- the photo is shown twice on purpose   (.txt)

A directive on the line right above a paragraph covers that paragraph; anywhere else it
covers the whole document. Several rules are separated by commas; `all` covers every rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENT_DIRECTIVE = re.compile(r"\s*compliance:\s*ignore(?:\s+|$)", re.IGNORECASE)
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


def _comments(text: str):
    """(start, end, inside) of each HTML comment, as a browser reads them: from `<!--` to the
    first `-->` after it. One pass: 10,000 unclosed comments took 76 s with a lazy regex."""
    start = text.find("<!--")
    while start != -1:
        end = text.find("-->", start + 4)
        if end == -1:
            return  # unclosed: so is every later one
        yield start, end + 3, text[start + 4:end]
        start = text.find("<!--", end + 3)


def find_directives(text: str, fmt: str) -> list[Directive]:
    if text.isascii() and "compliance" not in text.lower():  # nearly every repost: no regex needed
        return []
    if fmt == "txt":
        spans = ((m.start(), m.end(), m.group("body")) for m in _TEXT_LINE.finditer(text))
    else:
        spans = ((start, end, inside[m.end():]) for start, end, inside in _comments(text)
                 if (m := _COMMENT_DIRECTIVE.match(inside)))
    found, line, counted = [], 1, 0
    for start, end, body in spans:
        line += text.count("\n", counted, start)  # counted on from the last directive, not from the top
        counted = start
        end_line = line + text.count("\n", start, end)
        found.append(_parse(" ".join(body.split()), line, end_line))
    return found


def blank_text_directives(text: str) -> str:
    """Directive lines are not article text: blank them, keeping every other line where it is."""
    return _TEXT_LINE.sub("", text)
