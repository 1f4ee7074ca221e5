"""Normalised word tokens that remember where they stand in the original text.

Normalising is Unicode NFKC plus case-folding; punctuation and whitespace never reach a
token, so they are folded by construction. Tokens are normalised one by one because
case-folding can change a string's length, and the spans shown to reviewers must land on
the original characters.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from dataclasses import dataclass

import numpy as np
import xxhash

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TokenizedText:
    text: str
    starts: np.ndarray  # char offset of each word in `text`
    ends: np.ndarray
    hashes: np.ndarray  # stable 64-bit hash of each normalised word

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def words(self) -> list[str]:
        """The normalised words (for people; matching only needs the hashes)."""
        return [normalize_word(self.text[a:b]) for a, b in zip(self.starts.tolist(), self.ends.tolist())]

    def subset(self, keep: np.ndarray) -> "TokenizedText":
        """Only the words where `keep` is true, still pointing into the same text."""
        return TokenizedText(self.text, self.starts[keep], self.ends[keep], self.hashes[keep])


def normalize_word(word: str) -> str:
    return word.lower() if word.isascii() else unicodedata.normalize("NFKC", word).casefold()


@lru_cache(maxsize=1 << 14)  # several rules normalise the same blocks of one document
def normalize_text(text: str) -> str:
    """The text as matching sees it: normalised words separated by single spaces."""
    if text.isascii():  # lower-casing ASCII never moves a word boundary: one call for all words
        return " ".join(_WORD.findall(text.lower()))
    return " ".join(map(normalize_word, _WORD.findall(text)))


class _WordHashes(dict):
    """Word as written -> hash of its normalised form, remembered: news reuses a small
    vocabulary, and a dict lookup costs a tenth of normalising and hashing. Emptied when it
    grows past `limit` words."""

    limit = 1 << 20

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        # xxh3 is stable across processes and machines (Python's hash() is salted per
        # process), which a persistent index and reproducible reports need.
        value = self[word] = xxhash.xxh3_64_intdigest(normalize_word(word).encode())
        return value


_word_hash = _WordHashes()
_WORD_SPLIT = re.compile(r"(\w+)")


def _hash_words(words: list[str]) -> np.ndarray:
    return np.fromiter(map(_word_hash.__getitem__, words), dtype=np.uint64, count=len(words))


def word_hashes(text: str) -> np.ndarray:
    """The hashes `tokenize(text).hashes` holds, without the offsets (for indexing sources)."""
    return _hash_words(_WORD.findall(text))


def tokenize(text: str) -> TokenizedText:
    # split() alternates gaps and words; the running sum of their lengths gives every
    # offset without a Python-level loop over match objects.
    parts = _WORD_SPLIT.split(text)
    bounds = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
    ends = bounds[1::2]
    starts = bounds[:-1:2] if len(parts) > 1 else bounds[:0]
    return TokenizedText(text, starts, ends, _hash_words(parts[1::2]))
