"""The picture model: what every reader hands to the DICOM builder.

A reader turns source bytes into a :class:`Picture`: either decoded frames, produced
lazily so a 1000-page TIFF never sits in memory whole, or, for JPEG passthrough, the
untouched codestreams (:class:`Encapsulated`) with the facts needed to label them.

A decoded frame (:data:`Frame`) is one of two types, and encoders tell them apart by
type, never by who made them:

* a numpy array, shape (rows, columns) or (rows, columns, 3);
* a :class:`StripFrame`: a frame too large to copy, whose samples come as bands of
  whole rows (a huge picture still held by its decoder).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["Encapsulated", "Frame", "FrameLayout", "Photometric", "Picture", "StripFrame", "frames_of"]

Photometric = Literal["MONOCHROME2", "RGB", "YBR_FULL_422", "YBR_FULL", "YBR_PARTIAL_420"]


class StripFrame(ABC):
    """A frame served as bands of whole rows, for frames too large to copy into an array.

    Encoders write native Pixel Data strip by strip, so peak memory stays near the
    decoder's own copy of the picture; ``np.asarray(frame)`` joins the strips for an
    encoder that needs an array (lossless compression).

    Parameters
    ----------
    shape : tuple of int
        (rows, columns) or (rows, columns, samples), as the frame's array would have.
    dtype : numpy dtype
        The samples' type, as the frame's array would have.
    """

    def __init__(self, shape: tuple[int, ...], dtype: DTypeLike) -> None:
        self.shape = shape
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @abstractmethod
    def strips(self) -> Iterator[bytes | memoryview]:
        """The samples as little-endian bytes: bands of whole rows, top to bottom."""

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = np.empty(self.shape, self.dtype)
        flat = array.reshape(-1).view(np.uint8)
        position = 0
        for strip in self.strips():
            flat[position : position + len(strip)] = np.frombuffer(strip, np.uint8)
            position += len(strip)
        return array if dtype is None else array.astype(dtype)


#: One decoded frame: an array, or a frame served in strips.
Frame: TypeAlias = np.ndarray | StripFrame


@dataclass(frozen=True)
class FrameLayout:
    """Geometry and sample format shared by all frames of a picture."""

    rows: int
    columns: int
    samples_per_pixel: int  # 1 or 3
    bits_allocated: int  # 8 or 16
    bits_stored: int
    photometric: Photometric
    # Pixel Representation 1: two's complement samples (signed integer TIFF).
    signed: bool = False

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * self.samples_per_pixel * (self.bits_allocated // 8)


@dataclass(frozen=True)
class Encapsulated:
    """Compressed codestreams kept byte-exact, one per frame."""

    transfer_syntax: str
    fragments: tuple[bytes, ...]
    lossy: bool
    # PS3.3 C.7.6.1.1.5: Lossy Image Compression Method, e.g. "ISO_10918_1".
    lossy_method: str | None = None


@dataclass
class Picture:
    """A decoded (or passthrough) picture, ready for the DICOM builder.

    ``frames`` yields one :data:`Frame` per frame, shape (rows, columns) or (rows,
    columns, 3), dtype matching ``layout``. It may be called more than once. It is
    None when the picture is only available as ``encapsulated`` codestreams.
    """

    source_format: str
    layout: FrameLayout
    number_of_frames: int
    frames: Callable[[], Iterator[Frame]] | None
    encapsulated: Encapsulated | None = None
    icc_profile: bytes | None = None
    content_datetime: dt.datetime | None = None
    # Milliseconds per frame: one value (constant) or one per frame.
    frame_times_ms: tuple[float, ...] | None = None
    # Modality LUT restoring the source's values: stored * slope + intercept.
    rescale: tuple[float, float] | None = None
    # VOI window (center, width) in stored values, PS3.3 C.11.2.1.2: how the source
    # displays when its samples do not fill their type (12-bit in 16, signed data).
    window: tuple[float, float] | None = None
    # A note on what the reader did (e.g. "CMYK converted to RGB"), for reports.
    notes: list[str] = field(default_factory=list)
    # A source that makes several DICOM objects (TIFF pages that differ in size or
    # kind, an animation whose canvas grows): the further parts, in order. This
    # picture is the first; all go into one series, Instance Number in this order.
    more: tuple[Picture, ...] = ()

    @property
    def parts(self) -> tuple[Picture, ...]:
        """Every object the source makes: this picture, then :attr:`more`."""
        return (self, *self.more)


def frames_of(frames: Sequence[Frame]) -> Callable[[], Iterator[Frame]]:
    """Frames already in memory, as the ``Picture.frames`` callable."""
    return lambda: iter(frames)


@dataclass(frozen=True)
class Document:
    """A document kept byte-identical (Encapsulated PDF, PS3.3 A.45.1), not a picture.

    ``title`` comes from the document's own metadata (empty when it has none);
    ``page_count`` is what the document says, for reports and limits.
    """

    data: bytes
    mime_type: str
    title: str
    page_count: int
    content_datetime: dt.datetime | None = None
    source_format: str = "PDF"


@dataclass(frozen=True)
class Video:
    """A video stream kept as it was encoded (no re-encoding), with what labels it.

    ``data`` is the container DICOM carries (PS3.5 8.2.5-8.2.9): an MPEG-2 program
    stream, or an MP4 file for H.264 and HEVC. ``transfer_syntax`` is the one the
    stream's profile, level and geometry satisfy.
    """

    data: bytes
    transfer_syntax: str
    codec: str  # e.g. "H.264 High Profile / Level 4.1"
    rows: int
    columns: int
    number_of_frames: int
    frame_rate: float  # frames per second
    transcoded: bool = False  # re-encoded on request (lossy, from a lossy source)
    content_datetime: dt.datetime | None = None
    source_format: str = "video"
