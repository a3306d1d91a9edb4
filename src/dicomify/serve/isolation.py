"""Conversions in worker processes: a hostile upload cannot take the server down.

Every file comes from outside. A crash inside a C decoder, or the kernel killing a
conversion for memory, would end the whole server if conversions ran on its threads,
and a conversion stuck in a loop would hold a thread for ever. So the server converts
in worker processes of its own (``[limits] workers`` of them, ``spawn``-started: the
server's threads are never forked):

* each worker runs its conversion on its main thread under the timer of
  :mod:`dicomify.batch.deadline`: a conversion longer than ``[limits] max_seconds`` is
  stopped and its file gets that reason;
* a worker that dies breaks the :class:`~concurrent.futures.ProcessPoolExecutor` and
  every conversion in flight with it. The pool is replaced at once, and the files that
  were in flight are converted again one at a time in a pool of one worker: only the
  file that kills its worker again is failed, with that reason (the same recovery as the
  batch's own pool, :mod:`dicomify.batch.pool`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..batch.deadline import FileTimeout, time_limit, too_slow
from ..options import ConvertOptions
from .service import Converted, PictureChoice, convert_picture

__all__ = ["WORKER_DIED", "ConversionPool"]

WORKER_DIED = "the conversion's process died (out of memory, or a crash in a decoder)"


def _init_worker() -> None:
    from .._warnings import own_this_process
    from ..batch._native import die_with_parent
    from .work import warm_up

    die_with_parent(kernel=False)  # ends with the server
    own_this_process()  # libraries' warnings become notes; the timer may be set
    warm_up()


def _convert_in_worker(
    source: Path,
    name: str,
    output: Path,
    metadata: dict[str, Any],
    options: ConvertOptions,
    choice: PictureChoice,
    preview: bool,
) -> Converted:
    try:
        with time_limit(options.max_seconds):
            return convert_picture(source, name, output, metadata, options, choice, preview)
    except FileTimeout:
        return Converted(name, error=f"{name}: {too_slow(options.max_seconds)}", status=422)


class ConversionPool:
    """``workers`` processes converting uploads; see the module's docstring."""

    def __init__(self, workers: int, target: Callable[..., Converted] | None = None) -> None:
        # ``target`` replaces the conversion function (tests: one that kills its worker).
        self._target: Callable[..., Converted] = target or _convert_in_worker
        self._workers = workers
        self._lock = threading.Lock()
        self._pool = self._new_pool(workers)
        self._single: cf.ProcessPoolExecutor | None = None  # for the files of a broken pool
        self._alone = asyncio.Lock()  # the files of a broken pool are retried one at a time

    @staticmethod
    def _new_pool(workers: int) -> cf.ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)

    def start(self) -> None:
        """Start the workers now, so that the first uploads do not wait for them."""
        for future in [self._pool.submit(int) for _ in range(self._workers)]:
            future.result()

    async def convert(
        self,
        source: Path,
        name: str,
        output: Path,
        metadata: dict[str, Any],
        options: ConvertOptions,
        choice: PictureChoice,
        preview: bool = False,
    ) -> Converted:
        """Convert one upload in a worker, as :func:`.service.convert_picture` does."""
        arguments: tuple[Any, ...] = (source, name, output, dict(metadata), options, choice, preview)
        pool = self._pool
        try:
            return await asyncio.wrap_future(pool.submit(self._target, *arguments))
        except cf.BrokenExecutor:
            self._replace(pool)
        async with self._alone:
            if self._single is None:
                self._single = self._new_pool(1)
            single = self._single
            try:
                return await asyncio.wrap_future(single.submit(self._target, *arguments))
            except cf.BrokenExecutor:
                self._single = None
                await asyncio.to_thread(single.shutdown, True)
                return Converted(name, error=f"{name}: {WORKER_DIED}", status=422)

    def _replace(self, broken: cf.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = self._new_pool(self._workers)
        broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=True, cancel_futures=True)
            if self._single is not None:
                self._single.shutdown(wait=True, cancel_futures=True)
