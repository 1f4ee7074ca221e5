#!/usr/bin/env python3
"""What a scheduled rescan costs when nothing changed, against a full scan.

Writes the synthetic corpus of `bench_scan.py` to a temporary desk (reposts as .txt files,
the catalogue as JSONL files), then times, through the command line as cron runs it:

1. a full scan without state (`--no-state`), for reference;
2. the first scan with state (everything checked, results and the run written);
3. a rescan with nothing changed (every result from the state);
4. a rescan after one repost was edited (exactly one re-checked).

    python benchmarks/bench_rescan.py                      # 10,000 reposts, 2,000 sources
    python benchmarks/bench_rescan.py --reposts 2000 --sources 500
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_scan import build_corpus  # noqa: E402

from compliance.cli.main import main as compliance  # noqa: E402


def write_desk(root: Path, n_sources: int, n_reposts: int, seed: int) -> None:
    sources, reposts, _ = build_corpus(n_sources, n_reposts, seed)
    catalogue = root / "sources"
    catalogue.mkdir()
    for start in range(0, len(sources), 500):  # JSONL files of 500 sources: each under the 5 MB input limit
        with open(catalogue / f"sources-{start // 500:03d}.jsonl", "w", encoding="utf-8") as handle:
            for source in sources[start:start + 500]:
                handle.write(json.dumps({"id": source.id, "publisher": source.publisher, "text": source.text}) + "\n")
    folder = root / "reposts"
    for i, repost in enumerate(reposts):
        sub = folder / f"{i // 1000:03d}"  # desks file reposts by day: folders of about a thousand
        sub.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(block.text for block in repost.blocks)
        (sub / f"{repost.path}.txt").write_text(f"Repost {repost.path}\n\n{body}\n", encoding="utf-8")


def timed(root: Path, *extra: str) -> tuple[float, dict]:
    output = root / "report.json"
    start = time.perf_counter()
    code = compliance(["scan", str(root / "reposts"), "--sources", str(root / "sources"), "--state", str(root / "state.db"),
                       "--format", "json", "--output", str(output), "--fail-on", "never", "-q", *extra])
    elapsed = time.perf_counter() - start
    assert code == 0, code
    return elapsed, json.loads(output.read_text(encoding="utf-8"))["summary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--reposts", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-no-state", action="store_true", help="skip the reference scan without state")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-rescan-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        write_desk(root, args.sources, args.reposts, args.seed)
        print(f"desk: {args.reposts:,} reposts, {args.sources:,} sources, written in {time.perf_counter() - t0:.1f}s")

        rows = []
        if not args.skip_no_state:
            seconds, summary = timed(root, "--no-state")
            rows.append(("full scan, no state", seconds, summary["documents"], summary["documents"]))
        full, summary = timed(root)
        rows.append(("first scan with state", full, summary["documents"], summary["incremental"]["rechecked"]))
        rescan, summary = timed(root)
        assert summary["incremental"]["rechecked"] == 0
        rows.append(("rescan, nothing changed", rescan, summary["documents"], summary["incremental"]["rechecked"]))
        edited = root / "reposts" / "000" / "r0.txt"
        edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
        one, summary = timed(root)
        rows.append(("rescan, one file edited", one, summary["documents"], summary["incremental"]["rechecked"]))

        print(f"{'run':26} {'seconds':>9} {'documents':>10} {'re-checked':>11} {'docs/s':>9}")
        for name, seconds, documents, rechecked in rows:
            print(f"{name:26} {seconds:9.2f} {documents:10,} {rechecked:11,} {documents / seconds:9,.0f}")
        print(f"rescan / full scan with state: {rescan / full:.3f} ({full / rescan:.0f}x faster)")
        print(f"state database: {(root / 'state.db').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
