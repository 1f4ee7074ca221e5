"""The source catalogue: a folder of files with YAML front matter, or a JSONL file.

A bad entry is reported as a one-line error naming its file (and line, for JSONL); the
other entries still load, so that one typo does not blind a whole scan.

Loaded for an index that remembers the files it read (`IndexedFiles`), a file whose stat
signature is as remembered is not read again: the index holds its sources as they are.
"""
from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gc
import json
import os
import stat
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np

from compliance.errors import ComplianceError
from compliance.ingest.frontmatter import split_front_matter
from compliance.ingest.html import parse_html
from compliance.ingest.load import read_text
from compliance.ingest.read import HTML_SUFFIXES
from compliance.ingest.yamlsafe import encodable
from compliance.model import License, Source
from compliance.workers import worker_pool

SOURCE_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
_TEXT_FIELDS = ("url", "title", "author")


Signature = tuple[int, int, int, int]  # size, mtime_ns, inode, ctime_ns: what git compares too


class CatalogueFile(NamedTuple):
    """A file of the catalogue as listed, stat'ed before it is read."""

    path: str  # as the catalogue names it: its sources' origins begin with it
    signature: Signature
    jsonl: bool

    @property
    def size(self) -> int:
        return self.signature[0]


@dataclass
class IndexedFiles:
    """What an index remembers of the catalogue files it read (`IndexStore.begin_update`, which
    holds the index for the update until it is done)."""

    signatures: dict[str, Signature]  # path -> as stat'ed before the file was read
    holders: Callable[[Iterable[str]], dict[str, tuple[str, str]]]  # of these source ids: -> (path, origin) of the file that gave it
    store: Any  # the IndexStore to sync the catalogue with


@dataclass
class Listing:
    """The catalogue's files in load order, and the errors naming paths that are not there."""

    files: list[CatalogueFile]
    errors: list[tuple[int, ComplianceError]]  # (how many files come before it, error)
    started_ns: int  # when listing began, before any file was stat'ed or read
    _unchanged: tuple[IndexedFiles | None, list[bool]] | None = field(default=None, repr=False, compare=False)

    def unchanged(self, indexed: IndexedFiles | None) -> list[bool]:
        """Whether each file is as the index read it (listed twice, under two paths given, the
        second time it is not: it is read, to report its sources as duplicates)."""
        if self._unchanged is None or self._unchanged[0] is not indexed:
            unchanged = [False] * len(self.files)
            if indexed is not None:
                signatures = indexed.signatures
                unchanged = [signatures.get(file.path) == file.signature for file in self.files]
                if len({file.path for file in self.files}) < len(self.files):
                    seen: set[str] = set()
                    for position, file in enumerate(self.files):
                        unchanged[position] = unchanged[position] and file.path not in seen
                        seen.add(file.path)
            self._unchanged = (indexed, unchanged)
        return self._unchanged[1]


@dataclass
class Catalogue:
    sources: list[Source] = field(default_factory=list)  # read from their files
    errors: list[ComplianceError] = field(default_factory=list)
    files: list[CatalogueFile] = field(default_factory=list)  # every file listed, in order
    unchanged: list[str] = field(default_factory=list)  # files not read: unchanged since the index read them
    dropped: set[str] = field(default_factory=set)  # ids of their sources that a file before them gives now
    file_of: dict[str, str] = field(default_factory=dict)  # source id (of `sources`) -> its file
    read: set[str] = field(default_factory=set)  # files read
    named: set[str] = field(default_factory=set)  # files an error names: read again next time, to say so again
    listed_ns: int = 0  # when listing its files began (`Listing.started_ns`)
    indexed: IndexedFiles | None = None  # what the index remembered, if it was asked


def _optional_text(record: dict[str, Any], name: str, origin: str, line: int | None) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ComplianceError(f"field '{name}' must be text, not {type(value).__name__}", origin, line)
    return str(value).strip() or None


