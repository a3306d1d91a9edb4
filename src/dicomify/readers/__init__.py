"""Readers: one module per input family, chosen by the file's leading bytes.

Each reader module registers a :class:`Reader` with :func:`register`. The builder
only ever sees the :class:`~dicomify.picture.Picture` a reader returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Document, Picture, Video

__all__ = ["Reader", "read_picture", "register"]

# How many leading bytes a sniffer gets to look at.
SNIFF_BYTES = 64


@dataclass(frozen=True)
class Reader:
    name: str
    sniff: Callable[[bytes], bool]
    read: Callable[[BinaryIO, ConvertOptions], Picture | Document | Video]


_READERS: list[Reader] = []
_LOAD_LOCK = threading.Lock()
_builtins_loaded = False


def register(reader: Reader) -> Reader:
    _READERS.append(reader)
    return reader


def _readers() -> list[Reader]:
    """Every reader, the built-in ones imported on first use.

    Threads converting at once in a fresh process wait here until every built-in
    reader has registered: the flag is set only after the imports, under the lock.
    """
    global _builtins_loaded
    if not _builtins_loaded:
        with _LOAD_LOCK:
            if not _builtins_loaded:
                # Imported for their register() side effect; the sniffers accept
                # disjoint magics, so the registration order does not matter.
                from . import emf, heif, jpeg, pdf, pillow, tiff, video  # noqa: F401

                _builtins_loaded = True
    return _READERS


def read_picture(stream: BinaryIO, options: ConvertOptions) -> Picture | Document | Video:
    """Read a seekable binary stream into a Picture (or a Document: PDF), choosing the reader by content."""
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise CorruptImageError("the file is empty (0 bytes)")
    for reader in _readers():
        if reader.sniff(head):
            return reader.read(stream, options)
    raise UnsupportedFormatError(
        "not a supported picture format (expected JPEG, PNG, BMP, TIFF, GIF, WebP, HEIC, AVIF, EMF, WMF, PDF or video: MP4, MOV, MPEG-2)"
    )
