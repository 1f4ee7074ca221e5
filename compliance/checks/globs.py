"""Path globs of rule packs (`paths:`) and waivers, matched against a file's project path.

Patterns follow .gitignore (pathspec's GitIgnoreSpec): `*` stays within a folder, `**` spans
folders, a folder matches everything under it. A pattern without a leading `/` matches at
any depth (`nasa-*`, `partners/acme/*` match under any scanned folder, as they did when paths
were named from the scanned folder); a leading `/` anchors it to the project root.

    waivers:
      - paths: ["partners/acme/"]       # reposts/partners/acme/a.md, archive/partners/acme/b.md
      - paths: ["/reposts/2024-*.md"]  # reposts/2024-01.md, not archive/reposts/2024-01.md

pathspec turns each glob into a regular expression for `re`, which backtracks without end on
some globs: `*a*a*a*a*a*a*a*a*a*ab` took 30 s against a name of forty a's, and a few more
stars take hours. Its expressions are matched here by `regex` instead (the same syntax, which
settles such a glob in milliseconds), with a time limit besides.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import pathspec
import regex

from compliance.errors import ComplianceError

GLOB_SECONDS = 1.0  # one glob against one path: far beyond any real one


class _Bounded:
    """Stands in for a pattern's compiled `re` expression, which pathspec calls `match` on."""

    __slots__ = ("expression", "pattern", "flags", "glob")

    def __init__(self, compiled_re, glob: str):
        self.pattern, self.flags, self.glob = compiled_re.pattern, compiled_re.flags, glob
        self.expression = regex.compile(compiled_re.pattern, compiled_re.flags)  # regex takes re's flag values

    def _bounded(self, method: str, text: str, *args):
        try:
            return getattr(self.expression, method)(text, *args, timeout=GLOB_SECONDS)
        except TimeoutError:
            raise ComplianceError(f"path glob {self.glob!r} ran past {GLOB_SECONDS:g}s on {text!r}; simplify it") from None

    def match(self, text: str, *args):
        return self._bounded("match", text, *args)

    def search(self, text: str, *args):  # what pathspec 1.x calls
        return self._bounded("search", text, *args)

    def fullmatch(self, text: str, *args):
        return self._bounded("fullmatch", text, *args)


def _floating(pattern: str) -> str:
    return pattern if pattern.startswith(("/", "**/")) or not pattern.strip() else "**/" + pattern


@lru_cache(maxsize=256)
def compiled(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    """ValueError (pathspec's) for a glob that is not one, such as `x\\` (a trailing backslash)."""
    with warnings.catch_warnings():  # `[[:alpha:]]`: re's FutureWarning about nested sets, on stderr
        warnings.simplefilter("ignore")
        spec = pathspec.GitIgnoreSpec.from_lines([_floating(p) for p in patterns])
        for pattern, glob in zip(spec.patterns, patterns):
            if getattr(pattern, "regex", None) is not None:
                try:
                    pattern.regex = _Bounded(pattern.regex, glob)
                except regex.error:  # `[[:alpha:]]` reads as a POSIX class to regex, a plain set to re: re's it stays
                    pass
    return spec


def check_globs(patterns: list[str] | tuple[str, ...]) -> None:
    """Raise ValueError naming the first glob pathspec refuses: said when a pack or a
    configuration loads, not as an internal error on the first file matched."""
    for pattern in patterns:
        try:
            compiled((pattern,))
        except ValueError:
            raise ValueError(f"{pattern!r} is not a glob (a trailing backslash?)") from None


def matches(patterns: tuple[str, ...], path: str) -> bool:
    """Whether the project path (forward slashes, from the project root) matches any pattern."""
    return compiled(patterns).match_file(path)
