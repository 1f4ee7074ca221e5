"""The LSH index of source windows: band keys in one array, grouped by prefix.

Every source window contributes one key per LSH band (see `fingerprint.Banding`); a repost
window that shares a key with a source window is a candidate pair, as in datasketch's
`MinHashLSH`. Kept as two flat numpy arrays (keys grouped by their top bits, the source
number of each), the index costs 12 bytes per key instead of a Python set per bucket, loads
from disk in one read, and answers a whole repost's keys at once through a directory of key
prefixes.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from compliance.similarity import kernels
from compliance.similarity.fingerprint import (
    HASHING, Banding, permutations, remember_permutations, shingle_hashes, window_signatures, window_starts,
)
from compliance.similarity.tokens import word_hashes
from compliance.workers import can_fork, worker_pool

# A bucket this full holds a stock passage (a wire footer, a boilerplate paragraph) that says
# nothing about which article was copied; looking through it would only cost time. Not much
# lower: a wire story catalogued in each member paper's copy fills every one of its buckets,
# and at 64 a story in 65 copies could no longer be found.
MAX_BUCKET = 512


@dataclass(frozen=True)
class IndexParameters:
    """Everything that decides a source's keys: an index built with others cannot be reused."""

    shingle_words: int
    window: int
    num_perm: int
    lsh_threshold: float
    hashing: str = HASHING

    @classmethod
    def of(cls, settings) -> "IndexParameters":
        return cls(settings.shingle_words, settings.window, settings.num_perm, settings.lsh_threshold)

    @property
    def banding(self) -> Banding:
        return Banding.for_threshold(self.lsh_threshold, self.num_perm)

    def as_dict(self) -> dict:
        return asdict(self)


def _band_keys(shingles: np.ndarray, parameters: IndexParameters, stride: int) -> np.ndarray:
    """The band keys of windows every `stride` shingles, repeats included."""
    signatures = window_signatures(shingles, parameters.window, stride, parameters.num_perm)
    return parameters.banding.keys(signatures).ravel()


def window_keys(shingles: np.ndarray, parameters: IndexParameters, stride: int) -> np.ndarray:
    """The distinct band keys of windows every `stride` shingles, sorted."""
    return sorted_unique(_band_keys(shingles, parameters, stride))


