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


def shared_pairs(doc_shingles: np.ndarray, source_shingles: np.ndarray, max_occurrences: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (repost position, source position) with the same shingle, ordered by repost then
    source position. A shingle the source has more than `max_occurrences` times is a stock
    phrase that says nothing about alignment, and is left out."""
    order = np.argsort(source_shingles, kind="stable")
    values = source_shingles[order]
    lows = np.searchsorted(values, doc_shingles, side="left")
    counts = np.searchsorted(values, doc_shingles, side="right") - lows
    keep = (counts > 0) & (counts <= max_occurrences)
    doc_positions, lows, counts = np.flatnonzero(keep), lows[keep], counts[keep]
    total = int(counts.sum())
    # lows[k] .. lows[k] + counts[k] - 1 for every kept repost position, without a Python loop
    offsets = np.repeat(lows - np.cumsum(counts) + counts, counts) + np.arange(total)
    return np.repeat(doc_positions, counts), order[offsets]


def aligned_runs(
    doc_shingles: np.ndarray,
    source_shingles: np.ndarray,
    shingle_words: int,
    max_gap: int,
    min_words: int,
    max_occurrences: int = 8,
) -> list[Run]:
    """Chains of shared shingles, as token ranges on both sides, at least `min_words` long.

    Consecutive pairs that advance together (each side by 1..max_gap, the diagonal moving by
    at most max_gap) are linked in numpy; Python then only walks the linked segments, joining
    each to an open chain it continues (a paragraph resumed after a swapped one) or opening a
    new one. A copied paragraph is one segment, so the walk is short.
    """
    doc, source = shared_pairs(doc_shingles, source_shingles, max_occurrences)
    if not len(doc):
        return []
    step_doc, step_source = np.diff(doc), np.diff(source)
    linked = (step_doc > 0) & (step_doc <= max_gap) & (step_source > 0) & (step_source <= max_gap) \
        & (np.abs(step_source - step_doc) <= max_gap)
    firsts = np.flatnonzero(np.concatenate(([True], ~linked)))
    lasts = np.append(firsts[1:] - 1, len(doc) - 1)
    chains: list[list[int]] = []  # [doc_first, doc_last, source_first, source_last]
    active: list[list[int]] = []
    for first, last in zip(firsts.tolist(), lasts.tolist()):
        i, j = int(doc[first]), int(source[first])
        if len(active) > 4:  # a chain more than max_gap behind can never grow again
            active = [chain for chain in active if i - chain[1] <= max_gap]
        for chain in active:
            if 0 < i - chain[1] <= max_gap and 0 < j - chain[3] <= max_gap and abs((j - i) - (chain[3] - chain[1])) <= max_gap:
                chain[1], chain[3] = int(doc[last]), int(source[last])
                break
        else:
            chain = [i, int(doc[last]), j, int(source[last])]
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
