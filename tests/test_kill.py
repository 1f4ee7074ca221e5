"""A scan killed at any moment (kill -9, the OOM killer, a cron timeout) blocks no later scan:
its workers die with it and release the state's lock, and the next scan reports as usual."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import EXAMPLES, ROOT
from processes import alive_with



def test_killed_scans_leave_no_worker_and_no_lock_behind(tmp_path):
    reposts = tmp_path / "reposts-killed"
    for copy in range(300):  # 1,500 files: the workers run for a second or so
        shutil.copytree(EXAMPLES / "reposts", reposts / f"batch{copy:03d}")
    shutil.copytree(EXAMPLES / "sources", tmp_path / "sources")
    command = [sys.executable, "-m", "compliance", "scan", str(reposts), "--sources", str(tmp_path / "sources"),
               "--state", str(tmp_path / "state.db"), "--jobs", "2", "-q", "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    clean = subprocess.run([*command, "--output", str(tmp_path / "clean.json")], cwd=tmp_path, env=env, capture_output=True)
    assert clean.returncode == 1, clean.stderr
    took = time.monotonic() - started
    expected = {d["path"]: sorted(f["rule"] for f in d["findings"]) for d in json.loads((tmp_path / "clean.json").read_text())["documents"]}
    (tmp_path / "state.db").unlink()
    rng = random.Random(7)
    for attempt in range(4):
        victim = subprocess.Popen([*command, "--output", str(tmp_path / "killed.json")], cwd=tmp_path, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4, 0.95) * took)  # mostly while the workers check
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        deadline = time.monotonic() + 5
        while alive_with(str(reposts)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive_with(str(reposts)), f"attempt {attempt}: workers outlived their scan"
        after = subprocess.run([*command, "--output", str(tmp_path / "after.json"), "--lock-timeout", "5"],
                               cwd=tmp_path, env=env, capture_output=True, text=True)
        assert after.returncode == 1, f"attempt {attempt}: {after.stderr}"
        got = {d["path"]: sorted(f["rule"] for f in d["findings"]) for d in json.loads((tmp_path / "after.json").read_text())["documents"]}
        assert got == expected


def _killed_once_written(command: list[str], cwd: Path, env: dict, folder: Path, pattern: str, tries: int = 6) -> set[str]:
    """Start `command` and kill -9 it as soon as a name matching `pattern` appears in `folder`;
    the temporary names it left. Started again (up to `tries` times) if it ended first."""
    for _ in range(tries):
        victim = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while victim.poll() is None and not (folder.is_dir() and list(folder.glob(pattern))):
            time.sleep(0.002)
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            left = {path.name for path in folder.glob(pattern)}
            if left:
                return left
    raise AssertionError(f"never caught {command[3]} writing {pattern}")


def test_the_temporary_files_of_killed_builds_and_reports_go_with_the_next_run_but_a_live_ones(tmp_path, corpus):
    catalogue = tmp_path / "sources.jsonl"
    records = list(corpus.values())
    with catalogue.open("w", encoding="utf-8") as out:  # a build of a second or two
        for number in range(3000):
            record = records[number % len(records)]
            out.write(json.dumps({"id": f"s{number}", "publisher": record["publisher"], "text": f"Copy {number}.\n\n{record['text'][number % 500:]}"}) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    compliance = [sys.executable, "-m", "compliance"]
    index = tmp_path / "idx" / "index.db"
    build = [*compliance, "index", "build", "--sources", str(catalogue), "--index", str(index), "-q"]
    left = _killed_once_written(build, tmp_path, env, index.parent, ".index.db.*.tmp*")
    live = subprocess.Popen(["sleep", "60"])  # another run, still writing its temporary files
    try:
        planted = [index.parent / f".index.db.{live.pid}.tmp", tmp_path / "reports" / f".run-{live.pid}-abc_1234.tmp"]
        planted[0].write_text("a live run's")
        assert subprocess.run(build, env=env, capture_output=True).returncode == 0
        assert not {path.name for path in index.parent.iterdir()} & left
        assert planted[0].exists()

        reposts = tmp_path / "reposts"
        for copy in range(60):
            shutil.copytree(EXAMPLES / "reposts", reposts / f"batch{copy:02d}")
        scan = [*compliance, "scan", str(reposts), "--index", str(index), "--no-state", "--format", "html", "--format", "json",
                "--report-dir", str(tmp_path / "reports"), "--fail-on", "never", "-q"]
        assert _killed_once_written(scan, tmp_path, env, tmp_path / "reports", ".run-*.tmp")
        planted[1].mkdir()
        done = subprocess.run(scan, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert {path.name for path in (tmp_path / "reports").glob(".*")} == {planted[1].name}
        assert (tmp_path / "reports" / "latest" / "index.html").is_file()
    finally:
        live.kill()
        live.wait()
    # the live run ended without cleaning up: the next update removes its file
    assert subprocess.run([*compliance, "index", "update", "--sources", str(catalogue), "--index", str(index), "-q"],
                          env=env, capture_output=True).returncode == 0
    assert not planted[0].exists()