def source_from_record(record: dict[str, Any], text: str, default_id: str, origin: str, line: int | None = None) -> Source:
    """Validate one catalogue entry. Raises ComplianceError naming the field at fault."""
    publisher = _optional_text(record, "publisher", origin, line)
    if not publisher:
        raise ComplianceError("source has no 'publisher'", origin, line)
    aliases = record.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [aliases]
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ComplianceError("field 'aliases' must be a list of names", origin, line)
    raw_license = str(record.get("license") or "full").strip().lower()
    try:
        license_ = License(raw_license)
    except ValueError:
        raise ComplianceError(f"field 'license' must be full, excerpt or none, not {record.get('license')!r}", origin, line) from None
    max_excerpt = record.get("max_excerpt")
    if max_excerpt is not None:
        if isinstance(max_excerpt, bool) or not isinstance(max_excerpt, (int, float)) or not 0 <= max_excerpt <= 1:
            raise ComplianceError(f"field 'max_excerpt' must be a fraction from 0 to 1, not {max_excerpt!r}", origin, line)
        max_excerpt = float(max_excerpt)
    elif license_ is License.EXCERPT:
        raise ComplianceError("license 'excerpt' needs 'max_excerpt' (a fraction of the source, e.g. 0.3)", origin, line)
    published = record.get("published", record.get("date"))
    if isinstance(published, (dt.date, dt.datetime)):
        published = published.isoformat()
    text = text.strip()
    if not text:
        raise ComplianceError("source has no text", origin, line)
    source_id = _optional_text(record, "id", origin, line) or default_id
    fields = {name: _optional_text(record, name, origin, line) for name in _TEXT_FIELDS}
    return Source(
        id=source_id, publisher=publisher, text=text, aliases=tuple(a.strip() for a in aliases if a.strip()),
        license=license_, max_excerpt=max_excerpt, published=str(published) if published else None,
        origin=f"{origin}:{line}" if line else origin, **fields,
    )


def _load_file(path: Path) -> Source:
    raw = read_text(path)
    metadata, body, _ = split_front_matter(raw, str(path))
    if path.suffix.lower() in HTML_SUFFIXES:
        _, blocks, _ = parse_html(body)
        body = "\n\n".join(block.text for block in blocks)
    return source_from_record(metadata, body, path.stem, str(path))


def _jsonl_lines(path: Path, start: int = 0, end: int | None = None, first_line: int = 1):
    """(line number, text) of the lines of a JSONL file that begin in bytes [start, end),
    `start` being where a line begins, read line by line: a catalogue of 100,000 articles is
    hundreds of megabytes, more than any one repost may be, and need not be held twice."""
    try:
        with path.open("rb") as lines:
            lines.seek(start)
            position = start
            for number, raw in enumerate(lines, start=first_line):
                if end is not None and position >= end:
                    return
                position += len(raw)
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                try:
                    yield number, raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ComplianceError(f"not valid UTF-8 (byte {exc.start} of the line)", str(path), number) from None
    except OSError as exc:
        raise ComplianceError(f"cannot read file: {exc.strerror or exc}", str(path)) from None


def _parse_line(line: str, number: int, origin: str, stem: str) -> Source | ComplianceError | None:
    """One JSONL line as a source, or the error that names its line (None for a blank line)."""
    if not line or line.isspace():
        return None
    try:
        if "\\u" in line:  # escapes may spell lone surrogates ("\ud83d"), which no report can write
            record = json.loads(line, object_pairs_hook=_encodable_object)
        else:
            record = json.loads(line)
        if not isinstance(record, dict):
            raise ComplianceError("each line must be a JSON object", origin, number)
        text = record.get("text")
        if not isinstance(text, str):
            raise ComplianceError("source has no 'text'", origin, number)
        return source_from_record(record, text, f"{stem}-{number}", origin, number)
    except json.JSONDecodeError as exc:
        return ComplianceError(f"invalid JSON: {exc.msg}", origin, number)
    except RecursionError:
        return ComplianceError("invalid JSON: nested too deeply", origin, number)
    except ComplianceError as exc:
        return exc


