"""Errors a user can act on. The CLI prints them as one line and exits 2; never a traceback."""
from __future__ import annotations


class ComplianceError(Exception):
    """A problem in something the user wrote: a rule pack, a source, a flag."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class ComplianceErrors(ComplianceError):
    """Several problems in what the user wrote, found at once (a schema check of a whole file):
    shown one to a line, each with its file and line and the CLI's prefix, as one error would be."""

    def __init__(self, errors: list[ComplianceError]):
        super().__init__(errors[0].message, errors[0].path, errors[0].line)
        self.errors = errors

    def __str__(self) -> str:
        return "\ncompliance: error: ".join(ComplianceError.__str__(error) for error in self.errors)


class InputError(ComplianceError):
    """A repost that cannot be read; it becomes a finding, and the scan goes on."""

    def __init__(self, rule: str, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message, path, line)
        self.rule = rule


class CheckTimeout(Exception):
    """A rule ran past its time budget on one document: a finding on that file, not a hang."""
