"""Hostile inputs (issue: never stuck, never a traceback, never out of bounds): each case a
real input a scan met, kept as a regression."""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from compliance.cli.main import main


def scan_json(*args: str) -> tuple[int, dict]:
    output = Path("report.json").resolve()
    code = main(["scan", *args, "--format", "json", "--output", str(output), "-q", "--fail-on", "never"])
    return code, json.loads(output.read_text(encoding="utf-8"))


def _rules(report: dict) -> dict[str, list[str]]:
    return {d["path"]: [f["rule"] for f in d["findings"]] for d in report["documents"]}


@pytest.mark.parametrize("state", [True, False])
def test_devices_and_fifos_named_like_reposts_are_refused_not_read(desk, state):
    """`ln -s /dev/zero r/z.txt` reached 3.4 GB in 3 s with the state's hashing; a FIFO hung it."""
    os.symlink("/dev/zero", desk / "reposts" / "zero.txt")
    os.mkfifo(desk / "reposts" / "pipe.md")
    done: list[tuple[int, dict]] = []
    worker = threading.Thread(target=lambda: done.append(scan_json("reposts", "--sources", "sources",
                                                                   *([] if state else ["--no-state"]))), daemon=True)
    worker.start()
    worker.join(60)
    assert done, "the scan hung on a FIFO or a device"
    code, report = done[0]
    rules = _rules(report)
    assert code == 0 and rules["reposts/pipe.md"] == ["input-unreadable"]
    assert rules["reposts/zero.txt"] in (["input-unreadable"], ["input-too-large"])
    assert len(rules) == 7


def test_suppression_comments_are_found_in_linear_time():
    """10,000 unclosed `<!-- compliance: ignore all x` lines took 76 s; 100,000 valid ones over 60 s."""
    from compliance.ingest.directives import find_directives

    started = time.perf_counter()
    assert find_directives("<!-- compliance: ignore all x\n" * 100_000, "md") == []
    found = find_directives("<!-- compliance: ignore all -- ok -->\n" * 100_000, "html")
    lines = find_directives("compliance: ignore caption-duplicated -- ok\n" * 100_000, "txt")
    assert time.perf_counter() - started < 10  # about 1.5 s here; quadratic would take hours
    assert len(found) == len(lines) == 100_000 and found[-1].line == lines[-1].line == 100_000


def test_a_comment_closes_at_its_first_end_marker():
    from compliance.ingest.directives import find_directives

    text = "<p>a</p>\n<!-- note <!-- compliance: ignore all -- x -->\n<!--\ncompliance: ignore excerpt-limit -- y\n-->\n"
    found = find_directives(text, "html")
    assert [(d.rules, d.reason, d.line, d.end_line) for d in found] == [(("excerpt-limit",), "y", 3, 5)]
