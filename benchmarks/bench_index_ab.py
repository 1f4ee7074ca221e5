#!/usr/bin/env python3
"""Scans against one catalogue's index as two versions of the code wrote it, alternating.

Given two checkouts (e.g. `git archive COMMIT | tar -x -C /tmp/before`) and the index each
built of the same catalogue, it runs, alternately with one and the other, the scan of all
reposts, of the first 17 (the fixed costs: a scan of more than 16 loads or maps all band
keys) and of one, each in a fresh process with `--no-state`, and prints seconds inside the
command, wall seconds and processor seconds (the process and its workers) of each run and
the fastest of each. Alternating lets both meet the machine in the same minutes: on a shared
machine its speed drifts by tens of percent.

    python benchmarks/bench_index_ab.py --reposts /tmp/corpus-1m/reposts \\
        --a /tmp/before /tmp/old1m/index.db --b . /tmp/new1m/index.db --rounds 3
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_RUN = """
import os, sys, time
from compliance.cli.main import main

started = time.perf_counter()
code = main(sys.argv[1:], exiting=True)
print(f"@@ {code} {time.perf_counter() - started}", file=sys.stderr, flush=True)
os._exit(code)
"""


def run(root: Path, *argv: str) -> tuple[float, float, float]:
    """`compliance ARGV` with the code at `root`: (seconds inside main, wall, processor seconds)."""
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)})
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    marker = [line for line in done.stderr.splitlines() if line.startswith("@@ ")]
    if not marker or marker[-1].split()[1] not in ("0", "1"):
        raise SystemExit(f"compliance {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return float(marker[-1].split()[2]), wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reposts", type=Path, required=True)
    parser.add_argument("--a", nargs=2, type=Path, metavar=("CODE", "INDEX"), required=True)
    parser.add_argument("--b", nargs=2, type=Path, metavar=("CODE", "INDEX"), required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    sides = {"a": (args.a[0].resolve(), args.a[1].resolve()), "b": (args.b[0].resolve(), args.b[1].resolve())}
    with tempfile.TemporaryDirectory(prefix="bench-index-ab-") as tmp:
        few, one = Path(tmp) / "few", Path(tmp) / "one"
        few.mkdir()
        one.mkdir()
        files = sorted(args.reposts.iterdir())
        for path in files[:17]:
            shutil.copy(path, few / path.name)
        shutil.copy(files[0], one / files[0].name)
        kinds = {"all reposts": (args.reposts.resolve(), args.jobs), "17 reposts": (few, 1), "one repost": (one, 1)}
        times: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for number in range(args.rounds):
            for side in ("a", "b") if number % 2 == 0 else ("b", "a"):
                code, index = sides[side]
                for kind, (reposts, jobs) in kinds.items():
                    seconds = run(code, "scan", str(reposts), "--index", str(index), "--no-state", "--format", "json",
                                  "--output", str(Path(tmp) / "report.json"), "--fail-on", "never", "-q", "--jobs", str(jobs))
                    times.setdefault((side, kind), []).append(seconds)
                    print(f"round {number + 1} {side} {kind:12s} {seconds[0]:6.2f}s in main, {seconds[1]:6.2f}s wall, "
                          f"{seconds[2]:6.2f} processor s; load {os.getloadavg()[0]:.1f}", flush=True)
    print()
    count = sum(1 for _ in args.reposts.iterdir())
    for kind in kinds:
        for side in ("a", "b"):
            inside, wall, cpu = min(times[side, kind])
            rate = f", {count / inside:,.0f} reposts/s" if kind == "all reposts" else ""
            print(f"{side} ({sides[side][0]}) {kind:12s} fastest {inside:6.2f}s in main ({wall:.2f}s wall, {cpu:.2f} processor s){rate}")


if __name__ == "__main__":
    main()
