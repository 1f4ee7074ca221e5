"""One way to replace a file whole (reports, fixed reposts, the review waivers file)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from compliance import atomic
from compliance.atomic import replace_atomically


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_failed_check_keeps_the_target_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "waivers.yaml"
    target.write_bytes(b"waivers: []\n")

    def refuse(temporary):
        assert temporary.read_bytes() == b"new"
        raise ValueError("not as written")

    with pytest.raises(ValueError):
        replace_atomically(target, b"new", check=refuse)
    assert target.read_bytes() == b"waivers: []\n" and sorted(p.name for p in tmp_path.iterdir()) == ["waivers.yaml"]


def test_a_killed_writer_s_temporary_file_goes_a_live_one_s_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_CLEANED", set())
    dead = tmp_path / f".story.txt.{dead_pid()}.abcd1234.tmp"
    live = tmp_path / f".story.txt.{os.getppid()}.efgh5678.tmp"
    mine = tmp_path / "notes.tmp"  # not a name it makes: the user's
    for path in (dead, live, mine):
        path.write_text("x", encoding="utf-8")
    replace_atomically(tmp_path / "other.txt", b"fixed\n", 0o640)
    assert not dead.exists() and live.exists() and mine.exists()
    assert (tmp_path / "other.txt").read_bytes() == b"fixed\n" and (tmp_path / "other.txt").stat().st_mode & 0o777 == 0o640
