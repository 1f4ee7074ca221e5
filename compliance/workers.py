"""Worker processes for the stages that spread work over cores (a scan, an index build,
a large catalogue).

They are forked where the system can fork, so that they inherit what the parent loaded
before starting them (the band keys, the compiled kernels) instead of loading it again.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from compliance.errors import ComplianceError


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


# File descriptors a forked worker must not keep: the state's lock. A flock belongs to the open
# file, which a fork shares, so a worker holding a copy kept the lock after its scan was killed.
_parent_only_fds: set[int] = set()


def parent_only(fd: int) -> None:
    _parent_only_fds.add(fd)


def not_parent_only(fd: int) -> None:
    _parent_only_fds.discard(fd)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this worker when its parent dies (Linux), so `kill -9` of a scan
    leaves no worker behind; a parent already gone by now ends the worker at once."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError, TypeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _start_worker(parent: int, initializer: Callable[[], object] | None) -> None:
    _die_with_parent(parent)
    for fd in list(_parent_only_fds):
        with contextlib.suppress(OSError):
            os.close(fd)
    _parent_only_fds.clear()
    if initializer is not None:
        initializer()


@contextlib.contextmanager
def worker_pool(jobs: int, initializer: Callable[[], object] | None = None) -> Iterator[ProcessPoolExecutor]:
    """`jobs` worker processes. A worker that dies (the kernel's out-of-memory killer) stops
    the work with one line instead of a traceback; work not yet started is dropped when the
    caller stops early (an error, Ctrl-C), not done first."""
    context = mp.get_context("fork") if can_fork() else None
    start = functools.partial(_start_worker, os.getpid(), initializer)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=start)
    try:
        yield pool
    except BrokenProcessPool:
        raise ComplianceError(f"a worker process stopped without a result (out of memory?); "
                              f"try again with fewer --jobs than {jobs}") from None
    finally:
        pool.shutdown(cancel_futures=True)
