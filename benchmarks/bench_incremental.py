#!/usr/bin/env python3
"""What a scheduled scan costs after a small change of a large desk: the cron run, timed.

Writes (or reuses, with `--folder`) a desk of N sources (JSONL files of 500) and M reposts
(.txt, folders of 1,000): edited copies, excerpts, roundups of two or three sources, and
original writing, as `bench_scan.py` makes them. Once, it builds the index and runs the first
scan with state (everything checked), keeping both as the desk's baseline. Then, from a copy
of the baseline each time, it times the command as cron runs it, in a fresh process:

    compliance scan REPOSTS --sources CATALOGUE --index INDEX --state STATE --format json ...

1. nothing changed;
2. after `--new-sources` sources (a new catalogue file) and `--new-reposts` reposts were added
   (half of them copying the new sources), the index update included.

It prints seconds inside the command's `main`, wall seconds (adding Python's start and
imports), processor seconds, and how many reposts were re-checked.

    python benchmarks/bench_incremental.py --folder /tmp/incr-desk             # 100,000 and 100,000
    python benchmarks/bench_incremental.py --sources 5000 --reposts 5000 --folder /tmp/incr-small
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_index_update import run_cli  # noqa: E402
from bench_scan import articles, edited_copy, vocabulary  # noqa: E402

from compliance.state.incremental import code_fingerprint  # noqa: E402

BATCH = 5000  # articles drawn at a time: all at once would take gigabytes
FILLERS = ["reportedly", "indeed", "also", "still", "now"]


def repost_body(rng: random.Random, texts: list[str], unrelated: list[str]) -> list[str]:
    """A repost of `texts` (source texts): an edited copy, an excerpt, a roundup, or (when
    `texts` is empty or by chance) `unrelated`, original writing."""
    kind = rng.random()
    if not texts or kind >= 0.85:
        return unrelated
    if kind < 0.65:
        return edited_copy(rng, rng.choice(texts).split("\n\n"), FILLERS)
    if kind < 0.78:
        paragraphs = rng.choice(texts).split("\n\n")
        return paragraphs[: max(2, len(paragraphs) // 3)]
    # a roundup: a few paragraphs of two or three sources, one after another
    body = []
    for text in rng.sample(texts, min(len(texts), rng.choice((2, 3)))):
        paragraphs = text.split("\n\n")
        start = rng.randrange(max(1, len(paragraphs) - 4))
        body.extend(paragraphs[start : start + 4])
    return body


def write_sources(path: Path, sources: list[tuple[str, str, str]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for source_id, publisher, text in sources:
            handle.write(json.dumps({"id": source_id, "publisher": publisher, "text": text}) + "\n")


def write_repost(path: Path, name: str, body: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Repost {name}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")


def write_desk(folder: Path, n_sources: int, n_reposts: int, seed: int) -> None:
    """The desk's catalogue and reposts; a marker file last, so that a folder whose writing was
    interrupted is written again."""
    marker = folder / ".written"
    if marker.exists() and marker.read_text() == f"{n_sources} {n_reposts} {seed}\n":
        return
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "sources").mkdir(parents=True)
    rng = random.Random(seed)
    words = vocabulary(rng)
    texts: list[str] = []
    for start in range(0, n_sources, BATCH):
        drawn = ["\n\n".join(paragraphs) for paragraphs in articles(seed + start, min(BATCH, n_sources - start), words)]
        texts.extend(drawn)
        for first in range(0, len(drawn), 500):
            number = start + first
            write_sources(folder / "sources" / f"sources-{number // 500:04d}.jsonl",
                          [(f"s{number + i}", f"Publisher {(number + i) % 500}", text) for i, text in enumerate(drawn[first:first + 500])])
    for start in range(0, n_reposts, BATCH):
        unrelated = articles(seed + 10_000_000 + start, min(BATCH, n_reposts - start), words)
        for i, original in enumerate(unrelated, start=start):
            picked = [texts[rng.randrange(len(texts))] for _ in range(3)]
            write_repost(folder / "reposts" / f"{i // 1000:03d}" / f"r{i}.txt", f"r{i}", repost_body(rng, picked, original))
    marker.write_text(f"{n_sources} {n_reposts} {seed}\n")


def scan_command(desk: Path, work: Path) -> list[str]:
    return ["scan", str(desk / "reposts"), "--sources", str(desk / "sources"), "--index", str(work / "index.db"),
            "--state", str(work / "state.db"), "--format", "json", "--output", str(work / "report.json"),
            "--fail-on", "never", "-q", "--jobs", "2"]


def rechecked(work: Path) -> tuple[int, int]:
    summary = json.loads((work / "report.json").read_text(encoding="utf-8"))["summary"]
    return summary["documents"], summary["incremental"]["rechecked"]


def baseline(desk: Path) -> Path:
    """The index and the state after the first scan: the index built once per desk, the state
    once per version of the code (a state written by other code re-checks everything)."""
    index = desk / "index.db"
    if not (desk / ".indexed").exists():
        inside, wall, cpu, _ = run_cli("index", "build", "--sources", str(desk / "sources"), "--index", str(index), "--jobs", "2", "-q")
        print(f"index build: {inside:.1f}s in main ({wall:.1f}s wall, {cpu:.1f}s processor)")
        (desk / ".indexed").write_text("")
    done = desk / f"baseline-{code_fingerprint()[:12]}"
    if (done / ".done").exists():
        return done
    done.mkdir(exist_ok=True)
    (done / "state.db").unlink(missing_ok=True)
    copy_index(index, done)
    inside, wall, cpu, _ = run_cli(*scan_command(desk, done))
    print(f"first scan with state: {inside:.1f}s in main ({wall:.1f}s wall, {cpu:.1f}s processor), "
          "{:,} documents, {:,} re-checked".format(*rechecked(done)))
    (done / ".done").write_text("")
    return done


def copy_index(index: Path, folder: Path) -> None:
    """The index and the band-key files beside it (`index.db.bands-*`): without them the copy is
    a damaged index."""
    for old in folder.glob("index.db.bands-*"):
        old.unlink()
    shutil.copyfile(index, folder / "index.db")
    for band_file in index.parent.glob(index.name + ".bands-*"):
        shutil.copyfile(band_file, folder / band_file.name)


def fresh_copy(base: Path, work: Path) -> None:
    copy_index(base / "index.db", work)
    shutil.copyfile(base / "state.db", work / "state.db")


def add_changes(desk: Path, n_sources: int, n_reposts: int, seed: int) -> list[Path]:
    """`n_sources` new sources in a new catalogue file and `n_reposts` new reposts, half of them
    copying the new sources, the others older ones; returns the files written."""
    rng = random.Random(seed)
    words = vocabulary(random.Random(seed))
    new = ["\n\n".join(paragraphs) for paragraphs in articles(seed + 20_000_000, n_sources, words)]
    catalogue = desk / "sources" / "sources-new.jsonl"
    write_sources(catalogue, [(f"new{i}", "Publisher new", text) for i, text in enumerate(new)])
    old = [json.loads(line)["text"] for line in (desk / "sources" / "sources-0000.jsonl").read_text(encoding="utf-8").splitlines()]
    written = [catalogue]
    for i, original in enumerate(articles(seed + 30_000_000, n_reposts, words)):
        path = desk / "reposts" / "new" / f"n{i}.txt"
        write_repost(path, f"n{i}", repost_body(rng, rng.sample(new if i % 2 else old, 3), original))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--reposts", type=int, default=100_000)
    parser.add_argument("--new-sources", type=int, default=50)
    parser.add_argument("--new-reposts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each case; the fastest counts")
    parser.add_argument("--folder", type=Path, help="write the desk here, or reuse the one written here before "
                        "(default: a temporary folder, removed afterwards)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        work = Path(tmp)
        desk = args.folder or work / "desk"
        started = time.perf_counter()
        write_desk(desk, args.sources, args.reposts, args.seed)
        print(f"desk: {args.sources:,} sources, {args.reposts:,} reposts in {desk} ({time.perf_counter() - started:.1f}s to write or find)")
        base = baseline(desk)
        print(f"index {(base / 'index.db').stat().st_size / 1e6:,.0f} MB, state {(base / 'state.db').stat().st_size / 1e6:,.0f} MB")
        rows = []
        for name, change in (("nothing changed", False),
                             (f"{args.new_sources} new sources, {args.new_reposts} new reposts", True)):
            best = None
            for _ in range(args.runs):
                fresh_copy(base, work)
                written = add_changes(desk, args.new_sources, args.new_reposts, args.seed) if change else []
                try:
                    os.sync()  # the files just written are not flushed during the timed run
                    timing = run_cli(*scan_command(desk, work))
                    counts = rechecked(work)
                finally:
                    for path in written:
                        path.unlink()
                    shutil.rmtree(desk / "reposts" / "new", ignore_errors=True)
                if best is None or timing[0] < best[0][0]:
                    best = (timing, counts)
            (inside, wall, cpu, _), (documents, checked) = best
            rows.append((name, inside, wall, cpu, documents, checked))
        print(f"\n{'scheduled scan (fastest of ' + str(args.runs) + ')':44} {'in main':>8} {'wall':>7} {'cpu':>7} {'documents':>10} {'re-checked':>11}")
        for name, inside, wall, cpu, documents, checked in rows:
            print(f"{name:44} {inside:7.2f}s {wall:6.2f}s {cpu:6.2f}s {documents:10,} {checked:11,}")
        print("\ncommand: compliance " + " ".join(scan_command(Path("DESK"), Path("WORK"))))


if __name__ == "__main__":
    main()
