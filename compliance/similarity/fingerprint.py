"""Word-shingle hashes and windowed MinHash signatures (datasketch).

A document is fingerprinted in windows of consecutive shingles rather than as one set:
a repost that copies a third of a long source shares a third of its shingles with it, so
whole-document Jaccard would hide it, while the copied windows still look alike.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from datasketch import MinHash

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of a polynomial rolling hash
_LOW32 = np.uint64(0xFFFFFFFF)
MINHASH_SCHEME = "affine32"  # datasketch 2.x default, pinned so stored signatures stay comparable
MINHASH_SEED = 1


def shingle_hashes(word_hashes: np.ndarray, size: int) -> np.ndarray:
    """64-bit hashes of every run of `size` consecutive words (one shingle if fewer words)."""
    count = len(word_hashes) - size + 1
    if len(word_hashes) == 0:
        return np.zeros(0, dtype=np.uint64)
    if count <= 0:
        size, count = len(word_hashes), 1
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(size):
            combined = combined * _MIX + word_hashes[offset : offset + count]
    return combined


def _fold32(hashes: np.ndarray) -> list[int]:
    return ((hashes ^ (hashes >> np.uint64(32))) & _LOW32).tolist()


def _identity(value: int) -> int:
    return value


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    return MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations


def minhash(hashes: np.ndarray, num_perm: int) -> MinHash:
    """A datasketch MinHash of a set of 64-bit shingle hashes."""
    sketch = MinHash(
        num_perm=num_perm, seed=MINHASH_SEED, hashfunc=_identity,
        permutations=_permutations(num_perm), scheme=MINHASH_SCHEME,
    )
    sketch.update_batch(_fold32(hashes))
    return sketch


def window_starts(count: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows of `window` shingles every `stride`; a short text is one window."""
    if count <= window:
        return [0] if count else []
    starts = list(range(0, count - window + 1, stride))
    if starts[-1] + window < count:
        starts.append(count - window)  # so the tail is fingerprinted too
    return starts


def window_signatures(hashes: np.ndarray, window: int, stride: int, num_perm: int) -> list[MinHash]:
    return [minhash(hashes[start : start + window], num_perm) for start in window_starts(len(hashes), window, stride)]
