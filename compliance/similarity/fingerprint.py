"""Word-shingle hashes, windowed MinHash signatures and LSH band keys, all in numpy.

A document is fingerprinted in windows of consecutive shingles rather than as one set:
a repost that copies a third of a long source shares a third of its shingles with it, so
whole-document Jaccard would hide it, while the copied windows still look alike.

The signatures are datasketch's: the same `affine32` permutations (taken from a datasketch
`MinHash`), applied to the same 32-bit inputs, give bit for bit the `hashvalues` that
`MinHash.update_batch` computes (a test holds us to it). What differs is the cost: one
matrix product per document instead of one `MinHash` object per window, and the window
minima are read off block minima, so overlapping windows cost almost nothing extra.

LSH banding follows datasketch's `MinHashLSH`: its `_optimal_param` chooses bands and rows
for the threshold, and two windows share a band key exactly when they agree on all of that
band's rows (a 64-bit mix of the rows stands in for datasketch's byte strings).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of a polynomial rolling hash
_LOW32 = np.uint64(0xFFFFFFFF)
_BAND_PRIME = np.uint64(0x100000001B3)
MINHASH_SCHEME = "affine32"  # datasketch 2.x default, pinned so stored signatures stay comparable
MINHASH_SEED = 1
HASHING = f"polynomial-64 NFKC case-folded words, polynomial shingles, fold32, datasketch {MINHASH_SCHEME} seed {MINHASH_SEED}"


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


def fold32(hashes: np.ndarray) -> np.ndarray:
    """The 32-bit values MinHash permutes (datasketch's affine32 scheme takes 32-bit input)."""
    return ((hashes ^ (hashes >> np.uint64(32))) & _LOW32).astype(np.uint32)


def _identity(value: int) -> int:
    return value


# datasketch is imported only when these are not known yet: importing it pulls in scipy,
# half a second that a scan with a persistent index (which stores them) need not pay.
_known_permutations: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations (a, b) for `num_perm`, as uint32 arrays."""
    if num_perm not in _known_permutations:
        from datasketch import MinHash

        a, b = MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations
        _known_permutations[num_perm] = (a.astype(np.uint32), b.astype(np.uint32))
    return _known_permutations[num_perm]


def remember_permutations(num_perm: int, a: np.ndarray, b: np.ndarray) -> None:
    """Permutations read back from an index (see `permutations`)."""
    _known_permutations.setdefault(num_perm, (a.astype(np.uint32), b.astype(np.uint32)))


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, which datasketch's affine schemes apply before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def permuted(shingles: np.ndarray, num_perm: int) -> np.ndarray:
    """Every shingle under every permutation: shape (len(shingles), num_perm), uint32."""
    a, b = permutations(num_perm)
    with np.errstate(over="ignore"):
        return _fmix32(fold32(shingles))[:, None] * a + b


def minhash(shingles: np.ndarray, num_perm: int):
    """A datasketch `MinHash` of a set of 64-bit shingle hashes (for comparison and tests)."""
    from datasketch import MinHash

    sketch = MinHash(num_perm=num_perm, seed=MINHASH_SEED, hashfunc=_identity, scheme=MINHASH_SCHEME)
    sketch.update_batch(fold32(shingles).tolist())
    return sketch


def window_starts(count: int, window: int, stride: int) -> np.ndarray:
    """Start offsets of windows of `window` shingles every `stride`; a short text is one window."""
    if count <= window:
        return np.zeros(1 if count else 0, dtype=np.int64)
    starts = np.arange(0, count - window + 1, stride, dtype=np.int64)
    if starts[-1] + window < count:
        starts = np.append(starts, count - window)  # so the tail is fingerprinted too
    return starts


def window_signatures(shingles: np.ndarray, window: int, stride: int, num_perm: int) -> np.ndarray:
    """MinHash signatures of windows of `window` shingles every `stride`: shape (windows, num_perm).

    Row i equals `minhash(shingles[start_i : start_i + window]).hashvalues`.
    """
    starts = window_starts(len(shingles), window, stride)
    if not len(starts):
        return np.zeros((0, num_perm), dtype=np.uint32)
    values = permuted(shingles, num_perm)
    if len(starts) == 1:
        return values[: window].min(axis=0, keepdims=True)
    if stride == window:  # side by side (how sources are indexed): one reshape, one reduction
        whole = (len(values) // window) * window
        signatures = values[:whole].reshape(-1, window, num_perm).min(axis=1)
        if whole < len(values):
            signatures = np.concatenate([signatures, values[-window:].min(axis=0, keepdims=True)])
        return signatures
    if window % stride:
        return np.stack([values[s : s + window].min(axis=0) for s in starts.tolist()])
    # Minima of stride-sized blocks, then of each run of window/stride blocks: every window is
    # a union of whole blocks (the tail window is handled on its own, it may be misaligned).
    aligned = starts[starts % stride == 0]
    end = int(aligned[-1]) + window
    blocks = np.minimum.reduceat(values[:end], np.arange(0, end, stride), axis=0)
    per_window = window // stride
    signatures = blocks[: len(aligned)].copy()
    for offset in range(1, per_window):
        np.minimum(signatures, blocks[offset : offset + len(aligned)], out=signatures)
    if len(aligned) < len(starts):
        tail = values[int(starts[-1]) :].min(axis=0, keepdims=True)
        signatures = np.concatenate([signatures, tail])
    return signatures


_known_bandings: dict[tuple[float, int], "Banding"] = {}


@dataclass(frozen=True)
class Banding:
    """How LSH cuts a signature into bands: `bands` bands of `rows` values each."""

    bands: int
    rows: int

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int) -> "Banding":
        """datasketch's choice for a `MinHashLSH(threshold, num_perm)` (equal weights)."""
        if (threshold, num_perm) not in _known_bandings:
            from datasketch.lsh import _optimal_param

            _known_bandings[threshold, num_perm] = cls(*_optimal_param(threshold, num_perm, 0.5, 0.5))
        return _known_bandings[threshold, num_perm]

    def remember(self, threshold: float, num_perm: int) -> None:
        """A banding read back from an index (see `permutations` for why)."""
        _known_bandings.setdefault((threshold, num_perm), self)

    def keys(self, signatures: np.ndarray) -> np.ndarray:
        """One 64-bit key per window and band: shape (windows, bands), uint64."""
        width = self.bands * self.rows
        rows = signatures[:, :width].reshape(len(signatures), self.bands, self.rows)
        keys = np.arange(1, self.bands + 1, dtype=np.uint64) * _BAND_PRIME  # bands differ even on equal rows
        with np.errstate(over="ignore"):
            for row in range(self.rows):
                keys = (keys ^ rows[:, :, row]) * _BAND_PRIME
            return keys ^ (keys >> np.uint64(29))
