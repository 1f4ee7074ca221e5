"""A scan, start to end: ingest -> similarity -> checks. Reports read its result."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from compliance.checks import check_document
from compliance.checks.engine import BUILTIN_RULES, required_texts
from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver, apply_directives, apply_waivers
from compliance.errors import ComplianceError, InputError
from compliance.fetch import FetchSettings
from compliance.fetch.client import FetchStats
from compliance.fetch.verify import open_verifier
from compliance.ingest import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, discover, load_document
from compliance.model import DocumentResult, Finding
from compliance.similarity import Matcher, load_catalogue


@dataclass
class ScanResult:
    documents: list[DocumentResult]
    skipped_files: int = 0
    source_count: int = 0
    catalogue_errors: list[ComplianceError] = field(default_factory=list)
    fetch_stats: FetchStats | None = None  # when credited pages were fetched (--fetch)


def _unreadable(error: InputError, report_path: str, fmt: str, location: str) -> DocumentResult:
    severity = BUILTIN_RULES[error.rule][0]
    finding = Finding(error.rule, severity, error.message, line=error.line or 1, end_line=error.line or 1)
    return DocumentResult(report_path, fmt, "", None, [finding], location=location)


def _location(file: Path) -> str:
    """The file relative to the working folder, with forward slashes (as git and CI name it)."""
    return Path(os.path.relpath(file.resolve(), Path.cwd().resolve())).as_posix()


def scan(
    paths: list[Path], source_paths: list[Path], pack: RulePack, max_bytes: int = DEFAULT_MAX_BYTES,
    only: set[Path] | None = None, waivers: list[Waiver] | None = None, today: dt.date | None = None,
    fetch: FetchSettings | None = None,
) -> ScanResult:
    """Scan the reposts under `paths` (only those in `only`, when given) against the catalogue."""
    catalogue = load_catalogue(source_paths)
    matcher = Matcher(catalogue.sources, pack.matching, required_texts(pack))
    verifier = open_verifier(fetch, catalogue.sources, pack.matching, required_texts(pack)) if fetch and fetch.enabled else None
    found = discover(paths)
    if only is not None:
        found.files = [(file, name) for file, name in found.files if file.resolve() in only]
    today = today or dt.date.today()
    results = [
        _unreadable(InputError("input-unreadable", f"cannot read folder: {why}", str(folder)), name, "folder", _location(folder))
        for folder, name, why in found.unreadable
    ]
    for file, report_path in found.files:
        fmt = SUPPORTED_SUFFIXES[file.suffix.lower()]
        location = _location(file)
        try:
            document = load_document(file, report_path, max_bytes)
        except InputError as error:
            results.append(_unreadable(error, report_path, fmt, location))
            continue
        try:
            match = matcher.match(document)
            web = verifier.verify(document) if verifier else None
            match = match or (web.match if web else None)  # the catalogue wins; a credited page it copies is next best
            findings = apply_directives(document, check_document(document, match, pack, web.checks if web else None))
        except Exception as exc:  # a bug of ours must not cost the desk the rest of its scan
            crash = Finding("internal-error", BUILTIN_RULES["internal-error"][0],
                            f"compliance failed on this file ({type(exc).__name__}: {exc}); please report it")
            results.append(DocumentResult(report_path, document.format, document.title, None, [crash], document, location))
            continue
        findings = apply_waivers((report_path, location), findings, waivers or [], today)
        results.append(DocumentResult(report_path, document.format, document.title, match, findings, document, location))
    if verifier:
        verifier.close()
    return ScanResult(results, found.skipped, len(catalogue.sources), catalogue.errors,
                      verifier.fetcher.stats if verifier else None)
