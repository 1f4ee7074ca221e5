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
    words: list[str]
    starts: np.ndarray  # char offset of each word in `text`
    ends: np.ndarray
    hashes: np.ndarray  # stable 64-bit hash of each normalised word

    def __len__(self) -> int:
        return len(self.words)

    def subset(self, keep: np.ndarray) -> "TokenizedText":
        """Only the words where `keep` is true, still pointing into the same text."""
        words = [word for word, kept in zip(self.words, keep.tolist()) if kept]
        return TokenizedText(self.text, words, self.starts[keep], self.ends[keep], self.hashes[keep])


def normalize_word(word: str) -> str:
    return word.lower() if word.isascii() else unicodedata.normalize("NFKC", word).casefold()


@lru_cache(maxsize=1 << 14)  # several rules normalise the same blocks of one document
def normalize_text(text: str) -> str:
    """The text as matching sees it: normalised words separated by single spaces."""
    return " ".join(normalize_word(m.group()) for m in _WORD.finditer(text))


def tokenize(text: str) -> TokenizedText:
    matches = list(_WORD.finditer(text))
    words = [normalize_word(m.group()) for m in matches]
    starts = np.fromiter((m.start() for m in matches), dtype=np.int64, count=len(matches))
    ends = np.fromiter((m.end() for m in matches), dtype=np.int64, count=len(matches))
    # xxh3 is stable across processes and machines (Python's hash() is salted per process),
    # which a persistent index and reproducible reports need.
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(w.encode()) for w in words), dtype=np.uint64, count=len(words))
    return TokenizedText(text, words, starts, ends, hashes)
