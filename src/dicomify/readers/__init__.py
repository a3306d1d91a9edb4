"""Readers: one module per input family, chosen by the file's leading bytes.

Each reader module registers a :class:`Reader` with :func:`register`. The builder
only ever sees the :class:`~dicomify.picture.Picture` a reader returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Picture

__all__ = ["Reader", "read_picture", "register"]

# How many leading bytes a sniffer gets to look at.
SNIFF_BYTES = 64


@dataclass(frozen=True)
class Reader:
    name: str
    sniff: Callable[[bytes], bool]
    read: Callable[[BinaryIO, ConvertOptions], Picture]


_READERS: list[Reader] = []


def register(reader: Reader) -> Reader:
    _READERS.append(reader)
    return reader


_builtins_loaded = False


def _load_builtin_readers() -> None:
    global _builtins_loaded
    _builtins_loaded = True
    # Imported for their register() side effect; the sniffers accept disjoint magics,
    # so the registration order does not matter.
    from . import emf, jpeg, pillow, tiff  # noqa: F401


def read_picture(stream: BinaryIO, options: ConvertOptions) -> Picture:
    """Read a seekable binary stream into a Picture, choosing the reader by content."""
    # A flag, not "is the list empty": importing one reader module first must not
    # leave that reader registered alone.
    if not _builtins_loaded:
        _load_builtin_readers()
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise CorruptImageError("the file is empty (0 bytes)")
    for reader in _READERS:
        if reader.sniff(head):
            return reader.read(stream, options)
    raise UnsupportedFormatError(
        "not a supported picture format (expected JPEG, PNG, BMP, TIFF, GIF, WebP, EMF or WMF)"
    )
