#!/usr/bin/env python3
"""How well the HTML reader extracts the article from real publisher pages, and how fast.

Each page of the corpus (`pages.jsonl` beside `pages/*.html.gz`) is read with compliance's HTML
reader; the Document's body is compared with the article's clean text (`articles.jsonl`, the
entry whose `id` is the page's `article`) as multisets of lower-cased words:

- recall: share of the article's words that the body holds;
- noise: share of the body's words that are neither the article's text nor its captions.

The body is what the rules and matching read: paragraphs, headings and captions, not the
title nor META blocks (a desk's header, the standfirst the page declares its description). A
caption on the page that the annotators left out of `captions` counts as noise. A character of
a script written without spaces (Chinese, Japanese, Thai) counts as a word.

It also runs the default pack's repetition rule (`caption-duplicated`) on every page, alone and
as a scan that matched the page to its article would (what the article's text repeats too then
passes). Nothing was pasted twice into these pages: what it finds is chrome let through, or the
article repeating itself.

    python benchmarks/bench_extraction.py [CORPUS] [--pages] [--repeat N]
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compliance.checks.context import CheckContext  # noqa: E402
from compliance.checks.rulepack import load_pack  # noqa: E402
from compliance.checks.rules import RULE_TYPES  # noqa: E402
from compliance.ingest.load import parse_document  # noqa: E402
from compliance.model import Match, Source  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus")
# A word, or one character of a script written without spaces (Chinese, Japanese, Thai): there
# `\w+` would make a whole sentence one word, all noise for one changed character.
_WORD = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank, the conservative side)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.5) - 1))]


def load_corpus(corpus: Path) -> list[tuple[str, str, str, str]]:
    """(article id, page HTML, article text, captions) for every page."""
    articles = {}
    with open(corpus / "articles.jsonl", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            articles[article["id"]] = article
    pages = []
    with open(corpus / "pages.jsonl", encoding="utf-8") as handle:
        for line in handle:
            page = json.loads(line)
            article = articles[page["article"]]
            html = gzip.decompress((corpus / page["file"]).read_bytes()).decode("utf-8", errors="replace")
            pages.append((page["article"], html, article["text"], " ".join(article.get("captions") or ())))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS, help=f"default {DEFAULT_CORPUS}")
    parser.add_argument("--pages", action="store_true", help="print every page's figures, worst recall first")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the fastest counts (default 3)")
    args = parser.parse_args(argv)

    pages = load_corpus(args.corpus)
    pack = load_pack()
    rule = next(r for r in pack.enabled_rules if r.id == "caption-duplicated")
    check = RULE_TYPES[rule.type].check

    best = float("inf")
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        documents = [parse_document(html, Path(f"{page_id}.html"), f"{page_id}.html") for page_id, html, _, _ in pages]
        best = min(best, time.perf_counter() - started)
    megabytes = sum(len(html.encode("utf-8")) for _, html, _, _ in pages) / 1e6

    rows = []
    for (page_id, _, text, captions), document in zip(pages, documents):
        body = document.body
        got = words(" ".join(b.text for b in body))
        article, allowed = words(text), words(text + " " + captions)
        recall = sum((got & article).values()) / max(1, sum(article.values()))
        noise = sum((got - allowed).values()) / max(1, sum(got.values()))
        fired = list(check(CheckContext(document, None, rule.scope.select(document), rule)))
        # As a scan that matched the page to its article would: repeating what the article itself repeats passes.
        match = Match(Source(page_id, "", f"{text}\n\n{captions}"), 1.0, 1.0, 0, [])
        fired_matched = list(check(CheckContext(document, match, rule.scope.select(document), rule)))
        rows.append((page_id, recall, noise, len(fired), len(fired_matched), fired[0].excerpt if fired else ""))

    recalls, noises = [r[1] for r in rows], [r[2] for r in rows]
    if args.pages:
        print(f"{'page':<28} {'recall':>7} {'noise':>7}  repeats (matched)")
        for page_id, recall, noise, count, matched, excerpt in sorted(rows, key=lambda r: (r[1], -r[2])):
            repeats = f"{count} ({matched})" if count else ""
            print(f"{page_id:<28} {recall:7.1%} {noise:7.1%}  {repeats:>8} {excerpt[:60]}")
        print()
    fired_on = [r for r in rows if r[3]]
    fired_matched = [r for r in rows if r[4]]
    print(f"{len(pages)} pages ({megabytes:.1f} MB of HTML) from {args.corpus}")
    print(f"recall: median {statistics.median(recalls):.1%}, 10th percentile {percentile(recalls, 0.1):.1%}, "
          f"mean {statistics.fmean(recalls):.1%}")
    print(f"noise:  median {statistics.median(noises):.1%}, worst tenth (90th percentile) {percentile(noises, 0.9):.1%}, "
          f"mean {statistics.fmean(noises):.1%}")
    print(f"pages at >= 97 % recall: {sum(r >= 0.97 for r in recalls)}, at <= 3 % noise: {sum(n <= 0.03 for n in noises)}")
    print(f"caption-duplicated fires on {len(fired_on)} pages" + (f": {', '.join(r[0] for r in fired_on)}" if fired_on else ""))
    print(f"  on {len(fired_matched)} when each page is matched to its article (what its text repeats too passes)"
          + (f": {', '.join(r[0] for r in fired_matched)}" if fired_matched else ""))
    print(f"speed: {len(pages) / best:.1f} pages/s, {megabytes / best:.2f} MB/s (best of {max(1, args.repeat)} runs, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
