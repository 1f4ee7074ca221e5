"""Normalised word tokens that remember where they stand in the original text.

A word is a run of characters the regular expression `\\w` matches. Normalising is Unicode
NFKC plus case-folding; punctuation and whitespace never reach a token, so they are folded
by construction. Words are normalised one by one because case-folding can change a string's
length, and the spans shown to reviewers must land on the original characters.

Tokenising is the first cost of every document, so it runs on the text's code points in
numpy: a lookup table says which characters are word characters, boundaries fall where that
changes, ASCII letters are lower-cased by table, and each word's hash is read off a prefix
sum of a polynomial hash. Only words with non-ASCII letters go through Python to be
normalised, and they hash the same way, so a word has one hash whichever path it takes.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"\w+")
_BMP = 0x10000

# Polynomial hash of a word's code points: sum of (c_k + 1) * P^k, modulo 2^64, then a
# finaliser. P is odd, so P^-k exists modulo 2^64 and a word's hash can be cut out of a
# prefix sum over the whole text: (prefix[end] - prefix[start]) * P^-start.
_P = 0x100000001B3
_P_INVERSE = pow(_P, -1, 1 << 64)
_LENGTH_SALT = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=1)
def _word_characters() -> np.ndarray:
    """For every character of the Basic Multilingual Plane, whether `\\w` matches it."""
    everything = "".join(map(chr, range(_BMP))).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    table = np.zeros(_BMP, dtype=bool)
    for match in _WORD.finditer(everything):
        table[match.start() : match.end()] = True
    return table


_ASCII_LOWER = np.arange(128, dtype=np.uint64)
_ASCII_LOWER[ord("A") : ord("Z") + 1] += 32


class _Powers:
    """P^k and P^-k modulo 2^64 for k up to the longest text seen so far."""

    def __init__(self) -> None:
        self.forward = np.ones(1, dtype=np.uint64)
        self.inverse = np.ones(1, dtype=np.uint64)

    def ensure(self, length: int) -> None:
        if length <= len(self.forward):
            return
        size = max(length, 2 * len(self.forward), 4096)
        with np.errstate(over="ignore"):
            self.forward = _power_table(_P, size)
            self.inverse = _power_table(_P_INVERSE, size)


def _power_table(base: int, size: int) -> np.ndarray:
    table = np.empty(size, dtype=np.uint64)
    table[0] = 1
    step, filled = np.uint64(base), 1
    with np.errstate(over="ignore"):
        while filled < size:  # doubling: table[n:2n] = table[:n] * base^n
            count = min(filled, size - filled)
            table[filled : filled + count] = table[:count] * step
            step = step * step
            filled += count
    return table


_powers = _Powers()


def _finish(raw: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over the raw polynomial and the length: well-spread 64 bits."""
    with np.errstate(over="ignore"):
        h = raw ^ (lengths.astype(np.uint64) * _LENGTH_SALT)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _span_hashes(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hashes of points[starts[i]:ends[i]] (code points already normalised)."""
    _powers.ensure(len(points) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(points) + 1, dtype=np.uint64)
        np.cumsum((points + np.uint64(1)) * _powers.forward[: len(points)], out=prefix[1:])
        raw = (prefix[ends] - prefix[starts]) * _powers.inverse[starts]
    return _finish(raw, ends - starts)


_MASK = (1 << 64) - 1


@lru_cache(maxsize=1 << 16)
def hash_word(word: str) -> int:
    """The hash of one normalised word, as tokenising gives it (plain Python, for one word)."""
    raw, power = 0, 1
    for character in word:
        raw = (raw + (ord(character) + 1) * power) & _MASK
        power = (power * _P) & _MASK
    h = raw ^ ((len(word) * int(_LENGTH_SALT)) & _MASK)
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
    return h ^ (h >> 31)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


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


def tokenize(text: str) -> TokenizedText:
    points = _code_points(text)
    if text.isascii():
        is_word = _word_characters().take(points)
    else:
        is_word = np.zeros(len(points), dtype=bool)
        in_plane = points < _BMP
        is_word[in_plane] = _word_characters().take(points[in_plane])
        for position in np.flatnonzero(~in_plane).tolist():  # emoji and rarer scripts
            is_word[position] = bool(_WORD.match(text[position]))
    padded = np.zeros(len(points) + 2, dtype=bool)
    padded[1:-1] = is_word
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # where words begin and end
    starts, ends = edges[0::2], edges[1::2]
    if text.isascii():
        lowered = _code_points(text.lower()).astype(np.uint64)  # str.lower keeps ASCII offsets
        return TokenizedText(text, starts, ends, _span_hashes(lowered, starts, ends))
    ascii_points = points < 128
    lowered = np.where(ascii_points, _ASCII_LOWER[np.minimum(points, 127)], points.astype(np.uint64))
    hashes = _span_hashes(lowered, starts, ends)
    # Words with a non-ASCII character are normalised (NFKC, case-folding) in Python.
    outside = np.concatenate(([0], np.cumsum(~ascii_points)))
    for index in np.flatnonzero(outside[ends] > outside[starts]).tolist():
        hashes[index] = hash_word(normalize_word(text[starts[index] : ends[index]]))
    return TokenizedText(text, starts, ends, hashes)


def word_hashes(text: str) -> np.ndarray:
    """The hashes `tokenize(text).hashes` holds (for indexing sources, which need no offsets)."""
    return tokenize(text).hashes

