#!/usr/bin/env python3
"""A sharded catalogue on a local Ray cluster against the single-machine scan: the overhead of
scatter-gather, the memory of each shard, and a sizing worked out from the measured rates.

Generates bench_scan's seeded catalogue and reposts, then:
- single machine: `compliance index build` and `compliance scan --index` as fresh processes
  (times inside the command, best of `--passes`);
- for each shard count: `compliance index build --shards N`, a Ray cluster started in this
  process (`--cpus` CPUs), `compliance cluster serve` (its checkers: `--checkers`), one first
  scan, then `scan --cluster` timed (best of `--passes`, inside the command, as above), its
  JSON report compared byte for byte with the single machine's; each shard and checker
  actor's proportional set size (PSS); and one
  shard's lookup service time: a chunk's band keys (32 reposts) sent to it and answered;
- with `--dev DIR`: `compliance scan --cluster` of an evaluation set as whole commands, each a
  fresh process, against the single machine's;
- a worked sizing for `--target-sources` and `--target-reposts` a day from those rates.

    python benchmarks/bench_cluster.py                         # 20,000 sources, 2,000 reposts
    python benchmarks/bench_cluster.py --sources 50000 --reposts 5000
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import bench_scan  # noqa: E402
from bench_scan import _family, _pss_kb, run_cli  # noqa: E402


def scan_in_process(main, *argv: str) -> float:
    started = time.perf_counter()
    code = main(["scan", *argv, "--no-state", "-q"])
    if code not in (0, 1):
        raise SystemExit(f"compliance scan {' '.join(argv)} exited {code}")
    return time.perf_counter() - started


def chunk_keys(reposts: Path, count: int) -> list[np.ndarray]:
    """The band keys of `count` reposts, as a scan's tasks send them (`query_keys`)."""
    from compliance.checks import load_pack
    from compliance.ingest import load_document
    from compliance.similarity.fingerprint import shingle_hashes
    from compliance.similarity.index import IndexParameters, query_keys
    from compliance.similarity.matcher import BodyText

    settings = load_pack().matching
    parameters = IndexParameters.of(settings)
    keys = []
    for path in sorted(reposts.iterdir())[:count]:
        tokens = BodyText.of(load_document(path, path.name)).tokens()
        keys.append(query_keys(shingle_hashes(tokens.hashes, settings.shingle_words), parameters, settings.query_stride))
    return keys


def lookup_ms_per_repost(ray, keys: list[np.ndarray], chunk: int = 32) -> float:
    """One shard's answer to a chunk's keys, round trip included: milliseconds per repost."""
    actor = ray.get_actor("shard-0", namespace="compliance")
    batches = [np.concatenate(keys[start:start + chunk]) for start in range(0, len(keys), chunk)]
    ray.get(actor.key_matches.remote(batches[0]))
    started = time.perf_counter()
    for batch in batches:
        ray.get(actor.key_matches.remote(batch))
    return (time.perf_counter() - started) * 1000 / len(keys)


