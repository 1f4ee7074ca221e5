#!/usr/bin/env python3
"""Speed, memory and accuracy of source matching, against the plain-datasketch approach.

Generates a seeded synthetic catalogue (sources of ~600 words drawn from a Zipf vocabulary,
so that common words recur as in news text) and reposts: edited copies (words inserted and
changed, a paragraph dropped, two swapped), excerpts, and unrelated articles, written to
disk as a JSONL catalogue and .txt reposts. Then, in one run, it times `compliance index
build` and `compliance scan --index` end to end (fresh processes, all cores), checks the
report against the truth, times a one-repost scan with the index and without it, measures
the scaling curve over growing catalogues, and runs the plain-datasketch approach
(per-shingle `MinHash.update`, `MinHashLSH(threshold=0.3)`, best candidate by estimated
Jaccard) in this process for comparison. Both sides' matching is timed `MATCH_PASSES` times,
alternating, and the fastest of each counts. It prints documents/s, the ratios, accuracy,
bytes per source and peak memory.

    python benchmarks/bench_scan.py                          # quick: 2,000 sources, 500 reposts
    python benchmarks/bench_scan.py --sources 100000 --reposts 10000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402

from compliance.model import Block, BlockKind, Document, Source  # noqa: E402
from compliance.similarity.tokens import normalize_text  # noqa: E402


def vocabulary(rng: random.Random, size: int = 30000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(size)]


def articles(seed: int, count: int, words: list[str], length: int = 600) -> list[list[str]]:
    """`count` articles of `length` Zipf-distributed words, as lists of paragraphs (numpy draws)."""
    generator = np.random.default_rng(seed)
    weights = 1 / np.arange(1, len(words) + 1)
    drawn = generator.choice(len(words), size=(count, length), p=weights / weights.sum())
    sizes = generator.integers(30, 81, size=(count, length // 30 + 1))
    vocab = np.array(words, dtype=object)
    result = []
    for row, cuts in zip(drawn, sizes):
        tokens = vocab[row].tolist()
        paragraphs, start = [], 0
        for size in cuts.tolist():
            if start >= length:
                break
            paragraphs.append(" ".join(tokens[start : start + size]) + ".")
            start += size
        result.append(paragraphs)
    return result


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


def build_bodies(n_sources: int, n_reposts: int, seed: int):
    """Sources, repost bodies (lists of paragraphs) and the source id each repost copies (or None)."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    fillers = ["reportedly", "indeed", "also", "still", "now"]
    sources = [Source(f"s{i}", f"Publisher {i % 500}", "\n\n".join(paragraphs))
               for i, paragraphs in enumerate(articles(seed, n_sources, words))]
    unrelated = iter(articles(seed + 1, n_reposts, words))
    bodies, truth = [], []
    for _ in range(n_reposts):
        kind = rng.random()
        original = next(unrelated)
        if kind < 0.7:  # edited copies
            target = rng.randrange(n_sources)
            body = edited_copy(rng, sources[target].text.split("\n\n"), fillers)
        elif kind < 0.85:  # excerpts: the first third
            target = rng.randrange(n_sources)
            paragraphs = sources[target].text.split("\n\n")
            body = paragraphs[: max(2, len(paragraphs) // 3)]
        else:  # unrelated original writing
            target, body = None, original
        bodies.append(body)
        truth.append(None if target is None else f"s{target}")
    return sources, bodies, truth


def build_corpus(n_sources: int, n_reposts: int, seed: int):
    """Sources, reposts as parsed `Document`s, and the source id each repost copies (or None)."""
    sources, bodies, truth = build_bodies(n_sources, n_reposts, seed)
    return sources, [document(f"r{i}", body) for i, body in enumerate(bodies)], truth


def accuracy(found: list[str | None], truth: list[str | None]) -> tuple[float, int]:
    copies = [(f, t) for f, t in zip(found, truth) if t is not None]
    right = sum(1 for f, t in copies if f == t) / max(len(copies), 1)
    false_matches = sum(1 for f, t in zip(found, truth) if t is None and f is not None)
    return right, false_matches


# Scans are timed this many times, for both compliance and plain datasketch, and the fastest
# counts: this machine's speed drifts by tens of percent between minutes, and a single slow
# minute on one side once doubled the ratio.
MATCH_PASSES = 2


class PlainDatasketch:
    """The plain-datasketch approach, in this process: per-shingle `MinHash.update` (word
    5-grams), `MinHashLSH(threshold=0.3)`, the best candidate by estimated Jaccard."""

    def __init__(self, sources: list[Source], shingle_words: int = 5, num_perm: int = 128):
        self.shingle_words, self.num_perm = shingle_words, num_perm
        started = time.perf_counter()
        self.lsh = MinHashLSH(threshold=0.3, num_perm=num_perm)
        self.sketches = {}
        for source in sources:
            self.sketches[source.id] = self.sketch(source.text)
            self.lsh.insert(source.id, self.sketches[source.id])
        self.build_seconds = time.perf_counter() - started

    def sketch(self, text: str) -> MinHash:
        tokens = normalize_text(text).split()
        size = self.shingle_words
        sketch = MinHash(num_perm=self.num_perm)
        for shingle in {" ".join(tokens[i : i + size]).encode() for i in range(max(len(tokens) - size + 1, 1))}:
            sketch.update(shingle)
        return sketch

    def match(self, reposts: list[Document]) -> tuple[list[str | None], float]:
        """The source found for each repost, and the seconds it took."""
        started = time.perf_counter()
        found = []
        for repost in reposts:
            query = self.sketch("\n\n".join(b.text for b in repost.blocks))
            candidates = self.lsh.query(query)
            found.append(max(candidates, key=lambda key: (query.jaccard(self.sketches[key]), key)) if candidates else None)
        return found, time.perf_counter() - started


def desk_disclaimer() -> str:
    """The disclaimer of the default rule pack, which real reposts carry."""
    from compliance.checks import load_pack
    from compliance.checks.engine import required_texts

    return required_texts(load_pack())[0]


def write_corpus(folder: Path, sources: list[Source], bodies: list[list[str]]) -> tuple[Path, Path]:
    """The catalogue as JSONL and the reposts as .txt files, as a desk would have them."""
    catalogue = folder / "sources.jsonl"
    with catalogue.open("w") as out:
        for source in sources:
            out.write(json.dumps({"id": source.id, "publisher": source.publisher, "text": source.text}) + "\n")
    reposts = folder / "reposts"
    reposts.mkdir()
    disclaimer = desk_disclaimer()
    for number, body in enumerate(bodies):
        text = f"Repost {number}\n\n" + "\n\n".join(body) + f"\n\n{disclaimer}\n"
        (reposts / f"r{number:06d}.txt").write_text(text)
    return catalogue, reposts


_RUN = """
import os, sys, time
from compliance.cli.main import main

started = time.perf_counter()
code = main(sys.argv[1:], exiting=True)
print(f"@@ {code} {time.perf_counter() - started}", file=sys.stderr, flush=True)
os._exit(code)  # main and the exit as the compliance command has them (cli.main.run), so that times are the command's
"""


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return sum(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
    except OSError:
        return 0


def _family(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:
            pass
    return pids


def run_cli(*argv: str, memory: bool = False) -> tuple[float, float, float]:
    """Run `compliance ARGV` in a fresh process: (seconds inside main, wall seconds, and with
    `memory` the peak memory in MB, as the sum of the proportional set sizes of the process and its
    workers, so that pages they share count once).

    Memory is sampled every 0.2 s from this process, in runs that are not the timed ones: the
    kernel walks a process's page tables to answer, 16 ms of CPU for a scan's process and each
    of its workers, a quarter of a core taken from the two the scan uses (timed scans took 2 to
    41 % longer while sampled)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen([sys.executable, "-c", _RUN, *argv], stdout=subprocess.DEVNULL, stderr=errors, text=True)
        peak_kb = 0
        while memory and process.poll() is None:
            peak_kb = max(peak_kb, sum(_pss_kb(pid) for pid in _family(process.pid)))
            time.sleep(0.2)
        process.wait()
        wall = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read()
    marker = [line for line in stderr.splitlines() if line.startswith("@@ ")]
    if not marker or marker[-1].split()[1] not in ("0", "1"):
        raise SystemExit(f"compliance {' '.join(argv)} failed:\n{stderr[-2000:]}")
    _, _, seconds = marker[-1].split()
    return float(seconds), wall, peak_kb / 1024


def report_accuracy(report: Path, truth: list[str | None]) -> tuple[float, int]:
    documents = json.loads(report.read_text())["documents"]
    found = {Path(d["path"]).name: (d["source"] or {}).get("id") for d in documents}  # by name: the report may give absolute paths
    return accuracy([found.get(f"r{i:06d}.txt") for i in range(len(truth))], truth)


MIN_TIME_BEYOND_FIXED_S = 0.25  # below it, a rate after the fixed costs is mostly the runs' noise
FEW = 17  # reposts: one more than a scan of a schema-4 index looked band keys up in place for


def fixed_costs(folder: Path, reposts: Path, index: Path) -> float:
    """Seconds inside main of a scan of a few reposts: what a large scan pays whatever its size
    (loading the compiled kernels and all band keys, writing the report), give or take a few ms."""
    few = folder / "few"
    few.mkdir(exist_ok=True)
    for path in sorted(reposts.iterdir())[:FEW]:
        (few / path.name).write_bytes(path.read_bytes())
    seconds, _, _ = run_cli("scan", str(few), "--index", str(index), "--no-state", "--format", "json", "--output",
                            str(folder / "few.json"), "--fail-on", "never", "-q", "--jobs", "1")
    shutil.rmtree(few)
    return seconds


def seconds_per_repost_after_fixed(reposts: int, scan_s: float, fixed_s: float) -> float | None:
    """What each repost beyond the few of `fixed_costs` took; None when the time beyond the
    fixed costs is too short to tell from a run's noise (some hundredths of a second), as at
    the quick sizes, where the few-repost scan can take as long as the whole one."""
    if reposts <= FEW or scan_s - fixed_s < MIN_TIME_BEYOND_FIXED_S:
        return None
    return (scan_s - fixed_s) / (reposts - FEW)


def scaling_curve(folder: Path, sources: list[Source], sample: Path, jobs: int) -> list[tuple[int, float, float, float, float | None]]:
    """(catalogue size, index sources/s, scan ms per repost, the scan's fixed seconds (a one-repost
    scan: loading the index grows with the catalogue), ms per repost after them) for growing
    prefixes of the catalogue."""
    sizes = [size for size in (10_000, 25_000, 50_000, 100_000, 200_000) if size < len(sources)] + [len(sources)]
    rows = []
    reposts = len(list(sample.iterdir()))
    for size in sizes:
        catalogue = folder / f"sources-{size}.jsonl"
        with catalogue.open("w") as out:
            for source in sources[:size]:
                out.write(json.dumps({"id": source.id, "publisher": source.publisher, "text": source.text}) + "\n")
        index = folder / f"index-{size}.db"
        os.sync()
        build_s, _, _ = run_cli("index", "build", "--sources", str(catalogue), "--index", str(index), "-q", "--jobs", str(jobs))
        os.sync()
        scan_s, _, _ = run_cli("scan", str(sample), "--index", str(index), "--no-state", "--format", "json", "--output",
                               str(folder / "curve.json"), "--fail-on", "never", "-q", "--jobs", str(jobs))
        fixed_s = fixed_costs(folder, sample, index)
        after = seconds_per_repost_after_fixed(reposts, scan_s, fixed_s)
        rows.append((size, size / build_s, 1000 * scan_s / reposts, fixed_s, None if after is None else 1000 * after))
        catalogue.unlink()
        index.unlink()
    return rows


def plain_datasketch_share(sources, bodies, truth, max_sources: int):
    """The first `max_sources` sources, their reposts and as large a share of the unrelated ones:
    the corpus's mix (unrelated reposts are full articles, excerpts are short: the mix sets the
    speed). Returns (sources, reposts, truth, unrelated count)."""
    count = min(len(sources), max_sources)
    kept = {f"s{i}" for i in range(count)}
    unrelated = [i for i, t in enumerate(truth) if t is None]
    kept_unrelated = set(unrelated[: round(len(unrelated) * count / len(sources))])
    pairs = [(document(f"r{i}", body), t) for i, (body, t) in enumerate(zip(bodies, truth))
             if (t is None and i in kept_unrelated) or t in kept]
    return sources[:count], [d for d, _ in pairs], [t for _, t in pairs], len(kept_unrelated)


def new_sources_file(path: Path, count: int, seed: int, first: int) -> Path:
    """`count` articles of a seed of their own, as a JSONL catalogue file, ids from `first` on."""
    words = vocabulary(random.Random(seed))
    with path.open("w") as out:
        for number, paragraphs in enumerate(articles(seed, count, words), start=first):
            out.write(json.dumps({"id": f"new{number}", "publisher": "Wire", "text": "\n\n".join(paragraphs)}) + "\n")
    return path


def _processor_seconds(run) -> tuple[float, float, float]:
    """`run()`'s (seconds, wall, MB) and the processor seconds of its process and workers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, wall, mb = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def index_updates(folder: Path, catalogue: Path, index: Path, args) -> dict[str, tuple[float, float, float, float]]:
    """`compliance index update` of the built index: finding nothing new (fastest of 3), and
    finding `--updates` new sources (a file of them beside the catalogue; memory in another
    such update, of other new sources). (seconds, wall, processor seconds, MB) of each."""
    def update(*extra: Path, memory: bool = False):
        argv = ["index", "update", "--sources", str(catalogue), *[a for path in extra for a in ("--sources", str(path))],
                "--index", str(index), "-q", "--jobs", str(args.jobs)]
        return run_cli(*argv, memory=memory)

    nothing = min(_processor_seconds(update) for _ in range(3))
    _, _, nothing_mb = update(memory=True)
    first = new_sources_file(folder / "new-a.jsonl", args.updates, args.seed + 7, 0)
    found = _processor_seconds(lambda: update(first))
    second = new_sources_file(folder / "new-b.jsonl", args.updates, args.seed + 8, args.updates)
    _, _, found_mb = update(first, second, memory=True)
    return {"nothing new": (*nothing, nothing_mb), f"{args.updates:,} new sources": (*found, found_mb)}


def _corpus_marker(args) -> str:
    return f"{args.sources} {args.reposts} {args.seed}\n"


def stored_corpus(folder: Path, args):
    """(sources, bodies, truth) of a corpus written to `folder` with these arguments, or None.
    Only their counts are read: sources as None, bodies as their number of placeholders."""
    marker = folder / ".written"
    if not marker.exists() or marker.read_text() != _corpus_marker(args):
        return None
    truth = json.loads((folder / "truth.json").read_text())
    return [None] * args.sources, [None] * len(truth), truth


def store_corpus(folder: Path, args, sources, bodies, truth) -> None:
    """`write_corpus` into `folder`, with the truth, and a marker written last (a folder whose
    writing was interrupted is written again)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_corpus(folder, sources, bodies)
    (folder / "truth.json").write_text(json.dumps(truth))
    (folder / ".written").write_text(_corpus_marker(args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--reposts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="worker processes for compliance")
    parser.add_argument("--baseline-sources", type=int, default=10_000,
                        help="plain datasketch indexes at most this many sources (it runs at ~100 sources/s)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run plain datasketch")
    parser.add_argument("--skip-curve", action="store_true", help="do not measure the scaling curve")
    parser.add_argument("--folder", type=Path, help="write the corpus here, or reuse the one written here before with the "
                        "same --sources, --reposts and --seed (a million sources take minutes to generate; the "
                        "baseline and the curve need the corpus generated: use them with --skip-*)")
    parser.add_argument("--write-only", action="store_true", help="write the corpus to --folder and stop")
    parser.add_argument("--updates", type=int, default=0, metavar="N",
                        help="also time `index update` finding nothing, and finding N new sources, then the scans again")
    args = parser.parse_args()

    t0 = time.perf_counter()
    reused = args.folder is not None and stored_corpus(args.folder, args) is not None
    if reused:
        sources, bodies, truth = stored_corpus(args.folder, args)
        print(f"corpus: reused from {args.folder}: {args.sources:,} sources, {len(bodies):,} reposts, seed {args.seed}; {args.jobs} jobs")
    else:
        sources, bodies, truth = build_bodies(args.sources, args.reposts, args.seed)
        print(f"corpus: {len(sources):,} sources of ~600 words, {len(bodies):,} reposts (70% edited copies, 15% excerpts, "
              f"15% unrelated), seed {args.seed}, generated in {time.perf_counter() - t0:.1f}s; {args.jobs} jobs")
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        folder = Path(tmp)
        if args.folder is None:
            catalogue, reposts = write_corpus(folder, sources, bodies)
        else:
            catalogue, reposts = args.folder / "sources.jsonl", args.folder / "reposts"
            if not reused:
                store_corpus(args.folder, args, sources, bodies, truth)
            if args.write_only:
                return
            if reused and not (args.skip_baseline and args.skip_curve):
                raise SystemExit("a reused corpus is not held in memory: give --skip-baseline --skip-curve")
        index, report = folder / "index.db", folder / "report.json"

        os.sync()  # written files are flushed first: writing them back would slow whatever runs next
        build = ("index", "build", "--sources", str(catalogue), "-q", "--jobs", str(args.jobs))
        build_s, build_wall, _ = run_cli(*build, "--index", str(index))
        os.sync()
        scan = ("scan", str(reposts), "--index", str(index), "--format", "json", "--output", str(report), "--no-state",
                "--fail-on", "never", "-q", "--jobs", str(args.jobs))
        if not args.skip_baseline:
            plain_sources, plain_reposts, plain_truth, plain_unrelated = plain_datasketch_share(
                sources, bodies, truth, args.baseline_sources)
            plain = PlainDatasketch(plain_sources)
        # The two sides' matching alternates, so that both meet the machine in the same minutes
        # (its speed drifts by tens of percent); the fastest of each counts.
        scans, plain_passes = [], []
        for _ in range(MATCH_PASSES):
            scans.append(run_cli(*scan))
            if not args.skip_baseline:
                plain_passes.append(plain.match(plain_reposts))
        scan_s, scan_wall, _ = min(scans)
        _, _, scan_mb = run_cli(*scan, memory=True)  # memory in runs of their own (see run_cli)
        _, _, build_mb = run_cli(*build, "--index", str(folder / "index-for-memory.db"), memory=True)
        (folder / "index-for-memory.db").unlink()
        os.sync()
        right, false_matches = report_accuracy(report, truth)
        keys = json.loads(subprocess.run([sys.executable, "-m", "compliance", "index", "info", "--index", str(index),
                                          "--format", "json"], capture_output=True, text=True).stdout or "{}")
        fixed_s = fixed_costs(folder, reposts, index)
        one = reposts / "r000000.txt"
        _, one_index_wall, _ = run_cli("scan", str(one), "--index", str(index), "--no-state", "--format", "json", "--fail-on", "never", "-q", "--jobs", "1")
        _, one_sources_wall, _ = run_cli("scan", str(one), "--sources", str(catalogue), "--no-state", "--format", "json", "--fail-on", "never", "-q",
                                         "--jobs", str(args.jobs)) if args.folder is None else (0.0, float("nan"), 0.0)
        updates = index_updates(folder, catalogue, index, args) if args.updates else None
        if updates is not None:  # the scans again, against the index the updates left (its main keys and a delta)
            after_update = min(run_cli(*scan) for _ in range(MATCH_PASSES))
            _, _, after_update_mb = run_cli(*scan, memory=True)
            _, one_after_update_wall, _ = run_cli("scan", str(one), "--index", str(index), "--no-state", "--format", "json", "--fail-on",
                                                  "never", "-q", "--jobs", "1")

        print()
        print("(seconds inside the command; wall adds starting Python and importing, about a second)")
        print(f"compliance index build: {build_s:.1f}s ({build_wall:.1f}s wall), {len(sources) / build_s:,.0f} sources/s, "
              f"peak {build_mb:,.0f} MB (memory measured in another run)")
        index_bytes = sum(path.stat().st_size for path in folder.glob("index.db*"))  # with its band keys files
        print(f"  index files {index_bytes / 1e6:,.0f} MB ({index_bytes / len(sources):,.0f} bytes/source on disk, "
              f"{12 * keys.get('band_keys', 0) / len(sources):,.0f} bytes/source of band keys in memory)")
        print(f"compliance scan (parse, match, verify, all default rules, JSON report): {scan_s:.1f}s ({scan_wall:.1f}s wall), "
              f"{len(bodies) / scan_s:,.0f} reposts/s ({len(bodies) / scan_wall:,.0f} wall), peak {scan_mb:,.0f} MB; "
              f"fastest of {MATCH_PASSES} runs ({', '.join(f'{s:.1f}s' for s, _, _ in scans)})")
        print(f"  copies matched to the right source: {right:.2%}; unrelated reposts matched: {false_matches}")
        after = seconds_per_repost_after_fixed(len(bodies), scan_s, fixed_s)
        marginal = None if after is None else 1 / after
        beyond = "too little time beyond them to tell" if marginal is None else f"then {marginal:,.0f} reposts/s"
        print(f"  of which fixed costs (loading the compiled kernels, mapping the band keys: a {FEW}-repost scan) {fixed_s:.1f}s; {beyond}")
        print(f"one repost: with the index {one_index_wall:.2f}s wall" + (
              "" if args.folder else f", re-indexing the catalogue {one_sources_wall:.2f}s wall ({one_sources_wall / one_index_wall:.0f}x)"))
        if updates is not None:
            for what, (seconds, wall, cpu, mb) in updates.items():
                print(f"compliance index update, {what}: {seconds:.2f}s ({wall:.2f}s wall, {cpu:.1f} processor s), peak {mb:,.0f} MB "
                      f"(memory measured in another run of the same kind)")
            print(f"after the updates: scan {after_update[0]:.1f}s, {len(bodies) / after_update[0]:,.0f} reposts/s, peak {after_update_mb:,.0f} MB; "
                  f"one repost {one_after_update_wall:.2f}s wall")

        if not args.skip_baseline:
            found, plain_match_s = min(plain_passes, key=lambda found_and_seconds: found_and_seconds[1])
            plain_right, plain_false = accuracy(found, plain_truth)
            plain_index, plain_match = len(plain_sources) / plain.build_seconds, len(plain_reposts) / plain_match_s
            print(f"\nplain datasketch ({len(plain_sources):,} sources; {len(plain_reposts):,} reposts: those of these sources and "
                  f"{plain_unrelated:,} unrelated, the corpus's mix; one process, matching only, fastest of {MATCH_PASSES} passes, "
                  f"each right after one of compliance's timed scans): index {plain_index:,.0f} sources/s, "
                  f"match {plain_match:,.0f} reposts/s, right {plain_right:.2%}, false matches {plain_false}")
            print(f"speed ratio, compliance / plain datasketch: index {len(sources) / build_s / plain_index:.1f}x, "
                  f"scan {len(bodies) / scan_s / plain_match:.1f}x end to end against matching only "
                  f"({'n/a' if marginal is None else f'{marginal / plain_match:.1f}x'} after the fixed costs)")

        if not args.skip_curve:
            sample = folder / "sample"
            sample.mkdir()
            for path in sorted(reposts.iterdir())[:2000]:
                (sample / path.name).write_bytes(path.read_bytes())
            print("\nscaling (a fixed sample of reposts against growing catalogues):")
            print(f"{'sources':>9} {'index src/s':>12} {'scan ms/repost':>15} {'fixed s':>8} {'ms/repost after':>16}")
            for size, rate, per_repost, fixed, marginal in scaling_curve(folder, sources, sample, args.jobs):
                print(f"{size:9,} {rate:12,.0f} {per_repost:15.3f} {fixed:8.2f} {'n/a' if marginal is None else f'{marginal:.3f}':>16}")

    print(f"peak resident memory of this benchmark process (corpus and plain datasketch): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
