"""Exact verification of a candidate: aligned runs of shared shingles, like copydetect.

A run is a chain of shared shingles that advance together in the repost and the source,
allowing small gaps so that a word inserted or changed here and there does not break a
copied paragraph into pieces. Containment and coverage count the words inside runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Run:
    """Copied words: repost tokens [doc_start, doc_end) match source tokens [source_start, source_end)."""

    doc_start: int
    doc_end: int
    source_start: int
    source_end: int

    @property
    def words(self) -> int:
        return self.doc_end - self.doc_start


def shared_positions(doc_shingles: np.ndarray, source_shingles: np.ndarray) -> dict[int, list[int]]:
    """Source positions of the shingles the repost also has, by shingle hash.

    Only shared shingles are indexed: against an unrelated candidate that is a handful, so
    rejecting it costs two vectorised membership tests and no Python loop.
    """
    index: dict[int, list[int]] = {}
    positions = np.flatnonzero(np.isin(source_shingles, doc_shingles))
    for position, value in zip(positions.tolist(), source_shingles[positions].tolist()):
        index.setdefault(value, []).append(position)
    return index


def aligned_runs(
    doc_shingles: np.ndarray,
    source_index: dict[int, list[int]],
    shingle_words: int,
    max_gap: int,
    min_words: int,
    max_occurrences: int = 8,
) -> list[Run]:
    """Chains of shared shingles, as token ranges on both sides, at least `min_words` long."""
    chains: list[list[int]] = []  # [doc_first, doc_last, source_first, source_last]
    active: list[list[int]] = []
    shared = np.flatnonzero(np.isin(doc_shingles, np.fromiter(source_index, dtype=np.uint64, count=len(source_index))))
    for i, value in zip(shared.tolist(), doc_shingles[shared].tolist()):
        positions = source_index[value]
        if len(positions) > max_occurrences:
            continue
        if len(active) > 4:  # a chain more than max_gap behind can never grow again
            active = [chain for chain in active if i - chain[1] <= max_gap]
        for j in positions:
            for chain in active:
                if 0 < i - chain[1] <= max_gap and 0 < j - chain[3] <= max_gap and abs((j - i) - (chain[3] - chain[1])) <= max_gap:
                    chain[1], chain[3] = i, j
                    break
            else:
                chain = [i, i, j, j]
                active.append(chain)
                chains.append(chain)
    runs = [Run(c[0], c[1] + shingle_words, c[2], c[3] + shingle_words) for c in chains]
    return [run for run in runs if run.words >= min_words]


def covered_count(ranges: list[tuple[int, int]]) -> int:
    """How many positions the union of half-open ranges covers."""
    total = 0
    reach = -1
    for start, end in sorted(ranges):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total
