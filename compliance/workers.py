"""Worker processes for the stages that spread work over cores (a scan, an index build,
a large catalogue).

They are forked where the system can fork, so that they inherit what the parent loaded
before starting them (the band keys, the compiled kernels) instead of loading it again.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from compliance.errors import ComplianceError


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


@contextlib.contextmanager
def worker_pool(jobs: int, initializer: Callable[[], object] | None = None) -> Iterator[ProcessPoolExecutor]:
    """`jobs` worker processes. A worker that dies (the kernel's out-of-memory killer) stops
    the work with one line instead of a traceback; work not yet started is dropped when the
    caller stops early (an error, Ctrl-C), not done first."""
    context = mp.get_context("fork") if can_fork() else None
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=initializer)
    try:
        yield pool
    except BrokenProcessPool:
        raise ComplianceError(f"a worker process stopped without a result (out of memory?); "
                              f"try again with fewer --jobs than {jobs}") from None
    finally:
        pool.shutdown(cancel_futures=True)
