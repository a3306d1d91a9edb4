"""The real depth of a gray PNG from its sBIT chunk (PNG 11.3.3.4, 12.4).

A PNG holds 8- or 16-bit samples; a 12-bit source is written scaled up to 16 bits and
an sBIT chunk says how many bits were significant. PNG 12.4 names the ways encoders
scale: a left shift (low bits zero), bit replication (the high bits repeated into the
low ones), or the exact ratio ``v * (2**depth - 1) / (2**n - 1)`` rounded. When every
sample is exactly one of these of its top ``n`` bits, the top bits are the source's
values: they are stored with Bits Stored ``n`` and a window from 0 to ``2**n - 1``,
which shows ``v / (2**n - 1)`` as a PNG viewer shows ``sample / (2**depth - 1)``.
Nothing is lost: the samples follow from the stored values. Otherwise the samples stay
at the PNG's depth, with a note.
"""

from __future__ import annotations

import dataclasses
from typing import BinaryIO

import numpy as np

from ..picture import Picture, frames_of
from .pixels import full_range_window, layout_of

__all__ = ["significant_bits", "with_significant_bits"]

_PNG = b"\x89PNG\r\n\x1a\n"
_GRAY, _GRAY_ALPHA = 0, 4


def significant_bits(stream: BinaryIO) -> int | None:
    """The gray channel's significant bits from a gray PNG's sBIT chunk, if it has one.

    Only gray and gray+alpha PNG of 8 or 16 bits are looked at; an sBIT value outside
    1..depth is invalid (PNG 11.3.3.4) and ignored. Only the chunk headers before the
    first IDAT are read; the stream is left at its start.
    """
    stream.seek(0)
    head = stream.read(33)
    try:
        if not head.startswith(_PNG) or len(head) < 33 or head[12:16] != b"IHDR":
            return None
        depth, colour_type = head[24], head[25]
        if depth not in (8, 16) or colour_type not in (_GRAY, _GRAY_ALPHA):
            return None
        while True:
            header = stream.read(8)
            if len(header) < 8 or header[4:8] in (b"IDAT", b"IEND"):
                return None
            length = int.from_bytes(header[:4], "big")
            if header[4:8] == b"sBIT":
                value = stream.read(1)
                return value[0] if value and 1 <= value[0] < depth else None
            stream.seek(length + 4, 1)
    finally:
        stream.seek(0)


def _scalings(bits: int, depth: int) -> dict[str, np.ndarray]:
    """Each PNG 12.4 way of scaling ``bits``-bit values to ``depth`` bits, as a table
    from every ``bits``-bit value to its scaled sample."""
    values = np.arange(2**bits, dtype=np.uint32)
    shift = depth - bits
    replicated = np.zeros_like(values)
    position = shift
    while position > -bits:  # the value, then its copies, down to bit 0
        replicated |= values << position if position >= 0 else values >> -position
        position -= bits
    top, full = 2**bits - 1, 2**depth - 1
    return {
        "left shift": values << shift,
        "bit replication": replicated,
        "exact scaling": (values * full + top // 2) // top,
    }


# Samples are compared this many at a time, so the check needs no copy of the frame.
_BLOCK_PIXELS = 1 << 20


def _follows(frame: np.ndarray, high: np.ndarray, table: np.ndarray) -> bool:
    """Whether every sample is ``table`` of its top bits."""
    table = table.astype(frame.dtype)
    rows = max(1, _BLOCK_PIXELS // max(1, frame.shape[1]))
    return all(
        np.array_equal(table[high[top : top + rows]], frame[top : top + rows]) for top in range(0, frame.shape[0], rows)
    )


def with_significant_bits(picture: Picture, bits: int | None) -> Picture:
    """``picture`` (one gray frame from a PNG) with its samples at their sBIT depth.

    Returns the picture unchanged when ``bits`` is None or the frame is not a gray
    array; with a note when the samples do not follow from their top ``bits`` bits.
    """
    if bits is None or picture.number_of_frames != 1 or picture.frames is None:
        return picture
    frame = next(picture.frames())
    if not isinstance(frame, np.ndarray) or frame.ndim != 2 or frame.dtype not in (np.uint8, np.uint16):
        return picture
    depth = frame.dtype.itemsize * 8
    high = frame >> (depth - bits)
    for way, table in _scalings(bits, depth).items():
        if _follows(frame, high, table):
            stored = np.ascontiguousarray(high if bits > 8 or high.dtype == np.uint8 else high.astype(np.uint8))
            return dataclasses.replace(
                picture,
                layout=layout_of(stored, bits),
                frames=frames_of([stored]),
                # 8 bits fill their type; fewer or more need the window to show their range.
                window=None if bits == 8 else full_range_window(bits),
                notes=[*picture.notes, f"{bits} significant bits (PNG sBIT, {way}): stored at that depth"],
            )
    return dataclasses.replace(
        picture,
        notes=[
            *picture.notes,
            f"the PNG's sBIT says {bits} significant bits, but the samples' low bits do not follow "
            f"from them: kept at {depth} bits",
        ],
    )
