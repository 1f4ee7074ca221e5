"""`compliance test DIR`: check a rule pack against annotated fixture reposts, as `semgrep
--test` checks rules against annotated code.

Each fixture says which findings it expects on which line:

    <!-- expect: attribution-missing, caption-duplicated -->     (.md, .html: a line of its own)
    # expect: attribution-missing                                (.txt: a line of its own)

expect those rules' findings on the next line that is not itself an annotation (findings point
at the first line of a paragraph); at the end of a line (`... text <!-- expect: RULE -->`, or
`... text  # expect: RULE` in .txt), on that line. A rule named twice is expected twice.
Annotations are blanked out before the scan (lines keep their numbers), so they change
nothing a rule sees. Sources for the fixtures live in DIR/sources/. Every active finding
(not suppressed) must be expected, and every expectation met.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from compliance.checks.engine import BUILTIN_RULES
from compliance.checks.rulepack import RulePack
from compliance.errors import ComplianceError
from compliance.ingest.discover import SUPPORTED_SUFFIXES
from compliance.report.text import count, terminal_safe

_RULES = r"(?P<rules>[A-Za-z0-9_.-]+(?:\s*,\s*[A-Za-z0-9_.-]+)*)"
_COMMENT_LINE = re.compile(r"^\s*<!--\s*expect:\s*" + _RULES + r"\s*-->\s*$")
_COMMENT_TRAILING = re.compile(r"\s*<!--\s*expect:\s*" + _RULES + r"\s*-->\s*$")
_HASH_LINE = re.compile(r"^\s*#\s*expect:\s*" + _RULES + r"\s*$")
_HASH_TRAILING = re.compile(r"\s+#\s*expect:\s*" + _RULES + r"\s*$")
SOURCES = "sources"


@dataclass
class Fixture:
    path: Path  # as the user named it, for messages
    relative: str  # from DIR, as the scan names it
    text: str  # with the annotations blanked out
    expected: Counter = field(default_factory=Counter)  # (line, rule) -> how many
    lines: dict[str, int] = field(default_factory=dict)  # rule -> a line naming it (for unknown rule ids)


def parse_fixture(text: str, fmt: str) -> tuple[str, Counter, dict[str, int]]:
    """(the text with annotations blanked, expected (line, rule) counts, rule -> annotation line)."""
    whole, trailing = (_HASH_LINE, _HASH_TRAILING) if fmt == "txt" else (_COMMENT_LINE, _COMMENT_TRAILING)
    lines = text.split("\n")
    expected: Counter = Counter()
    named: dict[str, int] = {}
    pending: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        number = index + 1
        if m := whole.match(line):
            pending += [(rule.strip(), number) for rule in m.group("rules").split(",")]
            lines[index] = ""
            continue
        for rule, at in pending:
            expected[(number, rule)] += 1
            named.setdefault(rule, at)
        pending = []
        if m := trailing.search(line):
            for rule in m.group("rules").split(","):
                expected[(number, rule.strip())] += 1
                named.setdefault(rule.strip(), number)
            lines[index] = line[:m.start()]
    for rule, at in pending:  # an annotation on the last line expects a finding after the end
        expected[(len(lines) + 1, rule)] += 1
        named.setdefault(rule, at)
    return "\n".join(lines), expected, named


def _fixtures(folder: Path) -> list[Fixture]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] == SOURCES or not path.is_file() or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ComplianceError(f"cannot read fixture: {exc}", str(path)) from None
        blanked, expected, named = parse_fixture(text, SUPPORTED_SUFFIXES[path.suffix.lower()])
        found.append(Fixture(path, relative.as_posix(), blanked, expected, named))
    return found


@dataclass
class Outcome:
    fixture: Fixture
    missing: list[tuple[int, str]]
    unexpected: list[tuple[int, str, str]]  # line, rule, message
    unknown: list[tuple[int, str]]
    found: int

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unexpected or self.unknown)


def run_fixtures(folder: Path, pack: RulePack) -> list[Outcome]:
    from compliance.pipeline import scan

    fixtures = _fixtures(folder)
    if not fixtures:
        raise ComplianceError(f"no fixtures ({', '.join(sorted(SUPPORTED_SUFFIXES))} files outside {SOURCES}/)", str(folder))
    sources = [folder / SOURCES] if (folder / SOURCES).is_dir() else []
    known = {rule.id for rule in pack.rules} | set(BUILTIN_RULES)
    with tempfile.TemporaryDirectory(prefix="compliance-test-") as scratch:
        root = Path(scratch)
        for fixture in fixtures:
            copy = root / fixture.relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(fixture.text, encoding="utf-8")
        result = scan([root], sources, pack, today=dt.date.today(), project_root=root, jobs=1)
    if result.catalogue_errors:
        raise result.catalogue_errors[0]
    by_path = {d.path: d for d in result.documents}
    outcomes = []
    for fixture in fixtures:
        document = by_path.get(fixture.relative)
        active = [f for f in (document.findings if document else []) if f.is_active]
        actual = Counter((f.line, f.rule) for f in active)
        missing = sorted((actual_key for actual_key in (fixture.expected - actual).elements()))
        extra = actual - fixture.expected
        unexpected = []
        for f in active:
            if extra[(f.line, f.rule)] > 0:
                extra[(f.line, f.rule)] -= 1
                unexpected.append((f.line, f.rule, f.message))
        unknown = sorted((line, rule) for rule, line in fixture.lines.items() if rule not in known)
        missing = [(line, rule) for line, rule in missing if rule in known]
        outcomes.append(Outcome(fixture, missing, sorted(unexpected), unknown, len(active)))
    return outcomes


def describe(outcomes: list[Outcome], verbose: bool = False) -> tuple[str, bool]:
    """The report (each failure, file by file, then a summary line) and whether all passed."""
    lines = []
    for outcome in outcomes:
        name = terminal_safe(str(outcome.fixture.path))
        if outcome.passed:
            if verbose:
                lines.append(f"ok    {name} ({count(outcome.found, 'finding')} as expected)")
            continue
        lines.append(f"FAIL  {name}")
        for line, rule in outcome.unknown:
            lines.append(f"  {name}:{line}: expects '{terminal_safe(rule)}', which is no rule of this pack")
        for line, rule in outcome.missing:
            lines.append(f"  {name}:{line}: expected {terminal_safe(rule)}, not found")
        for line, rule, message in outcome.unexpected:
            lines.append(f"  {name}:{line}: unexpected {terminal_safe(rule)}: {terminal_safe(message)}")
    failed = [o for o in outcomes if not o.passed]
    missing = sum(len(o.missing) for o in failed)
    unexpected = sum(len(o.unexpected) for o in failed)
    unknown = sum(len(o.unknown) for o in failed)
    summary = f"{count(len(outcomes), 'fixture')}: {len(outcomes) - len(failed)} passed, {len(failed)} failed"
    if failed:
        details = [f"{count(missing, 'expected finding')} missing"] if missing else []
        details += [f"{count(unexpected, 'unexpected finding')}"] if unexpected else []
        details += [f"{count(unknown, 'unknown rule')} expected"] if unknown else []
        summary += f" ({', '.join(details)})"
    lines.append(summary)
    return "\n".join(lines) + "\n", not failed


def add_test_command(commands) -> None:
    command = commands.add_parser("test", help="check a rule pack against fixture reposts annotated with the findings they expect")
    command.add_argument("folder", type=Path, metavar="DIR", help="fixture reposts (and their sources in DIR/sources/)")
    command.add_argument("--rules", metavar="FILE", help="rule pack (default: the configuration's, else the bundled default pack)")
    command.add_argument("--config", type=Path, metavar="FILE", help="configuration file (its `rules` is the default pack)")
    command.add_argument("-v", "--verbose", action="store_true", help="list the fixtures that passed too")


def run_test(args: argparse.Namespace, pack: RulePack) -> int:
    if not args.folder.is_dir():
        raise ComplianceError("no such folder", str(args.folder))
    report, passed = describe(run_fixtures(args.folder, pack), args.verbose)
    sys.stdout.write(report)
    return 0 if passed else 1