def _encodable_object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object with its texts (and lists of texts, as aliases are) made encodable."""
    def clean(value: object) -> object:
        if isinstance(value, str):
            return encodable(value)
        return [clean(item) for item in value] if isinstance(value, list) else value
    return {encodable(key): clean(value) for key, value in pairs}


def _parse_range(job: tuple[Path, int, int | None, int]) -> tuple[list[Source | ComplianceError | None], bool]:
    """The entries of the lines in a range of bytes (see `_jsonl_lines`), and whether a line
    that cannot be read ended the file there (its error is the last entry)."""
    path, start, end, first_line = job
    origin, stem, parsed = str(path), path.stem, []
    try:
        for number, line in _jsonl_lines(path, start, end, first_line):
            parsed.append(_parse_line(line, number, origin, stem))
    except ComplianceError as error:
        parsed.append(error)
        return parsed, True
    return parsed, False


_BYTES_PER_JOB = 16 * 1024 * 1024  # a worker's share at most: small enough to keep both busy to the end
_PARALLEL_FROM_BYTES = 8 * 1024 * 1024  # smaller files parse faster than workers start


def _line_ranges(path: Path, parts: int) -> list[tuple[int, int | None, int]]:
    """(first byte, end byte, number of the first line) of about `parts` runs of whole lines
    of even size. Workers read their own runs from the file: sending them the lines cost the
    scan as much as parsing them (its one process read, decoded and pickled every line).

    The file is read into one buffer, reused, and its newlines counted by numpy: reading 430
    MB into fresh blocks and counting with `bytes.count` took 0.35-0.45 s before any worker
    could start, this 0.2-0.26. (Mapping the file took 0.11-0.17, but a catalogue truncated
    meanwhile, by an export rewriting it, would kill the process.)"""
    size = path.stat().st_size
    starts = [(0, 1)]  # where each run begins, and its first line's number
    targets = iter([size * k // parts for k in range(1, parts)])
    target = next(targets, None)
    offset = newlines = 0
    buffer = bytearray(_READ_AT_ONCE)
    values = np.frombuffer(buffer, dtype=np.uint8)
    with path.open("rb", buffering=0) as file:
        while target is not None and (read := file.readinto(buffer)):
            while target is not None:
                at = buffer.find(b"\n", max(target - offset, 0), read)
                if at < 0:
                    break
                if offset + at + 1 > starts[-1][0]:  # a line longer than a run holds several targets
                    starts.append((offset + at + 1, newlines + _newlines(values[: at + 1]) + 1))
                target = next(targets, None)
            newlines += _newlines(values[:read])
            offset += read
    ends = [start for start, _ in starts[1:]] + [None]
    return [(start, end, line) for (start, line), end in zip(starts, ends)]


_READ_AT_ONCE = 1 << 24


def _newlines(values: np.ndarray) -> int:
    return int(np.count_nonzero(values == ord("\n")))


def _load_jsonl(path: Path, catalogue: Catalogue, jobs: int = 1, pool: ProcessPoolExecutor | None = None) -> None:
    """Every line of a JSONL catalogue; a large one is parsed on `jobs` processes (`pool`, if
    started already), each reading runs of lines itself, a bounded number of runs in flight
    (a catalogue can be far larger than memory should hold twice). A line that cannot be
    read ends the file."""
    size = path.stat().st_size
    if jobs > 1 and size > _PARALLEL_FROM_BYTES:
        ranges = _line_ranges(path, max(jobs * 4, size // _BYTES_PER_JOB))
        parsed = _parse_in_workers([(path, *run) for run in ranges], jobs, pool)
    else:
        parsed = iter([_parse_range((path, 0, None, 1))])
    for entries, stopped in parsed:
        for entry in entries:
            if isinstance(entry, Source):
                catalogue.sources.append(entry)
            elif entry is not None:
                catalogue.errors.append(entry)
        if stopped:
            return


def _parse_in_workers(jobs_to_do: list, jobs: int, pool: ProcessPoolExecutor | None):
    with worker_pool(jobs, gc.enable) if pool is None else contextlib.nullcontext(pool) as pool:
        pending: deque = deque()
        for job in jobs_to_do:
            pending.append(pool.submit(_parse_range, job))
            if len(pending) > 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def list_catalogue(paths: list[Path]) -> Listing:
    """The catalogue's files in the order they load, each stat'ed (or the error naming a path
    that is not there), without reading them: a folder's source files at any depth, sorted as
    paths, hidden ones and those under hidden or symlinked folders left out."""
    listing = Listing([], [], time.time_ns())
    for root in paths:
        try:
            status = os.stat(root)
        except OSError as exc:
            missing = isinstance(exc, (FileNotFoundError, NotADirectoryError))
            error = ComplianceError("no such file or folder" if missing else f"cannot read: {exc.strerror or exc}", str(root))
            if all(str(said) != str(error) for _, said in listing.errors):  # a path named twice is one mistake, said once
                listing.errors.append((len(listing.files), error))
            continue
        if stat.S_ISREG(status.st_mode):  # named itself, a file loads whatever its suffix
            listing.files.append(CatalogueFile(str(root), _signature(status), root.suffix.lower() == ".jsonl"))
        elif stat.S_ISDIR(status.st_mode):
            _walk(str(root), listing.files)
    return listing


def _signature(status: os.stat_result) -> Signature:
    return status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns


_LISTED_SUFFIXES = tuple(sorted(SOURCE_SUFFIXES | {".jsonl"}))


def _walk(folder: str, found: list[CatalogueFile]) -> None:
    """The source files under `folder` in the order, and with the exceptions, that sorted
    `Path.rglob` and `is_file` gave (a folder's names sorted, each subfolder's files where its
    name sorts, as Paths compare part by part; unreadable folders skipped), each stat'ed once,
    by name in its folder: an index update lists every file, and globbing then stat'ing each
    path took several times as long."""
    try:
        names = sorted(name for name in os.listdir(folder) if not name.startswith("."))
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if os.stat in os.supports_dir_fd else None
    except OSError:
        return
    prefix = os.path.join(folder, "")
    try:
        for name in names:
            try:
                if name.lower().endswith(_LISTED_SUFFIXES):
                    status = os.stat(name, dir_fd=descriptor) if descriptor is not None else os.stat(prefix + name)
                    if stat.S_ISREG(status.st_mode):
                        found.append(CatalogueFile(prefix + name, _signature(status), name[-6:].lower() == ".jsonl"))
                        continue
                    if not stat.S_ISDIR(status.st_mode):
                        continue
                # a folder is walked, a link to one not (nor was it globbed)
                if stat.S_ISDIR(os.lstat(name, dir_fd=descriptor).st_mode if descriptor is not None else os.lstat(prefix + name).st_mode):
                    _walk(prefix + name, found)
            except OSError:  # a dangling link, or gone meanwhile
                continue
    finally:
        if descriptor is not None:
            os.close(descriptor)


def is_large(listing: Listing, indexed: IndexedFiles | None = None) -> bool:
    """Whether the files `load_catalogue` will read (those not unchanged since the index read
    them) pass the size from which work is spread over processes."""
    return sum(file.size for file, unchanged in zip(listing.files, listing.unchanged(indexed)) if not unchanged) > _PARALLEL_FROM_BYTES


def load_catalogue(paths: list[Path], jobs: int = 1, pool: ProcessPoolExecutor | None = None,
                   listing: Listing | None = None, indexed: IndexedFiles | None = None) -> Catalogue:
    """Every source under `paths` (as listed already, if `listing`); large JSONL files are
    parsed on `jobs` processes (`pool`, if started already).

    With `indexed`, what an index remembers of the files it read, a file whose signature is as
    remembered is not read (`Catalogue.unchanged`): the index holds its sources as they are."""
    listing = listing or list_catalogue(paths)
    catalogue = Catalogue(files=listing.files, listed_ns=listing.started_ns, indexed=indexed)
    unchanged = listing.unchanged(indexed)
    catalogue.unchanged = [file.path for file, same in zip(listing.files, unchanged) if same]
    errors = iter(listing.errors)
    error = next(errors, None)
    loaded: list[tuple[int, Source, str]] = []  # (position of its file, source, its file), in order
    for position in [position for position, same in enumerate(unchanged) if not same]:
        while error is not None and error[0] <= position:
            catalogue.errors.append(error[1])
            error = next(errors, None)
        file = listing.files[position]
        catalogue.read.add(file.path)
        path, part = Path(file.path), Catalogue()
        if file.jsonl:
            _try(lambda: _load_jsonl(path, part, jobs, pool), part)
        else:
            _try(lambda: part.sources.append(_load_file(path)), part)
        loaded.extend((position, source, file.path) for source in part.sources)
        if part.errors:
            catalogue.errors.extend(part.errors)
            catalogue.named.add(file.path)
    if error is not None:
        catalogue.errors.append(error[1])
    catalogue.errors.extend(rest for _, rest in errors)
    _keep_first_of_each_id(loaded, catalogue)
    return catalogue


def _try(load, catalogue: Catalogue) -> None:
    try:
        load()
    except ComplianceError as exc:
        catalogue.errors.append(exc)


def _keep_first_of_each_id(loaded: list[tuple[int, Source, str]], catalogue: Catalogue) -> None:
    """Keep the first source of each id, in the order of their files, and report the others:
    those read, and those of unchanged files (which the index holds) that a file before them
    gives now."""
    held: dict[str, tuple[str, str]] = {}  # id -> (file, origin) of the sources of unchanged files
    position_of: dict[str, int] = {}
    if loaded and catalogue.unchanged and catalogue.indexed:
        held = catalogue.indexed.holders({source.id for _, source, _ in loaded})
        unchanged = set(catalogue.unchanged)
        for position, file in enumerate(catalogue.files):
            if file.path in unchanged:
                position_of.setdefault(file.path, position)
    first_seen: dict[str, Source] = {}
    duplicates: list[tuple[int, int, ComplianceError]] = []  # reported in the order of the files they name
    for position, source, path in loaded:
        earlier = first_seen.get(source.id)
        holder = held.get(source.id)
        if earlier is None and holder is not None and holder[0] in position_of:
            holder_path, holder_origin = holder
            if position_of[holder_path] < position:
                duplicates.append((position, len(duplicates), ComplianceError(
                    f"source id '{source.id}' is already used by {holder_origin}", source.origin)))
                catalogue.named.add(path)
                continue
            duplicates.append((position_of[holder_path], len(duplicates), ComplianceError(
                f"source id '{source.id}' is already used by {source.origin}", holder_origin)))
            catalogue.named.add(holder_path)
            catalogue.dropped.add(source.id)
        if earlier is not None:
            duplicates.append((position, len(duplicates), ComplianceError(
                f"source id '{source.id}' is already used by {earlier.origin}", source.origin)))
            catalogue.named.add(path)
            continue
        first_seen[source.id] = source
        catalogue.file_of[source.id] = path
        catalogue.sources.append(source)
    catalogue.errors.extend(error for _, _, error in sorted(duplicates, key=lambda duplicate: duplicate[:2]))
