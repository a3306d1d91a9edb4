"""What the libraries we use warn about, said once in our words, naming the file.

Pillow, pydicom and tifffile report oddities as ``UserWarning``s or log records
("Corrupt EXIF data. Expecting to read 12 bytes but only got 0."). Printed raw, they
land on the user's terminal between our own lines, without the file's name, once per
occurrence. Here they become short notes attached to the file they are about.

Catching warnings means changing the process's warning filters (``warnings`` keeps
them per process, not per thread), which a library must not do behind its caller's
back. So notes are collected only in processes dicomify owns: the command line (for
the duration of ``main``) and the batch's own worker processes. Elsewhere — a web
server converting on many threads, a notebook — warnings go where the application
sends them, unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator

__all__ = ["WARNING_PREFIX", "is_owned", "library_notes", "owned_process", "own_this_process"]

# Notes made from warnings start with this, so the command line can show them.
WARNING_PREFIX = "warning: "

_owned = False
_lock = threading.Lock()

# (words in the library's message, what we say instead)
_KNOWN = (
    ("EXIF", "the picture's EXIF data is damaged, what could not be read was ignored"),
    ("Tag data larger than file", "the picture's EXIF data is damaged, what could not be read was ignored"),
    ("Metadata Warning", "the picture's metadata is damaged, what could not be read was ignored"),
    ("Truncated File Read", "the picture's metadata is cut short, what could not be read was ignored"),
)
_LIBRARIES = {"PIL": "Pillow", "pydicom": "pydicom", "tifffile": "the TIFF reader", "imagecodecs": "imagecodecs"}


def own_this_process() -> None:
    """Mark this process as dicomify's own (a batch worker): notes are collected here."""
    global _owned
    _owned = True


def is_owned() -> bool:
    """Whether this process is dicomify's own (the command line, a batch worker)."""
    return _owned


@contextlib.contextmanager
def owned_process() -> Iterator[None]:
    """For the duration of the block, this process is dicomify's (the command line)."""
    global _owned
    before, _owned = _owned, True
    try:
        yield
    finally:
        _owned = before


def _library(path: str) -> str:
    for key, name in _LIBRARIES.items():
        if f"/{key}/" in path.replace("\\", "/"):
            return name
    return "a library"


def _words(message: str, library: str) -> str:
    for needle, ours in _KNOWN:
        if needle in message:
            return ours
    first = " ".join(message.split())[:200]
    return f"{library} says: {first}"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def library_notes() -> Iterator[list[str]]:
    """Collect the libraries' warnings raised in the block as notes (filled at its end).

    Outside an owned process this does nothing and the list stays empty.

    Yields
    ------
    list of str
        The notes, each once, each starting with :data:`WARNING_PREFIX`.
    """
    notes: list[str] = []
    # Only the main thread of an owned process: conversions on other threads (a server
    # started from the command line) would see the filters change under them.
    if not _owned or threading.current_thread() is not threading.main_thread() or not _lock.acquire(False):
        yield notes
        return
    records = _Records()
    tiff_log = logging.getLogger("tifffile")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            propagate, tiff_log.propagate = tiff_log.propagate, False
            tiff_log.addHandler(records)
            try:
                yield notes
            finally:
                tiff_log.removeHandler(records)
                tiff_log.propagate = propagate
    finally:
        _lock.release()
    heard = [_words(str(w.message), _library(w.filename)) for w in caught]
    heard += [_words(message, "the TIFF reader") for message in records.messages]
    notes.extend(WARNING_PREFIX + text for text in dict.fromkeys(heard))
