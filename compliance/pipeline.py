"""A scan, start to end: ingest -> similarity -> checks. Reports read its result."""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping

import numpy as np

from compliance.checks import check_document
from compliance.checks.attribution import credit_test
from compliance.checks.engine import BUILTIN_RULES, required_texts
from compliance.checks.hygiene import directive_findings
from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver, apply_directives, apply_waivers
from compliance.state.incremental import content_hash as file_hash
from compliance.errors import ComplianceError, InputError
from compliance.fetch.settings import FetchSettings, FetchStats
from compliance.ingest import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, discover, parse_document, read_text
from compliance.ingest.discover import RealPaths, project_path
from compliance.model import Document, DocumentResult, Finding, LookupTrace, Match, Source
from compliance.similarity import Matcher, load_catalogue
from compliance.similarity.matcher import Candidates
from compliance.similarity import kernels
from compliance.similarity.catalogue import Catalogue, is_large, list_catalogue
from compliance.similarity.index import BandIndex, IndexParameters, fingerprinting_workers, keys_of_all
from compliance.similarity import store as store_module
from compliance.similarity.store import IndexStore, SyncReport, build_index, content_hash
from compliance.state.cache import ScanCache
from compliance.state.lock import StateLock
from compliance.workers import can_fork, worker_pool

if TYPE_CHECKING:
    from compliance.cluster.scan import ClusterScan
    from compliance.fetch.verify import WebVerifier


@dataclass
class ScanResult:
    documents: list[DocumentResult]
    skipped_files: int = 0
    source_count: int = 0
    catalogue_errors: list[ComplianceError] = field(default_factory=list)
    fetch_stats: FetchStats | None = None  # when credited pages were fetched (--fetch)
    rechecked: int = 0  # documents checked in this run; the others came from the state
    links_skipped: list[str] = field(default_factory=list)  # links leading out of the scanned folders


def _unreadable(error: InputError, report_path: str, fmt: str, location: str) -> DocumentResult:
    severity = BUILTIN_RULES[error.rule][0]
    finding = Finding(error.rule, severity, error.message, line=error.line or 1, end_line=error.line or 1)
    return DocumentResult(report_path, fmt, "", None, [finding], location=location)


def _location(path: Path, project_root: Path) -> str:
    """The path relative to the project root, with forward slashes (as git and CI name it)."""
    return project_path(str(path.resolve()), str(project_root))


