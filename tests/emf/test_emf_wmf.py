"""WMF playback: placeable and bare files built here, 16-bit records with reversed parameters."""

from __future__ import annotations

import struct

import numpy as np
from helpers.emf_build import wmf, wrec

from dicomify.emf import is_wmf, render

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def brush(r: int, g: int, b: int) -> bytes:
    color = r | (g << 8) | (b << 16)
    return wrec(0x02FC, 0, color & 0xFFFF, color >> 16, 0)


def pen(width: int, r: int, g: int, b: int, style: int = 0) -> bytes:
    color = r | (g << 8) | (b << 16)
    return wrec(0x02FA, style, width, 0, color & 0xFFFF, color >> 16)


NULL_PEN = pen(0, 0, 0, 0, style=5)


def test_placeable_header_is_sniffed_and_sizes_the_picture() -> None:
    data = wmf(bbox=(0, 0, 200, 100), inch=96)
    assert is_wmf(data[:64])
    assert render(data).size == (200, 100)


def test_placeable_units_per_inch() -> None:
    # 1440 units per inch (twips): 1440 x 720 units is 1 x 0.5 inch, 96 x 48 pixels.
    assert render(wmf(bbox=(0, 0, 1440, 720), inch=1440)).size == (96, 48)


def test_rectangle_with_brush_and_pen_objects() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*RED),
                wrec(0x012D, 0),
                pen(5, *BLUE),
                wrec(0x012D, 1),
                wrec(0x041B, 80, 80, 20, 20),  # bottom, right, top, left
            )
        )
    )
    assert at(img, 50, 50) == RED and at(img, 20, 50) == BLUE and at(img, 5, 5) == WHITE


def test_objects_take_the_lowest_free_slot() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*BLUE),
                brush(*RED),
                wrec(0x01F0, 0),  # delete slot 0: the next object reuses it
                brush(0, 255, 0),
                wrec(0x012D, 0),
                NULL_PEN,
                wrec(0x012D, 2),
                wrec(0x041B, 80, 80, 20, 20),
            )
        )
    )
    assert at(img, 50, 50) == (0, 255, 0)


def test_polygon_and_window_extent() -> None:
    points = [(0, 0), (1000, 0), (0, 1000)]
    flat = [c for p in points for c in p]
    img = np.asarray(
        render(
            wmf(
                wrec(0x020B, 0, 0),
                wrec(0x020C, 1000, 1000),  # window ext (y, x): 1000 units across 100 px
                brush(*RED),
                wrec(0x012D, 0),
                NULL_PEN,
                wrec(0x012D, 1),
                wrec(0x0324, len(points), *flat),
            )
        )
    )
    assert at(img, 20, 20) == RED and at(img, 80, 80) == WHITE


def test_ellipse_and_line() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*RED),
                wrec(0x012D, 0),
                NULL_PEN,
                wrec(0x012D, 1),
                wrec(0x0418, 90, 90, 10, 10),
                pen(4, *BLUE),
                wrec(0x012D, 2),
                wrec(0x0214, 5, 0),
                wrec(0x0213, 5, 100),
            )
        )
    )
    assert at(img, 50, 50) == RED and at(img, 12, 12) == WHITE and at(img, 50, 5) == BLUE


def test_text_out() -> None:
    face = b"Liberation Sans".ljust(32, b"\x00")
    logfont = struct.pack("<5h8B", -30, 0, 0, 0, 400, 0, 0, 0, 0, 0, 0, 0, 0) + face
    words = struct.unpack(f"<{len(logfont) // 2}H", logfont)
    text = b"HI"
    img = np.asarray(
        render(
            wmf(
                wrec(0x02FB, *words),
                wrec(0x012D, 0),
                wrec(0x0102, 1),
                wrec(0x0521, len(text), *struct.unpack("<H", text), 10, 10),  # count, string, y, x
            )
        )
    )
    assert (img[10:45, 10:60, 0] < 128).sum() > 50


def test_bare_wmf_sized_by_its_window() -> None:
    data = wmf(
        wrec(0x020B, 0, 0),
        wrec(0x020C, 50, 80),
        brush(*RED),
        wrec(0x012D, 0),
        wrec(0x041B, 50, 80, 0, 0),
        placeable=False,
    )
    assert is_wmf(data[:64])
    img = np.asarray(render(data))
    assert img.shape == (50, 80, 3)
    assert at(img, 40, 25) == RED
