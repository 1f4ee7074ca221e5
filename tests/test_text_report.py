"""The text report as a terminal shows it: colour only on a terminal (NO_COLOR, FORCE_COLOR),
--show-source with carets under the offending lines, --statistics per rule; escaped always."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

from compliance.cli.main import main
from compliance.report.text import wants_color

REPOSTS, SOURCES = EXAMPLES / "reposts", EXAMPLES / "sources"
ESCAPE = "\x1b["


class _Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("environ, tty, expected", [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # present but empty: no-color.org says it does not count
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "0"}, False, True),  # any non-empty value (force-color.org)
    ({"FORCE_COLOR": ""}, False, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),  # as CPython's own colours decide
    ({"TERM": "dumb"}, True, False),
])
def test_colour_follows_the_terminal_and_the_environment(environ, tty, expected):
    assert wants_color(_Stream(tty), environ) is expected


def scan(*args: str, env: dict | None = None, tty: bool = False) -> str:
    """The command in a child process, its output to a pipe or to a real terminal (a pty)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | (env or {})
    command = [sys.executable, "-m", "compliance", "scan", "--no-state", str(REPOSTS), "--sources", str(SOURCES), *args]
    if not tty:
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environ).stdout
    leader, follower = pty.openpty()
    child = subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL, cwd=ROOT, env=environ)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    child.wait()
    os.close(leader)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_a_terminal_gets_colour_and_a_pipe_or_no_color_does_not():
    coloured = scan(tty=True)
    assert "\x1b[1;31merror\x1b[0m \x1b[1mattribution-missing\x1b[0m" in coloured
    plain = scan()
    assert ESCAPE not in plain and "niac-missiles-repost.txt:6:1: error attribution-missing" in plain
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    assert ESCAPE not in scan(tty=True, env={"NO_COLOR": "1"})
    assert ESCAPE in scan(env={"FORCE_COLOR": "1"})


def test_report_files_are_never_coloured(tmp_path):
    scan("--format", "text", "--output", str(tmp_path / "report.txt"), env={"FORCE_COLOR": "1"})
    assert ESCAPE not in (tmp_path / "report.txt").read_text(encoding="utf-8")


def test_show_source_underlines_the_offending_lines(capsys):
    main(["scan", "--no-state", str(REPOSTS), "--sources", str(SOURCES), "--show-source"])
    out = capsys.readouterr().out
    assert ("examples/reposts/nasa-moon-shot.html:8:1: error attribution-mismatch credits Reuters, but the text copies "
            "Al Jazeera (source aljazeera-nasa-moon-shot)\n"
            "  |\n"
            "8 | <p>Source: Reuters</p>\n"
            "  | ^^^^^^^^^^^^^^^^^^^^^^\n"
            "  |\n") in out
    # a .txt paragraph is one long line: shown cut, carets as long as what is shown
    start = out.index("niac-missiles-repost.txt:6:1")
    block = out[start:].splitlines()[1:5]
    assert block[1].startswith("6 | The deepening military ties between Iran and Russia") and block[1].endswith("…")
    assert block[2] == "  | " + "^" * 100 and block[3] == "  |"


def test_show_source_starts_carets_at_the_column_and_escapes_the_text(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "repost.txt").write_text(
        "A title\n\nSome words here. Media playback is unsupported on your device \x1b[2J\u202e. More.\n", encoding="utf-8")
    (tmp_path / "pack.yaml").write_text("extends: default\nrules:\n  - id: debris\n    type: forbidden-text\n"
                                        "    patterns: ['media playback is unsupported']\n", encoding="utf-8")
    main(["scan", "--no-state", "repost.txt", "--rules", "pack.yaml", "--select", "debris", "--show-source"])
    out = capsys.readouterr().out
    assert ("repost.txt:3:18: error debris forbidden text: \"Media playback is unsupported\"\n"
            "  |\n"
            "3 | Some words here. Media playback is unsupported on your device \\x1b[2J\\u202e. More.\n"
            "  |                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n") in out  # under the excerpt only
    assert "\x1b" not in out and "\u202e" not in out


def test_show_source_of_a_file_gone_since_shows_the_finding_alone(tmp_path, monkeypatch, capsys):
    from compliance.model import DocumentResult, Finding, Severity
    from compliance.report import ReportInput
    from compliance.report.text import TextOptions, to_text

    result = DocumentResult("gone.txt", "txt", "", None, [Finding("x", Severity.ERROR, "m", 3)])
    assert to_text(ReportInput([result]), TextOptions(show_source=True, root=tmp_path)).startswith("gone.txt:3:1: error x m\n1 document")


def test_statistics_counts_per_rule_instead_of_listing(capsys):
    assert main(["scan", "--no-state", str(REPOSTS), "--sources", str(SOURCES), "--statistics"]) == 1
    assert capsys.readouterr().out == (
        "2  caption-duplicated    warning  a caption or paragraph pasted twice, exactly or nearly (scraping debris)\n"
        "1  attribution-mismatch  error    a credit names a publisher that none of the sources the text copies has\n"
        "1  attribution-missing   error    the repost copies a source and nothing credits it\n"
        "1  excerpt-limit         error    the repost reuses more of a source than its licence allows\n"
        "5 documents scanned (4 matched a source): 3 error, 2 warning\n")


def test_statistics_leave_suppressed_findings_to_the_summary(tmp_path, capsys):
    config = tmp_path / "compliance.yaml"
    config.write_text("waivers:\n  - paths: ['**/niac-*']\n    rules: [caption-duplicated]\n    reason: on purpose\n", encoding="utf-8")
    main(["scan", "--no-state", str(REPOSTS), "--sources", str(SOURCES), "--statistics", "--config", str(config)])
    out = capsys.readouterr().out
    assert out.startswith("1  attribution-mismatch") and "1  caption-duplicated" in out
    assert out.endswith("3 error, 1 warning (1 suppressed)\n")
