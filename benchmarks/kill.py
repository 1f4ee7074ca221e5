#!/usr/bin/env python3
"""kill -9 at random moments of scans with a state, a persistent index and an HTML report
folder, each followed by a normal scan: does every next scan give a clean scan's findings?

The desk: the synthetic corpus of bench_scan.py (--sources JSONL sources, --reposts .txt
reposts) plus the examples' reposts and sources. Every scan is the one cron would run:

    python -m compliance scan reposts --sources sources --index index.db --state state.db \\
        --format html --format json --report-dir reports --jobs 2 -q

Before each kill the desk is put in one of several situations, so that the kills land in
every phase of a scan: nothing changed (a rescan from the state), reposts edited, a catalogue
file added or removed (an index update, every repost checked again), the index removed (a
build), the state removed (every repost checked). The scan is then started and killed with
SIGKILL after a random share of a full scan's time (tried again sooner when it had already
finished), or, in two more situations, a moment after its temporary index (a build) or its
temporary report folder appears: windows too short for random times to hit. What the scan
was doing is told from its temporary files. The next scan (--lock-timeout 10) is compared
with a clean scan of the same
desk (fresh state, index and report folder). It reports how many of the kills were followed
by a clean scan's findings, and whether any worker outlived its killed parent, any lock
blocked the next scan (exit 3), or any temporary file (`.index.db.PID.tmp`, `.run-*.tmp`,
`.latest.PID.tmp`, `.NAME.*.tmp`) was left behind after the next scan.

    nice python benchmarks/kill.py                   # 30 kills
    nice python benchmarks/kill.py --kills 10 --sources 500 --reposts 200
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from bench_rescan import write_desk  # noqa: E402
from processes import alive_with  # noqa: E402

SITUATIONS = ("rescan", "reposts edited", "catalogue changed", "index removed", "state removed",
              "while building the index", "while writing the report")
# The last two kill the scan once its temporary index or report folder appears (and a moment
# later): windows of a fraction of a second, which a kill at a random time seldom hits.
MARKERS = {"while building the index": ".index.db.", "while writing the report": "reports/.run-"}
EXTRA_CATALOGUE = "zz-extra.jsonl"


def command(desk: Path, state: str = "state.db", index: str = "index.db", reports: str = "reports") -> list[str]:
    return [sys.executable, "-m", "compliance", "scan", "reposts", "--sources", "sources", "--index", index, "--state", state,
            "--format", "html", "--format", "json", "--report-dir", reports, "--jobs", "2", "-q"]


def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("COMPLIANCE_TRACEBACK", None)
    return env


def findings(report_dir: Path) -> dict[str, list[str]] | None:
    """Each document's rules, from the JSON report of the run `latest` points at."""
    try:
        report = json.loads((report_dir / "latest" / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {d["path"]: sorted(f["rule"] for f in d["findings"]) for d in report["documents"]}



def temporaries(desk: Path, everywhere: bool = False) -> set[str]:
    """Files and folders a scan writes under a temporary name and renames when complete: in the
    desk and its report folder, where the index, the state and the reports are (`everywhere`:
    in every folder of the desk). Read while a scan renames them: a name gone is skipped."""
    found = set()
    folders = [os.path.join(top, name) for top, names, _ in os.walk(desk) for name in names] if everywhere else [desk / "reports"]
    for folder in [desk, *folders]:
        try:
            with os.scandir(folder) as entries:
                found.update(os.path.relpath(entry.path, desk) for entry in entries if ".tmp" in entry.name)
        except OSError:
            continue
    return found


def unnamed_bands(desk: Path) -> list[str]:
    """Band keys files beside the index that it does not name (a killed update's or build's,
    or replaced ones): whoever writes the index next removes them."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{desk / 'index.db'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE name = 'bands'").fetchone()
    except sqlite3.Error:
        return []
    named = {f"index.db.bands-{layer['token']}" for layer in json.loads(row[0]).values() if layer} if row else set()
    return sorted(path.name for path in desk.glob("index.db.bands-*") if path.name not in named)


class Desk:
    def __init__(self, root: Path, n_sources: int, n_reposts: int, seed: int):
        self.root = root
        self.desk = root / "desk"
        self.desk.mkdir()
        write_desk(self.desk, n_sources, n_reposts, seed)
        shutil.copytree(ROOT / "examples" / "reposts", self.desk / "reposts" / "examples")
        for source in (ROOT / "examples" / "sources").iterdir():
            shutil.copy(source, self.desk / "sources" / source.name)
        self.originals = {path: path.read_bytes() for path in sorted((self.desk / "reposts").rglob("*.txt"))[:20]}
        first = next((self.desk / "sources").glob("*.jsonl"))
        lines = first.read_bytes().splitlines(keepends=True)[:40]
        self.extra = b"".join(line.replace(b'"id": "', b'"id": "extra-') for line in lines)
        self.edited = False
        self.extra_catalogue = False
        self.references: dict[tuple[bool, bool], tuple[dict, float]] = {}

    def set(self, edited: bool, extra_catalogue: bool) -> None:
        if edited != self.edited:
            for path, content in self.originals.items():
                path.write_bytes(content + b"\nAn added paragraph, edited in after the first run, to change the file.\n" if edited else content)
            self.edited = edited
        extra = self.desk / "sources" / EXTRA_CATALOGUE
        if extra_catalogue and not extra.exists():
            extra.write_bytes(self.extra)
        elif not extra_catalogue and extra.exists():
            extra.unlink()
        self.extra_catalogue = extra_catalogue

    def reference(self) -> tuple[dict, float]:
        """The findings of a clean scan of the desk as it is now (fresh state, index and report
        folder, outside the desk), and how long it took."""
        key = (self.edited, self.extra_catalogue)
        if key not in self.references:
            clean = self.root / f"clean-{len(self.references)}"
            clean.mkdir()
            started = time.monotonic()
            done = subprocess.run(command(self.desk, str(clean / "state.db"), str(clean / "index.db"), str(clean / "reports")),
                                  cwd=self.desk, env=environment(), capture_output=True, text=True, timeout=900)
            took = time.monotonic() - started
            if done.returncode != 1:
                raise SystemExit(f"the clean scan exited {done.returncode}: {done.stderr.strip()}")
            expected = findings(clean / "reports")
            assert expected is not None, "the clean scan wrote no JSON report"
            self.references[key] = (expected, took)
            shutil.rmtree(clean)
        return self.references[key]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--sources", type=int, default=2000, help="synthetic sources (default: 2000)")
    parser.add_argument("--reposts", type=int, default=600, help="synthetic reposts (default: 600)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--situations", default=",".join(SITUATIONS), help="comma-separated, of: " + ", ".join(SITUATIONS))
    parser.add_argument("--keep", action="store_true", help="keep the desk (its path is printed)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    chosen = [name.strip() for name in args.situations.split(",") if name.strip()]
    unknown = set(chosen) - set(SITUATIONS)
    if unknown or not chosen:
        parser.error(f"unknown situation {sorted(unknown)[0] if unknown else ''!r} (known: {', '.join(SITUATIONS)})")
    root = Path(tempfile.mkdtemp(prefix="kill-"))
    desk = Desk(root, args.sources, args.reposts, args.seed)
    where = desk.desk
    env = environment()
    _, full = desk.reference()
    print(f"desk {where}: {sum(1 for _ in (where / 'reposts').rglob('*.*'))} reposts; a clean scan takes {full:.1f}s", file=sys.stderr)
    # The desk's own state, index and first report.
    subprocess.run(command(where), cwd=where, env=env, capture_output=True, timeout=900)

    outcomes = collections.Counter()
    situations = collections.Counter()
    phases = collections.Counter()
    survivors: list[tuple[int, list[int]]] = []
    left_behind: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    delays: list[float] = []
    kills = attempts = 0
    while kills < args.kills and attempts < args.kills * 4:
        attempts += 1
        situation = rng.choice(chosen)
        if situation == "reposts edited":
            desk.set(not desk.edited, desk.extra_catalogue)
        elif situation == "catalogue changed":
            desk.set(desk.edited, not desk.extra_catalogue)
        elif situation in ("index removed", "while building the index"):
            (where / "index.db").unlink(missing_ok=True)
        elif situation == "state removed":
            for name in ("state.db", "state.db-wal", "state.db-shm"):
                (where / name).unlink(missing_ok=True)
        expected, full = desk.reference()
        share = rng.uniform(0.02, 1.0)
        before = temporaries(where)
        killed = False
        for _ in range(4):  # a rescan may end before the moment drawn: draw again, sooner
            victim = subprocess.Popen(command(where), cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started = time.monotonic()
            if situation in MARKERS:
                while victim.poll() is None and not any(MARKERS[situation] in name for name in temporaries(where) - before):
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, 0.2))
            else:
                time.sleep(share * full)
            at = time.monotonic() - started
            phase = _phase(temporaries(where) - before)
            if victim.poll() is None:
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed = True
                break
            share /= 3
        if not killed:
            continue
        phases[phase] += 1
        share = at / full
        kills += 1
        situations[situation] += 1
        delays.append(share * full)
        deadline = time.monotonic() + 5
        while alive_with(str(where)) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = alive_with(str(where))
        if orphans:
            survivors.append((kills, orphans))
            for pid in orphans:  # ours: stop them, so that the next scans run as they would after a reboot
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        after_kill = temporaries(where)
        started = time.monotonic()
        after = subprocess.run([*command(where), "--lock-timeout", "10"], cwd=where, env=env, capture_output=True, text=True, timeout=900)
        took = time.monotonic() - started
        stale = (after_kill - before) & temporaries(where)  # written by the killed scan, still there after the next one
        for name in stale:
            left_behind[_pattern(name)] += 1
        if unnamed_bands(where):
            left_behind["index.db.bands-TOKEN not named by the index"] += 1
            stale = stale | set(unnamed_bands(where))
        got = findings(where / "reports")
        if after.returncode == 3:
            outcomes["lock blocked"] += 1
            failures.append(f"kill {kills} ({situation}, at {share * full:.2f}s): the next scan waited for the lock: {after.stderr.strip()}")
        elif after.returncode != 1:
            outcomes["next scan failed"] += 1
            failures.append(f"kill {kills} ({situation}, at {share * full:.2f}s): the next scan exited {after.returncode}: {after.stderr.strip()[:300]}")
        elif got != expected:
            outcomes["findings differ"] += 1
            differing = sorted(set(got or {}) ^ set(expected) | {p for p in expected if (got or {}).get(p) != expected[p]})
            failures.append(f"kill {kills} ({situation}, at {share * full:.2f}s): {len(differing)} documents differ, e.g. {differing[:3]}")
        else:
            outcomes["clean findings"] += 1
        print(f"kill {kills:2d}: {situation:24s} at {share * full:5.2f}s of {full:.1f}s ({phase}); next scan exit {after.returncode} in {took:.1f}s, "
              f"{'same findings' if got == expected else 'OTHER FINDINGS'}"
              f"{'; orphans ' + str(orphans) if orphans else ''}{'; left ' + ', '.join(sorted(stale)) if stale else ''}",
              file=sys.stderr, flush=True)

    print(f"\nkill: {kills} kill -9 in {attempts} attempts ({', '.join(f'{n} {s}' for s, n in situations.most_common())}), "
          f"at {min(delays, default=0):.2f}-{max(delays, default=0):.2f}s into a scan of {desk.reference()[1]:.1f}s")
    print("  killed: " + ", ".join(f"{n} {p}" for p, n in phases.most_common()))
    print(f"  next scan with a clean scan's findings: {outcomes['clean findings']} of {kills}")
    for name in ("findings differ", "next scan failed", "lock blocked"):
        print(f"  {name + ':':22s} {outcomes[name]}")
    print(f"  workers outliving their killed parent: {len(survivors)} kills" + (f" {survivors}" if survivors else ""))
    print("  temporary files left behind after the next scan: " +
          (", ".join(f"{pattern} after {count} kills" for pattern, count in left_behind.most_common()) if left_behind else "none"))
    remaining = temporaries(where, everywhere=True)
    print(f"  temporary files in the desk at the end: {len(remaining)}" + (f" ({', '.join(sorted(remaining)[:6])})" if remaining else ""))
    for failure in failures:
        print(f"  - {failure}")
    if args.keep:
        print(f"  desk kept: {where}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _phase(temporary: set[str]) -> str:
    """What the scan was doing, as far as its temporary files tell."""
    if any(".index.db." in name for name in temporary):
        return "building the index"
    if any(name.startswith("reports/.run-") for name in temporary):
        return "writing the HTML report"
    if any(name.startswith("reports/") for name in temporary):
        return "moving the report into place"
    return "no temporary file yet or any more"


def _pattern(name: str) -> str:
    """`reports/.run-k2j3_x.tmp` -> `reports/.run-*.tmp`; `.index.db.1234.tmp` -> `.index.db.PID.tmp`."""
    import re

    name = re.sub(r"\.run-[^/]*\.tmp", ".run-*.tmp", name)
    name = re.sub(r"\.(\d+)\.tmp", ".PID.tmp", name)
    return re.sub(r"\.tmp(/.*)$", ".tmp/...", name)


if __name__ == "__main__":
    sys.exit(main())
