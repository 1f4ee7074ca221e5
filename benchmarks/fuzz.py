#!/usr/bin/env python3
"""A long fuzzing run: generated hostile inputs, each scanned by `python -m compliance scan`
in its own process with a timeout, as a user's shell or cron runs it.

The inputs are those of tests/test_fuzz.py (tests/fuzzing.py: reposts, catalogue files and
JSONL lines, rule packs, configuration files, baselines, damaged states), drawn by
Hypothesis, with larger repetitions than the unit test allows. It prints what it found:

    cases tried, by kind
    tracebacks     exit 4 (`compliance: internal error`) or Python traceback text
    hangs          still running at the timeout (then killed)
    contract       other breaches: several error lines, an error naming no file, a JSON
                   report off its schema, an `internal-error` finding, a broken SARIF/JUnit file
    peak memory    the largest resident size of any one scan (GNU time's %M, else wait4's)

Each failing case is saved under --failures (case.json, stderr, and the files it wrote) and
replays with `--replay FOLDER/case.json` (traceback shown). It is a measurement, not a test.

    nice python benchmarks/fuzz.py                    # 1,050 cases (150 a kind), 2 at a time
    nice python benchmarks/fuzz.py --cases 70 --kinds pack,config
    python benchmarks/fuzz.py --replay fuzz-failures/pack-00012/case.json
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings  # noqa: E402

from fuzzing import KINDS, STRATEGIES, TRACEBACK, Case, problems  # noqa: E402

INTERNAL = re.compile(r"compliance: internal error: (.*)")


@dataclass
class Outcome:
    case: Case
    number: int
    code: int | None  # None: killed at the timeout
    seconds: float
    max_rss_kb: int
    stderr: str
    problems: list[str] = field(default_factory=list)
    desk: Path | None = None

    @property
    def verdict(self) -> str:
        if self.code is None:
            return "hang"
        if self.code == 4 or TRACEBACK.search(self.stderr):
            return "traceback"
        return "contract" if self.problems else "ok"

    def signature(self) -> str:
        """What groups failures of one cause: the internal error's type and place, or the first problem."""
        if self.code is None:
            return f"hang ({self.case.kind})"
        found = INTERNAL.search(self.stderr)
        if found:
            return re.sub(r"\d+", "N", found.group(1))[:160]
        if not self.problems:
            return "ok"
        problem = self.problems[0]
        for name in self.case.names:
            problem = problem.replace(repr(self.case.names), "(the case's files)").replace(name, "FILE")
        return re.sub(r"\d+", "N", problem)[:160]


