"""Similarity: which catalogue source does a document copy, how much, and where.

tokens -> shingle fingerprints -> MinHash windows in a datasketch LSH index (candidates)
-> exact verification of candidates (spans, containment, coverage) -> best `Match`.
"""
from compliance.similarity.catalogue import load_catalogue
from compliance.similarity.matcher import Matcher, MatchSettings

__all__ = ["Matcher", "MatchSettings", "load_catalogue"]
