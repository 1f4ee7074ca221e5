"""Find the source a document copies: LSH candidates, then exact verification."""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Callable, Protocol

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from compliance.model import Document, Match, Source, Span
from compliance.similarity.fingerprint import shingle_hashes
from compliance.similarity.index import BandIndex, CandidateLookup, IndexParameters, keys_of_all, query_keys
from compliance.similarity.tokens import TokenizedText, normalize_text, spaced_ascii, tokenize
from compliance.similarity.verify import Run, aligned_runs, covered_count


@dataclass(frozen=True)
class MatchSettings:
    """Matching thresholds; a rule pack's `matching:` section overrides them."""

    shingle_words: int = 4  # words per shingle, for fingerprints and verification
    window: int = 40  # shingles per MinHash window
    query_stride: int = 10  # a repost is fingerprinted every this many shingles
    num_perm: int = 32
    lsh_threshold: float = 0.2  # Jaccard of windows for a source to become a candidate
    min_span_words: int = 10  # shorter shared runs are quotes and stock phrases, not copying
    max_gap: int = 6  # shingles a copied run may skip over (edited words)
    min_containment: float = 0.45  # share of the repost copied for it to count as a copy...
    min_coverage: float = 0.5  # ...or share of the source reused...
    min_long_words: int = 60  # ...or words copied in runs of at least `long_span_words`, whatever their share
    long_span_words: int = 40  # independent reports share quotes of 10 to 30 words, not paragraphs
    min_prose_words: int = 10  # long runs count in blocks of this many words: menus and headline lists are shorter
    max_candidates: int = 20

    def is_copy(self, containment: float, coverage: float, long_words: int) -> bool:
        """Whether shared runs make a copy: a large share of either text, or, when debris
        on either side makes the copied part a minority of both, enough words in long runs."""
        return containment >= self.min_containment or coverage >= self.min_coverage or long_words >= self.min_long_words

    def copies(self, match: Match) -> bool:
        """`is_copy` of a match measured with other thresholds (a credited page, say)."""
        long_words = covered_count([(s.doc_start, s.doc_end) for s in match.spans if s.length >= self.long_span_words])
        return self.is_copy(match.containment, match.coverage, long_words)

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


@dataclass  # not frozen: a scan makes several a repost, and a frozen dataclass takes 4 times as long to make
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
        # Words are in text order: each ignored block is a run of them, found by bisection.
        cuts = np.searchsorted(tokens.starts, np.array(self.ignored, dtype=np.int64).ravel()).tolist()
        bounds = [0, *cuts, len(tokens)]
        kept = [(start, end) for start, end in zip(bounds[::2], bounds[1::2]) if end > start]
        if len(kept) <= 1:
            return tokens.slice(*(kept[0] if kept else (0, 0)))
        return tokens.subset(np.concatenate([np.arange(start, end) for start, end in kept]))

    def line_at(self, offset: int) -> int:
        index = bisect.bisect_right(self.block_starts, offset) - 1
        return self.block_lines[max(index, 0)][0] if self.block_lines else 1


def _covered_in(ranges: list[tuple[int, int]], counted_before: np.ndarray) -> int:
    """`covered_count` of `ranges`, counting only the positions `counted_before` counts (its
    cumulative count: index k holds how many of the first k positions count)."""
    total, reach = 0, 0
    for start, end in sorted(ranges):
        start = max(start, reach)
        if end > start:
            total += int(counted_before[end] - counted_before[start])
            reach = end
    return total


# Once a copy is verified, candidates sharing less than this fraction of the top candidate's
# band keys (and fewer than `Matcher._window_hits`) are not verified: a copied window shares
# most of its 16 bands, so a source that shares one or two keys where another shares dozens
# copies a phrase, not more text.
_WEAK_CANDIDATE = 8
# A catalogue may hold one story in several versions (a wire story and its members' copies of
# it): versions the repost copies nearly as much of are all right, and the one it credits is the
# one its desk took. Within this share of the most copied words, a credited version comes first.
_CREDITED_TIE = 0.9

_BOILERPLATE_PREFIX = 60


