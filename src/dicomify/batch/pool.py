"""Our own process pool, where a worker that dies fails only the file it was converting.

A worker killed by the kernel for memory, or by a crash inside a codec, would break a
:class:`concurrent.futures.ProcessPoolExecutor` and every call in flight with it.
``pebble.ProcessPool`` fails only the call the dying worker was running
(``ProcessExpired``) and starts a new worker; the other calls carry on. The files of
that call are sent again one per call, and a file whose one-file call dies again is
reported as failed. (Measured against the hand-written pool it replaced, which rebuilt
the pool and retried every file in flight one at a time: benchmarks/pool_compare.py,
figures in benchmarks/results.md.)
"""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque
from collections.abc import Iterator, Sequence

from ..options import ConvertOptions
from ..outcome import ConvertStatus, Outcome
from . import worker
from ._native import init_worker
from .plan import Task
from .schedule import chunks

__all__ = ["WORKER_DIED", "run_on_own_pool"]

WORKER_DIED = "the worker process died converting this file (out of memory, or a crash in a codec)"


def run_on_own_pool(
    tasks: Sequence[Task], options: ConvertOptions, skip_existing: bool, workers: int
) -> Iterator[Outcome]:
    """Convert ``tasks`` in ``workers`` processes; yield outcomes as they finish.

    Chunks go out with a bounded number in flight, as on any executor
    (:func:`~dicomify.batch.schedule.run_on`). The pool is stopped, its workers
    terminated, when the caller stops iterating early.
    """
    from pebble import ProcessExpired, ProcessPool

    pending = deque(chunks(tasks, workers))
    window = max(2, workers * 3)
    in_flight: dict[cf.Future[list[Outcome]], list[Task]] = {}
    pool = ProcessPool(max_workers=workers, initializer=init_worker)
    finished = False
    try:
        while pending or in_flight:
            while pending and len(in_flight) < window:
                chunk = pending.popleft()
                in_flight[pool.schedule(worker.convert_chunk, args=(chunk, options, skip_existing))] = chunk
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for future in done:
                chunk = in_flight.pop(future)
                try:
                    yield from future.result()
                except ProcessExpired:
                    if len(chunk) == 1:
                        task = chunk[0]
                        yield Outcome(task.source, ConvertStatus.FAILED, task.output, message=WORKER_DIED)
                    else:  # one of them killed the worker: each goes again on its own, first
                        pending.extendleft([task] for task in reversed(chunk))
        finished = True
    finally:
        if finished:
            pool.close()
        else:  # the caller stopped early, or an error: nothing pending is to run
            pool.stop()
        pool.join()
