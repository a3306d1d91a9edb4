"""Readers: one module per input family, chosen by the file's leading bytes.

Each reader module registers a :class:`Reader` with :func:`register`. The builder
only ever sees the :class:`~dicomify.picture.Picture` a reader returns.
"""

from __future__ import annotations

import logging
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

from ..errors import CorruptImageError, DicomifyError, ImageTooLargeError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Document, Frame, FrameLayout, Picture, Video
from .jpeg_repair import JPEG_SEARCH, jpeg_start
from .opening import MAX_DICOM_SIDE, check_object

__all__ = ["DECODER_FAILURES", "Reader", "decoding", "read_picture", "register"]

logger = logging.getLogger(__name__)

# What decoder libraries (Pillow, tifffile, imagecodecs, zlib ...) raise for data they
# cannot decode. Caught around the read stage only, frames included: the builder and the
# encoder get no such net, so a bug there is a traceback, not "cannot be decoded".
# (imagecodecs' DeflateError, PngError ... derive from RuntimeError.)
DECODER_FAILURES = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OSError,
    EOFError,
    SyntaxError,
    struct.error,
    zlib.error,
    RuntimeError,
)

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


@contextmanager
def decoding() -> Iterator[None]:
    """The read stage's safety net: a decoder library's failure becomes one clear error.

    Each reader maps the failures it expects to typed errors naming the reason; this
    catches what a decoder raises beyond those. Never wrap the builder or the encoder.
    """
    try:
        yield
    except DicomifyError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(f"Pillow refuses the picture as a decompression bomb ({error})") from None
    except DECODER_FAILURES as error:
        logger.debug("unexpected decoder failure", exc_info=True)
        raise CorruptImageError(
            f"the picture is damaged in a way its reader does not recognise ({type(error).__name__}: {error})"
        ) from None


def _check_layout(layout: FrameLayout) -> None:
    """What the image pixel description says must fit DICOM's fields (PS3.3 C.7.6.3):
    a header declaring 0-bit samples otherwise reaches the writer as a struct.error."""
    problems = []
    if not (1 <= layout.rows <= MAX_DICOM_SIDE and 1 <= layout.columns <= MAX_DICOM_SIDE):
        problems.append(f"{layout.columns}x{layout.rows} pixels")
    if layout.samples_per_pixel not in (1, 3):
        problems.append(f"{layout.samples_per_pixel} samples per pixel")
    if layout.bits_allocated not in (8, 16) or not 1 <= layout.bits_stored <= layout.bits_allocated:
        problems.append(f"{layout.bits_stored}-bit samples in {layout.bits_allocated} bits")
    if problems:
        raise CorruptImageError(f"the picture's header declares {', '.join(problems)}, which DICOM cannot hold")


def _guard_frames(picture: Picture) -> None:
    """Decode the frames under the safety net, exactly as many as the picture announces."""
    frames = picture.frames
    if frames is None:
        return
    announced = picture.number_of_frames

    def guarded() -> Iterator[Frame]:
        produced = 0
        with decoding():
            for frame in frames():
                if produced == announced:
                    raise CorruptImageError(f"the picture holds more frames than the {announced} it announced")
                produced += 1
                yield frame
        if produced < announced:
            raise CorruptImageError(f"only {produced} of the {announced} frames the picture announces can be read")

    picture.frames = guarded


def read_picture(stream: BinaryIO, options: ConvertOptions) -> Picture | Document | Video:
    """Read a seekable binary stream into a Picture (or a Document: PDF; a Video), choosing the reader by content.

    Limits (``max_frames``, ``max_bytes``) are checked on the result before any frame
    beyond the first is decoded; decoder failures, now or while the frames are taken,
    are CorruptImageError.
    """
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise CorruptImageError("the file is empty (0 bytes)")
    for reader in _readers():
        if reader.sniff(head):
            with decoding():
                picture = reader.read(stream, options)
            if isinstance(picture, (Document, Video)):
                return picture  # kept as encoded: no frames to decode here
            for part in picture.parts:  # each part is one DICOM object
                _check_layout(part.layout)
                check_object(part.number_of_frames, part.layout.frame_bytes, options)
                _guard_frames(part)
            if len(picture.parts) > 1:  # and the frames of all of them together
                check_object(sum(part.number_of_frames for part in picture.parts), 0, options)
            return picture
    start = jpeg_start(stream.read(JPEG_SEARCH))
    stream.seek(0)
    if start is not None:
        raise UnsupportedFormatError(
            f"a JPEG stream starts {start} bytes into the file, after bytes that are not JPEG: libjpeg, "
            "Pillow and web browsers refuse such a file (it must start with the Start Of Image marker), "
            "so it is not converted"
        )
    raise UnsupportedFormatError(
        "not a supported picture format (expected JPEG, PNG, BMP, TIFF, GIF, WebP, HEIC, AVIF, EMF, WMF, PDF or video: MP4, MOV, MPEG-2)"
    )
