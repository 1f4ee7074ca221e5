"""The persistent source index: a catalogue's fingerprints in one SQLite file, its band keys in
files beside it.

A scheduled scan opens it instead of reading and hashing tens of thousands of source files:
it maps the band keys into memory (the kernel's page cache shares them between the scan, its
forked workers and the next scan; nothing is copied, and a one-repost scan reads only the
pages it looks at) and fetches a source's text only when the source is a candidate. `sync`
brings it in line with a catalogue, fingerprinting only new and changed sources, in one
transaction: an interrupted update leaves the index as it was.

Layout (schema 5):
    meta(name, value)        parameters (JSON), hashing scheme, datasketch version, times, and
                             'bands': the band keys files in use, {"main": {"token", "keys",
                             "size"}, "delta": {...} or null}
    sources(number, id, content_hash, record, origin, text)
                             record: the Source's fields as JSON
    arrays(name, data)       empty (older schemas' band keys)
    files(path, size, mtime_ns, inode, ctime_ns)
                             catalogue files read, by stat signature: an update reads only the
                             files whose signature changed, and those it does not remember
    file_sources(id, path, origin)
                             the sources each of those files gave; writing a source forgets its
                             file (triggers on `sources`)
    INDEX.bands-TOKEN        (beside the index file INDEX, `bands_file`) a 64-byte header (magic,
                             token, counts), then 'keys' (uint64, grouped by prefix), 'owners'
                             (int32), 'directory' (uint32; int64 from 2**32 keys): a `BandIndex`,
                             and the numbers of masked sources (int32), each at a multiple of 8
                             bytes. The main file holds the keys as last written whole; a delta
                             file the keys of sources added or replaced since, and the sources
                             whose main keys no longer count (`LayeredBandIndex`). An update
                             writes a new delta (its cost grows with what changed, not with the
                             catalogue) until the delta would hold `FOLD_FRACTION` of the main
                             keys; then it writes the main keys again, the delta folded in.
                             New files are written under a temporary name, flushed and renamed
                             before the commit that names them; whoever holds the index for
                             writing next removes the files it does not name (replaced ones, and
                             those of a run killed before its commit). Copy an index with its
                             files (`cp index.db* elsewhere/`).

Schema 4 held the band keys in `arrays`, each array in rows of at most 256 MB
named 'keys', 'keys.1', 'keys.2'... (SQLite refuses a blob over 1 GB). Schema 3 held each
array in one row (the first piece of schema 4). Schema 2 differs from 3 in its directory,
always int64 and coarser. All three are still read, and an update writes schema 5. An index
without `files` (written before it was kept) is read as before; its first update adds the
tables and reads every file, as every update did.
"""
from __future__ import annotations

import bisect
import contextlib
import ctypes
import ctypes.util
import dataclasses
import datetime as dt
import gc
import json
import os
import mmap
import re
import secrets
import sqlite3
import struct
import sys
import tempfile
from importlib.metadata import version
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

from compliance.errors import ComplianceError
from compliance.leftovers import remove_leftovers
from compliance.model import License, Source
from compliance.similarity.catalogue import Catalogue, IndexedFiles
from compliance.similarity.fingerprint import Banding, permutations, remember_permutations
from compliance.similarity.index import (
    MAX_BUCKET, BandIndex, IndexParameters, LayeredBandIndex, directory_type, keys_in_chunks, keys_of_all, prefix_shift, query_keys,
    ranked_candidates,
)

SCHEMA_VERSION = 5
_PIECE = 1 << 24  # bytes of an array written or read at a time
_READABLE_SCHEMAS = {"2", "3", "4", "5"}
# The delta is folded into the main keys once it (with the main keys of sources masked) holds
# this share of them: lookups then pay for two layers on a small share of keys only.
FOLD_FRACTION = 0.05
# Sources are numbered in int32 (the band keys' owners): a catalogue with more is refused
# before any is fingerprinted.
MAX_SOURCE_NUMBER = 2**31 - 1
DEFAULT_INDEX = Path(".compliance/index.db")
# How long an update waits for running scans to finish reading the index before it gives up.
# (A scan's workers read it in one transaction: see `IndexStore.db`.)
WAIT_FOR_SCANS = 300.0
# A file whose mtime or ctime is not this much older than the listing of the catalogue that
# read it is read again next time (git's "racy" files): written again after it was read but
# within the same tick of a coarse clock (FAT's is 2 s), it could change without its stat
# changing. (Measured from the listing, not from the end of the update: reading and
# fingerprinting a large catalogue can take longer than any tick.)
RACY_NS = 2_000_000_000
# The catalogue files an update read, and the sources each gave; an index written before they
# were kept gets them on its first update. Whatever writes a source (an update by a version
# that keeps no files, say) makes the index forget the file that gave it, which is then read
# again: the triggers keep that true.
_FORGET_FILE_OF = ("DELETE FROM files WHERE path IN (SELECT path FROM file_sources WHERE id = {row}.id); "
                   "DELETE FROM file_sources WHERE path IN (SELECT path FROM file_sources WHERE id = {row}.id);")