def generate(kinds: list[str], per_kind: int, repeat_max: int, seed: int | None) -> list[Case]:
    """`per_kind` cases of each kind, drawn by Hypothesis (the same ones for the same seed)."""
    drawn: list[Case] = []
    for kind in kinds:
        @settings(max_examples=per_kind, database=None, deadline=None, derandomize=seed is None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(STRATEGIES[kind](repeat_max, True))
        def draw(case):
            drawn.append(case)

        if seed is not None:
            draw = hypothesis_seed(seed + KINDS.index(kind))(draw)
        draw()
    return drawn


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time: the scan's own peak, see run_cli


def run_cli(argv: list[str], desk: Path, timeout: float, env: dict[str, str]) -> tuple[int | None, float, int, str]:
    """(exit code or None at the timeout, seconds, peak resident KB, stderr) of one command.

    The peak comes from GNU time when there is one: wait4's ru_maxrss of a child forked from
    this process counts this process's own size at the fork (Linux keeps the high-water mark
    across exec), a quarter of a gigabyte here, whatever the scan took."""
    started = time.monotonic()
    measured = desk / ".fuzz-rss"
    wrapper = [TIME, "-q", "-f", "%M", "-o", str(measured)] if TIME else []
    with open(desk / ".fuzz-stdout", "wb") as out, open(desk / ".fuzz-stderr", "wb") as err:
        process = subprocess.Popen([*wrapper, sys.executable, "-m", "compliance", *argv], cwd=desk, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, start_new_session=True)
        code, rss = None, 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                code, rss = os.waitstatus_to_exitcode(status), usage.ru_maxrss
                break
            if time.monotonic() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                rss = usage.ru_maxrss
                break
            time.sleep(0.02)
        process.returncode = -1  # reaped here: Popen must not wait for it again
        took = time.monotonic() - started
        survivors = False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 0)  # anyone left in the scan's process group?
            survivors = code is not None  # after a kill at the timeout, workers may take a moment to go
            os.killpg(process.pid, signal.SIGKILL)
    stderr = (desk / ".fuzz-stderr").read_bytes().decode("utf-8", "replace")
    if TIME:
        try:
            rss = int(measured.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            rss = 0  # killed at the timeout before time could write it
        measured.unlink(missing_ok=True)
    if survivors:
        stderr += "\nfuzz: a process of the scan outlived it\n"
    return code, took, rss, stderr


def run_case(case: Case, number: int, work: Path, timeout: float, env: dict[str, str], in_process: bool = False) -> Outcome:
    """The case's outcome; its desk (`Outcome.desk`) is left for the caller to save or remove."""
    desk = work / f"case-{number:05d}"
    desk.mkdir()
    try:
        if in_process:
            case.write(desk, lambda argv: run_in_process(argv, desk))
            code, seconds, rss, stderr = run_in_process(case.argv(), desk)
        else:
            case.write(desk, lambda argv: run_cli(argv, desk, timeout, env))
            code, seconds, rss, stderr = run_cli(case.argv(), desk, timeout, env)
        outcome = Outcome(case, number, code, seconds, rss, stderr, desk=desk)
        if code is not None:
            outcome.problems = problems(case, desk, code, stderr.replace("\nfuzz: a process of the scan outlived it\n", ""))
            if "fuzz: a process of the scan outlived it" in stderr:
                outcome.problems.append("a process of the scan outlived it")
        return outcome
    except BaseException:
        shutil.rmtree(desk, ignore_errors=True)
        raise


def run_in_process(argv: list[str], desk: Path) -> tuple[int | None, float, int, str]:
    """For triage (--in-process): thirty times faster, but a hang hangs the run and memory is not measured."""
    import io

    import compliance.cli.main as cli

    here, out, err = os.getcwd(), io.StringIO(), io.StringIO()
    started = time.monotonic()
    os.chdir(desk)
    cli.STATE_FILE = Path(".compliance") / "state.db"
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
            except Exception:
                import traceback

                err.write(traceback.format_exc())
                code = 4
    finally:
        os.chdir(here)
    return code, time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, err.getvalue()


def save(outcome: Outcome, failures: Path) -> Path:
    folder = failures / f"{outcome.case.kind}-{outcome.number:05d}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "case.json").write_text(outcome.case.as_json(), encoding="utf-8")
    (folder / "stderr.txt").write_text(outcome.stderr[-20_000:], encoding="utf-8")
    (folder / "verdict.txt").write_text(f"{outcome.verdict}: exit {outcome.code}, {outcome.seconds:.1f}s, {outcome.max_rss_kb} KB\n"
                                        + "\n".join(outcome.problems) + f"\nargv: {outcome.case.argv()}\n", encoding="utf-8")
    desk = outcome.desk
    if desk is not None:
        for name in outcome.case.files:
            if (desk / name).is_file():
                target = folder / "files" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(desk / name, target)
        if (desk / "s.db").is_file():
            shutil.copyfile(desk / "s.db", folder / "s.db")
        shutil.rmtree(desk, ignore_errors=True)
    return folder


def replay(path: Path) -> int:
    """Lay out a saved case in a temporary folder and run it with the traceback shown."""
    case = Case.from_json(path.read_text(encoding="utf-8"))
    desk = Path(tempfile.mkdtemp(prefix="fuzz-replay-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COMPLIANCE_TRACEBACK": "1"}
    case.write(desk, lambda argv: subprocess.run([sys.executable, "-m", "compliance", *argv], cwd=desk, env=env))
    print(f"in {desk}: python -m compliance {' '.join(case.argv())}", file=sys.stderr)
    return subprocess.run([sys.executable, "-m", "compliance", *case.argv()], cwd=desk, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=150, help="cases of each kind (default: 150)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds a scan may take before it counts as a hang")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("--repeat-max", type=int, default=10_000, help="how often a fragment may repeat in a generated file")
    parser.add_argument("--seed", type=int, help="draw other cases than the default run's")
    parser.add_argument("--memory-limit", type=float, default=4.0, metavar="GB",
                        help="address space a scan may take (RLIMIT_AS; beyond it, MemoryError: a traceback); 0: none")
    parser.add_argument("--failures", type=Path, default=Path("fuzz-failures"), help="where failing cases are saved")
    parser.add_argument("--in-process", action="store_true", help="triage: run the scans in this process (no timeout, no memory figures)")
    parser.add_argument("--replay", type=Path, metavar="CASE_JSON", help="run one saved case, traceback shown")
    args = parser.parse_args()
    if args.replay:
        return replay(args.replay)
    kinds = [k for k in args.kinds.split(",") if k]
    if args.memory_limit > 0 and not args.in_process:  # inherited by every scan started from here
        limit = int(args.memory_limit * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    started = time.monotonic()
    cases = generate(kinds, args.cases, args.repeat_max, args.seed)
    print(f"generated {len(cases)} cases in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("COMPLIANCE_TRACEBACK", None)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as work:
        def one(item: tuple[int, Case]) -> None:
            number, case = item
            try:
                outcome = run_case(case, number, Path(work), args.timeout, env, args.in_process)
            except Exception as exc:  # laying out the case failed: the harness's problem, shown as such
                outcome = Outcome(case, number, 99, 0.0, 0, f"harness: {type(exc).__name__}: {exc}", [f"harness: {exc}"])
            with lock:
                outcomes.append(outcome)
                if outcome.verdict != "ok":
                    where = save(outcome, args.failures)
                    print(f"[{len(outcomes)}/{len(cases)}] {outcome.verdict}: {outcome.signature()} -> {where}", file=sys.stderr, flush=True)
                else:
                    if outcome.desk is not None:
                        shutil.rmtree(outcome.desk, ignore_errors=True)
                    if len(outcomes) % 50 == 0:
                        print(f"[{len(outcomes)}/{len(cases)}] {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)

        with ThreadPoolExecutor(1 if args.in_process else args.jobs) as pool:
            list(pool.map(one, enumerate(cases)))
    report(outcomes, time.monotonic() - started, args)
    return 0


def report(outcomes: list[Outcome], took: float, args: argparse.Namespace) -> None:
    by_kind = collections.Counter(o.case.kind for o in outcomes)
    verdicts = collections.Counter(o.verdict for o in outcomes)
    biggest = max(outcomes, key=lambda o: o.max_rss_kb)
    slowest = max((o for o in outcomes if o.code is not None), key=lambda o: o.seconds, default=None)
    seconds = [o.seconds for o in outcomes if o.code is not None]
    print(f"\nfuzz: {len(outcomes)} cases in {took:.0f}s (timeout {args.timeout:g}s, --repeat-max {args.repeat_max}, "
          f"seed {args.seed if args.seed is not None else 'fixed'})")
    print("  by kind:    " + ", ".join(f"{kind} {count}" for kind, count in sorted(by_kind.items())))
    print(f"  tracebacks: {verdicts['traceback']}")
    print(f"  hangs:      {verdicts['hang']}")
    print(f"  contract:   {verdicts['contract']}")
    print(f"  ok:         {verdicts['ok']}")
    print(f"  peak memory of one scan: {biggest.max_rss_kb / 1024:.0f} MB ({biggest.case.kind} case {biggest.number}); "
          f"median {statistics.median(o.max_rss_kb for o in outcomes) / 1024:.0f} MB")
    if slowest:
        print(f"  time of one scan: median {statistics.median(seconds):.2f}s, slowest {slowest.seconds:.1f}s "
              f"({slowest.case.kind} case {slowest.number})")
    groups = collections.Counter((o.verdict, o.signature()) for o in outcomes if o.verdict != "ok")
    if groups:
        print("  failures by cause:")
        for (verdict, signature), count in groups.most_common():
            print(f"    {count:4d} {verdict}: {signature}")
        print(f"  saved under {args.failures}/ (replay: python benchmarks/fuzz.py --replay {args.failures}/KIND-N/case.json)")


if __name__ == "__main__":
    sys.exit(main())