def time_commands(compliance, ray, dev: Path, work: Path, count: int) -> None:
    """`compliance scan` of a small set as whole commands: the single machine's against the
    cluster's, whose every command joins the cluster and has its reposts checked there."""
    folder = work / "dev-shards"
    run_cli("index", "build", "--sources", str(dev / "sources"), "--shards", "2", "--index", str(folder))
    assert compliance(["cluster", "serve", "--index", str(folder)]) == 0
    address = ray.get_runtime_context().gcs_address
    reposts = sum(1 for path in (dev / "reposts").rglob("*") if path.is_file())
    single, cluster = [], []
    for _ in range(count):
        single.append(run_cli("scan", str(dev / "reposts"), "--sources", str(dev / "sources"), "--no-state", "--format", "json",
                              "--output", str(work / "dev-single.json"), "-q"))
        cluster.append(run_cli("scan", str(dev / "reposts"), "--cluster", address, "--no-state", "--format", "json",
                               "--output", str(work / "dev-cluster.json"), "-q"))
    identical = (work / "dev-single.json").read_bytes() == (work / "dev-cluster.json").read_bytes()
    assert compliance(["cluster", "stop"]) == 0

    def shown(runs: list[tuple[float, float, float]]) -> str:
        return ", ".join(f"{inside:.2f} s ({wall:.2f} s wall)" for inside, wall, _ in runs)
    print(f"{dev}: {reposts} reposts, one command at a time: single machine (`scan --sources`) {shown(single)}; "
          f"`scan --cluster` with 2 shards {shown(cluster)}; report identical: {identical}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=20000)
    parser.add_argument("--reposts", type=int, default=2000)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default: 2)")
    parser.add_argument("--checkers", type=int, help="checker actors `cluster serve` starts (default: its own)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of the single-machine scan (default: 2)")
    parser.add_argument("--passes", type=int, default=2, help="timed scans of each kind; the fastest counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-sources", type=float, default=100e6)
    parser.add_argument("--target-reposts", type=float, default=1e6, help="reposts a day")
    parser.add_argument("--node-memory-gb", type=float, default=64.0, help="memory of a shard node in the sizing")
    parser.add_argument("--node-cores", type=int, default=16, help="cores of a scan node in the sizing")
    parser.add_argument("--dev", type=Path, metavar="DIR",
                        help="also time `compliance scan DIR/reposts --cluster` commands, each a fresh process, against DIR/sources "
                             "in 2 shards and a single machine's `scan --sources` (the cost a cron job or hook pays per command)")
    parser.add_argument("--commands", type=int, default=3, help="timed commands of each kind with --dev (default: 3)")
    args = parser.parse_args()

    from compliance.cli.main import main as compliance
    from compliance.cluster.service import checkers_status  # before Ray: `compliance.cluster` sets Ray's auth mode

    import ray

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    started = time.perf_counter()
    sources, bodies, _ = bench_scan.build_bodies(args.sources, args.reposts, args.seed)
    catalogue, reposts = bench_scan.write_corpus(work, sources, bodies)
    del sources, bodies
    print(f"corpus: {args.sources:,} sources, {args.reposts:,} reposts in {work} ({time.perf_counter() - started:.0f} s)")

    index = work / "index.db"
    build_s, _, build_mb = run_cli("index", "build", "--sources", str(catalogue), "--index", str(index), "--jobs", str(args.jobs),
                                   memory=True)
    single_json = work / "single.json"
    single_s = min(run_cli("scan", str(reposts), "--index", str(index), "--jobs", str(args.jobs), "--no-state", "--format", "json",
                           "--output", str(single_json), "-q")[0] for _ in range(args.passes))
    _, _, single_mb = run_cli("scan", str(reposts), "--index", str(index), "--jobs", str(args.jobs), "--no-state", "-q", memory=True)
    fixed_s = bench_scan.fixed_costs(work, reposts, index)
    print(f"single machine: index build {build_s:.1f} s (peak {build_mb:,.0f} MB); scan {single_s:.2f} s "
          f"({args.reposts / single_s:,.0f} reposts/s, peak {single_mb:,.0f} MB); fixed costs {fixed_s:.2f} s "
          f"(a {bench_scan.FEW}-repost scan), {args.reposts / max(single_s - fixed_s, 1e-9):,.0f} reposts/s after them")

    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, object_store_memory=300 * 2**20, namespace="compliance",
             logging_level="ERROR", log_to_driver=False)
    checker_option = ["--checkers", str(args.checkers)] if args.checkers else []
    rows = []
    keys = chunk_keys(reposts, min(args.reposts, 640))
    try:
        for count in args.shards:
            folder = work / f"shards-{count}"
            shard_build_s, _, _ = run_cli("index", "build", "--sources", str(catalogue), "--shards", str(count), "--index", str(folder),
                                          "--jobs", str(args.jobs))
            assert compliance(["cluster", "serve", "--index", str(folder), *checker_option]) == 0
            cluster_json = work / f"cluster-{count}.json"
            warm_s = scan_in_process(compliance, str(reposts), "--cluster", "auto")
            best = min(scan_in_process(compliance, str(reposts), "--cluster", "auto", "--format", "json", "--output", str(cluster_json))
                       for _ in range(args.passes))
            identical = cluster_json.read_bytes() == single_json.read_bytes()
            shards = ray.get([ray.get_actor(f"shard-{n}", namespace="compliance").describe.remote() for n in range(count)])
            pss = [_pss_kb(shard["pid"]) / 1024 for shard in shards]
            checker_pss = [_pss_kb(checker["pid"]) / 1024 for checker in checkers_status()]
            cluster_mb = sum(_pss_kb(pid) for pid in _family(os.getpid())) / 1024
            lookup_ms = lookup_ms_per_repost(ray, keys)
            rows.append((count, shard_build_s, warm_s, best, identical, pss, [s["sources"] for s in shards], cluster_mb, lookup_ms))
            print(f"{count} shard(s): build {shard_build_s:.1f} s; scan {best:.2f} s ({args.reposts / best:,.0f} reposts/s, "
                  f"{best / single_s:.2f}x the single machine's time, {best / (single_s - fixed_s):.2f}x after its fixed costs; "
                  f"first scan {warm_s:.2f} s); report identical: {identical}; "
                  f"shard PSS {', '.join(f'{mb:,.0f}' for mb in pss)} MB; {len(checker_pss)} checker(s), PSS "
                  f"{', '.join(f'{mb:,.0f}' for mb in checker_pss)} MB; this process and its Ray processes {cluster_mb:,.0f} MB; "
                  f"shard-0 lookup {lookup_ms:.3f} ms/repost")
            assert compliance(["cluster", "stop"]) == 0
        if args.dev:
            time_commands(compliance, ray, args.dev, work, args.commands)
    finally:
        ray.shutdown()

    # Sizing: a shard's memory as fixed + per source (a line through every shard measured), the
    # scan's core time per repost and one shard's lookup time from the largest shard count.
    held = [n for row in rows for n in row[6]]
    pss = [mb for row in rows for mb in row[5]]
    slope_mb, fixed_mb = np.polyfit(held, pss, 1) if len(set(held)) > 1 else (pss[0] / held[0], 0.0)
    count, _, _, best, _, _, _, _, lookup_ms = rows[-1]
    task_core_ms = best * args.cpus * 1000 / args.reposts  # every core of the cluster busy with tasks and shards
    per_source_kb = slope_mb * 1024
    print()
    print(f"measured: a shard actor takes {fixed_mb:,.0f} MB + {per_source_kb:.2f} KB per source (PSS); a scan with {count} shards "
          f"{task_core_ms:.2f} core-ms per repost end to end; one shard answers a repost's keys in {lookup_ms:.3f} ms (round trip included)")
    print("sizing (extrapolated from the measured figures):")
    usable_mb = args.node_memory_gb * 1024 * 0.75 - fixed_mb  # a quarter left to the OS, SQLite's page cache and Ray
    shard_nodes = math.ceil(args.target_sources * per_source_kb / 1024 / usable_mb)
    per_shard = args.target_sources / shard_nodes
    day_s = 86400
    scan_core_s = args.target_reposts * task_core_ms / 1000
    lookup_s = args.target_reposts * lookup_ms / 1000  # on each shard
    print(f"  {args.target_sources:,.0f} sources x {per_source_kb:.2f} KB = {args.target_sources * per_source_kb / 1024**2:,.0f} GiB of shard memory: "
          f"{shard_nodes} shard nodes of {args.node_memory_gb:.0f} GB, {per_shard / 1e6:.1f} M sources each "
          f"({fixed_mb / 1024 + per_shard * per_source_kb / 1024**2:.1f} GiB); shard files "
          f"{args.target_sources * 8.2e3 / 1e12:.2f} TB at 8.2 KB per source")
    print(f"  {args.target_reposts:,.0f} reposts a day ({args.target_reposts / day_s:.1f}/s on average): {scan_core_s / 3600:,.1f} core-hours "
          f"of scan tasks, {scan_core_s / day_s:.2f} cores busy on average; each shard busy {lookup_s / 3600:.2f} h a day answering lookups")
    print(f"  a day's reposts in one batch on {args.node_cores}-core scan nodes: {scan_core_s / args.node_cores / 60:,.1f} min on one, "
          f"{scan_core_s / args.node_cores / 60 / 4:,.1f} min on four")


if __name__ == "__main__":
    main()