_FILE_TABLES = [
    """CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                                        inode INTEGER NOT NULL, ctime_ns INTEGER NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS file_sources(id TEXT PRIMARY KEY, path TEXT NOT NULL, origin TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS file_sources_by_path ON file_sources(path)",
    f"CREATE TRIGGER IF NOT EXISTS source_inserted AFTER INSERT ON sources BEGIN {_FORGET_FILE_OF.format(row='NEW')} END",
    f"CREATE TRIGGER IF NOT EXISTS source_deleted AFTER DELETE ON sources BEGIN {_FORGET_FILE_OF.format(row='OLD')} END",
    f"""CREATE TRIGGER IF NOT EXISTS source_updated AFTER UPDATE ON sources
        BEGIN {_FORGET_FILE_OF.format(row='OLD')} {_FORGET_FILE_OF.format(row='NEW')} END""",
]


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(Source) if f.name not in ("text", "origin"))


_encode_record = json.JSONEncoder(sort_keys=True).encode


def _record(source: Source) -> str:
    """The source's fields but its text, as JSON (where it was read from does not change
    what it says, so `origin` stays out of the content hash)."""
    fields = {name: getattr(source, name) for name in _RECORD_FIELDS}
    fields["license"] = source.license.value
    return _encode_record(fields)


def content_hash(source: Source, record: str | None = None) -> str:
    """Changes whenever anything a scan reads from the source changes (text or metadata).
    (A fast non-cryptographic hash: it detects edits, nobody forges sources against it.)"""
    digest = xxhash.xxh3_128((record or _record(source)).encode())
    digest.update(source.text.encode())
    return digest.hexdigest()


def _source(record: str, text: str, origin: str) -> Source:
    fields = json.loads(record)
    fields["origin"] = origin
    fields["license"] = License(fields["license"])
    fields["aliases"] = tuple(fields["aliases"])
    return Source(text=text, **fields)


def _row(number: int, source: Source, digest: str | None, record: str | None) -> tuple:
    record = record or _record(source)
    return number, source.id, digest or content_hash(source, record), record, source.origin, source.text


def _is_racy(signature: tuple[int, int, int, int], listed_ns: int) -> bool:
    _, mtime_ns, _, ctime_ns = signature
    return max(mtime_ns, ctime_ns) >= listed_ns - RACY_NS


_ROWS_LOOKED_UP = 20_000  # rows an update looks up one by one; beyond, it reads them all (`IndexStore._rows_of`)
_SOURCES_KEPT = 256  # read sources kept: a chunk's candidates (see `Matcher._source_tokens`)


def _stored_directory_type(schema: str, keys: int) -> type:
    return np.int64 if schema == "2" else directory_type(keys)


def _array_pieces(db: sqlite3.Connection) -> dict[str, list[tuple[int, int]]]:
    """Each stored array's rows, in order, as (rowid, bytes): 'keys', then 'keys.1', 'keys.2'...
    ValueError when a piece is missing."""
    found: dict[str, dict[int, tuple[int, int]]] = {}
    for name, rowid, size in db.execute("SELECT name, rowid, length(data) FROM arrays"):
        base, _, piece = name.partition(".")
        found.setdefault(base, {})[int(piece) if piece else 0] = (rowid, size)
    pieces = {}
    for base, numbered in found.items():
        if sorted(numbered) != list(range(len(numbered))):
            raise ValueError(f"array {base!r} lacks pieces (has {sorted(numbered)})")
        pieces[base] = [numbered[number] for number in range(len(numbered))]
    return pieces


class _PiecedBlob:
    """An array's rows read as one run of bytes, at any offset (`StoredBandIndex`)."""

    def __init__(self, db: sqlite3.Connection, pieces: list[tuple[int, int]]):
        self._blobs = [db.blobopen("arrays", "data", rowid, readonly=True) for rowid, _ in pieces]
        self._starts = np.cumsum([0] + [size for _, size in pieces]).tolist()
        self._single = self._blobs[0] if len(self._blobs) == 1 else None

    def __len__(self) -> int:
        return self._starts[-1]

    def read(self, offset: int, size: int) -> bytes:
        if self._single is not None:
            self._single.seek(offset)
            return self._single.read(size)
        parts = []
        piece = bisect.bisect_right(self._starts, offset) - 1
        while size > 0 and piece < len(self._blobs):
            blob = self._blobs[piece]
            blob.seek(offset - self._starts[piece])
            part = blob.read(size)
            parts.append(part)
            offset, size, piece = offset + len(part), size - len(part), piece + 1
        return b"".join(parts)

    def close(self) -> None:
        for blob in self._blobs:
            blob.close()


