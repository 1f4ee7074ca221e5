"""Find the source a document copies: LSH candidates, then exact verification."""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH
from rapidfuzz import fuzz

from compliance.model import Document, Match, Source, Span
from compliance.similarity.fingerprint import shingle_hashes, window_signatures
from compliance.similarity.tokens import TokenizedText, normalize_text, tokenize
from compliance.similarity.verify import aligned_runs, covered_count, positions_by_hash


@dataclass(frozen=True)
class MatchSettings:
    """Matching thresholds; a rule pack's `matching:` section overrides them."""

    shingle_words: int = 4  # words per shingle, for fingerprints and verification
    window: int = 40  # shingles per MinHash window
    query_stride: int = 10  # a repost is fingerprinted every this many shingles
    num_perm: int = 128
    lsh_threshold: float = 0.3  # Jaccard of windows for a source to become a candidate
    min_span_words: int = 10  # shorter shared runs are quotes and stock phrases, not copying
    max_gap: int = 6  # shingles a copied run may skip over (edited words)
    min_containment: float = 0.45  # share of the repost copied for it to count as a copy...
    min_coverage: float = 0.5  # ...or share of the source reused
    max_candidates: int = 20

    @classmethod
    def from_mapping(cls, values: dict) -> "MatchSettings":
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown matching setting '{unknown[0]}' (known: {', '.join(sorted(known))})")
        for name, value in values.items():
            default = getattr(cls, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(default, int) and not isinstance(value, int)):
                kind = "a whole number" if isinstance(default, int) else "a number"
                raise ValueError(f"'{name}' must be {kind}, not {value!r}")
            low, high = _RANGES.get(name, (1, None) if isinstance(default, int) else (0.0, 1.0))
            if not (value >= low and (high is None or value <= high)):  # also refuses NaN
                bound = f"at least {low}" if high is None else f"from {low} to {high}"
                raise ValueError(f"'{name}' must be {bound}, not {value!r}")
        return cls(**values)


# Bounds that keep matching meaningful (and datasketch from refusing the LSH parameters).
_RANGES: dict[str, tuple[float, float | None]] = {
    "num_perm": (16, 1024), "lsh_threshold": (0.05, 0.95), "max_gap": (0, None),
}


@dataclass(frozen=True)
class BodyText:
    """A document's body blocks joined by blank lines ("\n\n"): what span offsets refer to.

    `ignored` holds the character ranges of boilerplate blocks, whose words matching skips.
    """

    text: str
    block_starts: tuple[int, ...]
    block_lines: tuple[tuple[int, int], ...]
    ignored: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, document: Document, boilerplate: tuple[str, ...] = ()) -> "BodyText":
        parts, starts, lines, ignored, offset = [], [], [], [], 0
        for block in document.body:
            starts.append(offset)
            lines.append((block.line, block.end_line))
            parts.append(block.text)
            if is_boilerplate(block.text, boilerplate):
                ignored.append((offset, offset + len(block.text)))
            offset += len(block.text) + 2
        return cls("\n\n".join(parts), tuple(starts), tuple(lines), tuple(ignored))

    def tokens(self) -> TokenizedText:
        tokens = tokenize(self.text)
        if not self.ignored:
            return tokens
        keep = np.ones(len(tokens), dtype=bool)
        for start, end in self.ignored:
            keep &= ~((tokens.starts >= start) & (tokens.starts < end))
        return tokens.subset(keep)

    def line_at(self, offset: int) -> int:
        index = int(np.searchsorted(self.block_starts, offset, side="right")) - 1
        return self.block_lines[max(index, 0)][0] if self.block_lines else 1


_BOILERPLATE_PREFIX = 60


