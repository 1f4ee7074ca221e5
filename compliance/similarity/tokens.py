"""Normalised word tokens that remember where they stand in the original text.

A word is a run of characters the regular expression `\\w` matches. Normalising is Unicode
NFKC plus case-folding; punctuation and whitespace never reach a token, so they are folded
by construction. Words are normalised one by one because case-folding can change a string's
length, and the spans shown to reviewers must land on the original characters.

Tokenising is the first cost of every document, so it runs on the text's code points: a
lookup table says which characters are word characters, and one compiled pass
(`kernels.word_spans`) finds where words begin and end and hashes them, lower-casing ASCII
letters as it goes. Only words with non-ASCII letters go through Python to be normalised,
and they hash the same way (`hash_word`), so a word has one hash whichever path it takes.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from compliance.similarity.kernels import read_only, word_spans

_WORD = re.compile(r"\w+")
# Every ASCII byte that `\w` does not match, as a space (ASCII `\w` is letters, digits and "_").
_ASCII_NON_WORD_TO_SPACE = bytes(c if c < 128 and (chr(c).isalnum() or c == ord("_")) else ord(" ") for c in range(256))
_BMP = 0x10000

# Polynomial hash of a word's code points: sum of (c_k + 1) * P^k, modulo 2^64, then
# splitmix64's finaliser over it and the length (the kernel computes the same).
_P = 0x100000001B3
_LENGTH_SALT = 0x9E3779B97F4A7C15


@lru_cache(maxsize=1)
def _word_characters() -> np.ndarray:
    """For every character of the Basic Multilingual Plane, whether `\\w` matches it."""
    everything = "".join(map(chr, range(_BMP))).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    table = np.zeros(_BMP, dtype=bool)
    for match in _WORD.finditer(everything):
        table[match.start() : match.end()] = True
    return table


_MASK = (1 << 64) - 1


@lru_cache(maxsize=1 << 16)
def hash_word(word: str) -> int:
    """The hash of one normalised word, as tokenising gives it (plain Python, for one word)."""
    raw, power = 0, 1
    for character in word:
        raw = (raw + (ord(character) + 1) * power) & _MASK
        power = (power * _P) & _MASK
    h = raw ^ ((len(word) * _LENGTH_SALT) & _MASK)
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
    return h ^ (h >> 31)


def code_points(text: str) -> np.ndarray:
    if text.isascii():  # a quarter of the bytes to read
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@dataclass  # not frozen: a scan makes several a repost, and a frozen dataclass takes 4 times as long to make
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
        """Only the words `keep` selects (a mask or positions), still pointing into the same text."""
        return TokenizedText(self.text, self.starts[keep], self.ends[keep], self.hashes[keep])

    def slice(self, start: int, end: int) -> "TokenizedText":
        """Words start to end (views, not copies)."""
        return TokenizedText(self.text, self.starts[start:end], self.ends[start:end], self.hashes[start:end])


def normalize_word(word: str) -> str:
    return word.lower() if word.isascii() else unicodedata.normalize("NFKC", word).casefold()


@lru_cache(maxsize=1 << 14)  # several rules normalise the same blocks of one document
def normalize_text(text: str) -> str:
    """The text as matching sees it: normalised words separated by single spaces."""
    if text.isascii():  # lower-casing ASCII never moves a word boundary: words at once, in bytes
        return b" ".join(spaced_ascii(text).split()).decode("ascii")
    return " ".join(map(normalize_word, _WORD.findall(text)))


def spaced_ascii(text: str) -> bytes:
    """ASCII text lower-cased, each character that is not a word character made a space: the
    normalised text before runs of spaces are made one (so that one is a subsequence of this)."""
    return text.encode("ascii").lower().translate(_ASCII_NON_WORD_TO_SPACE)


# Stand-ins for characters beyond the Basic Multilingual Plane, which the table does not
# cover: a non-ASCII word character (the word is then normalised and hashed in Python,
# from the original text) or a space.
_WORD_STAND_IN, _SPACE_STAND_IN = ord("ª"), ord(" ")


# The body matching tokenises is the text the repetition check reads. A scan matches a
# chunk of 32 reposts before any rule reads them: their bodies and their candidates' texts,
# about two texts a repost, must still be here then.
@lru_cache(maxsize=256)
def tokenize(text: str) -> TokenizedText:
    points = code_points(text)
    if text.isascii():
        starts, ends, hashes, _ = word_spans(points, _word_characters())
        return TokenizedText(text, starts, ends, hashes)
    beyond = np.flatnonzero(points >= _BMP)
    if len(beyond):  # emoji and rarer scripts
        points = points.copy()
        for position in beyond.tolist():
            points[position] = _WORD_STAND_IN if _WORD.match(text[position]) else _SPACE_STAND_IN
        points = read_only(points)  # the array type of all other text: one compiled kernel less
    starts, ends, hashes, non_ascii = word_spans(points, _word_characters())
    # Words with a non-ASCII character are normalised (NFKC, case-folding) in Python.
    for index in np.flatnonzero(non_ascii).tolist():
        hashes[index] = hash_word(normalize_word(text[starts[index] : ends[index]]))
    return TokenizedText(text, starts, ends, hashes)


def word_hashes(text: str) -> np.ndarray:
    """The hashes `tokenize(text).hashes` holds (for indexing sources, which need no offsets)."""
    return tokenize(text).hashes