class StoredBandIndex:
    """The band keys looked up where they lie in the index file, a few dozen bytes a query key.

    A scan of a handful of reposts (a pre-commit hook, one changed file) asks a few thousand
    keys: reading just those takes milliseconds, where loading every key of a 100,000-source
    index takes most of a second. Answers as `BandIndex.candidates_with_hits` and `shingle_candidates` do.
    """

    MAX_DOCUMENTS = 16  # fewer than a scan forks workers for: the blobs stay in one process

    def __init__(self, db: sqlite3.Connection, pieces: dict[str, list[tuple[int, int]]], schema: str):
        self._keys = _PiecedBlob(db, pieces["keys"])
        self._owners = _PiecedBlob(db, pieces["owners"])
        self._directory = _PiecedBlob(db, pieces["directory"])
        if len(self._keys) != 2 * len(self._owners):
            raise ValueError("band keys and their sources differ in number")
        wide = _stored_directory_type(schema, len(self._owners)) == np.int64
        self._entry_size, self._two_entries = (8, struct.Struct("<qq")) if wide else (4, struct.Struct("<II"))
        self._shift = prefix_shift(len(self._directory) // self._entry_size - 1)

    def shingle_candidates(self, shingles: np.ndarray, parameters: IndexParameters, stride: int, limit: int) -> list[tuple[int, int]]:
        return self.candidates_with_hits(query_keys(shingles, parameters, stride), limit)

    def shingle_candidates_with_keys(self, shingles: np.ndarray, parameters: IndexParameters, stride: int,
                                     limit: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        keys = query_keys(shingles, parameters, stride)
        return self.candidates_with_hits(keys, limit), keys

    def _equal(self, key: int) -> tuple[int, np.ndarray]:
        """Where the keys of `key`'s prefix start, and which of them equal it."""
        low, high = self._two_entries.unpack(self._directory.read((key >> self._shift) * self._entry_size, 2 * self._entry_size))
        if high <= low:
            return low, np.zeros(0, np.int64)
        return low, np.flatnonzero(np.frombuffer(self._keys.read(low * 8, (high - low) * 8), dtype="<u8") == key)

    def bucket_sizes(self, keys: np.ndarray) -> np.ndarray:
        return np.array([len(self._equal(key)[1]) for key in keys.tolist()], dtype=np.int64)

    def candidates_with_hits(self, query_keys: np.ndarray, limit: int) -> list[tuple[int, int]]:
        found: list[int] = []
        for key in query_keys.tolist():
            low, equal = self._equal(key)
            if not len(equal) or len(equal) > MAX_BUCKET:
                continue
            found.extend(np.frombuffer(self._owners.read(low * 4, (int(equal[-1]) + 1) * 4), dtype="<i4")[equal].tolist())
        return ranked_candidates(np.array(found, dtype=np.int32), limit)

    def close(self) -> None:
        """Open blobs keep the index read: an update would wait for them."""
        for blob in (self._keys, self._owners, self._directory):
            blob.close()


def _zeros(count: int, dtype) -> np.ndarray:
    """A writable array on a bytearray (see `IndexStore._read_array`: numpy's own asked for huge
    pages, which the kernel compacted memory for with the page cache full of the index)."""
    return np.frombuffer(bytearray(count * np.dtype(dtype).itemsize), dtype=dtype)


def _give_back_freed_memory() -> None:
    """Free what is unreachable now (the command pauses the cyclic collector, and sources let go
    of were left in cycles: 200,000 sources' 0.8 GB of 1.1 GB stayed), and hand it back to the
    system (glibc keeps the holes freed texts leave in its heap, and the arrays allocated next
    are mapped afresh)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


class _KeySpill:
    """New band keys and the numbers of their sources, written a chunk at a time to two unnamed
    files beside the index until they are grouped. Held in memory beside the catalogue's texts,
    a million sources' 2.9 GB of them took a build's peak past 10 GB. (Unnamed: a killed
    build leaves no file.)"""

    def __init__(self, folder: Path):
        self._files = [tempfile.TemporaryFile(dir=folder), tempfile.TemporaryFile(dir=folder)]
        self.count = 0

    def add(self, keys: np.ndarray, owners: np.ndarray) -> None:
        for file, values in zip(self._files, (keys, owners)):
            file.write(memoryview(np.ascontiguousarray(values)).cast("B"))
        self.count += len(keys)

    def read_into(self, keys: np.ndarray, owners: np.ndarray) -> None:
        """All keys and owners written, into arrays of `count` values."""
        for file, values in zip(self._files, (keys, owners)):
            file.flush()
            file.seek(0)
            into = memoryview(values.view(np.uint8))
            at = 0
            while at < len(into):
                read = file.readinto(into[at : at + _PIECE])
                if not read:
                    raise ValueError("band keys written aside came back short")
                at += read

    def __enter__(self) -> "_KeySpill":
        return self

    def __exit__(self, *exc) -> None:
        for file in self._files:
            file.close()


_BANDS_MAGIC = b"CMPBAND1"
_BANDS_HEADER = struct.Struct("<8s16sQQQQ")  # magic, token, keys, directory entries, directory item size, masked
_BANDS_HEADER_SIZE = 64


def bands_file(index: Path, token: str) -> Path:
    """Where the band keys of `token` lie for the index at `index`: beside it, named after it
    (`cp index.db* elsewhere/` copies an index whole)."""
    return index.with_name(f"{index.name}.bands-{token}")


@dataclass(frozen=True)
class BandsFile:
    """One file of band keys, as the index's `meta` names it: which (`token`, also in the
    file's header, so that a file of another index or generation is refused) and how large."""

    token: str
    keys: int
    size: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _aligned(size: int) -> int:
    return -(-size // 8) * 8


def _write_bands(path: Path, token: str, index: BandIndex, masked: np.ndarray) -> BandsFile:
    """Write `index` (and the `masked` source numbers) to `path`: a header, then keys, owners,
    directory and masked numbers, each at a multiple of 8 bytes, flushed to disk before
    the index's commit names the file."""
    masked = np.ascontiguousarray(masked, dtype=np.int32)
    header = _BANDS_HEADER.pack(_BANDS_MAGIC, token.encode(), len(index.keys), len(index.directory), index.directory.itemsize, len(masked))
    with open(path, "xb") as out:
        out.write(header.ljust(_BANDS_HEADER_SIZE, b"\0"))
        for values in (index.keys, index.owners, index.directory, masked):
            data = memoryview(np.ascontiguousarray(values)).cast("B")
            for at in range(0, len(data), _PIECE):
                out.write(data[at : at + _PIECE])
            out.write(b"\0" * (_aligned(len(data)) - len(data)))
        out.flush()
        os.fsync(out.fileno())
        size = out.tell()
    return BandsFile(token, len(index.keys), size)


def _read_bands(path: Path, expected: BandsFile, whole: bool = True) -> tuple[BandIndex, np.ndarray, mmap.mmap]:
    """The band keys (and masked source numbers) of a file `_write_bands` wrote, memory-mapped:
    a scan, its forked workers and the next scan share the pages the kernel keeps, instead of
    each copying gigabytes. The kernel is told to read all of it ahead when it will be read
    `whole` (a large scan; pages not in the cache then come in large reads, not one fault at
    a time). ValueError naming what is wrong."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size != expected.size:
                raise ValueError(f"{path.name} is {size:,} bytes, not the {expected.size:,} the index wrote")
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            if whole:
                _willneed(mapped)
    except FileNotFoundError:
        raise ValueError(f"{path.name} is missing (copy an index with the files beside it: cp index.db* ...)") from None
    magic, token, keys, entries, itemsize, masked = _BANDS_HEADER.unpack_from(mapped, 0)
    if magic != _BANDS_MAGIC or token.decode(errors="replace") != expected.token or keys != expected.keys:
        raise ValueError(f"{path.name} is not the band keys file this index wrote")
    directory_dtype = np.uint32 if itemsize == 4 else np.int64
    offset, arrays = _BANDS_HEADER_SIZE, []
    for dtype, count in ((np.uint64, keys), (np.int32, keys), (directory_dtype, entries), (np.int32, masked)):
        nbytes = count * np.dtype(dtype).itemsize
        if offset + nbytes > size:
            raise ValueError(f"{path.name} is shorter than its header says")
        arrays.append(np.frombuffer(mapped, dtype=dtype, count=count, offset=offset))
        offset += _aligned(nbytes)
    prefix_shift(len(arrays[2]) - 1)
    if arrays[2][-1] != keys:
        raise ValueError(f"{path.name}: the directory does not fit the keys")
    return BandIndex(*arrays[:3]), arrays[3], mapped


def _willneed(mapped: mmap.mmap) -> None:
    if hasattr(mmap, "MADV_WILLNEED") and len(mapped):
        mapped.madvise(mmap.MADV_WILLNEED)


def _new_token() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class SyncReport:
    added: int
    changed: int
    removed: int
    unchanged: int


class IndexStore:
    """An open index file. Use `create` for a new one, `open` for an existing one."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._connection = connection
        self._pid = os.getpid()
        self._cache: OrderedDict[int, Source] = OrderedDict()
        self._in_place: list[StoredBandIndex] = []  # lookups reading the file, closed by `end_snapshot`
        # What band keys files are named after: the index's own path, but for a build's temporary
        # index, the path it is moved to (its files are written there under their final names).
        self.bands_name = path
        self._written: list[Path] = []  # band keys files written by an update not committed yet
        # Band keys files mapped when a snapshot began, by token: a build that replaces the index
        # meanwhile removes the files the old one named, and a mapping outlives its file's name.
        self._snapshot_files: dict[str, tuple[BandIndex, np.ndarray, mmap.mmap]] = {}

    @property
    def db(self) -> sqlite3.Connection:
        # A SQLite connection must not cross a fork: scan workers each open their own, and
        # read in one transaction from their first read on. An update committing meanwhile
        # could renumber the sources under the band keys the scan loaded, so it waits for the
        # scan instead; and SQLite then neither locks the file nor checks it for changes on
        # every read (3 % of a scan's time).
        if self._pid != os.getpid():
            self._connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            self._connection.execute("BEGIN")
            self._pid = os.getpid()
        return self._connection

    @classmethod
    def create(cls, path: Path, parameters: IndexParameters) -> "IndexStore":
        """A new index at `path`, which must be a temporary file: it is written without a journal
        (`build_index` moves it into place only when complete, which is what keeps it safe)."""
        db = sqlite3.connect(path, isolation_level=None)
        db.executescript("""
            PRAGMA journal_mode=OFF;
            PRAGMA synchronous=OFF;
            CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE sources(number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, content_hash TEXT NOT NULL,
                                 record TEXT NOT NULL, origin TEXT NOT NULL, text TEXT NOT NULL);
            CREATE TABLE arrays(name TEXT PRIMARY KEY, data BLOB NOT NULL);
        """ + "".join(f"{statement};\n" for statement in _FILE_TABLES))
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        a, b = permutations(parameters.num_perm)
        banding = parameters.banding
        with db:
            db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema", str(SCHEMA_VERSION)), ("parameters", json.dumps(parameters.as_dict(), sort_keys=True)),
                ("banding", json.dumps({"bands": banding.bands, "rows": banding.rows})),
                ("permutations", json.dumps({"a": a.tolist(), "b": b.tolist()})),
                ("hashing", parameters.hashing), ("datasketch", version("datasketch")), ("created", now), ("updated", now),
            ])
        return cls(path, db)

    @classmethod
    def open(cls, path: Path) -> "IndexStore":
        if not path.is_file():
            raise ComplianceError("source index not found (build it with `compliance index build`)", str(path))
        try:
            db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None, timeout=WAIT_FOR_SCANS)
            meta = dict(db.execute("SELECT name, value FROM meta"))
        except sqlite3.DatabaseError as error:
            raise ComplianceError(f"not a compliance source index ({error})", str(path)) from None
        if meta.get("schema") not in _READABLE_SCHEMAS:
            raise ComplianceError(f"index schema {meta.get('schema')} is not {SCHEMA_VERSION}; rebuild it with `compliance index build`", str(path))
        store = cls(path, db)
        try:
            store._remember_hashing(meta)
        except (KeyError, TypeError, ValueError) as error:
            raise ComplianceError(f"damaged compliance source index (meta: {type(error).__name__} {error}); "
                                  "rebuild it with `compliance index build`", str(path)) from None
        return store

    def begin_snapshot(self) -> None:
        """Read the index as it is now until `end_snapshot`: a scan's band keys and the sources
        they point at stay one version, and an update waits for the scan (`WAIT_FOR_SCANS`).
        Forked workers read in transactions of their own, begun while this one holds the file."""
        self.db.execute("BEGIN")
        self.db.execute("SELECT 1 FROM meta LIMIT 1").fetchone()  # SQLite takes its lock at the first read
        bands = self._bands_meta()
        if bands is not None:
            self._mapped_bands(bands, whole=False)  # (mapped now, read when looked up)

    def end_snapshot(self) -> None:
        """The scan has read all it needed: the index is let go now, not when the store is
        collected (a `watch` goes on scanning, and an update would wait for it meanwhile)."""
        if self._pid != os.getpid():
            return
        for lookup in self._in_place:
            lookup.close()
        self._in_place.clear()
        self._snapshot_files.clear()
        if self._connection.in_transaction:
            self._connection.execute("COMMIT")

    @staticmethod
    def _remember_hashing(meta: dict[str, str]) -> None:
        """Hand the stored permutations and banding to the fingerprinting code, which then need
        not import datasketch (and scipy) to recompute them."""
        parameters = IndexParameters(**json.loads(meta["parameters"]))
        stored = json.loads(meta["permutations"])
        remember_permutations(parameters.num_perm, np.array(stored["a"], dtype=np.uint32), np.array(stored["b"], dtype=np.uint32))
        Banding(**json.loads(meta["banding"])).remember(parameters.lsh_threshold, parameters.num_perm)

    def schema(self) -> str:
        return self.db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()[0]

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, value FROM meta"))

    def parameters(self) -> IndexParameters:
        return IndexParameters(**json.loads(self.meta()["parameters"]))

    def check_parameters(self, wanted: IndexParameters) -> None:
        """Refuse an index whose keys were made another way: mixed keys would silently never match."""
        built = self.parameters()
        if built != wanted:
            differences = [f"{name} {getattr(built, name)} (now {getattr(wanted, name)})"
                           for name in built.as_dict() if getattr(built, name) != getattr(wanted, name)]
            raise ComplianceError(
                f"index was built with other matching parameters: {', '.join(differences)}; "
                "rebuild it with `compliance index build`", str(self.path))

    def begin_update(self) -> IndexedFiles:
        """Hold the index for an update until `sync` commits it (or the store closes), and say
        what it remembers of the catalogue files it read."""
        self._begin_writing()
        signatures = {row[0]: row[1:] for row in self.db.execute("SELECT path, size, mtime_ns, inode, ctime_ns FROM files")}
        return IndexedFiles(signatures, lambda ids: {source_id: (path, origin) for source_id, path, origin in self._rows_of(
            "file_sources", ("id", "path", "origin"), ids)}, self)

    def _rows_of(self, table: str, columns: tuple[str, ...], values) -> list[tuple]:
        """`columns` of the rows of `table` whose first column is one of `values`: looked up one
        by one (by an index of that column) for a few, all read for many. An update that read a
        few catalogue files thus costs what it read, not a pass over a million sources' rows
        (2 s each)."""
        query = f"SELECT {', '.join(columns)} FROM {table}"
        if len(values) > _ROWS_LOOKED_UP:
            wanted = set(values)
            return [row for row in self.db.execute(query) if row[0] in wanted]
        found = []
        for value in values:
            found.extend(self.db.execute(f"{query} WHERE {columns[0]} = ?", (value,)))
        return found

    def _begin_writing(self) -> None:
        """The write transaction of an update, in which an index written before files were
        remembered gets their tables. Builds killed beside it leave their files no more."""
        remove_temporaries(self.path)
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            raise ComplianceError(f"another update of the index did not end within {WAIT_FOR_SCANS:.0f} s; "
                                  "update it again when it is done", str(self.path)) from None
        try:
            for statement in _FILE_TABLES:  # (`executescript` would commit first)
                self.db.execute(statement)
            if self.bands_name == self.path:  # (a build's temporary index names none of the files there)
                remove_unused_bands(self.path, self._bands_tokens())
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def sync(self, sources: Catalogue | list[Source], jobs: int = 1, progress=None, pool: ProcessPoolExecutor | None = None,
             numbering: Mapping[str, int] | None = None) -> SyncReport:
        """Make the index hold exactly `sources`: fingerprint new and changed ones, drop the rest.

        Given a `Catalogue` loaded with what `begin_update` said, the sources of its files
        unchanged since the index read them (not read again) stay as they are; the files it
        read are remembered.

        One transaction: an interrupted sync leaves the index as it was. Rows are written a
        chunk at a time as workers finish them, so memory holds keys, not the catalogue twice;
        the keys wait in files (`_KeySpill`), and the catalogue's sources are let go once written
        (`catalogue.sources` is emptied) before the keys are grouped.
        The workers are `pool` when given (`index.fingerprinting_workers`), which is shut down
        once the keys are done.

        New sources take the next numbers, or those `numbering` gives them (a shard of a
        catalogue numbers its sources as an index of the whole catalogue would).
        """
        catalogue = sources if isinstance(sources, Catalogue) else Catalogue(list(sources))
        sources = catalogue.sources
        if catalogue.indexed is not None and (catalogue.indexed.store is not self or not self.db.in_transaction):
            raise ValueError("a catalogue loaded for an update syncs with the store that began it, before it ends")
        parameters = self.parameters()
        if not self.db.in_transaction:
            self._begin_writing()
        try:
            remembered = list(catalogue.indexed.signatures) if catalogue.indexed else [
                path for (path,) in self.db.execute("SELECT path FROM files")]
            unchanged = set(catalogue.unchanged)
            wanted = {source.id for source in sources}
            # What may go: the sources of the files read again or gone, and those no file gave
            # (of files read but not remembered, or written by another version).
            again = {path for path in remembered if path not in unchanged}
            going = {source_id for _, source_id in self._rows_of("file_sources", ("path", "id"), again)}
            attributed = self.db.execute("SELECT count(*) FROM file_sources").fetchone()[0]
            held = attributed - len(going) - len(catalogue.dropped)
            if attributed < self.db.execute("SELECT count(*) FROM sources").fetchone()[0]:
                going.update(source_id for (source_id,) in self.db.execute(
                    "SELECT id FROM sources AS s WHERE NOT EXISTS (SELECT 1 FROM file_sources AS f WHERE f.id = s.id)"))
            going -= wanted
            # (the stored sources of those read and those that may go: the others stay as they are)
            stored = {source_id: (number, digest) for source_id, number, digest in self._rows_of(
                "sources", ("id", "number", "content_hash"), wanted | going)}
            removed = [stored[source_id][0] for source_id in going if source_id in stored]
            if stored:
                records = [_record(source) for source in sources]
                todo = [(source, digest, record) for source, record in zip(sources, records)
                        if stored.get(source.id, (None, None))[1] != (digest := content_hash(source, record))]
            else:  # a new index takes every source: hashed as its rows are written, beside the workers
                records = None
                todo = [(source, None, None) for source in sources]
            next_number = (self.db.execute("SELECT max(number) FROM sources").fetchone()[0] or 0) + 1
            new = sum(1 for source, _, _ in todo if source.id not in stored)
            if next_number - 1 + new > MAX_SOURCE_NUMBER:
                raise ComplianceError(f"an index numbers at most {MAX_SOURCE_NUMBER:,} sources, and this one would need "
                                      f"{next_number - 1 + new:,} (a build numbers them afresh)", str(self.path))
            numbers = []
            for source, _, _ in todo:
                if source.id in stored:
                    numbers.append(stored[source.id][0])
                elif numbering is not None:
                    numbers.append(numbering[source.id])
                else:
                    numbers.append(next_number)
                    next_number += 1
            self.db.executemany("DELETE FROM sources WHERE number = ?", [(number,) for number in removed])
            changed = sum(1 for source, _, _ in todo if source.id in stored)
            report = SyncReport(len(todo) - changed, changed, len(removed), len(sources) - len(todo) + held)
            rewrite = bool(todo or removed or (self._bands_meta() is None and not self.db.execute("SELECT 1 FROM arrays").fetchone()))
            with _KeySpill(self.path.parent) as spill:
                done = 0
                for keys in keys_in_chunks([source.text for source, _, _ in todo], parameters, jobs, pool):
                    chunk = slice(done, done + len(keys))
                    spill.add(np.concatenate(keys), np.repeat(np.array(numbers[chunk], dtype=np.int32), [len(k) for k in keys]))
                    self.db.executemany(
                        "INSERT OR REPLACE INTO sources(number, id, content_hash, record, origin, text) VALUES (?, ?, ?, ?, ?, ?)",
                        [_row(number, source, digest, record) for (source, digest, record), number in zip(todo[chunk], numbers[chunk])],
                    )
                    done += len(keys)
                    if progress:
                        progress(done, len(todo))
                if pool is not None:
                    pool.shutdown()  # its work is done, and grouping the keys needs the workers' memory
                self._remember_files(catalogue, remembered)
                # The texts are written: they go before the keys are grouped (a million sources'
                # are 4 GB, which with the keys and their grouping's spare copy made the peak).
                replaced = set(removed) | set(numbers)
                held_before = set(removed) | {number for (source, _, _), number in zip(todo, numbers) if source.id in stored}
                del todo, sources, records, numbers
                catalogue.sources = []
                _give_back_freed_memory()
                if rewrite:
                    self._write_arrays(replaced, spill, held_before)
            now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            self.db.execute("UPDATE meta SET value = ? WHERE name = 'updated'", (now,))
            self.db.execute("COMMIT")
        except BaseException as error:
            self.db.execute("ROLLBACK")
            self._forget_written()
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise ComplianceError(f"the index is being read by a scan that did not end within {WAIT_FOR_SCANS:.0f} s; "
                                      "update it again when the scan is done", str(self.path)) from None
            raise
        self._committed()
        return report

    def apply(self, changed: list[tuple[int, Source]], removed: list[str]) -> SyncReport:
        """Add or replace `changed` sources under the numbers given, and drop the sources of the
        `removed` ids, in one transaction: a cluster's shard takes its part of an update, the
        whole catalogue numbered by whoever sent it (see `compliance.cluster`)."""
        parameters = self.parameters()
        self._begin_writing()
        try:
            stored = dict(self.db.execute("SELECT id, number FROM sources"))
            gone = [stored[source_id] for source_id in removed if source_id in stored]
            self.db.executemany("DELETE FROM sources WHERE number = ?", [(number,) for number in gone])
            keys = keys_of_all([source.text for _, source in changed], parameters) if changed else []
            self.db.executemany(
                "INSERT OR REPLACE INTO sources(number, id, content_hash, record, origin, text) VALUES (?, ?, ?, ?, ?, ?)",
                [_row(number, source, None, None) for number, source in changed])
            numbers = [number for number, _ in changed]
            with _KeySpill(self.path.parent) as spill:
                for k, number in zip(keys, numbers):
                    spill.add(k, np.full(len(k), number, np.int32))
                held_before = set(gone) | {stored[s.id] for _, s in changed if s.id in stored}
                self._write_arrays(held_before | set(numbers), spill, held_before)
            now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            self.db.execute("UPDATE meta SET value = ? WHERE name = 'updated'", (now,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self._forget_written()
            raise
        self._committed()
        changed_count = sum(1 for _, source in changed if source.id in stored)
        return SyncReport(len(changed) - changed_count, changed_count, len(gone), len(stored) - len(gone) - changed_count)

    def _remember_files(self, catalogue: Catalogue, remembered: list[str]) -> None:
        """Remember the files read (their signatures, as stat'ed before they were read, and
        their sources) but those an error names and those written too shortly before they were
        listed (`RACY_NS`), which the next update reads again; forget the files gone, and the
        others read again."""
        kept = {path for path in catalogue.unchanged if path not in catalogue.named}
        read = {file.path: file.signature for file in catalogue.files  # (a file listed twice, under two paths given, is read twice)
                if file.path in catalogue.read and file.path not in catalogue.named and not _is_racy(file.signature, catalogue.listed_ns)}
        forgotten = [(path,) for path in remembered if path not in kept]
        self.db.executemany("DELETE FROM files WHERE path = ?", forgotten)
        self.db.executemany("DELETE FROM file_sources WHERE path = ?", forgotten)
        self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", [(path, *signature) for path, signature in read.items()])
        self.db.executemany("INSERT INTO file_sources VALUES (?, ?, ?)", [
            (source.id, catalogue.file_of[source.id], source.origin) for source in catalogue.sources if catalogue.file_of.get(source.id) in read])

    def _committed(self) -> None:
        """After an update's commit: the band keys files it no longer names go (no scan reads
        them: a commit waits for the scans reading the index, and a scan maps its files while it
        reads)."""
        self._cache.clear()
        self._written.clear()
        self._snapshot_files.clear()
        if self.bands_name == self.path:
            remove_unused_bands(self.path, self._bands_tokens())

    def _forget_written(self) -> None:
        self._snapshot_files.clear()
        for path in self._written:
            path.unlink(missing_ok=True)
        self._written.clear()

    def _bands_meta(self) -> dict[str, BandsFile | None] | None:
        """The band keys files the index names (schema 5): 'main' and 'delta' (None when there
        is none); None for an index that holds its keys in `arrays`."""
        row = self.db.execute("SELECT value FROM meta WHERE name = 'bands'").fetchone()
        if row is None:
            return None
        try:
            named = json.loads(row[0])
            return {layer: None if named.get(layer) is None else BandsFile(**named[layer]) for layer in ("main", "delta")}
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise self._damaged(f"meta 'bands': {type(error).__name__} {error}") from None

    def _bands_tokens(self) -> set[str] | None:
        """The tokens of the band keys files the index names; None when its meta is damaged
        (then no file is removed as unused: it may be one the index named)."""
        try:
            bands = self._bands_meta() or {}
        except ComplianceError:
            return None
        return {file.token for file in bands.values() if file is not None}

    def _write_arrays(self, replaced: set[int], spill: "_KeySpill", held_before: set[int]) -> None:
        """The band keys without those of replaced sources (of `held_before`, the numbers the
        index held before: the rest are new), plus the new keys (and the number of the source
        of each) from `spill`, grouped. Written as a delta beside the main keys
        (which stay as they are, those of replaced sources masked) while it stays small
        (`FOLD_FRACTION`); else the main keys are written again whole, the delta folded in."""
        old = self.band_index(whole=False)  # (a delta's update reads none of the main keys; a damaged index is refused here)
        bands = self._bands_meta()
        main = BandIndex(old.keys, old.owners, old.directory)
        delta = old.delta if isinstance(old, LayeredBandIndex) else None
        replaced_numbers = np.fromiter(sorted(replaced), dtype=np.int32, count=len(replaced))
        masked = np.union1d(np.flatnonzero(old.masked).astype(np.int32) if isinstance(old, LayeredBandIndex) else np.zeros(0, np.int32),
                            np.fromiter(held_before, dtype=np.int32, count=len(held_before))).astype(np.int32)
        delta_keep = None if delta is None or not len(replaced) else ~np.isin(delta.owners, replaced_numbers)
        delta_kept = 0 if delta is None else len(delta.keys) if delta_keep is None else int(np.count_nonzero(delta_keep))
        # (the main keys of masked sources, estimated from the keys a source holds on average)
        masked_keys = len(masked) * len(main.keys) / max(len(self), 1)
        if bands is not None and bands["main"] is not None and delta_kept + spill.count + masked_keys <= FOLD_FRACTION * len(main.keys):
            keys, owners = _zeros(delta_kept + spill.count, np.uint64), _zeros(delta_kept + spill.count, np.int32)
            if delta is not None and delta_keep is not None:
                np.compress(delta_keep, delta.keys, out=keys[:delta_kept])
                np.compress(delta_keep, delta.owners, out=owners[:delta_kept])
            elif delta is not None:
                keys[:delta_kept], owners[:delta_kept] = delta.keys, delta.owners
            spill.read_into(keys[delta_kept:], owners[delta_kept:])
            self._set_bands(bands["main"], self._write_bands(BandIndex.grouped(keys, owners), masked))
            return
        layers = [(main, masked)] + ([(delta, replaced_numbers)] if delta is not None else [])
        keeps = [None if not len(dropped) or not len(layer.keys) else ~np.isin(layer.owners, dropped) for layer, dropped in layers]
        kept = [len(layer.keys) if keep is None else int(np.count_nonzero(keep)) for (layer, _), keep in zip(layers, keeps)]
        keys, owners = _zeros(sum(kept) + spill.count, np.uint64), _zeros(sum(kept) + spill.count, np.int32)
        at = 0
        for (layer, _), keep, count in zip(layers, keeps, kept):
            if keep is None:
                keys[at : at + count], owners[at : at + count] = layer.keys, layer.owners
            else:
                np.compress(keep, layer.keys, out=keys[at : at + count])
                np.compress(keep, layer.owners, out=owners[at : at + count])
            at += count
        del old, main, delta, layers, keeps  # grouping needs as much room again
        spill.read_into(keys[at:], owners[at:])
        self._set_bands(self._write_bands(BandIndex.grouped(keys, owners), np.zeros(0, np.int32)), None)

    def _write_bands(self, index: BandIndex, masked: np.ndarray) -> BandsFile:
        """A new band keys file, written under a temporary name and put in place (flushed to
        disk, with its folder) before the commit that names it; a run killed before the commit
        leaves a file no index names, which the next update removes."""
        token = _new_token()
        final = bands_file(self.bands_name, token)
        temporary = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        try:
            written = _write_bands(temporary, token, index, masked)
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._written.append(final)
        _sync_folder(final.parent)
        return written

    def _set_bands(self, main: BandsFile, delta: BandsFile | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('bands', ?)",
                        (json.dumps({"main": main.as_dict(), "delta": None if delta is None else delta.as_dict()}),))
        self.db.execute("DELETE FROM arrays")  # (an older schema's)
        self.db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(SCHEMA_VERSION),))

    def band_index(self, whole: bool = True) -> BandIndex:
        """All band keys: memory-mapped from the index's band keys files (schema 5; a
        `LayeredBandIndex` when updates left a delta), or loaded from `arrays` (older)."""
        bands = self._bands_meta()
        if bands is not None:
            return self._mapped_bands(bands, whole)
        try:
            pieces = _array_pieces(self.db)
            if not pieces:
                return BandIndex.build([])
            with self._mapped():
                keys, owners = self._read_array(pieces["keys"], np.uint64), self._read_array(pieces["owners"], np.int32)
                directory = self._read_array(pieces["directory"], _stored_directory_type(self.schema(), len(keys)))
            prefix_shift(len(directory) - 1)
            if directory[-1] != len(keys):
                raise ValueError("the directory does not fit the keys")
            if len(keys) != len(owners):
                raise ValueError("band keys and their sources differ in number")
        except (KeyError, TypeError, ValueError) as error:
            raise self._damaged(f"band keys: {error}") from None
        return BandIndex(keys, owners, directory)

    def _mapped_bands(self, bands: dict[str, BandsFile | None], whole: bool) -> BandIndex:
        layers = []
        for layer in ("main", "delta"):
            named = bands[layer]
            if named is None:
                layers.append(None)
                continue
            path = bands_file(self.bands_name, named.token)
            mapped = self._snapshot_files.get(named.token) if self.db.in_transaction else None
            if mapped is None:
                try:
                    mapped = _read_bands(path, named, whole)
                except (OSError, ValueError) as error:
                    raise ComplianceError(f"damaged compliance source index (band keys: {error}); "
                                          "rebuild it with `compliance index build`", str(path)) from None
                if self.db.in_transaction:
                    self._snapshot_files[named.token] = mapped
            elif whole:
                _willneed(mapped[2])
            layers.append(mapped[:2])
        if layers[0] is None:
            raise self._damaged("band keys: no main file named")
        (main, _), delta = layers
        if delta is None:
            return main
        masked = np.zeros(int(delta[1].max()) + 1 if len(delta[1]) else 0, np.bool_)
        masked[delta[1]] = True
        return LayeredBandIndex(main.keys, main.owners, main.directory, delta[0], masked)

    def band_files(self) -> list[dict]:
        """The band keys files the index names: path, bytes and keys of each (`index info`)."""
        bands = self._bands_meta() or {}
        return [{"layer": layer, "path": str(bands_file(self.bands_name, named.token)), "size_bytes": named.size,
                 "band_keys": named.keys} for layer, named in bands.items() if named is not None]

    def band_bytes(self) -> int:
        """Bytes of band keys a process holding them all loads (or maps)."""
        files = self.band_files()
        if files:
            return sum(file["size_bytes"] for file in files)
        return int(self.db.execute("SELECT coalesce(sum(length(data)), 0) FROM arrays").fetchone()[0])

    def band_lookup(self, documents: int) -> "BandIndex | StoredBandIndex":
        """What a scan of `documents` reposts looks band keys up in: memory-mapped files (schema
        5) read only the pages looked at, whatever the number. An older index's keys: for a
        handful, looked up where they lie in the file; for more, all of them loaded (`band_index`)."""
        if self._bands_meta() is not None:
            return self.band_index(whole=documents > StoredBandIndex.MAX_DOCUMENTS)
        if documents > StoredBandIndex.MAX_DOCUMENTS or not hasattr(self.db, "blobopen") or not self.db.execute(
                "SELECT 1 FROM arrays").fetchone():
            return self.band_index()
        try:
            self._in_place.append(StoredBandIndex(self.db, _array_pieces(self.db), self.schema()))
            return self._in_place[-1]
        except (KeyError, ValueError) as error:
            raise self._damaged(f"band keys: {error}") from None

    @contextlib.contextmanager
    def _mapped(self):
        """SQLite reads the file through a memory map meanwhile: the band keys' hundreds of
        megabytes come as copies from the map instead of a system call per 4 KB page (a third
        faster). Unmapped afterwards, so that the mapped pages are not counted twice."""
        self.db.execute(f"PRAGMA mmap_size = {2**31 - 2**16}")  # SQLite's default ceiling
        try:
            yield
        finally:
            self.db.execute("PRAGMA mmap_size = 0")

    def _read_array(self, pieces: list[tuple[int, int]], dtype) -> np.ndarray:
        """A stored array, read-only. One row (an array up to `ARRAY_PIECE` bytes, or any of
        schema 3) is the bytes of one read: SQLite copies its hundreds of megabytes without
        holding Python's lock, while the kernels load on another thread. (Reading in small
        pieces into an array handed the lock back and forth for every piece, and waited up to
        5 ms for it each time: 1 s instead of 0.3 s with the kernels loading.)

        The rows of a larger array are copied into one array `_PIECE` bytes at a time: each
        read then reuses the memory the previous one freed, where reading a row of 256 MB at
        once had every read fault fresh pages in, and the array's pages a second time: a
        million sources' 3.4 GB of arrays loaded in 9 s instead of 16 to 28 s (2 busy cores).
        The array lies on a bytearray, as a row read whole lies on bytes: numpy asks for huge
        pages for an array of its own, and with the page cache full of the index the kernel
        compacted memory to find each one (1.9 GB of keys: 5 to 10 s, against 2.6 to 3.0 s)."""
        if len(pieces) == 1:
            return self._read_piece(pieces[0][0], dtype)
        total = sum(size for _, size in pieces)
        if total % np.dtype(dtype).itemsize:
            raise ValueError(f"{total} bytes is not a whole number of values")
        values = np.frombuffer(bytearray(total), dtype=dtype)
        into, start = values.view(np.uint8), 0
        for rowid, size in pieces:
            if not hasattr(self.db, "blobopen"):  # Python 3.10
                into[start : start + size] = self._read_piece(rowid, np.uint8)
                start += size
                continue
            with self.db.blobopen("arrays", "data", rowid, readonly=True) as blob:
                if len(blob) != size:
                    raise ValueError("an array's piece changed size while read")
                for at in range(0, size, _PIECE):
                    part = blob.read(_PIECE)
                    into[start + at : start + at + len(part)] = np.frombuffer(part, dtype=np.uint8)
            start += size
        values.flags.writeable = False
        return values

    def _read_piece(self, rowid: int, dtype) -> np.ndarray:
        if not hasattr(self.db, "blobopen"):  # Python 3.10
            (data,) = self.db.execute("SELECT data FROM arrays WHERE rowid = ?", (rowid,)).fetchone()
            return np.frombuffer(data, dtype=dtype)
        with self.db.blobopen("arrays", "data", rowid, readonly=True) as blob:
            if len(blob) % np.dtype(dtype).itemsize:
                raise ValueError(f"{len(blob)} bytes is not a whole number of values")
            return np.frombuffer(blob.read(), dtype=dtype)

    def _damaged(self, what: str) -> ComplianceError:
        return ComplianceError(f"damaged compliance source index ({what}); rebuild it with `compliance index build`", str(self.path))

    def __getitem__(self, number: int) -> Source:
        """A source by number, read on first use (a scan touches only its candidates)."""
        source = self._cache.get(number)
        if source is None:
            source = self._cache[number] = self.read_source("number", number)
            if len(self._cache) > _SOURCES_KEPT:
                self._cache.popitem(last=False)
        return source

    def read_source(self, column: str, value: int | str) -> Source:
        """The source whose `column` (number or id) is `value`; KeyError when there is none."""
        row = self.db.execute(f"SELECT record, text, origin FROM sources WHERE {column} = ?", (value,)).fetchone()
        if row is None:
            raise KeyError(value)
        try:
            return _source(*row)
        except (KeyError, TypeError, ValueError) as error:
            raise self._damaged(f"source {value}: {type(error).__name__} {error}") from None

    def ids_of(self, numbers: set[int]) -> dict[int, str]:
        """Source ids by number (of sources the index holds): one query a number for a few, one
        for all of them beyond."""
        if len(numbers) > 5000:
            return {number: source_id for number, source_id in self.db.execute("SELECT number, id FROM sources") if number in numbers}
        found = {}
        for number in numbers:
            row = self.db.execute("SELECT id FROM sources WHERE number = ?", (number,)).fetchone()
            if row is not None:
                found[number] = row[0]
        return found

    def digests(self) -> dict[str, str]:
        """Source id -> content hash (as `content_hash` computes it), without reading texts."""
        return dict(self.db.execute("SELECT id, content_hash FROM sources"))

    def by_id(self) -> "SourcesById":
        return SourcesById(self)

    def urls(self) -> set[str]:
        return {url for (url,) in self.db.execute("SELECT json_extract(record, '$.url') FROM sources") if url}

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM sources").fetchone()[0]

    def info(self) -> dict:
        meta = self.meta()
        files = self.band_files()
        keys = sum(file["band_keys"] for file in files) if files else self.db.execute(
            "SELECT coalesce(sum(length(data)), 0) / 8 FROM arrays WHERE name = 'keys' OR name GLOB 'keys.*'").fetchone()[0]
        return {
            "path": str(self.path), "sources": len(self), "band_keys": keys, "band_files": files,
            "size_bytes": os.path.getsize(self.path), "parameters": json.loads(meta["parameters"]),
            "banding": json.loads(meta["banding"]),
            "hashing": meta["hashing"], "datasketch": meta["datasketch"], "schema": int(meta["schema"]),
            "created": meta["created"], "updated": meta["updated"],
        }

    def close(self) -> None:
        self._connection.close()