def is_boilerplate(text: str, boilerplate: tuple[str, ...]) -> bool:
    """Whether a block opens like one of the texts the desk adds to every repost.

    Such text (the disclaimer, whole or cut short) is in no source; counting it would make a
    short excerpt look like mostly original writing.
    """
    if not boilerplate:
        return False
    raw = text[: _BOILERPLATE_PREFIX * 2]
    if raw.isascii() and not _may_open_like(spaced_ascii(raw), boilerplate):
        return False  # most blocks: the article's own paragraphs
    head = normalize_text(raw)[:_BOILERPLATE_PREFIX]
    for opening in _openings(boilerplate):
        if fuzz.ratio(head, opening, score_cutoff=_BOILERPLATE_RATIO):
            return True
    return False


_BOILERPLATE_RATIO = 85


def _may_open_like(spaced: bytes, boilerplate: tuple[str, ...]) -> bool:
    """A necessary condition for `is_boilerplate`, several times cheaper than normalising.

    The head compared is `spaced` with runs of spaces made one and cut short, a subsequence
    of it: its longest common subsequence (LCS) with an opening is no longer than `spaced`'s.
    A ratio of r % means 200 LCS >= r (|head| + |opening|), and LCS <= |head|, so it needs an
    LCS of at least r |opening| / (200 - r). No real article paragraph comes near (checked on
    the bundled corpus: at most 42 of the 44 needed).
    """
    for opening, needed in _openings_in_bytes(boilerplate):
        if needed == 0 or LCSseq.similarity(spaced, opening, score_cutoff=needed):
            return True
    return False