@dataclass
class _Checker:
    """Checks one repost file: everything a worker process needs, inherited when it forks."""

    matcher: Matcher
    pack: RulePack
    max_bytes: int
    waivers: list[Waiver]
    today: dt.date
    verifier: WebVerifier | None = None  # credited pages are fetched and compared (--fetch)
    project_root: Path = field(default_factory=lambda: Path.cwd().resolve())  # resolved once per scan: files are named from it
    keep_texts: bool = True  # False when no report shows texts: results travel back from workers lighter
    render_row: Callable[[DocumentResult], str] | None = None  # a JSON report's line, rendered by the workers
    real_paths: RealPaths = field(default_factory=RealPaths)  # shared with the state, which resolved them first

    def check_all(self, files: list[tuple[Path, str]]) -> list[DocumentResult]:
        """Files checked stage by stage: all read, then all parsed, then all looked up in the
        index, then all verified, then all checked by the rules. Each stage's code and data stay
        in the processor's caches from one document to the next, where checking a document at
        a time had the index's random reads evict them every time (10,000 reposts against
        100,000 sources: 15 % less of the workers' time)."""
        return self.check_read([self._read(file, report_path) for file, report_path in files])

    def check_read(self, chunk: list[_InProgress]) -> list[DocumentResult]:
        """`check_all` of files read already (a cluster reads them where the scan runs)."""
        self._stage(chunk, lambda item: setattr(item, "document", parse_document(item.text, item.file, item.report_path)))
        self._look_up(chunk)
        self._stage(chunk, lambda item: setattr(item, "matches", self.matcher.matches(item.candidates, credit_test(item.document))))
        self._stage(chunk, self._conclude)
        return [item.result for item in chunk]

    def _look_up(self, chunk: list[_InProgress]) -> None:
        self._stage(chunk, lambda item: setattr(item, "candidates", self.matcher.find_candidates(item.document)))

    def _waivers_for(self, item: _InProgress) -> list[Waiver]:
        """The waivers, less those a reviewer accepted for another content of this file."""
        if not any(waiver.content_hash for waiver in self.waivers):
            return self.waivers
        hashed: list[str] = []

        def current() -> str:
            if not hashed:
                try:
                    hashed.append(file_hash(item.file.read_bytes()))
                except OSError:
                    hashed.append("")
            return hashed[0]
        paths = (item.report_path, item.location)
        return [waiver for waiver in self.waivers if waiver.for_content(paths, current)]

    def _read(self, file: Path, report_path: str) -> _InProgress:
        item = _InProgress(file, report_path, self.real_paths.location(file, self.project_root))
        try:
            item.text = read_text(file, self.max_bytes)
        except InputError as error:
            item.result = _unreadable(error, report_path, item.format, item.location)
        return item

    @staticmethod
    def _stage(chunk: list[_InProgress], step: Callable[[_InProgress], object]) -> None:
        for item in chunk:
            if item.result is not None:
                continue
            try:
                step(item)
            except InputError as error:  # parsing: bad front matter, say
                item.result = _unreadable(error, item.report_path, item.format, item.location)
            except ComplianceError:
                raise  # the index or configuration is broken for every document: say so once
            except Exception as exc:  # a bug of ours must not cost the desk the rest of its scan
                crash = Finding("internal-error", BUILTIN_RULES["internal-error"][0],
                                f"compliance failed on this file ({type(exc).__name__}: {exc}); please report it")
                title = item.document.title if item.document else ""
                item.result = DocumentResult(item.report_path, item.format, title, None, [crash], item.document, item.location)

    def _conclude(self, item: _InProgress) -> None:
        document = item.document
        assert document is not None
        self._conclude_checks(item, document)
        if self.matcher.keep_keys and item.result is not None:
            candidates = item.candidates
            item.result.lookup = LookupTrace(candidates.keys if candidates is not None and candidates.keys is not None
                                             else np.zeros(0, np.uint64),
                                             tuple(number for number, _ in candidates.ranked) if candidates is not None else ())

    def _conclude_checks(self, item: _InProgress, document: Document) -> None:
        web = self.verifier.verify(document) if self.verifier else None
        # the catalogue wins; a credited page it copies is next best
        matches = item.matches or ([web.match] if web and web.match else [])
        findings = apply_directives(document, check_document(document, matches, self.pack, web.checks if web else None))
        if document.directives:  # stale, unknown or reasonless suppressions are findings too (checks.hygiene)
            findings = sorted([*findings, *directive_findings(document, findings, self.pack, self.verifier is not None)],
                              key=lambda f: (f.line, f.column, f.rule))
        findings = apply_waivers((item.report_path, item.location), findings, self._waivers_for(item), self.today)
        item.result = DocumentResult(item.report_path, document.format, document.title, matches[0] if matches else None,
                                     findings, document, item.location, matches=matches)


@dataclass
class _InProgress:
    """A file between the stages of `_Checker.check_all`: its result once it has one (the file
    could not be read, or checking it failed), which the later stages leave alone."""

    file: Path
    report_path: str
    location: str
    text: str = ""
    document: Document | None = None
    result: DocumentResult | None = None
    candidates: Candidates | None = None
    matches: list[Match] = field(default_factory=list)

    @property
    def format(self) -> str:
        return SUPPORTED_SUFFIXES[self.file.suffix.lower()]


_worker_checker: _Checker | None = None
_worker_files: list[tuple[Path, str]] | None = None
_PARALLEL_FROM = 64  # fewer files than this are checked faster than worker processes start
CHUNK = 32  # files checked stage by stage together (see `_Checker.check_all`), and sent to a worker at once


def _collect_rarely() -> None:
    """A worker collects garbage, but a young generation of 20,000 objects, not 700: checking a
    document allocates thousands that die with it, and the worker's caches (sources, normalised
    texts) grow, so that the default's frequent collections walked them again and again."""
    gc.set_threshold(20_000, 10, 10)
    gc.enable()


def _as_sent_back(result: DocumentResult) -> DocumentResult:
    assert _worker_checker is not None
    if not _worker_checker.keep_texts:
        result = result.without_texts()
    if _worker_checker.render_row:
        result.json_row = _worker_checker.render_row(result)
    return result


def _check_chunk(bounds: tuple[int, int]) -> list[DocumentResult]:
    assert _worker_checker is not None and _worker_files is not None
    return [_as_sent_back(result) for result in _worker_checker.check_all(_worker_files[bounds[0]:bounds[1]])]


