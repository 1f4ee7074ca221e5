"""Which files changed against a git ref, for pull-request gates on large folders."""
from __future__ import annotations

import subprocess
from pathlib import Path

from compliance.errors import ComplianceError


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ComplianceError("--changed-since needs git, which is not installed") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise ComplianceError(f"git {' '.join(args[:2])}: {message}")
    return done.stdout


def changed_files(ref: str, cwd: Path) -> set[Path]:
    """Files added, modified or renamed since `ref` (committed, staged, in the work tree, or new)."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    names = _git(["diff", "--name-only", "-z", "--diff-filter=AMR", "-M", ref, "--"], cwd).split("\0")
    names += _git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0")
    return {(top / name).resolve() for name in names if name}
