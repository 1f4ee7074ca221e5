"""Generated hostile inputs (issue: never stuck, never a traceback, never out of bounds).

For each kind of file a user hands a scan (tests/fuzzing.py generates them), a scan in process
must end with 0, 1 or 2, never 4 nor an exception; an exit 2 says what is wrong in one line
naming the file; a JSON report, when written, holds to report.schema.json. Bounded for CI:
a few dozen examples a kind, the same ones every run (`derandomize`). For a long run, each
input in its own process with a timeout: benchmarks/fuzz.py. FUZZ_EXAMPLES=N runs N a kind.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import compliance.cli.main as cli
from fuzzing import DEEP_JSONL_LINES, EXAMPLES, KINDS, STRATEGIES, Case, problems

EXAMPLES_PER_KIND = int(os.environ.get("FUZZ_EXAMPLES", "60"))
REPEAT_MAX = 1000  # a fragment repeated at most this often: hostile shapes, small files

FUZZ = settings(
    max_examples=EXAMPLES_PER_KIND,
    deadline=timedelta(seconds=30),  # one scan takes 0.05-1 s: 30 s is a hang, not a slow machine
    derandomize=True,  # the same examples every run: CI is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    print_blob=True,
)


HANG_SECONDS = 60


def run_in_process(argv: list[str]) -> tuple[int, str]:
    """The command's exit code and stderr; on a thread, so that a scan stuck on an input fails
    the test after HANG_SECONDS instead of holding CI until its own limit."""
    out, err = io.StringIO(), io.StringIO()
    ended: list[int] = []
    failed: list[BaseException] = []

    def command() -> None:
        try:
            ended.append(cli.main(argv))
        except SystemExit as exit_:  # argparse
            ended.append(exit_.code if isinstance(exit_.code, int) else 2)
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            failed.append(exc)

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        worker = threading.Thread(target=command, daemon=True)
        worker.start()
        worker.join(HANG_SECONDS)
    if failed:
        raise failed[0]
    assert ended, f"the scan hung: {argv} still running after {HANG_SECONDS}s"
    return ended[0], err.getvalue()


def scan_case(case: Case) -> None:
    here = os.getcwd()
    state_file = cli.STATE_FILE
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        desk = Path(folder)
        os.chdir(desk)
        cli.STATE_FILE = Path(".compliance") / "state.db"  # this case's own default state, in its desk
        try:
            case.write(desk, run_in_process)
            started = time.perf_counter()
            code, stderr = run_in_process(case.argv())
            took = time.perf_counter() - started
            found = problems(case, desk, code, stderr)
        finally:
            os.chdir(here)
            cli.STATE_FILE = state_file
    assert not found, f"{case.kind} case ({took:.1f}s, exit {code}):\n" + "\n".join(found) + f"\nstderr: {stderr[:2000]}"


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_a_hostile_input_is_a_finding_or_one_line(kind, data):
    scan_case(data.draw(STRATEGIES[kind](REPEAT_MAX, True), label=kind))


# The inputs once kept out of the generated examples (fuzzing.KNOWN_ELSEWHERE), fixed since.

def test_a_jsonl_line_nested_too_deeply_is_an_error_on_its_line():
    scan_case(Case("jsonl", {"extra.jsonl": DEEP_JSONL_LINES[0] + b"\n"}, options=["--sources", "extra.jsonl"], names=("extra.jsonl",)))


@pytest.mark.parametrize("where", ["--state", "--index"])
def test_a_lone_surrogate_in_a_jsonl_source_is_written_as_u_fffd(where):
    line = b'{"id": "s1", "publisher": "P", "text": "Some text \\ud83d alone"}\n'
    scan_case(Case("jsonl", {"extra.jsonl": line}, options=["--sources", "extra.jsonl", where, "s.db" if where == "--state" else "index.db"],
                   names=("extra.jsonl",)))


@pytest.mark.parametrize("formats", [("json",), ("json", "sarif", "github", "text", "html")])
def test_a_lone_surrogate_in_a_copied_jsonl_source_s_publisher_is_written_in_every_format(formats):
    article = (EXAMPLES / "sources" / "aljazeera-nasa-moon-shot.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    line = json.dumps({"id": "nasa", "publisher": "Al Jazeera \ud83d", "text": article}).encode() + b"\n"
    unrelated = b"---\nid: unrelated\npublisher: X\n---\nNothing the reposts copy.\n"  # so that the repost copies the JSONL source
    scan_case(Case("jsonl", {"extra.jsonl": line, "sources/aljazeera-nasa-moon-shot.md": unrelated}, options=["--sources", "extra.jsonl"],
                   names=("extra.jsonl",), formats=formats))