class SourcesById(Mapping[str, Source]):
    """An index's sources by id, read when asked for (the state restores a few matches)."""

    def __init__(self, store: IndexStore):
        self.store = store

    def __getitem__(self, source_id: str) -> Source:
        return self.store.read_source("id", source_id)

    def __iter__(self):
        return (source_id for (source_id,) in self.store.db.execute("SELECT id FROM sources ORDER BY number"))

    def __len__(self) -> int:
        return len(self.store)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def remove_temporaries(path: Path) -> list[Path]:
    """The temporary files of builds and updates of the index at `path` that were killed
    (`_temporary`, with SQLite's journal files, and band keys files being written), whose
    process is gone."""
    return remove_leftovers(path.parent, re.compile(re.escape(f".{path.name}.") + r"(?:bands-[0-9a-f]{16}\.)?(?P<pid>\d+)\.tmp(?:-wal|-shm|-journal)?"))


def remove_unused_bands(path: Path, used: set[str] | None) -> list[Path]:
    """Remove the band keys files named after the index at `path` that it does not name (`used`;
    None: not known, none removed): those it named before an update or a build replaced them,
    and those of a run killed before its commit. Called by whoever holds the index for writing."""
    if used is None:
        return []
    pattern = re.compile(re.escape(f"{path.name}.bands-") + r"(?P<token>[0-9a-f]{16})")
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            found = pattern.fullmatch(entry.name)
            if found and found.group("token") not in used:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _sync_folder(folder: Path) -> None:
    """A rename in `folder` made durable (POSIX: the folder's entry is flushed on its own)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def build_index(path: Path, sources: Catalogue | list[Source], parameters: IndexParameters, jobs: int = 1, progress=None,
                pool: ProcessPoolExecutor | None = None, numbering: Mapping[str, int] | None = None,
                meta: Mapping[str, str] | None = None) -> SyncReport:
    """Build a fresh index file, written beside `path` and moved into place only when complete."""
    if isinstance(sources, Catalogue) and sources.unchanged:
        raise ValueError("a new index is built from a catalogue read whole")
    remove_temporaries(path)
    temporary = _temporary(path)
    leftovers = (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    store = None
    try:
        store = IndexStore.create(temporary, parameters)
        store.bands_name = path  # its band keys files are written under their final names
        if meta:
            store.db.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        report = store.sync(sources, jobs, progress, pool, numbering)
        store.db.execute("PRAGMA journal_mode=DELETE")  # updates of the finished index are journalled
        used = store._bands_tokens()
        store.close()
        os.replace(temporary, path)
        _sync_folder(path.parent)
    except BaseException:
        if store is not None:
            store.close()
            store._forget_written()
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise
    remove_unused_bands(path, used)  # the replaced index's
    return report
