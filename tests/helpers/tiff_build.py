"""TIFF files written tag by tag, for the kinds tifffile and Pillow cannot write.

Old-style JPEG (Compression 6) and uncompressed subsampled YCbCr are rare enough that
no writer makes them; the tests assemble them from their parts (TIFF 6.0 sections 2,
21 and 22).
"""

from __future__ import annotations

import struct

import numpy as np

# TIFF field types: BYTE, ASCII, SHORT, LONG, RATIONAL.
_TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("I", 4), 5: ("II", 8)}
SHORT, LONG, RATIONAL = 3, 4, 5


def tiff_bytes(width: int, height: int, tags: dict[int, tuple[int, list[int]]], data: bytes) -> bytes:
    """A one-page little-endian TIFF holding ``data`` as its only strip.

    ``tags`` maps tag numbers to (type, values), a RATIONAL's values as numerator,
    denominator pairs flattened; StripOffsets, StripByteCounts,
    ImageWidth, ImageLength and RowsPerStrip are added. A value -1 in a LONG tag named
    by ``tags`` is replaced by the offset of ``data`` (for JPEGInterchangeFormat).
    """
    entries = dict(tags)
    entries[256] = (LONG, [width])
    entries[257] = (LONG, [height])
    entries[278] = (LONG, [height])
    entries[279] = (LONG, [len(data)])
    entries[273] = (LONG, [0])  # patched below
    count = len(entries)
    ifd_offset = 8
    extra_offset = ifd_offset + 2 + 12 * count + 4
    extras = bytearray()
    # Out-of-line values first, so the data offset is known.
    layout: list[tuple[int, int, int, bytes | None]] = []
    for tag in sorted(entries):
        kind, values = entries[tag]
        code, size = _TYPES[kind]
        items = len(values) // 2 if kind == RATIONAL else len(values)
        layout.append((tag, kind, items, None if size * items <= 4 else b""))
    for i, (tag, kind, n, _) in enumerate(layout):
        code, size = _TYPES[kind]
        if size * n > 4:
            layout[i] = (tag, kind, n, b"at")
            extras += b"\x00" * (size * n + (size * n) % 2)
    data_offset = extra_offset + len(extras)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", count))
    extras = bytearray()
    for tag, kind, n, where in layout:
        values = [data_offset if v == -1 else v for v in entries[tag][1]]
        if tag == 273:
            values = [data_offset]
        code, size = _TYPES[kind]
        packed = struct.pack("<" + code * n, *values) if kind != 5 else struct.pack("<" + "I" * 2 * n, *values)
        if where is None:
            out += struct.pack("<HHI", tag, kind, n) + packed.ljust(4, b"\x00")
        else:
            out += struct.pack("<HHII", tag, kind, n, extra_offset + len(extras))
            extras += packed + b"\x00" * (len(packed) % 2)
    out += struct.pack("<I", 0)
    assert len(out) == extra_offset
    return bytes(out + extras + data)


def ycbcr_subsampled(rgb: np.ndarray, h: int, v: int) -> tuple[bytes, np.ndarray]:
    """Uncompressed YCbCr data units (TIFF 6.0 section 21) for an RGB picture.

    Returns the strip bytes and the Y, Cb, Cr planes at full resolution (chroma
    repeated over its block), which is what a decoder reconstructs.
    """
    rgb = rgb.astype(np.float64)
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    cb = (rgb[..., 2] - y) / 1.772 + 128
    cr = (rgb[..., 0] - y) / 1.402 + 128
    rows, cols = y.shape
    assert rows % v == 0 and cols % h == 0
    y8 = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    cb8 = np.clip(np.rint(cb.reshape(rows // v, v, cols // h, h).mean(axis=(1, 3))), 0, 255).astype(np.uint8)
    cr8 = np.clip(np.rint(cr.reshape(rows // v, v, cols // h, h).mean(axis=(1, 3))), 0, 255).astype(np.uint8)
    units = bytearray()
    for by in range(rows // v):
        for bx in range(cols // h):
            units += y8[by * v : (by + 1) * v, bx * h : (bx + 1) * h].tobytes()
            units += bytes((cb8[by, bx], cr8[by, bx]))
    full_cb = np.repeat(np.repeat(cb8, v, axis=0), h, axis=1)
    full_cr = np.repeat(np.repeat(cr8, v, axis=0), h, axis=1)
    return bytes(units), np.dstack([y8, full_cb, full_cr])
