"""Our own process pool, where a worker that dies fails only the file it was converting.

A worker killed by the kernel for memory, or by a crash inside a codec, breaks a
:class:`concurrent.futures.ProcessPoolExecutor` and every call in flight with it. The
files in flight are then retried one at a time in a one-worker pool (the one that
kills it again is reported as failed); the files not yet sent carry on in a fresh pool
of full size.

``pebble.ProcessPool``, which fails only the dying worker's call, was measured against
this pool and not taken (benchmarks/pool_compare.py, figures in benchmarks/results.md):
the same throughput, a faster recovery when a worker dies during a call, but a worker
that dies while no call is running (between two calls, or before pebble has seen the
call start) breaks its whole pool (``BrokenProcessPool: All workers expired``), so it
would still need this pool's recovery.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Iterator, Sequence

from ..options import ConvertOptions
from ..outcome import ConvertStatus, Outcome
from . import worker
from ._native import init_worker
from .plan import Task
from .schedule import run_on

__all__ = ["WORKER_DIED", "run_on_own_pool"]

WORKER_DIED = "the worker process died converting this file (out of memory, or a crash in a codec)"


def _new_pool(workers: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=workers, initializer=init_worker)


def run_on_own_pool(
    tasks: Sequence[Task], options: ConvertOptions, skip_existing: bool, workers: int
) -> Iterator[Outcome]:
    """Convert ``tasks`` in ``workers`` processes; yield outcomes as they finish."""
    remaining = list(tasks)
    suspects: list[Task] = []
    while remaining:
        broken: list[Task] = []
        unsent: list[Task] = []
        pool = _new_pool(workers)
        try:
            yield from run_on(pool, remaining, options, skip_existing, workers, broken, unsent)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        suspects += broken
        remaining = unsent
    single: cf.ProcessPoolExecutor | None = None
    try:
        for task in suspects:
            single = single or _new_pool(1)
            try:
                yield from single.submit(worker.convert_chunk, [task], options, skip_existing).result()
            except cf.BrokenExecutor:
                single.shutdown(wait=True)
                single = None
                yield Outcome(task.source, ConvertStatus.FAILED, task.output, message=WORKER_DIED)
    finally:
        if single is not None:
            single.shutdown(wait=True)
