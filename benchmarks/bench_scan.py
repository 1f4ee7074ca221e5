#!/usr/bin/env python3
"""Speed, memory and accuracy of source matching, against the plain-datasketch approach.

Generates a seeded synthetic catalogue (sources of ~600 words drawn from a Zipf vocabulary,
so that common words recur as in news text) and reposts: edited copies (words inserted and
changed, a paragraph dropped, two swapped), excerpts, and unrelated articles. Then, in one
process run, it fingerprints and matches them with `compliance` and with plain datasketch
(per-shingle `MinHash.update`, `MinHashLSH(threshold=0.3)`, best candidate by estimated
Jaccard), and prints documents/s, the speed ratio, accuracy and memory.

    python benchmarks/bench_scan.py                          # quick: 2,000 sources, 500 reposts
    python benchmarks/bench_scan.py --sources 100000 --reposts 10000
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasketch import MinHash, MinHashLSH  # noqa: E402

from compliance.model import Block, BlockKind, Document, Source  # noqa: E402
from compliance.similarity import Matcher, MatchSettings  # noqa: E402
from compliance.similarity.tokens import normalize_text  # noqa: E402


def vocabulary(rng: random.Random, size: int = 30000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(size)]


def article(rng: random.Random, words: list[str], weights: list[float], length: int = 600) -> list[str]:
    drawn = rng.choices(words, weights=weights, k=length)
    paragraphs, start = [], 0
    while start < length:
        size = rng.randint(30, 80)
        paragraphs.append(" ".join(drawn[start : start + size]) + ".")
        start += size
    return paragraphs


def edited_copy(rng: random.Random, paragraphs: list[str], fillers: list[str]) -> list[str]:
    body = list(paragraphs)
    if len(body) > 4:
        del body[rng.randrange(len(body))]
        i = rng.randrange(len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    edited = []
    for paragraph in body:
        tokens = paragraph.split()
        for position in range(len(tokens) - 1, 0, -rng.randint(8, 14)):
            if rng.random() < 0.5:
                tokens.insert(position, rng.choice(fillers))
            else:
                tokens[position] = rng.choice(fillers)
        edited.append(" ".join(tokens))
    return edited


def document(name: str, paragraphs: list[str]) -> Document:
    blocks = [Block(BlockKind.PARAGRAPH, text, 2 * i + 1, 2 * i + 1) for i, text in enumerate(paragraphs)]
    return Document(name, "txt", name, blocks)


def build_corpus(n_sources: int, n_reposts: int, seed: int):
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    fillers = ["reportedly", "indeed", "also", "still", "now"]
    sources = [Source(f"s{i}", f"Publisher {i % 500}", "\n\n".join(article(rng, words, weights))) for i in range(n_sources)]
    reposts, truth = [], []
    for i in range(n_reposts):
        kind = rng.random()
        if kind < 0.7:  # edited copies
            target = rng.randrange(n_sources)
            body = edited_copy(rng, sources[target].text.split("\n\n"), fillers)
        elif kind < 0.85:  # excerpts: the first third
            target = rng.randrange(n_sources)
            paragraphs = sources[target].text.split("\n\n")
            body = paragraphs[: max(2, len(paragraphs) // 3)]
        else:  # unrelated original writing
            target, body = None, article(rng, words, weights)
        reposts.append(document(f"r{i}", body))
        truth.append(None if target is None else f"s{target}")
    return sources, reposts, truth


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def accuracy(found: list[str | None], truth: list[str | None]) -> tuple[float, int]:
    copies = [(f, t) for f, t in zip(found, truth) if t is not None]
    right = sum(1 for f, t in copies if f == t) / max(len(copies), 1)
    false_matches = sum(1 for f, t in zip(found, truth) if t is None and f is not None)
    return right, false_matches


def run_compliance(sources, reposts):
    start, before = time.perf_counter(), rss_mb()
    matcher = Matcher.build(sources, MatchSettings())
    built = time.perf_counter()
    after_build = rss_mb()
    found = []
    for repost in reposts:
        match = matcher.match(repost)
        found.append(match.source.id if match else None)
    done = time.perf_counter()
    return found, built - start, done - built, after_build - before


def plain_datasketch(sources, reposts, shingle_words: int = 5, num_perm: int = 128):
    def shingles(text: str) -> set[bytes]:
        tokens = normalize_text(text).split()
        return {" ".join(tokens[i : i + shingle_words]).encode() for i in range(max(len(tokens) - shingle_words + 1, 1))}

    def sketch(text: str) -> MinHash:
        m = MinHash(num_perm=num_perm)
        for shingle in shingles(text):
            m.update(shingle)
        return m

    start, before = time.perf_counter(), rss_mb()
    lsh = MinHashLSH(threshold=0.3, num_perm=num_perm)
    sketches = {}
    for source in sources:
        sketches[source.id] = sketch(source.text)
        lsh.insert(source.id, sketches[source.id])
    built = time.perf_counter()
    after_build = rss_mb()
    found = []
    for repost in reposts:
        query = sketch("\n\n".join(b.text for b in repost.blocks))
        candidates = lsh.query(query)
        found.append(max(candidates, key=lambda key: (query.jaccard(sketches[key]), key)) if candidates else None)
    done = time.perf_counter()
    return found, built - start, done - built, after_build - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--reposts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true", help="do not run plain datasketch (slow at full size)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    sources, reposts, truth = build_corpus(args.sources, args.reposts, args.seed)
    print(f"corpus: {len(sources):,} sources, {len(reposts):,} reposts (70% edited copies, 15% excerpts, 15% unrelated), "
          f"generated in {time.perf_counter() - t0:.1f}s")

    rows = []
    found, build_s, match_s, index_mb = run_compliance(sources, reposts)
    right, false_matches = accuracy(found, truth)
    rows.append(("compliance", build_s, match_s, index_mb, right, false_matches))
    if not args.skip_baseline:
        found, build_s, match_s, index_mb = plain_datasketch(sources, reposts)
        right, false_matches = accuracy(found, truth)
        rows.append(("plain datasketch", build_s, match_s, index_mb, right, false_matches))

    print(f"{'approach':18} {'index src/s':>12} {'match docs/s':>13} {'index MB':>9} {'B/source':>9} {'copies right':>13} {'false matches':>14}")
    for name, build_s, match_s, index_mb, right, false_matches in rows:
        print(f"{name:18} {len(sources) / build_s:12,.0f} {len(reposts) / match_s:13,.0f} {index_mb:9.0f} "
              f"{index_mb * 1e6 / len(sources):9,.0f} {right:13.2%} {false_matches:14d}")
    if len(rows) == 2:
        ours, theirs = rows
        print(f"speed ratio (compliance / plain datasketch): index {theirs[1] / ours[1]:.2f}x, match {theirs[2] / ours[2]:.2f}x")
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
