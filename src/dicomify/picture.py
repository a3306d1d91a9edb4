"""The picture model: what every reader hands to the DICOM builder.

A reader turns source bytes into a :class:`Picture`: either decoded frames (numpy
arrays, produced lazily so a 1000-page TIFF never sits in memory whole) or, for
JPEG passthrough, the untouched codestreams with the facts needed to label them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Photometric = Literal["MONOCHROME2", "RGB", "YBR_FULL_422", "YBR_FULL"]


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

    ``frames`` yields one array per frame, shape (rows, columns) or (rows, columns, 3),
    dtype uint8 or uint16 matching ``layout``. It may be called more than once. It is
    None when the picture is only available as ``encapsulated`` codestreams.
    """

    source_format: str
    layout: FrameLayout
    number_of_frames: int
    frames: Callable[[], Iterator[np.ndarray]] | None
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


def frames_of(arrays: list[np.ndarray]) -> Callable[[], Iterator[np.ndarray]]:
    """Frames already in memory, as the ``Picture.frames`` callable."""
    return lambda: iter(arrays)