def query_keys(shingles: np.ndarray, parameters: IndexParameters, stride: int) -> np.ndarray:
    """The keys of `window_keys`, in no particular order (a lookup needs no order, and sorting
    cost a repost more than looking its keys up)."""
    return kernels.distinct_values(_band_keys(shingles, parameters, stride))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` for the small arrays of one document: sorting and dropping repeats is
    several times faster than numpy's general (hash-based) unique at this size."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def source_keys(text: str, parameters: IndexParameters) -> np.ndarray:
    """A source's keys: its windows side by side, without overlap (a repost's overlap instead)."""
    shingles = shingle_hashes(word_hashes(text), parameters.shingle_words)
    return window_keys(shingles, parameters, parameters.window)


def _keys_of_chunk(job: tuple[list[str], IndexParameters, tuple]) -> list[np.ndarray]:
    texts, parameters, learned = job
    _remember_learned(parameters, learned)
    return [source_keys(text, parameters) for text in texts]


def _learned(parameters: IndexParameters) -> tuple[np.ndarray, np.ndarray, Banding]:
    """What fingerprinting learns from datasketch (its permutations and banding): worked out by
    the parent and handed to workers, each of which took half a second importing datasketch
    (and scipy) for it."""
    return (*permutations(parameters.num_perm), parameters.banding)


def _remember_learned(parameters: IndexParameters, learned: tuple[np.ndarray, np.ndarray, Banding]) -> None:
    a, b, banding = learned
    remember_permutations(parameters.num_perm, a, b)
    banding.remember(parameters.lsh_threshold, parameters.num_perm)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_CHUNK = 500  # sources per task: enough to amortise a round trip to a worker
_worker_texts: tuple[list[str], IndexParameters] | None = None  # what forked workers inherit


def _keys_of_inherited(bounds: tuple[int, int]) -> list[np.ndarray]:
    assert _worker_texts is not None
    texts, parameters = _worker_texts
    return [source_keys(text, parameters) for text in texts[bounds[0] : bounds[1]]]


def keys_in_chunks(texts: list[str], parameters: IndexParameters, jobs: int = 1,
                   pool: ProcessPoolExecutor | None = None) -> Iterator[list[np.ndarray]]:
    """`source_keys` of every text, in order, a chunk at a time, on `jobs` processes when
    there are enough texts to pay for starting them (`pool`, if started already, see
    `fingerprinting_workers`; they are sent the texts).

    Workers forked here inherit the texts instead, and are sent where each chunk starts and
    ends: pickling the texts cost the parent, which writes the index meanwhile, time."""
    global _worker_texts
    bounds = [(start, min(start + _CHUNK, len(texts))) for start in range(0, len(texts), _CHUNK)]
    if not bounds:
        return
    learned = _learned(parameters)  # (forked workers inherit it)
    if jobs <= 1 or len(bounds) < 2:
        yield from (_keys_of_chunk((texts[start:end], parameters, learned)) for start, end in bounds)
        return
    if pool is not None or not can_fork():
        with contextlib.nullcontext(pool) if pool is not None else worker_pool(jobs, gc.enable) as pool:
            yield from pool.map(_keys_of_chunk, [(texts[start:end], parameters, learned) for start, end in bounds])
        return
    kernels.warm_up()  # forked workers inherit the compiled kernels
    _worker_texts = (texts, parameters)
    try:
        with worker_pool(jobs, gc.enable) as pool:
            yield from pool.map(_keys_of_inherited, bounds)
    finally:
        _worker_texts = None


@contextlib.contextmanager
def fingerprinting_workers(jobs: int, building: IndexParameters | None = None) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for loading a catalogue and fingerprinting it, started at once: forked
    after the catalogue is loaded, each held a copy of every page of it the parent touched
    meanwhile (an index build of 100,000 sources peaked at 1.8 GB, its workers 0.5 GB each;
    started first, at 1.3 GB). None for one job.

    When `building` an index (an existing one stores them), what fingerprinting learns from
    datasketch is worked out on a thread while the workers load the catalogue: importing
    datasketch and scipy took half a second of the build's own."""
    if jobs <= 1:
        yield None
        return
    kernels.warm_up()  # forked workers inherit the compiled kernels
    with worker_pool(jobs, gc.enable) as pool:
        for started in [pool.submit(int) for _ in range(jobs)]:  # a forking pool starts all its workers on the first task
            started.result()
        # Started once the workers are: a process forked while another thread imports could
        # inherit the import's locks, held for good.
        learning = threading.Thread(target=_learn_quietly, args=(building,), daemon=True) if building else None
        if learning:
            learning.start()
        try:
            yield pool
        finally:
            if learning:
                learning.join()  # before anything else forks


def _learn_quietly(parameters: IndexParameters) -> None:
    with contextlib.suppress(Exception):  # whoever needs it next works it out again, and says what fails
        _learned(parameters)


def keys_of_all(texts: list[str], parameters: IndexParameters, jobs: int = 1) -> list[np.ndarray]:
    return [keys for chunk in keys_in_chunks(texts, parameters, jobs) for keys in chunk]


def prefix_bits(count: int) -> int:
    """How many top bits of a key the directory indexes: one or two keys per prefix.

    Measured on the 100,000-source benchmark index (24 million keys): a repost's lookups took
    47-51 us at about four keys a prefix, 34-37 us at 1.4, and 30-35 us at 0.7, whose directory
    is twice as large again. A lookup compares fewer keys and less often reads a line of them
    (a quarter of the prefixes hold none); the directory, in 32 bits, is as large as the
    64-bit one of four keys a prefix was.
    """
    return int(min(30, max(4, np.ceil(np.log2(max(count, 1) / 2)))))


def directory_type(keys: int) -> type:
    """The directory's values: positions among `keys` keys, and `keys` itself at the end."""
    return np.uint32 if keys < 2**32 else np.int64


def prefix_shift(prefixes: int) -> int:
    """How far a key shifts right to leave its prefix, for a directory of `prefixes` entries
    (a power of two, as `prefix_bits` makes it); ValueError for any other count."""
    if prefixes < 1 or prefixes & (prefixes - 1):
        raise ValueError("the directory does not fit the keys")
    return 64 - (prefixes.bit_length() - 1)


@dataclass(frozen=True)
class BandIndex:
    """Band keys grouped by their top bits (`prefix_bits`), and the source each belongs to.

    Keys are uniform 64-bit hashes, so a prefix holds one or two keys, or none: a lookup
    reads one directory entry and one cache line of keys at most, where a binary search over
    millions of sorted keys misses the cache a dozen times. Keys need only be grouped, not sorted
    (a sorted array is grouped too).
    """

    keys: np.ndarray  # uint64, grouped by prefix
    owners: np.ndarray  # int32: the source number each key belongs to
    directory: np.ndarray  # where the keys of each prefix start, and last how many keys there are:
    # uint32 (int64 for 2**32 keys or more, which no catalogue comes near)

    @classmethod
    def build(cls, keys_by_source: list[np.ndarray]) -> "BandIndex":
        """From each source's keys, the sources numbered by position."""
        lengths = [len(keys) for keys in keys_by_source]
        keys = np.concatenate(keys_by_source) if keys_by_source else np.zeros(0, dtype=np.uint64)
        return cls.grouped(keys, np.repeat(np.arange(len(keys_by_source), dtype=np.int32), lengths))

    @classmethod
    def grouped(cls, keys: np.ndarray, owners: np.ndarray) -> "BandIndex":
        """From all keys, in any order, and the source each belongs to: both arrays are
        reordered in place (and held by the index)."""
        directory = np.zeros((1 << prefix_bits(len(keys))) + 1, directory_type(len(keys)))
        kernels.group_by_prefix(keys, owners, directory, prefix_shift(len(directory) - 1))
        return cls(keys, owners, directory)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.owners.nbytes

    def __post_init__(self) -> None:
        # Read-only, whether loaded (on the bytes read from the index) or built: the kernels
        # then see one array type, which the scan loads once before its workers fork.
        # The directory in 32 bits when the keys allow: half the bytes, so that more of it stays
        # in the processor's cache (each query key reads one entry; this made lookups 40 %
        # faster than with 64 bits). An index of schema 2 stored it in 64 bits.
        object.__setattr__(self, "directory", self.directory.astype(directory_type(len(self.keys)), copy=False))
        for name in ("keys", "owners", "directory"):
            object.__setattr__(self, name, kernels.read_only(getattr(self, name)))
        object.__setattr__(self, "_shift", prefix_shift(len(self.directory) - 1))

    def candidates(self, query_keys: np.ndarray, limit: int) -> list[int]:
        """Source numbers sharing keys with the query, most shared keys first, at most `limit`."""
        return [number for number, _ in self.candidates_with_hits(query_keys, limit)]

    def candidates_with_hits(self, query_keys: np.ndarray, limit: int) -> list[tuple[int, int]]:
        """(source number, shared keys) of the candidates, most shared keys first, at most `limit`."""
        if not len(self.keys) or not len(query_keys):
            return []
        owners = kernels.shared_key_owners(self.keys, self.owners, self.directory, self._shift, query_keys, MAX_BUCKET)
        return ranked_candidates(owners, limit)

    def key_matches(self, query_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys equal to each query key, capped at `MAX_BUCKET` + 1; their owners in query
        order): what a shard of a catalogue answers (see `merge_key_matches`)."""
        if not len(self.keys) or not len(query_keys):
            return np.zeros(len(query_keys), np.int32), np.zeros(0, np.int32)
        empty = _empty_layer()  # one layer: nothing masked, no delta
        return kernels.layered_key_matches(self.keys, self.owners, self.directory, self._shift, empty.masked, empty.keys,
                                           empty.owners, empty.directory, empty._shift,  # type: ignore[attr-defined]
                                           np.ascontiguousarray(query_keys, dtype=np.uint64), MAX_BUCKET)

    def shingle_candidates(self, shingles: np.ndarray, parameters: IndexParameters, stride: int, limit: int) -> list[tuple[int, int]]:
        """`candidates_with_hits` of the shingles' `query_keys`, in one compiled call."""
        return self.shingle_candidates_with_keys(shingles, parameters, stride, limit)[0]

    def shingle_candidates_with_keys(self, shingles: np.ndarray, parameters: IndexParameters, stride: int,
                                     limit: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        """`shingle_candidates`, and the `query_keys` they were found with (which the state keeps)."""
        if not len(self.keys) or not len(shingles):
            return [], query_keys(shingles, parameters, stride) if len(shingles) else np.zeros(0, np.uint64)
        a, b = permutations(parameters.num_perm)
        banding = parameters.banding
        numbers, hits, keys = kernels.shingle_candidates(
            shingles, a, b, window_starts(len(shingles), parameters.window, stride), parameters.window, stride,
            banding.bands, banding.rows, self.keys, self.owners, self.directory, self._shift, MAX_BUCKET, limit)
        return list(zip(numbers.tolist(), hits.tolist())), keys

    def bucket_sizes(self, keys: np.ndarray) -> np.ndarray:
        """How many sources hold each of `keys`."""
        if not len(self.keys):
            return np.zeros(len(keys), np.int64)
        return kernels.bucket_sizes(self.keys, self.directory, self._shift, np.ascontiguousarray(keys, dtype=np.uint64))

    def overfull_keys(self) -> np.ndarray:
        """The keys of buckets a lookup passes over (more than `MAX_BUCKET` sources), sorted."""
        return np.sort(kernels.overfull_keys(self.keys, self.directory, MAX_BUCKET))


@dataclass(frozen=True)
class LayeredBandIndex(BandIndex):
    """An index file's band keys after small updates: the main keys as last written whole
    (`keys`, `owners`, `directory`, memory-mapped), the keys of sources added or replaced
    since (`delta`, a small `BandIndex`), and the sources whose main keys no longer count
    (`masked`, by number: removed or replaced). An update then rewrites the delta, not the
    millions of main keys; lookups answer exactly what one index of the same sources would
    (buckets counted across both layers, so the same candidates rank alike, ties too)."""

    delta: BandIndex = None  # type: ignore[assignment]
    masked: np.ndarray = None  # type: ignore[assignment]  # bool, by source number (shorter: the rest unmasked)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "masked", kernels.read_only(np.ascontiguousarray(self.masked, dtype=np.bool_)))

    @property
    def main(self) -> BandIndex:
        return BandIndex(self.keys, self.owners, self.directory)

    def __len__(self) -> int:
        return len(self.keys) + len(self.delta.keys)

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.owners.nbytes + self.delta.nbytes + self.delta.directory.nbytes + self.masked.nbytes

    def _layers(self) -> tuple:
        return (self.keys, self.owners, self.directory, self._shift, self.masked,  # type: ignore[attr-defined]
                self.delta.keys, self.delta.owners, self.delta.directory, self.delta._shift)  # type: ignore[attr-defined]

    def key_matches(self, query_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(query_keys):
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return kernels.layered_key_matches(*self._layers(), np.ascontiguousarray(query_keys, dtype=np.uint64), MAX_BUCKET)

    def candidates_with_hits(self, query_keys: np.ndarray, limit: int) -> list[tuple[int, int]]:
        return ranked_candidates(self.key_matches(query_keys)[1], limit)

    def shingle_candidates_with_keys(self, shingles: np.ndarray, parameters: IndexParameters, stride: int,
                                     limit: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        keys = query_keys(shingles, parameters, stride) if len(shingles) else np.zeros(0, np.uint64)
        return self.candidates_with_hits(keys, limit), keys

    def bucket_sizes(self, keys: np.ndarray) -> np.ndarray:
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        main, delta = self._layers()[:5], self.delta
        return kernels.layered_bucket_sizes(*main, delta.keys, delta.directory, delta._shift, keys)  # type: ignore[attr-defined]

    def overfull_keys(self) -> np.ndarray:
        """Keys over `MAX_BUCKET` across both layers: among the main keys over it less the
        largest delta bucket, and the delta's own keys."""
        delta_keys = np.unique(self.delta.keys)
        most = int(self.delta.bucket_sizes(delta_keys).max()) if len(delta_keys) else 0
        possible = np.union1d(kernels.overfull_keys(self.keys, self.directory, max(MAX_BUCKET - most, 0)), delta_keys)
        return np.sort(possible[self.bucket_sizes(possible) > MAX_BUCKET])


@functools.cache
def _empty_layer() -> LayeredBandIndex:
    """No keys and no mask: the second layer of an index that has none."""
    nothing = BandIndex.build([])
    return LayeredBandIndex(nothing.keys, nothing.owners, nothing.directory, delta=nothing, masked=np.zeros(0, np.bool_))


class CandidateLookup(Protocol):
    """A repost's shingles to candidates: a `BandIndex` in memory, or one read in place from an index file."""

    def shingle_candidates(self, shingles: np.ndarray, parameters: IndexParameters, stride: int, limit: int) -> list[tuple[int, int]]: ...


def merge_key_matches(answers: list[tuple[np.ndarray, np.ndarray]], bounds: list[tuple[int, int]],
                      limit: int) -> list[list[tuple[int, int]]]:
    """The candidates of each query (its keys at `bounds` among all queried) from the shards'
    `BandIndex.key_matches` of the same keys: exactly what one index of the whole catalogue
    ranks (its buckets counted whole, sources by the numbers the whole catalogue gave them)."""
    if not answers:
        return [[] for _ in bounds]
    total = np.sum([counts.astype(np.int64) for counts, _ in answers], axis=0)
    kept_key = total <= MAX_BUCKET
    query_of_key = np.zeros(len(total), np.int64)
    for number, (start, end) in enumerate(bounds):
        query_of_key[start:end] = number
    owners, queries = [], []
    for counts, found in answers:
        emitted = np.where(counts <= MAX_BUCKET, counts, 0)
        keep = np.repeat(kept_key, emitted)
        owners.append(found[keep])
        queries.append(np.repeat(query_of_key, emitted)[keep])
    owners_all, queries_all = np.concatenate(owners), np.concatenate(queries)
    order = np.argsort(queries_all, kind="stable")
    owners_all, queries_all = owners_all[order], queries_all[order]
    cuts = np.searchsorted(queries_all, np.arange(len(bounds) + 1))
    return [ranked_candidates(np.ascontiguousarray(owners_all[cuts[q]:cuts[q + 1]]), limit) for q in range(len(bounds))]


def ranked_candidates(owners: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """(source number, shared keys) from the owner of every shared key: most shared first, then
    by number, at most `limit`."""
    numbers, hits = kernels.ranked_owners(owners, limit)
    return list(zip(numbers.tolist(), hits.tolist()))