def check_files(checker: _Checker, files: list[tuple[Path, str]], jobs: int, progress=None) -> list[DocumentResult]:
    """Results in the order of `files`; on `jobs` forked processes when there are enough files.

    Workers inherit the files and are sent only where each chunk starts and ends. (A
    `multiprocessing.Pool` also spent a fifth of a core in its worker-handling thread, which
    wakes whenever a result waits in the pipe, on the two cores the workers need.)"""
    global _worker_checker, _worker_files
    results: list[DocumentResult] = []
    if jobs <= 1 or len(files) < _PARALLEL_FROM or not can_fork():
        for start in range(0, len(files), CHUNK):
            results.extend(checker.check_all(files[start:start + CHUNK]))
            if progress:
                progress(len(results), len(files))
        return results
    checker.real_paths.resolve_ahead([file for file, _ in files])
    _worker_checker, _worker_files = checker, files  # forked workers inherit them (index arrays shared, not copied)
    kernels.warm_up()  # ...and the compiled kernels
    gc.freeze()  # what exists now lives as long as the scan: workers' collections need not walk it
    size = max(1, min(CHUNK, len(files) // (jobs * 8)))
    try:
        with worker_pool(jobs, _collect_rarely) as pool:
            for chunk in pool.map(_check_chunk, [(start, start + size) for start in range(0, len(files), size)]):
                results.extend(chunk)
                if progress:
                    progress(len(results), len(files))
    finally:
        _worker_checker = _worker_files = None
        gc.unfreeze()
    return results


@dataclass
class Sources:
    """The sources a scan matches against, from a catalogue or a persistent index.

    The matcher is built on first use: a rescan whose documents all come from the state never
    fingerprints the catalogue.
    """

    count: int
    errors: list[ComplianceError]
    digests: Callable[[], dict[str, str]]  # source id -> content hash, for the state
    by_id: Mapping[str, Source]
    _build: Callable[[int], Matcher]  # given how many documents it will check
    _matcher: Matcher | None = None
    done: Callable[[], None] = lambda: None  # the scan has read all it needed (an index's snapshot ends)
    store: IndexStore | None = None  # the persistent index, when there is one
    parameters: IndexParameters | None = None
    _sizes: object | None = None  # what bucket sizes are read from, once asked

    def matcher(self, documents: int) -> Matcher:
        if self._matcher is None:
            self._matcher = self._build(documents)
        return self._matcher

    # --- what the state asks (state.cache.CatalogueView)

    def source_keys(self, ids: Iterable[str]) -> np.ndarray:
        assert self.parameters is not None
        texts = [self.by_id[source_id].text for source_id in ids]
        keys = keys_of_all(texts, self.parameters)
        return np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.uint64)

    def _bands(self, many: bool):
        """The band keys as the matcher has them, or (with an index, for a few keys) read in place."""
        if self._matcher is not None and isinstance(self._matcher.index, BandIndex):
            return self._matcher.index
        if self.store is None:
            return self.matcher(_PARALLEL_FROM).index  # a catalogue's keys: made in memory for the scan anyway
        return self.store.band_index() if many else self.store.band_lookup(0)

    def bucket_sizes(self, keys: np.ndarray) -> np.ndarray:
        if self._sizes is None or (len(keys) > _IN_PLACE_KEYS and not isinstance(self._sizes, BandIndex)):
            self._sizes = self._bands(len(keys) > _IN_PLACE_KEYS)
        return self._sizes.bucket_sizes(keys)

    def overfull_keys(self) -> np.ndarray:
        bands = self._sizes if isinstance(self._sizes, BandIndex) else self._bands(True)
        return bands.overfull_keys()

    def source_ids(self, numbers: set[int]) -> dict[int, str]:
        if self.store is not None:
            return self.store.ids_of(numbers)
        catalogue = self.matcher(_PARALLEL_FROM).sources
        return {number: catalogue[number].id for number in numbers}


_IN_PLACE_KEYS = 20_000  # bucket sizes of more keys than this are read from all band keys loaded


def open_index(index_path: Path, pack: RulePack) -> IndexStore:
    """The index at `index_path`, refused if built with other matching parameters than `pack`'s."""
    store = IndexStore.open(index_path)
    store.check_parameters(IndexParameters.of(pack.matching))
    return store


def index_lock(index_path: Path) -> StateLock:
    """Held by whatever writes the index at `index_path`, from before it reads the index to
    after it is done with it: a scan that syncs the index then reads what it synced (its
    snapshot begun before the lock goes), not another scan's catalogue synced meanwhile. (The
    index's own write lock is let go at the commit, and a build replaces the file.)"""
    # (waited for twice as long as an update waits for scans: the update it waits for may itself wait for one)
    return StateLock(index_path.with_name(index_path.name + ".lock"), 2 * store_module.WAIT_FOR_SCANS,
                     busy="another run kept the index for an update; gave up after {timeout:g}s", timeout_error=ComplianceError)


@contextlib.contextmanager
def catalogue_for_index(index_path: Path, pack: RulePack, source_paths: list[Path], jobs: int = 1,
                        rebuild: bool = False, locked: bool = False) -> Iterator[tuple[Catalogue, ProcessPoolExecutor | None]]:
    """The catalogue at `source_paths` to bring the index at `index_path` in line with
    (`update_index`), and the workers to do it on (None for one job). Files unchanged since
    the index read them are not read again, and only the files to read decide whether workers
    start. The index is held for the update meanwhile (`index_lock`, unless the caller holds
    it: `locked`)."""
    with contextlib.nullcontext() if locked else index_lock(index_path):
        with _catalogue_for_index(index_path, pack, source_paths, jobs, rebuild) as loaded:
            yield loaded


@contextlib.contextmanager
def _catalogue_for_index(index_path: Path, pack: RulePack, source_paths: list[Path], jobs: int,
                         rebuild: bool) -> Iterator[tuple[Catalogue, ProcessPoolExecutor | None]]:
    store = None if rebuild or not index_path.exists() else open_index(index_path, pack)
    try:
        indexed = store.begin_update() if store else None
        listing = list_catalogue(source_paths)
        with fingerprinting_workers(jobs if is_large(listing, indexed) else 1, None if store else IndexParameters.of(pack.matching)) as pool:
            yield load_catalogue(source_paths, jobs, pool, listing, indexed), pool
    finally:
        if store:
            store.close()  # (an update not done is given up)


def update_index(index_path: Path, pack: RulePack, sources: Catalogue | list[Source], jobs: int = 1,
                 progress: Callable[[int, int], None] | None = None, pool: ProcessPoolExecutor | None = None,
                 rebuild: bool = False) -> SyncReport:
    """Make the index at `index_path` hold exactly `sources` (a catalogue from
    `catalogue_for_index` holds its unchanged files' sources too): built afresh when it does
    not exist yet (or when `rebuild`), else updated (new and changed sources fingerprinted, on
    `pool` when given: `index.fingerprinting_workers`)."""
    if isinstance(sources, Catalogue) and sources.indexed is not None:  # the index is held for it
        return sources.indexed.store.sync(sources, jobs, progress, pool)
    if rebuild or not index_path.exists():
        index_path.parent.mkdir(parents=True, exist_ok=True)
        return build_index(index_path, sources, IndexParameters.of(pack.matching), jobs, progress, pool)
    store = open_index(index_path, pack)
    try:
        return store.sync(sources, jobs, progress, pool)
    finally:
        store.close()


def open_sources(pack: RulePack, source_paths: list[Path], index_path: Path | None, jobs: int = 1) -> Sources:
    """From the persistent index (synced with `source_paths` when both are given), or the catalogue."""
    boilerplate = required_texts(pack)
    if index_path is None:
        catalogue = load_catalogue(source_paths, jobs)
        sources = catalogue.sources
        return Sources(len(sources), catalogue.errors, lambda: {s.id: content_hash(s) for s in sources},
                       {s.id: s for s in sources}, lambda _: Matcher.build(sources, pack.matching, boilerplate, jobs),
                       parameters=IndexParameters.of(pack.matching))
    errors: list[ComplianceError] = []
    with index_lock(index_path) if source_paths else contextlib.nullcontext():
        if source_paths:  # as `compliance index update` does; the first scheduled run builds the index
            with catalogue_for_index(index_path, pack, source_paths, jobs, locked=True) as (catalogue, pool):
                errors = catalogue.errors
                update_index(index_path, pack, catalogue, jobs, pool=pool)
        store = open_index(index_path, pack)
        # One version of the index from the first read to the last: an update committing between
        # loading the band keys and reading the sources they point at would have them point wrong.
        store.begin_snapshot()

    def matcher(documents: int) -> Matcher:  # (the band keys loaded for the state's questions serve the scan too)
        loaded = sources._sizes if isinstance(sources._sizes, BandIndex) else None
        return Matcher(store, loaded if loaded is not None else store.band_lookup(documents), pack.matching, boilerplate)

    sources = Sources(len(store), errors, store.digests, store.by_id(), matcher, done=store.end_snapshot, store=store,
                      parameters=IndexParameters.of(pack.matching))
    return sources


def scan(
    paths: list[Path], source_paths: list[Path], pack: RulePack, max_bytes: int = DEFAULT_MAX_BYTES,
    only: set[Path] | None = None, waivers: list[Waiver] | None = None, today: dt.date | None = None,
    index_path: Path | None = None, jobs: int = 1, progress: Callable[[int, int], None] | None = None,
    fetch: FetchSettings | None = None, cache: ScanCache | None = None, keep_texts: bool = True,
    render_row: Callable[[DocumentResult], str] | None = None, project_root: Path | None = None,
    follow_links: bool = False, cluster: ClusterScan | None = None,
) -> ScanResult:
    """Scan the reposts under `paths` (only those in `only`, when given) against the catalogue
    (or the persistent index at `index_path`).

    With a `cache` (the state of earlier runs), documents whose result still holds are taken
    from it and only the others are checked, on `jobs` processes; `progress(done, total)`
    follows the checked files. Without `keep_texts` (no report shows texts), workers send
    results back without the repost's and the source's texts; with `render_row`, with their
    line of the JSON report rendered (`DocumentResult.json_row`). Files are named by their
    path from `project_root` (resolved; default: the working folder). With a `cluster`, the
    shards it serves are the sources and its tasks check the reposts (`compliance.cluster`).
    """
    here = (project_root or Path.cwd()).resolve()
    sources = cluster.sources(pack) if cluster else open_sources(pack, source_paths, index_path, jobs)
    try:
        found = discover(paths, here, [p for p in source_paths if p.is_dir()], follow_links)
        if cache is not None:
            cache.resolved.know(found.real_paths)  # named once: no system call per file to resolve it again
            cache.prepare(sources.digests(), sources.by_id, paths, found.files, sources)
        if only is not None:
            found.files = [(file, name) for file, name in found.files if file.resolve() in only]
        results = [
            _unreadable(InputError("input-unreadable", f"cannot read folder: {why}", str(folder)), name, "folder", _location(folder, here))
            for folder, name, why in found.unreadable
        ]
        cached = [cache.lookup(file, name, cache.resolved.location(file, here)) if cache is not None else None
                  for file, name in found.files]
        todo = [item for item, result in zip(found.files, cached) if result is None]
        verifier = None
        checked: list[DocumentResult] = []
        if todo:
            kernels.start_warming_up()  # on a thread, while the band keys load; not at all when the state has every result
            matcher = sources.matcher(len(todo))
            matcher.keep_keys = cache is not None
            if fetch and fetch.enabled:
                from compliance.fetch.verify import open_verifier  # requests and trafilatura load only for --fetch

                verifier = open_verifier(fetch, matcher.source_urls(), pack.matching, required_texts(pack))
                jobs = 1  # the fetcher's cache, per-host limits and budget live in this process
            checker = _Checker(matcher, pack, max_bytes, waivers or [], today or dt.date.today(), verifier, here, keep_texts,
                               render_row, cache.resolved if cache is not None else RealPaths())
            try:
                checked = cluster.check_files(checker, todo, progress) if cluster else check_files(checker, todo, jobs, progress)
            finally:
                if verifier:
                    verifier.close()
            if cache is not None:
                for (file, _), result in zip(todo, checked):
                    if render_row is not None and result.json_row is None:  # checked here, not by a worker:
                        result.json_row = render_row(result)  # the report renders it anyway, the state keeps it
                    cache.record(file, result)
        if cache is not None:
            cache.finish()  # before the index is let go: candidates are named by their numbers in it
        fresh = iter(checked)
        results.extend(result if result is not None else next(fresh) for result in cached)
        return ScanResult(results, found.skipped, sources.count, sources.errors,
                          verifier.fetcher.stats if verifier else None, len(todo), found.links_skipped)
    finally:
        sources.done()
