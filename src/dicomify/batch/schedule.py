"""Scheduling a batch on an executor: chunks, a bounded window of calls in flight.

Any :class:`concurrent.futures.Executor` runs the work: a thread pool, a process pool,
or a Dask cluster's ``Client.get_executor()``. Results come as calls finish.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections import deque
from collections.abc import Iterator, Sequence

from ..options import ConvertOptions
from ..outcome import ConvertStatus, Outcome
from . import worker
from .plan import Task

__all__ = ["available_cores", "chunks", "run_on", "worker_count"]


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(executor: cf.Executor | None, jobs: int | None) -> int:
    """How many calls ``executor`` (or our own pool of ``jobs``) runs at once."""
    if executor is None:
        return max(1, jobs or available_cores())
    client = getattr(executor, "_client", None)  # dask.distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # an older or foreign client: fall back to a guess
            pass
    return int(getattr(executor, "_max_workers", 0) or available_cores())


def chunks(tasks: Sequence[Task], workers: int) -> list[list[Task]]:
    """Tasks cut into the calls sent to the executor, in order."""
    # Several files per call amortise the executor's per-call cost; enough calls per
    # worker keep the load balanced and the progress bar moving.
    # The last files go one per call, so that no worker finishes a whole chunk alone
    # while the others are idle at the end of the batch.
    size = max(1, min(8, len(tasks) // (workers * 8)))
    tail = min(len(tasks), 2 * workers * size) if size > 1 else 0
    head = len(tasks) - tail
    return [list(tasks[i : min(i + size, head)]) for i in range(0, head, size)] + [[task] for task in tasks[head:]]


def run_on(
    executor: cf.Executor,
    tasks: Sequence[Task],
    options: ConvertOptions,
    skip_existing: bool,
    workers: int,
    broken: list[Task] | None = None,
    unsent: list[Task] | None = None,
) -> Iterator[Outcome]:
    """Submit chunks with a bounded number in flight; yield outcomes as chunks finish.

    With ``broken`` and ``unsent`` (our own process pool), a crashed worker process,
    which breaks the whole pool, fails nothing: the files that were in flight go to
    ``broken`` (one of them killed the worker) and those not yet sent to ``unsent``.
    Without them, a call the executor lost (a cluster worker died ...) fails its files.
    """
    pending = deque(chunks(tasks, workers))
    window = max(2, workers * 3)
    in_flight: dict[cf.Future[list[Outcome]], list[Task]] = {}
    while pending or in_flight:
        while pending and len(in_flight) < window:
            chunk = pending.popleft()
            try:
                future = executor.submit(worker.convert_chunk, chunk, options, skip_existing)
            except cf.BrokenExecutor:
                if broken is None or unsent is None:
                    raise
                broken.extend(chunk)
                break
            in_flight[future] = chunk
        if not in_flight:
            break
        done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
        for future in done:
            chunk = in_flight.pop(future)
            try:
                yield from future.result()
            except cf.BrokenExecutor:
                if broken is None or unsent is None:
                    raise
                broken.extend(chunk)
            except Exception as error:  # the executor lost the work (a cluster worker died ...)
                message = f"the worker failed: {type(error).__name__}: {error}"
                for task in chunk:
                    yield Outcome(task.source, ConvertStatus.FAILED, task.output, message=message)
        if broken and unsent is not None and pending:
            # The pool is broken: what was not sent yet goes to a fresh one.
            unsent.extend(task for chunk in pending for task in chunk)
            pending.clear()
