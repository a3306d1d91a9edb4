"""Seconds per file in a batch: a stuck file is reported and the batch goes on.

A hostile file can keep a decoder busy for minutes (or, before it was fixed, for ever:
a TIFF whose page chain loops). In the processes dicomify owns — its batch workers and
the command line — a timer interrupts a conversion that takes longer than
``ConvertOptions.max_seconds``; the file is reported ``failed`` with the reason and the
worker goes on to the next one. The timer is a process-wide signal (``SIGALRM``), so it
is never set in a library caller's process or off the main thread: a conversion there
runs to its end (use the other limits, or a process of your own).

The signal interrupts Python code; a single call into a C decoder that does not return
is not interrupted, and is ended by the process pool's own recovery only if the worker
dies. The other limits (pixels, frames, bytes, records) bound what C code is given.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from .._warnings import is_owned

__all__ = ["DEFAULT_MAX_SECONDS", "FileTimeout", "time_limit", "too_slow"]

DEFAULT_MAX_SECONDS = 600.0


class FileTimeout(BaseException):
    """Raised by the timer inside the conversion.

    A BaseException so that no ``except Exception`` on the way (a reader mapping a
    decoder's failures) mistakes it for damaged data.
    """


def too_slow(seconds: float | None) -> str:
    """The reason given for a conversion :func:`time_limit` stopped."""
    limit = DEFAULT_MAX_SECONDS if seconds is None else seconds
    return f"the conversion took longer than {limit:g} seconds"


def _expired(signum: int, frame: FrameType | None) -> None:
    raise FileTimeout


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (default 600) with FileTimeout, where allowed."""
    limit = DEFAULT_MAX_SECONDS if seconds is None else seconds
    if not is_owned() or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
