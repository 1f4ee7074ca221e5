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
