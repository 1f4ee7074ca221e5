#!/usr/bin/env python3
"""What `compliance index update` costs on a large catalogue folder where little changed.

Writes a catalogue folder of N sources as Markdown files with front matter (the synthetic
articles of `bench_scan.py`, in subfolders of 1,000), or reuses one written before with
`--folder`, builds the index once, then times `compliance index update` through the command
line, each in a fresh process as cron runs it:

1. nothing changed: the first update after the build, then the fastest of three more;
2. one file's content changed, same size;
3. one file added;
4. one file removed;
5. nothing changed again;
6. a scan of one repost with `--index` and `--sources` (the update, then the scan), and one
   with `--index` only.

It prints seconds inside the command's `main`, wall seconds (adding Python's start and
imports), processor seconds, and how many files each update read.

    python benchmarks/bench_index_update.py                        # 100,000 sources
    python benchmarks/bench_index_update.py --sources 20000 --folder /tmp/catalogue-20k
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the code beside this script, here and in `run_cli`

import random  # noqa: E402

from bench_scan import articles, vocabulary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PER_FOLDER = 1000


def source_path(folder: Path, number: int) -> Path:
    return folder / f"{number // PER_FOLDER:03d}" / f"s{number:06d}.md"


def source_text(number: int, paragraphs: list[str]) -> str:
    return f"---\npublisher: Publisher {number % 500}\ntitle: Article {number}\n---\n\n" + "\n\n".join(paragraphs) + "\n"


def write_catalogue(folder: Path, count: int, seed: int) -> None:
    """`count` sources, written in batches (the articles of all of them at once would take
    gigabytes); a marker file last, so that a folder whose writing was interrupted is written again."""
    marker = folder / ".written"
    if marker.exists() and marker.read_text() == f"{count} {seed}\n":
        return
    words = vocabulary(random.Random(seed))
    batch = 5000
    for start in range(0, count, batch):
        for number, paragraphs in enumerate(articles(seed + start, min(batch, count - start), words), start=start):
            path = source_path(folder, number)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source_text(number, paragraphs), encoding="utf-8")
    marker.write_text(f"{count} {seed}\n")


_RUN = """
import os, sys, time
from compliance.cli.main import main

started = time.perf_counter()
code = main(sys.argv[1:], exiting=True)
sys.stdout.flush()
print(f"@@ {code} {time.perf_counter() - started}", file=sys.stderr, flush=True)
os._exit(code)
"""


def run_cli(*argv: str) -> tuple[float, float, float, str]:
    """`compliance ARGV` in a fresh process: (seconds inside main, wall seconds, processor
    seconds (user and system, of the process and its workers), its output). On a machine shared
    with other work, the processor seconds vary less than the others."""
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    marker = [line for line in done.stderr.splitlines() if line.startswith("@@ ")]
    if not marker or marker[-1].split()[1] not in ("0", "1"):
        raise SystemExit(f"compliance {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return float(marker[-1].split()[2]), wall, cpu, done.stdout


def update(folder: Path, index: Path, runs: int = 1) -> tuple[float, float, float, str, str]:
    """An index update (the fastest of `runs`): seconds inside main, wall and processor seconds,
    files read, and the counts it printed."""
    inside, wall, cpu, output = min(run_cli("index", "update", "--sources", str(folder), "--index", str(index), "--jobs", "2")
                                    for _ in range(runs))
    counts = re.search(r"(\d+ added, \d+ changed, \d+ removed, \d+ unchanged)", output)
    read = re.search(r"([\d,]+) of [\d,]+ files read", output)
    return inside, wall, cpu, read.group(1) if read else "?", counts.group(1) if counts else output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", type=Path, help="write the catalogue here, or reuse the one written here before "
                        "(default: a temporary folder, removed afterwards)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-index-update-") as tmp:
        work = Path(tmp)
        folder = args.folder or work / "sources"
        started = time.perf_counter()
        write_catalogue(folder, args.sources, args.seed)
        print(f"catalogue: {args.sources:,} Markdown sources in {folder} ({time.perf_counter() - started:.1f}s to write or find)")
        index = work / "index.db"
        built, built_wall, built_cpu, _ = run_cli("index", "build", "--sources", str(folder), "--index", str(index), "--jobs", "2", "-q")
        print(f"index build: {built:.1f}s in main ({built_wall:.1f}s wall, {built_cpu:.1f}s processor), {index.stat().st_size / 1e6:,.0f} MB")

        rows = [("nothing changed, first update after the build", *update(folder, index)),
                ("nothing changed (fastest of 3)", *update(folder, index, runs=3))]
        edited = source_path(folder, 17)
        text, status = edited.read_text(encoding="utf-8"), edited.stat()
        try:
            assert "title: Article 17\n" in text
            edited.write_text(text.replace("title: Article 17\n", "title: Article 71\n"), encoding="utf-8")  # same size
            rows.append(("one file's content changed", *update(folder, index)))
            added = folder / "new" / "added.md"
            added.parent.mkdir(exist_ok=True)
            added.write_text(source_text(-1, ["A source added since the build, about nothing in particular."]), encoding="utf-8")
            rows.append(("one file added", *update(folder, index)))
            added.unlink()
            added.parent.rmdir()
            rows.append(("one file removed", *update(folder, index)))
            rows.append(("nothing changed (fastest of 3)", *update(folder, index, runs=3)))
            repost = work / "repost.txt"
            repost.write_text(source_text(5, ["An unrelated repost that copies nothing."]), encoding="utf-8")
            scan = ("scan", str(repost), "--index", str(index), "--no-state", "--format", "json", "--output", str(work / "r.json"),
                    "--fail-on", "never", "-q", "--jobs", "2")
            scans = [("--index and --sources (sync first)", run_cli(*scan, "--sources", str(folder))), ("--index only", run_cli(*scan))]
        finally:  # a folder to reuse stays as written
            edited.write_text(text, encoding="utf-8")
            os.utime(edited, ns=(status.st_atime_ns, status.st_mtime_ns))

        print(f"\n{'update (compliance index update, 2 jobs)':46} {'in main':>8} {'wall':>6} {'cpu':>6} {'files read':>11}  counts")
        for name, inside, wall, cpu, read, counts in rows:
            print(f"{name:46} {inside:7.2f}s {wall:5.2f}s {cpu:5.2f}s {read:>11}  {counts}")
        print()
        for name, (inside, wall, cpu, _) in scans:
            print(f"scan of one repost, {name:35} {inside:5.2f}s in main ({wall:.2f}s wall, {cpu:.2f}s processor)")


if __name__ == "__main__":
    main()
