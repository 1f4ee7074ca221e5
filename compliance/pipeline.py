"""A scan, start to end: ingest -> similarity -> checks. Reports read its result."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from compliance.checks import check_document
from compliance.checks.engine import BUILTIN_RULES, required_texts
from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver, apply_directives, apply_waivers
from compliance.errors import ComplianceError, InputError
from compliance.ingest import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, discover, load_document
from compliance.model import Document, DocumentResult, Finding, Match
from compliance.similarity import Matcher, load_catalogue
from compliance.state.cache import ScanCache


@dataclass
class ScanResult:
    documents: list[DocumentResult]
    skipped_files: int = 0
    source_count: int = 0
    catalogue_errors: list[ComplianceError] = field(default_factory=list)
    rechecked: int = 0  # documents checked in this run; the others came from the state


def _unreadable(error: InputError, report_path: str, fmt: str, location: str) -> DocumentResult:
    severity = BUILTIN_RULES[error.rule][0]
    finding = Finding(error.rule, severity, error.message, line=error.line or 1, end_line=error.line or 1)
    return DocumentResult(report_path, fmt, "", None, [finding], location=location)


def _location(file: Path) -> str:
    """The file relative to the working folder, with forward slashes (as git and CI name it)."""
    return Path(os.path.relpath(file.resolve(), Path.cwd().resolve())).as_posix()


class _LazyMatcher:
    """Builds the matcher on the first document that needs it: a rescan whose documents all come
    from the state never fingerprints the catalogue."""

    def __init__(self, build: Callable[[], Matcher]):
        self._build = build
        self._matcher: Matcher | None = None

    def build(self) -> Matcher:
        if self._matcher is None:
            self._matcher = self._build()
        return self._matcher

    def match(self, document: Document) -> Match | None:
        return self.build().match(document)


def _check_file(file: Path, report_path: str, location: str, matcher: _LazyMatcher, pack: RulePack, max_bytes: int,
                waivers: list[Waiver], today: dt.date) -> DocumentResult:
    fmt = SUPPORTED_SUFFIXES[file.suffix.lower()]
    try:
        document = load_document(file, report_path, max_bytes)
    except InputError as error:
        return _unreadable(error, report_path, fmt, location)
    matcher.build()  # outside the guard below: a catalogue that cannot be indexed is not one file's crash
    try:
        match = matcher.match(document)
        findings = apply_directives(document, check_document(document, match, pack))
    except Exception as exc:  # a bug of ours must not cost the desk the rest of its scan
        crash = Finding("internal-error", BUILTIN_RULES["internal-error"][0],
                        f"compliance failed on this file ({type(exc).__name__}: {exc}); please report it")
        return DocumentResult(report_path, document.format, document.title, None, [crash], document, location)
    findings = apply_waivers((report_path, location), findings, waivers, today)
    return DocumentResult(report_path, document.format, document.title, match, findings, document, location)


def scan(
    paths: list[Path], source_paths: list[Path], pack: RulePack, max_bytes: int = DEFAULT_MAX_BYTES,
    only: set[Path] | None = None, waivers: list[Waiver] | None = None, today: dt.date | None = None,
    cache: ScanCache | None = None, progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Scan the reposts under `paths` (only those in `only`, when given) against the catalogue.

    With a `cache` (the state of earlier runs), documents whose result still holds are taken
    from it and only the others are checked; `progress(done, total)` follows the files.
    """
    catalogue = load_catalogue(source_paths)
    matcher = _LazyMatcher(lambda: Matcher(catalogue.sources, pack.matching, required_texts(pack)))
    found = discover(paths)
    if cache is not None:
        cache.prepare(catalogue.sources, paths, found.files)
    if only is not None:
        found.files = [(file, name) for file, name in found.files if file.resolve() in only]
    today = today or dt.date.today()
    results = [
        _unreadable(InputError("input-unreadable", f"cannot read folder: {why}", str(folder)), name, "folder", _location(folder))
        for folder, name, why in found.unreadable
    ]
    rechecked = 0
    for done, (file, report_path) in enumerate(found.files, 1):
        location = _location(file)
        result = cache.lookup(file, report_path, location) if cache is not None else None
        if result is None:
            result = _check_file(file, report_path, location, matcher, pack, max_bytes, waivers or [], today)
            rechecked += 1
            if cache is not None:
                cache.record(file, result)
        results.append(result)
        if progress is not None:
            progress(done, len(found.files))
    return ScanResult(results, found.skipped, len(catalogue.sources), catalogue.errors, rechecked)
