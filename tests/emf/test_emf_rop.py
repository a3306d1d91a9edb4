"""Raster operations of BitBlt / StretchDIBits / PatBlt, EMF and WMF, with expected pixels.

Each test paints the destination one colour (D), selects a brush of another (P) and blits
a source of four colour blocks (S) with one raster operation; every block must come out
as the operation's formula on those bytes, written out here per operation (MS-WMF 2.1.1.31),
and the pixels around the blit must be untouched.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import pytest
from helpers.emf_build import (
    NULL_PEN,
    bitblt,
    create_brush,
    dib24,
    emf,
    rec,
    rectangle,
    select,
    stretch_dibits,
    wmf,
    wmf_dib_bitblt,
    wmf_dib_stretch,
    wrec,
)

from dicomify.emf import _gdi, render
from dicomify.emf._rop import apply

Pixel = tuple[int, int, int]
Op = Callable[[int, int, int], int]  # (pattern, source, destination) byte -> result byte

DEST: Pixel = (0x5A, 0xC3, 0x0F)
BRUSH: Pixel = (0x96, 0x69, 0x3C)
# Source blocks, top-left, top-right, bottom-left, bottom-right: mixed bits in every channel.
BLOCKS: list[Pixel] = [(0xF0, 0x33, 0x81), (0x0F, 0xCC, 0x7E), (0xFF, 0x00, 0xA5), (0x12, 0x34, 0x56)]
AT, SIDE, BLOCK = 30, 40, 20  # the blit covers (30, 30)-(70, 70), four 20x20 blocks


def _n(v: int) -> int:
    return ~v & 0xFF


# name, 32-bit code, formula
SOURCE_OPS: list[tuple[str, int, Op]] = [
    ("SRCCOPY", 0x00CC0020, lambda p, s, d: s),
    ("SRCAND", 0x008800C6, lambda p, s, d: s & d),
    ("SRCPAINT", 0x00EE0086, lambda p, s, d: s | d),
    ("SRCINVERT", 0x00660046, lambda p, s, d: s ^ d),
    ("NOTSRCCOPY", 0x00330008, lambda p, s, d: _n(s)),
    ("SRCERASE", 0x00440328, lambda p, s, d: s & _n(d)),
    ("NOTSRCERASE", 0x001100A6, lambda p, s, d: _n(s | d)),
    ("MERGECOPY", 0x00C000CA, lambda p, s, d: p & s),
    ("MERGEPAINT", 0x00BB0226, lambda p, s, d: _n(s) | d),
    ("PATPAINT", 0x00FB0A09, lambda p, s, d: p | _n(s) | d),
]
PATTERN_OPS: list[tuple[str, int, Op]] = [
    ("PATCOPY", 0x00F00021, lambda p, s, d: p),
    ("PATINVERT", 0x005A0049, lambda p, s, d: p ^ d),
    ("DSTINVERT", 0x00550009, lambda p, s, d: _n(d)),
    ("BLACKNESS", 0x00000042, lambda p, s, d: 0),
    ("WHITENESS", 0x00FF0062, lambda p, s, d: 0xFF),
]


def source_pixels() -> list[list[Pixel]]:
    rows = []
    for y in range(SIDE):
        rows.append([BLOCKS[(y // BLOCK) * 2 + x // BLOCK] for x in range(SIDE)])
    return rows


def expected(op: Op, source: Pixel | None) -> Pixel:
    s = source or (0, 0, 0)
    return tuple(op(p, v, d) for p, v, d in zip(BRUSH, s, DEST, strict=True))  # type: ignore[return-value]


def emf_pixels(blit: bytes) -> np.ndarray:
    return np.asarray(
        render(
            emf(
                create_brush(1, DEST),
                select(1),
                select(NULL_PEN),
                rectangle(-10, -10, 110, 110),
                create_brush(2, BRUSH),
                select(2),
                blit,
            )
        )
    )


def wmf_brush(color: Pixel) -> bytes:
    ref = color[0] | (color[1] << 8) | (color[2] << 16)
    return wrec(0x02FC, 0, ref & 0xFFFF, ref >> 16, 0)


def wmf_pixels(blit: bytes) -> np.ndarray:
    return np.asarray(
        render(
            wmf(
                wmf_brush(DEST),
                wrec(0x012D, 0),
                wrec(0x02FA, 5, 0, 0, 0, 0),  # null pen
                wrec(0x012D, 1),
                wrec(0x041B, 110, 110, -10, -10),  # bottom, right, top, left
                wmf_brush(BRUSH),
                wrec(0x012D, 2),
                blit,
            )
        )
    )


def check(img: np.ndarray, op: Op, uses_source: bool) -> None:
    for i, block in enumerate(BLOCKS):
        x0 = AT + (i % 2) * BLOCK
        y0 = AT + (i // 2) * BLOCK
        want = expected(op, block if uses_source else None)
        area = img[y0 : y0 + BLOCK, x0 : x0 + BLOCK].reshape(-1, 3)
        assert (area == want).all(), f"block {i}: {sorted({tuple(map(int, v)) for v in area})} != {want}"
    # Outside the destination rectangle nothing changed.
    for x, y in ((AT - 1, AT), (AT + SIDE, AT), (AT, AT - 1), (AT, AT + SIDE), (5, 5)):
        assert tuple(int(v) for v in img[y, x]) == DEST


@pytest.mark.parametrize(("name", "rop", "op"), SOURCE_OPS, ids=[o[0] for o in SOURCE_OPS])
def test_emf_stretch_dibits(name: str, rop: int, op: Op) -> None:
    check(emf_pixels(stretch_dibits(AT, AT, SIDE, SIDE, source_pixels(), rop=rop)), op, True)


@pytest.mark.parametrize(("name", "rop", "op"), SOURCE_OPS, ids=[o[0] for o in SOURCE_OPS])
def test_emf_bitblt(name: str, rop: int, op: Op) -> None:
    check(emf_pixels(bitblt(AT, AT, SIDE, SIDE, rop, source_pixels())), op, True)


@pytest.mark.parametrize(("name", "rop", "op"), PATTERN_OPS, ids=[o[0] for o in PATTERN_OPS])
def test_emf_pattern_blit(name: str, rop: int, op: Op) -> None:
    check(emf_pixels(bitblt(AT, AT, SIDE, SIDE, rop)), op, False)


@pytest.mark.parametrize(("name", "rop", "op"), SOURCE_OPS, ids=[o[0] for o in SOURCE_OPS])
def test_wmf_stretch_dib(name: str, rop: int, op: Op) -> None:
    check(wmf_pixels(wmf_dib_stretch(AT, AT, SIDE, SIDE, rop, source_pixels())), op, True)


@pytest.mark.parametrize(("name", "rop", "op"), SOURCE_OPS, ids=[o[0] for o in SOURCE_OPS])
def test_wmf_dib_bitblt(name: str, rop: int, op: Op) -> None:
    check(wmf_pixels(wmf_dib_bitblt(AT, AT, SIDE, SIDE, rop, source_pixels())), op, True)


@pytest.mark.parametrize(("name", "rop", "op"), PATTERN_OPS, ids=[o[0] for o in PATTERN_OPS])
def test_wmf_pattern_blits(name: str, rop: int, op: Op) -> None:
    # The same operation as a DIBBitBlt without a bitmap and as a PatBlt.
    check(wmf_pixels(wmf_dib_bitblt(AT, AT, SIDE, SIDE, rop)), op, False)
    patblt = wrec(0x061D, rop & 0xFFFF, rop >> 16, SIDE, SIDE, AT, AT)  # rop, h, w, y, x
    check(wmf_pixels(patblt), op, False)


def test_icon_mask_then_image_leaves_no_black_box() -> None:
    # An OLE icon: an AND mask (white = keep the background, black = icon) blitted with
    # SRCAND, then the image (black outside the icon) with SRCINVERT; scaled 2x.
    white, black, red, blue = (255, 255, 255), (0, 0, 0), (255, 0, 0), (0, 0, 255)
    mask = [[black if 2 <= x < 8 and 2 <= y < 8 else white for x in range(10)] for y in range(10)]
    image = [[(red if x < 5 else blue) if 2 <= x < 8 and 2 <= y < 8 else black for x in range(10)] for y in range(10)]
    img = emf_pixels(
        stretch_dibits(AT, AT, 20, 20, mask, rop=0x008800C6) + stretch_dibits(AT, AT, 20, 20, image, rop=0x00660046)
    )
    icon = img[AT : AT + 20, AT : AT + 20]
    assert (icon[:4] == DEST).all() and (icon[:, :4] == DEST).all()  # the mask's white border
    assert (icon[4:16, 4:10] == red).all() and (icon[4:16, 10:16] == blue).all()
    assert not (icon == 0).all(axis=-1).any()  # no black pixel anywhere


def test_clip_limits_a_raster_operation() -> None:
    # IntersectClipRect (EMR 30) to the left half of the blit: the right half stays D.
    clip = rec(30, np.array([AT, AT, AT + BLOCK, AT + SIDE], "<i4").tobytes())
    img = emf_pixels(clip + bitblt(AT, AT, SIDE, SIDE, 0x00550009))
    assert (img[AT : AT + SIDE, AT : AT + BLOCK] == [_n(v) for v in DEST]).all()
    assert (img[AT : AT + SIDE, AT + BLOCK : AT + SIDE] == DEST).all()


def test_every_truth_table_matches_its_definition() -> None:
    # The generic evaluator against the truth table read bit by bit, for all 256 codes.
    values = np.arange(256, dtype=np.uint8)
    p, s, d = np.meshgrid(values[::17], values[::5], values[::3], indexing="ij")
    for code in range(256):
        got = apply(code, p, s, d)
        want = np.zeros_like(d)
        for bit in range(8):
            index = ((p >> bit) & 1) * 4 + ((s >> bit) & 1) * 2 + ((d >> bit) & 1)
            want |= (((code >> index) & 1) << bit).astype(np.uint8)
        assert (got == want).all(), f"raster operation {code:#04x}"


def mask_blt(rop4: int, mask_left_white: bool = True) -> bytes:
    """EMR_MASKBLT (MS-EMF 2.3.1.3) of the four-block source with a 1-bit mask whose left half
    is 1 (white) and right half 0 (black), or the other way round."""
    bmi_s, bits_s = dib24(source_pixels())
    row = (0xFFFFF00000 if mask_left_white else 0x00000FFFFF).to_bytes(5, "big") + bytes(3)  # 40 bits, padded
    bits_m = row * SIDE
    bmi_m = struct.pack("<IiiHHIIiiII", 40, SIDE, SIDE, 1, 1, 0, len(bits_m), 0, 0, 2, 0)
    bmi_m += bytes((0, 0, 0, 0, 255, 255, 255, 0))  # palette: 0 black, 1 white
    off_bmi_s = 128
    off_bits_s = off_bmi_s + len(bmi_s)
    off_bmi_m = off_bits_s + len(bits_s)
    off_bits_m = off_bmi_m + len(bmi_m)
    payload = struct.pack(
        "<4i4iI2i6fII4I2iI4I",
        *(0, 0, 0, 0),
        *(AT, AT, SIDE, SIDE),
        rop4,
        *(0, 0),
        *(1, 0, 0, 1, 0, 0),
        0,
        0,
        *(off_bmi_s, len(bmi_s), off_bits_s, len(bits_s)),
        *(0, 0),
        0,
        *(off_bmi_m, len(bmi_m), off_bits_m, len(bits_m)),
    )
    return rec(78, payload + bmi_s + bits_s + bmi_m + bits_m)


@pytest.mark.parametrize(
    ("fore", "back"),
    [
        (SOURCE_OPS[0], ("DEST", 0x00AA0029, lambda p, s, d: d)),
        (SOURCE_OPS[3], PATTERN_OPS[3]),
        (SOURCE_OPS[1], SOURCE_OPS[4]),
    ],
    ids=["SRCCOPY/DEST", "SRCINVERT/BLACKNESS", "SRCAND/NOTSRCCOPY"],
)
def test_emf_mask_blt(fore: tuple[str, int, Op], back: tuple[str, int, Op]) -> None:
    # MaskBlt: the foreground operation where the mask is 1, the background one where 0
    # (MAKEROP4(fore, back) = back << 24 | fore).
    rop4 = ((back[1] >> 16 & 0xFF) << 24) | (fore[1] & 0x00FFFFFF)
    img = emf_pixels(mask_blt(rop4))
    for i, block in enumerate(BLOCKS):
        x0, y0 = AT + (i % 2) * BLOCK, AT + (i // 2) * BLOCK
        op = fore[2] if i % 2 == 0 else back[2]  # left blocks under the mask's 1 bits
        want = expected(op, block)
        assert (img[y0 : y0 + BLOCK, x0 : x0 + BLOCK] == want).all(), f"block {i}"


@pytest.mark.parametrize(("name", "rop", "op"), [SOURCE_OPS[3], PATTERN_OPS[1]], ids=["SRCINVERT", "PATINVERT"])
def test_blit_in_bands_gives_the_same_pixels(name: str, rop: int, op: Op, monkeypatch: pytest.MonkeyPatch) -> None:
    # Large blits are combined a band of rows at a time; bands of a row or two must not
    # change a pixel (nor leave seams between bands).
    monkeypatch.setattr(_gdi, "_BLIT_BAND_PIXELS", 50)
    pixels = source_pixels() if name == "SRCINVERT" else None
    check(emf_pixels(bitblt(AT, AT, SIDE, SIDE, rop, pixels)), op, pixels is not None)
