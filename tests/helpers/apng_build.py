"""APNG files written chunk by chunk, so every disposal, blend, depth and colour type
can be made exactly (Pillow's writer re-encodes frames and cannot write palette
animations with disposal)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from helpers.pictures import png_chunk

NONE, BACKGROUND, PREVIOUS = 0, 1, 2
SOURCE, OVER = 0, 1


@dataclass
class Frame:
    pixels: np.ndarray  # H×W (gray/palette) or H×W×C, uint8 or uint16
    x: int = 0
    y: int = 0
    dispose: int = NONE
    blend: int = SOURCE
    delay_ms: int = 100


def _rows(pixels: np.ndarray) -> bytes:
    data = pixels.astype(">u2" if pixels.dtype == np.uint16 else "u1")
    flat = data.reshape(data.shape[0], -1)
    return b"".join(b"\x00" + row.tobytes() for row in flat)


_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _interlaced_rows(pixels: np.ndarray) -> bytes:
    """The Adam7 passes of a frame, each row with filter type 0 (PNG spec 8.2)."""
    return b"".join(_rows(pixels[y0::dy, x0::dx]) for x0, y0, dx, dy in _ADAM7 if pixels[y0::dy, x0::dx].size)


def apng_bytes(
    width: int,
    height: int,
    colour_type: int,
    frames: list[Frame],
    *,
    palette: np.ndarray | None = None,
    trns: bytes | None = None,
    declared: int | None = None,
    default_is_first_frame: bool = True,
    hidden_default: np.ndarray | None = None,
    interlaced: bool = False,
) -> bytes:
    """An APNG; ``colour_type`` 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.

    ``hidden_default`` is a default image (IDAT before any fcTL) that is not part of
    the animation; it then needs ``default_is_first_frame=False``.
    """
    depth = 16 if frames[0].pixels.dtype == np.uint16 else 8
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, int(interlaced))
    )
    out += png_chunk(b"acTL", struct.pack(">II", len(frames) if declared is None else declared, 0))
    if palette is not None:
        out += png_chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    if hidden_default is not None:
        out += png_chunk(b"IDAT", zlib.compress(_rows(hidden_default)))
    sequence = 0
    for index, frame in enumerate(frames):
        h, w = frame.pixels.shape[:2]
        out += png_chunk(
            b"fcTL",
            struct.pack(
                ">IIIIIHHBB", sequence, w, h, frame.x, frame.y, frame.delay_ms, 1000, frame.dispose, frame.blend
            ),
        )
        sequence += 1
        compressed = zlib.compress((_interlaced_rows if interlaced else _rows)(frame.pixels))
        if index == 0 and default_is_first_frame:
            out += png_chunk(b"IDAT", compressed)
        else:
            if index == 0 and hidden_default is None:
                raise ValueError("the first frame must be the default image or follow a hidden one")
            out += png_chunk(b"fdAT", struct.pack(">I", sequence) + compressed)
            sequence += 1
    return out + png_chunk(b"IEND", b"")