def is_boilerplate(text: str, boilerplate: tuple[str, ...]) -> bool:
    """Whether a block opens like one of the texts the desk adds to every repost.

    Such text (the disclaimer, whole or cut short) is in no source; counting it would make a
    short excerpt look like mostly original writing.
    """
    if not boilerplate:
        return False
    head = normalize_text(text[: _BOILERPLATE_PREFIX * 2])[:_BOILERPLATE_PREFIX]
    return any(fuzz.ratio(head, normalize_text(b)[:_BOILERPLATE_PREFIX]) >= 85 for b in boilerplate)


class Matcher:
    """Holds the source catalogue's fingerprints and answers `match(document)`."""

    def __init__(self, sources: list[Source], settings: MatchSettings | None = None, boilerplate: tuple[str, ...] = ()):
        self.settings = settings or MatchSettings()
        self.boilerplate = boilerplate
        self.sources = sources
        self.lsh = MinHashLSH(threshold=self.settings.lsh_threshold, num_perm=self.settings.num_perm)
        for index, source in enumerate(sources):
            shingles = shingle_hashes(tokenize(source.text).hashes, self.settings.shingle_words)
            window = self.settings.window
            for number, signature in enumerate(window_signatures(shingles, window, window, self.settings.num_perm)):
                self.lsh.insert((index, number), signature, check_duplication=False)
        self._source_fingerprint = lru_cache(maxsize=4096)(self._fingerprint_source)

    def _fingerprint_source(self, index: int) -> tuple[TokenizedText, dict[int, list[int]]]:
        tokens = tokenize(self.sources[index].text)
        return tokens, positions_by_hash(shingle_hashes(tokens.hashes, self.settings.shingle_words))

    def candidates(self, shingles: np.ndarray) -> list[int]:
        s = self.settings
        hits: dict[int, int] = {}
        for signature in window_signatures(shingles, s.window, s.query_stride, s.num_perm):
            for index, _ in self.lsh.query(signature):
                hits[index] = hits.get(index, 0) + 1
        ranked = sorted(hits, key=lambda index: (-hits[index], index))
        return ranked[: s.max_candidates]

    def match(self, document: Document) -> Match | None:
        body = BodyText.of(document, self.boilerplate)
        tokens = body.tokens()
        if not len(tokens):
            return None
        shingles = shingle_hashes(tokens.hashes, self.settings.shingle_words)
        best: Match | None = None
        for index in self.candidates(shingles):
            found = self._verify(tokens, shingles, body, index)
            if found and (best is None or (found.copied_words, found.coverage) > (best.copied_words, best.coverage)):
                best = found
        return best

    def _verify(self, tokens: TokenizedText, shingles: np.ndarray, body: BodyText, index: int) -> Match | None:
        s = self.settings
        source_tokens, source_index = self._source_fingerprint(index)
        runs = aligned_runs(shingles, source_index, s.shingle_words, s.max_gap, s.min_span_words)
        if not runs:
            return None
        copied = covered_count([(r.doc_start, r.doc_end) for r in runs])
        reused = covered_count([(r.source_start, r.source_end) for r in runs])
        containment = copied / len(tokens)
        coverage = reused / max(len(source_tokens), 1)
        if containment < s.min_containment and coverage < s.min_coverage:
            return None
        spans = [self._span(run, tokens, source_tokens, body) for run in runs]
        return Match(self.sources[index], round(containment, 4), round(coverage, 4), copied, spans)

    @staticmethod
    def _span(run, tokens: TokenizedText, source_tokens: TokenizedText, body: BodyText) -> Span:
        doc_end = min(run.doc_end, len(tokens)) - 1
        source_end = min(run.source_end, len(source_tokens)) - 1
        doc_chars = (int(tokens.starts[run.doc_start]), int(tokens.ends[doc_end]))
        return Span(
            run.doc_start, doc_end + 1, run.source_start, source_end + 1,
            line=body.line_at(doc_chars[0]), end_line=body.line_at(doc_chars[1] - 1),
            doc_chars=doc_chars,
            source_chars=(int(source_tokens.starts[run.source_start]), int(source_tokens.ends[source_end])),
        )
