"""The bounded worker pool: conversions queue instead of exhausting memory.

``workers`` threads convert (each holds one picture in memory); at most
``max_pending`` requests may hold pictures at once, beyond that the server
answers 503 with Retry-After at once instead of piling uploads up.
"""

from __future__ import annotations

import asyncio
import functools
import io
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["Busy", "WorkerPool", "warm_up"]

T = TypeVar("T")


class Busy(Exception):
    """Too many requests hold pictures already."""


class WorkerPool:
    def __init__(self, workers: int, max_pending: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dicomify-convert")
        self.max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of the ``max_pending`` places for the duration of a request."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise Busy()
            self._pending += 1
        try:
            yield
        finally:
            with self._lock:
                self._pending -= 1

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(function, *args, **kwargs))

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def warm_up() -> None:
    """Convert tiny pictures once in this thread before any worker thread does.

    dicomify loads its readers and pydicom its encoders lazily on first use (safe from
    many threads at once); doing it here makes the first requests as fast as the rest.
    """
    import numpy as np
    from PIL import Image

    from ..api import DicomImage

    for fmt, mode in (("PNG", "RGB"), ("JPEG", "RGB"), ("TIFF", "L"), ("BMP", "RGB"), ("GIF", "P"), ("WEBP", "RGB")):
        buffer = io.BytesIO()
        Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).convert(mode).save(buffer, format=fmt)
        for iod in ("sc", "photo"):
            with DicomImage(buffer.getvalue(), iod=iod) as image:
                image.save(io.BytesIO())
