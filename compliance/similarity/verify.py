"""Exact verification of a candidate: aligned runs of shared shingles, like copydetect.

A run is a chain of shared shingles that advance together in the repost and the source,
allowing small gaps so that a word inserted or changed here and there does not break a
copied paragraph into pieces. Containment and coverage count the words inside runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compliance.similarity.kernels import aligned_chains


@dataclass  # not frozen: a scan makes several a repost, and a frozen dataclass takes 4 times as long to make
class Run:
    """Copied words: repost tokens [doc_start, doc_end) match source tokens [source_start, source_end)."""

    doc_start: int
    doc_end: int
    source_start: int
    source_end: int

    @property
    def words(self) -> int:
        return self.doc_end - self.doc_start


def aligned_runs(
    doc_shingles: np.ndarray,
    source_shingles: np.ndarray,
    shingle_words: int,
    max_gap: int,
    min_words: int,
    max_occurrences: int = 8,
) -> list[Run]:
    """Chains of shared shingles, as token ranges on both sides, at least `min_words` long.

    Shared (repost, source) positions are walked in repost then source order; each extends
    the first open chain it continues (each side advancing by 1..max_gap, the diagonal moving
    by at most max_gap), so a paragraph resumed after a swapped one rejoins its chain, or
    opens a new chain. A shingle the source holds more than `max_occurrences` times is a
    stock phrase that says nothing about alignment, and is left out. (`kernels.aligned_chains`
    does the walk.)
    """
    chains = aligned_chains(doc_shingles, source_shingles, max_gap, max_occurrences)
    runs = [Run(doc_first, doc_last + shingle_words, source_first, source_last + shingle_words)
            for doc_first, doc_last, source_first, source_last in chains.tolist()]
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
