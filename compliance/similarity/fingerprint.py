"""Word-shingle hashes, windowed MinHash signatures and LSH band keys.

A document is fingerprinted in windows of consecutive shingles rather than as one set:
a repost that copies a third of a long source shares a third of its shingles with it, so
whole-document Jaccard would hide it, while the copied windows still look alike.

The signatures are datasketch's: the same `affine32` permutations (taken from a datasketch
`MinHash`), applied to the same 32-bit inputs, give bit for bit the `hashvalues` that
`MinHash.update_batch` computes (a test holds us to it). What differs is the cost: one
compiled pass per document (`kernels.window_signatures`) instead of one `MinHash` object
per window.

LSH banding follows datasketch's `MinHashLSH`: its `_optimal_param` chooses bands and rows
for the threshold, and two windows share a band key exactly when they agree on all of that
band's rows (a 64-bit mix of the rows stands in for datasketch's byte strings).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compliance.similarity import kernels

_LOW32 = np.uint64(0xFFFFFFFF)
MINHASH_SCHEME = "affine32"  # datasketch 2.x default, pinned so stored signatures stay comparable
MINHASH_SEED = 1
HASHING = f"polynomial-64 NFKC case-folded words, polynomial shingles, fold32, datasketch {MINHASH_SCHEME} seed {MINHASH_SEED}"


def shingle_hashes(word_hashes: np.ndarray, size: int) -> np.ndarray:
    """64-bit hashes of every run of `size` consecutive words (one shingle if fewer words)."""
    return kernels.shingle_hashes(word_hashes, size)


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
    last = count - window
    regular = last // stride + 1
    tail = last % stride != 0  # a last window, so that the tail is fingerprinted too
    starts = np.empty(regular + tail, dtype=np.int64)
    starts[:regular] = np.arange(0, regular * stride, stride)
    if tail:
        starts[-1] = last
    return starts


def window_signatures(shingles: np.ndarray, window: int, stride: int, num_perm: int) -> np.ndarray:
    """MinHash signatures of windows of `window` shingles every `stride`: shape (windows, num_perm).

    Row i equals `minhash(shingles[start_i : start_i + window]).hashvalues`, with the starts
    `window_starts` gives.
    """
    a, b = permutations(num_perm)
    return kernels.window_signatures(shingles, a, b, window_starts(len(shingles), window, stride), window, stride)


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
        """One 64-bit key per window and band: shape (windows, bands), uint64. A key mixes the
        band's number and its rows, so bands differ even on equal rows."""
        return kernels.band_keys(signatures, self.bands, self.rows)