@lru_cache(maxsize=16)
def _openings(boilerplate: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(normalize_text(text)[:_BOILERPLATE_PREFIX] for text in boilerplate)


@lru_cache(maxsize=16)
def _openings_in_bytes(boilerplate: tuple[str, ...]) -> tuple[tuple[bytes, int], ...]:
    """Each opening as ASCII bytes (a non-ASCII letter, which no ASCII text matches, as "?"),
    with the common subsequence `_may_open_like` needs of it."""
    return tuple((opening.encode("ascii", "replace"), math.floor(_BOILERPLATE_RATIO * len(opening) / (200 - _BOILERPLATE_RATIO)))
                 for opening in _openings(boilerplate))


@dataclass  # not frozen: a scan makes several a repost, and a frozen dataclass takes 4 times as long to make
class _Verified:
    """A candidate the repost copies: its runs, and what they count."""

    number: int
    runs: list[Run]
    copied: int
    containment: float
    coverage: float

    def rank(self) -> tuple[int, float]:
        return self.copied, self.coverage

    def overlaps(self, explained: np.ndarray) -> bool:
        return any(explained[run.doc_start:run.doc_end].any() for run in self.runs)


_UNSHARED = np.uint64(0x9E3779B97F4A7C15)  # stands for a shingle already explained: no source holds it


def _masked(shingles: np.ndarray, explained: np.ndarray, shingle_words: int) -> np.ndarray:
    """The shingles, those holding an explained word replaced: runs then cover other words only."""
    words = np.concatenate(([0], np.cumsum(explained)))
    starts = np.arange(len(shingles))
    ends = np.minimum(starts + shingle_words, len(explained))
    masked = shingles.copy()
    masked[words[ends] > words[starts]] = _UNSHARED
    return masked


@dataclass  # not frozen: a scan makes several a repost, and a frozen dataclass takes 4 times as long to make
class Candidates:
    """A document's body as matching reads it, and the sources it may copy."""

    body: BodyText
    tokens: TokenizedText  # the body's words, boilerplate left out
    shingles: np.ndarray
    ranked: list[tuple[int, int]]  # (source number, shared band keys), most shared first
    _prose: np.ndarray | None = None
    keys: np.ndarray | None = None  # the band keys looked up, when the matcher keeps them (`Matcher.keep_keys`)

    def prose_before(self, min_words: int) -> np.ndarray:
        """How many of the first k words stand in blocks of at least `min_words` words (index k).

        Site chrome copied along with a page (menus, "Subscribe", lists of other headlines, a
        footer's links) is a stack of short lines; a catalogued page wrapped in the same
        chrome shares long runs of it with the repost, which are not its article copied."""
        if self._prose is None:
            starts = np.asarray(self.body.block_starts, dtype=np.int64)
            block = np.searchsorted(starts, self.tokens.starts, side="right") - 1
            words = np.bincount(block, minlength=len(starts)) if len(block) else np.zeros(0, np.int64)
            self._prose = np.concatenate([[0], np.cumsum(words[block] >= min_words)]) if len(block) else np.zeros(1, np.int64)
        return self._prose


class SourceLookup(Protocol):
    """Sources by the number the index knows them by: a list, or a persistent index's table."""

    def __getitem__(self, number: int) -> Source: ...


class Matcher:
    """Holds the source catalogue's index and answers `match(document)`."""

    def __init__(self, sources: SourceLookup, index: CandidateLookup, settings: MatchSettings | None = None,
                 boilerplate: tuple[str, ...] = ()):
        self.settings = settings or MatchSettings()
        self.parameters = IndexParameters.of(self.settings)
        self.boilerplate = boilerplate
        self.sources = sources
        self.index = index
        # A candidate's tokens serve its verification and, when it wins, the spans' offsets; the
        # chunk a worker checks at once may verify a source twice. Kept longer, they are rarely
        # asked for again, and their megabytes crowd the processor's caches: keeping 2,048 (and
        # 4,096 sources in the index's cache) instead of 128 (and 256), a scan took 5 % longer.
        self._source_tokens = lru_cache(maxsize=128)(self._tokens_of_source)
        # A scan with state keeps each repost's band keys: the next run re-checks it only when a
        # source added or edited shares one of them (see compliance.state.incremental).
        self.keep_keys = False

    @classmethod
    def build(cls, sources: list[Source], settings: MatchSettings | None = None, boilerplate: tuple[str, ...] = (),
              jobs: int = 1) -> "Matcher":
        """Index `sources` in memory (numbered by position)."""
        settings = settings or MatchSettings()
        keys = keys_of_all([source.text for source in sources], IndexParameters.of(settings), jobs)
        return cls(sources, BandIndex.build(keys), settings, boilerplate)

    def source_urls(self) -> set[str]:
        """The catalogue's article URLs (a credited link to one of them needs no fetching)."""
        if isinstance(self.sources, list):
            return {source.url for source in self.sources if source.url}
        return self.sources.urls()  # a persistent index answers without reading every text

    def _tokens_of_source(self, number: int) -> tuple[TokenizedText, np.ndarray]:
        tokens = tokenize(self.sources[number].text)
        return tokens, shingle_hashes(tokens.hashes, self.settings.shingle_words)

    def candidates(self, shingles: np.ndarray) -> list[tuple[int, int]]:
        """(source number, shared band keys), most shared first."""
        return self.index.shingle_candidates(shingles, self.parameters, self.settings.query_stride, self.settings.max_candidates)

    def match(self, document: Document) -> Match | None:
        """The source `document` copies most of (see `all_matches`)."""
        return self.best_match(self.find_candidates(document))

    def all_matches(self, document: Document) -> list[Match]:
        return self.matches(self.find_candidates(document))

    def find_candidates(self, document: Document) -> Candidates | None:
        """Matching's first step: the sources `document` may copy (None when it has no words).
        A scan takes this step for a chunk of documents before `matches` for each (see
        `pipeline._Checker.check_all`)."""
        found = self.unranked(document)
        if found is None:
            return None
        if not self.keep_keys:
            found.ranked = self.candidates(found.shingles)
            return found
        s = self.settings
        with_keys = getattr(self.index, "shingle_candidates_with_keys", None)
        if with_keys is not None:
            found.ranked, found.keys = with_keys(found.shingles, self.parameters, s.query_stride, s.max_candidates)
        else:  # a lookup that does not say which keys it asked
            found.ranked = self.candidates(found.shingles)
            found.keys = query_keys(found.shingles, self.parameters, s.query_stride)
        return found

    def unranked(self, document: Document) -> Candidates | None:
        """`find_candidates` but the index lookup: a cluster looks a chunk's documents up at
        once, one round trip per shard (see `compliance.cluster`)."""
        body = BodyText.of(document, self.boilerplate)
        tokens = body.tokens()
        if not len(tokens):
            return None
        return Candidates(body, tokens, shingle_hashes(tokens.hashes, self.settings.shingle_words), [])

    def best_match(self, candidates: Candidates | None) -> Match | None:
        """The first of `matches`: the source the document copies most of."""
        found = self.matches(candidates)
        return found[0] if found else None

    def matches(self, candidates: Candidates | None, credited: Callable[[Source], bool] | None = None) -> list[Match]:
        """Matching's second step: every source the document copies, verified word by word,
        the one it copies most of first.

        A roundup copies several articles; a wire story is catalogued in several versions.
        Sources are taken greedily, each for the words no source taken before explains: a
        version sharing the text of one already taken is a match only for what it alone
        explains, and only when that is a copy by itself. `credited` (whether the document
        credits a source) breaks near ties between versions of one story (`_pick`).
        """
        if candidates is None:
            return []
        tokens, shingles, ranked = candidates.tokens, candidates.shingles, candidates.ranked
        verified: list[_Verified] = []
        for number, hits in ranked:
            if verified and hits * _WEAK_CANDIDATE < ranked[0][1] and hits < self._window_hits:
                break  # the rest share a stray key or two: far too little to have copied more
            found = self._verify(candidates, shingles, number)
            if found is not None:
                verified.append(found)
        if not verified:
            return []
        verified.sort(key=_Verified.rank, reverse=True)  # stable: the most shared keys first among equals
        chosen = [self._pick(verified, credited)]
        if verified:
            explained = np.zeros(len(tokens), dtype=bool)
        while verified:
            for run in chosen[-1].runs:
                explained[run.doc_start:run.doc_end] = True
            masked = _masked(shingles, explained, self.settings.shingle_words)
            still = [self._verify(candidates, masked, found.number) if found.overlaps(explained) else found for found in verified]
            verified = sorted((found for found in still if found is not None), key=_Verified.rank, reverse=True)
            if verified:
                chosen.append(self._pick(verified, credited))
        return [self._match_of(found, candidates) for found in chosen]

    def _pick(self, verified: list[_Verified], credited: Callable[[Source], bool] | None) -> _Verified:
        """Takes the next match out of `verified` (most copied first): the first, unless it is
        uncredited and a version copied nearly as much (`_CREDITED_TIE`) is credited."""
        top = verified[0]
        if credited is not None and len(verified) > 1 and not credited(self.sources[top.number]):
            for position, found in enumerate(verified[1:], 1):
                if found.copied < _CREDITED_TIE * top.copied:
                    break
                if credited(self.sources[found.number]):
                    return verified.pop(position)
        return verified.pop(0)

    @property
    def _window_hits(self) -> int:
        """Band keys that a source with a window copied whole nearly always shares (half the
        bands): a source of which a roundup copies a few paragraphs shares few keys next to a
        long article copied whole, and must still be verified."""
        return self.parameters.banding.bands // 2

    def _verify(self, candidates: Candidates, shingles: np.ndarray, number: int) -> _Verified | None:
        s, tokens = self.settings, candidates.tokens
        source_tokens, source_shingles = self._source_tokens(number)
        runs = aligned_runs(shingles, source_shingles, s.shingle_words, s.max_gap, s.min_span_words)
        if not runs:
            return None
        copied = covered_count([(r.doc_start, r.doc_end) for r in runs])
        reused = covered_count([(r.source_start, r.source_end) for r in runs])
        long_runs = [(r.doc_start, r.doc_end) for r in runs if r.words >= s.long_span_words]
        long_words = _covered_in(long_runs, candidates.prose_before(s.min_prose_words)) if long_runs else 0
        containment = copied / len(tokens)
        coverage = reused / max(len(source_tokens), 1)
        if not s.is_copy(containment, coverage, long_words):
            return None
        return _Verified(number, runs, copied, containment, coverage)

    def _match_of(self, found: _Verified, candidates: Candidates) -> Match:
        source_tokens, _ = self._source_tokens(found.number)
        spans = [self._span(run, candidates.tokens, source_tokens, candidates.body) for run in found.runs]
        return Match(self.sources[found.number], round(found.containment, 4), round(found.coverage, 4), found.copied, spans)

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
