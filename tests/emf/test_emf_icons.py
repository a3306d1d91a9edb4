"""The two shapes in which Office writes an OLE object's icon, built here as Office writes
them (found in the icons of Office documents, oletools' and python-pptx's test files):

* EMF: EMR_ALPHABLEND of a 32-bit BI_BITFIELDS DIB (masks 8-8-8) with per-pixel alpha;
* WMF: META_DIBSTRETCHBLT of a double-height monochrome mask (AND half on top, an empty
  half below, stored bottom-up) from source y 0 with SRCAND, then the colour image with
  SRCINVERT.

Both came out as a black box around the icon before.
"""

from __future__ import annotations

import struct

import numpy as np
from helpers.emf_build import dib24, emf, rec, wmf

from dicomify.emf import render
from dicomify.emf._dib import BI_BITFIELDS, decode_dib

RED, BLUE, WHITE, BLACK = (255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def bitfields32(rgba: np.ndarray) -> tuple[bytes, bytes]:
    """A bottom-up 32-bit BI_BITFIELDS DIB (BGRA bytes, masks 0xFF0000/0xFF00/0xFF)."""
    h, w = rgba.shape[:2]
    bits = np.ascontiguousarray(rgba[::-1][..., [2, 1, 0, 3]]).tobytes()
    bmi = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 32, BI_BITFIELDS, len(bits), 0, 0, 0, 0)
    return bmi + struct.pack("<3I", 0xFF0000, 0xFF00, 0xFF), bits


def alpha_blend(x: int, y: int, cx: int, cy: int, rgba: np.ndarray) -> bytes:
    """EMR_ALPHABLEND (MS-EMF 2.3.1.1) with AC_SRC_ALPHA and constant alpha 255."""
    bmi, bits = bitfields32(rgba)
    h, w = rgba.shape[:2]
    blend = 0x01FF0000  # BlendOp 0, flags 0, SourceConstantAlpha 255, AlphaFormat AC_SRC_ALPHA
    payload = struct.pack("<4i4iI2i6fII", 0, 0, 0, 0, x, y, cx, cy, blend, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0)
    payload += struct.pack("<4I2i", 108, len(bmi), 108 + len(bmi), len(bits), w, h)  # offsets, source size
    return rec(114, payload + bmi + bits)


def icon_rgba() -> np.ndarray:
    """A premultiplied 8 x 8 icon: a red square in the middle, transparent black around it."""
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6] = (255, 0, 0, 255)
    return rgba


def test_bitfields_32_bit_dib_keeps_its_alpha() -> None:
    bmi, bits = bitfields32(icon_rgba())
    decoded = decode_dib(bmi, bits)
    assert (decoded == icon_rgba()).all()


def test_alpha_blend_of_a_bitfields_icon_leaves_the_background() -> None:
    img = np.asarray(render(emf(alpha_blend(20, 20, 80, 80, icon_rgba()), size_px=(120, 120))))
    assert at(img, 60, 60) == RED
    assert at(img, 25, 25) == WHITE and at(img, 95, 60) == WHITE  # transparent, not black


def mono_dib_double_height(mask_top: list[list[int]]) -> tuple[bytes, bytes]:
    """A bottom-up 1-bit DIB twice as high as ``mask_top`` (rows top first, 1 = white): the
    mask on top, all zeros below, as Office writes an icon's AND mask."""
    n = len(mask_top)
    rows = [row for row in mask_top] + [[0] * n for _ in range(n)]
    stride = (n + 31) // 32 * 4
    bits = b""
    for row in reversed(rows):
        value = int("".join(str(v) for v in row), 2) << (stride * 8 - n)
        bits += value.to_bytes(stride, "big")
    bmi = struct.pack("<IiiHHIIiiII", 40, n, 2 * n, 1, 1, 0, len(bits), 0, 0, 2, 0)
    return bmi + bytes((0, 0, 0, 0, 255, 255, 255, 0)), bits


def dib_stretch_blt(x: int, y: int, w: int, h: int, rop: int, src: tuple[int, int, int, int], dib: bytes) -> bytes:
    sx, sy, sw, sh = src
    body = struct.pack("<I8h", rop, sh, sw, sy, sx, h, w, y, x) + dib
    body += b"\x00" * (len(body) & 1)
    return struct.pack("<IH", 3 + len(body) // 2, 0x0B41) + body


def test_wmf_ole_icon_with_a_double_height_mask() -> None:
    n = 8
    inside = [[0 if 2 <= i < 6 and 2 <= j < 6 else 1 for i in range(n)] for j in range(n)]
    mask_bmi, mask_bits = mono_dib_double_height(inside)
    image = [[RED if 2 <= i < 6 and 2 <= j < 6 else BLACK for i in range(n)] for j in range(n)]
    image_bmi, image_bits = dib24(image)
    img = np.asarray(
        render(
            wmf(
                dib_stretch_blt(0, 0, 80, 80, 0x008800C6, (0, 0, n, n), mask_bmi + mask_bits),  # SRCAND
                dib_stretch_blt(0, 0, 80, 80, 0x00660046, (0, 0, n, n), image_bmi + image_bits),  # SRCINVERT
                bbox=(0, 0, 80, 80),
                inch=96,
            )
        )
    )
    assert at(img, 40, 40) == RED
    assert at(img, 5, 5) == WHITE and at(img, 75, 75) == WHITE  # not a black box


def test_wmf_stretch_dib_source_y_counts_from_the_bottom() -> None:
    # META_STRETCHDIB records StretchDIBits: for a bottom-up DIB, source y 0 is its last row.
    pixels = [[RED] * 4] * 4 + [[BLUE] * 4] * 4  # red on top, blue below
    bmi, bits = dib24(pixels)
    params = struct.pack("<I9h", 0x00CC0020, 0, 4, 4, 0, 0, 40, 40, 0, 0)
    body = params + bmi + bits
    record = struct.pack("<IH", 3 + len(body) // 2, 0x0F43) + body
    img = np.asarray(render(wmf(record, bbox=(0, 0, 40, 40), inch=96)))
    assert at(img, 20, 20) == BLUE
    # The same source rectangle through DIBStretchBlt (a StretchBlt from a device bitmap)
    # counts from the top.
    img = np.asarray(
        render(wmf(dib_stretch_blt(0, 0, 40, 40, 0x00CC0020, (0, 0, 4, 4), bmi + bits), bbox=(0, 0, 40, 40), inch=96))
    )
    assert at(img, 20, 20) == RED
