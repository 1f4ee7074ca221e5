"""GitHub Actions workflow commands: one annotation per active finding, nothing else.

    ::error file=PATH,line=L,col=C,endLine=E,title=RULE::MESSAGE

`error`, `warning` or `notice` by severity. Suppressed findings are left out. Values are
escaped as the Actions runner expects, so that a path or message cannot end the command
early or inject another one.
"""
from __future__ import annotations

from compliance.model import Finding, Severity
from compliance.report.context import ReportInput

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    """The message, after `::`."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A `key=value` property: also `:` and `,`, which would end the value."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(path: str, finding: Finding) -> str:
    line = max(1, finding.line)
    properties = {
        "file": path,
        "line": str(line),
        "col": str(max(1, finding.column)),
        "endLine": str(max(line, finding.end_line or line)),
        "title": finding.rule,
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMANDS[finding.severity]} {joined}::{escape_data(finding.message)}"


def to_github(report: ReportInput) -> str:
    lines = [annotation(d.repository_path, f) for d in report.ordered for f in d.findings if f.is_active]
    return "".join(line + "\n" for line in lines)
