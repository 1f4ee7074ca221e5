"""The LSH index of source windows: band keys in one sorted array.

Every source window contributes one key per LSH band (see `fingerprint.Banding`); a repost
window that shares a key with a source window is a candidate pair, as in datasketch's
`MinHashLSH`. Kept as two flat numpy arrays (sorted keys, the source number of each), the
index costs 12 bytes per key instead of a Python set per bucket, loads from disk in one
read, and answers a whole repost's keys with one `searchsorted`.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from compliance.similarity.fingerprint import HASHING, Banding, shingle_hashes, window_signatures
from compliance.similarity.tokens import word_hashes

# A bucket this full holds a stock passage (a wire footer, a boilerplate paragraph) that says
# nothing about which article was copied; looking through it would only cost time.
MAX_BUCKET = 64


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


def window_keys(shingles: np.ndarray, parameters: IndexParameters, stride: int) -> np.ndarray:
    """The distinct band keys of windows every `stride` shingles."""
    signatures = window_signatures(shingles, parameters.window, stride, parameters.num_perm)
    return np.unique(parameters.banding.keys(signatures))


def source_keys(text: str, parameters: IndexParameters) -> np.ndarray:
    """A source's keys: its windows side by side, without overlap (a repost's overlap instead)."""
    shingles = shingle_hashes(word_hashes(text), parameters.shingle_words)
    return window_keys(shingles, parameters, parameters.window)


def _keys_of_chunk(job: tuple[list[str], IndexParameters]) -> list[np.ndarray]:
    texts, parameters = job
    return [source_keys(text, parameters) for text in texts]


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def keys_of_all(texts: list[str], parameters: IndexParameters, jobs: int = 1, progress=None) -> list[np.ndarray]:
    """`source_keys` of every text, on `jobs` processes when there are enough texts to pay off."""
    chunk = 500
    if jobs <= 1 or len(texts) < 2 * chunk:
        keys = []
        for start in range(0, len(texts), chunk):
            keys.extend(_keys_of_chunk((texts[start : start + chunk], parameters)))
            if progress:
                progress(len(keys))
        return keys
    keys = []
    with ProcessPoolExecutor(jobs) as pool:
        work = ((texts[start : start + chunk], parameters) for start in range(0, len(texts), chunk))
        for part in pool.map(_keys_of_chunk, work):
            keys.extend(part)
            if progress:
                progress(len(keys))
    return keys


@dataclass(frozen=True)
class BandIndex:
    keys: np.ndarray  # uint64, sorted
    owners: np.ndarray  # int32: the source number each key belongs to

    @classmethod
    def build(cls, keys_by_source: list[np.ndarray], numbers: list[int] | None = None,
              owner_arrays: list[np.ndarray] = ()) -> "BandIndex":
        """From each source's keys; a number of -1 takes its owners from `owner_arrays`, in turn
        (how an update merges the existing arrays with new sources)."""
        numbers = list(range(len(keys_by_source))) if numbers is None else numbers
        given = iter(owner_arrays)
        owners = [next(given) if number == -1 else np.full(len(keys), number, dtype=np.int32)
                  for keys, number in zip(keys_by_source, numbers)]
        keys = np.concatenate(keys_by_source) if keys_by_source else np.zeros(0, dtype=np.uint64)
        owners = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], owners[order])

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.owners.nbytes

    def candidates(self, query_keys: np.ndarray, limit: int) -> list[int]:
        """Source numbers sharing keys with the query, most shared keys first, at most `limit`."""
        if not len(self.keys) or not len(query_keys):
            return []
        # Query keys arrive sorted (np.unique), so the searches walk the array in order.
        lows = np.searchsorted(self.keys, query_keys, side="left")
        found = lows < len(self.keys)
        found[found] = self.keys[lows[found]] == query_keys[found]
        if not found.any():
            return []
        query_keys, lows = query_keys[found], lows[found]  # most keys miss: search the rest only
        sizes = np.searchsorted(self.keys, query_keys, side="right") - lows
        useful = sizes <= MAX_BUCKET
        lows, sizes = lows[useful], sizes[useful]
        if not len(lows):
            return []
        # All positions lows[i] .. lows[i] + sizes[i] - 1, without a Python loop.
        offsets = np.repeat(lows - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        numbers, hits = np.unique(self.owners[offsets], return_counts=True)
        order = np.lexsort((numbers, -hits))[:limit]
        return numbers[order].tolist()
