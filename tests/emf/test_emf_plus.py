"""EMF+ records: played for EMF+-only files (with the GDI records after EmfPlusGetDC), and
for dual files whose GDI records draw nothing."""

from __future__ import annotations

import struct

import numpy as np
from helpers.emf_build import (
    create_brush,
    emf,
    plus,
    plus_comment,
    plus_header,
    rectangle,
    select,
    wmf,
    wrec,
)

from dicomify.emf import render

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def argb(r: int, g: int, b: int, a: int = 255) -> int:
    return (a << 24) | (r << 16) | (g << 8) | b


def fill_rects(color: int, *rects: tuple[float, float, float, float]) -> bytes:
    data = struct.pack("<II", color, len(rects)) + b"".join(struct.pack("<4f", *r) for r in rects)
    return plus(0x400A, 0x8000, data)  # S flag: the brush is an inline colour


def test_fill_rects_with_inline_colour() -> None:
    img = np.asarray(render(emf(plus_comment(plus_header(), fill_rects(argb(*RED), (10, 10, 40, 40))))))
    assert at(img, 30, 30) == RED and at(img, 70, 70) == WHITE


def test_world_transform_and_page_unit() -> None:
    translate = plus(0x402D, 0, struct.pack("<2f", 50, 50))
    page = plus(0x4030, 2, struct.pack("<f", 1.0))  # UnitTypePixel, scale 1
    img = np.asarray(
        render(
            emf(
                plus_comment(
                    plus_header(),
                    page,
                    translate,
                    fill_rects(argb(*BLUE), (0, 0, 20, 20)),
                )
            )
        )
    )
    assert at(img, 60, 60) == BLUE and at(img, 20, 20) == WHITE


def test_solid_brush_object_and_fill_ellipse() -> None:
    brush = plus(0x4008, 0x0100 | 3, struct.pack("<III", 0xDBC01002, 0, argb(*RED)))  # object 3, type Brush
    ellipse = plus(0x400E, 0, struct.pack("<I4f", 3, 10, 10, 80, 80))
    img = np.asarray(render(emf(plus_comment(plus_header(), brush, ellipse))))
    assert at(img, 50, 50) == RED and at(img, 12, 12) == WHITE


def test_path_object_filled() -> None:
    points = struct.pack("<6f", 10, 10, 90, 10, 10, 90)
    path = struct.pack("<III", 0xDBC01002, 3, 0) + points + bytes((0, 1, 0x81)) + b"\x00"
    records = plus_comment(
        plus_header(),
        plus(0x4008, 0x0300 | 1, path),
        plus(0x4014, 0x8000 | 1, struct.pack("<I", argb(*RED))),
    )
    img = np.asarray(render(emf(records)))
    assert at(img, 25, 25) == RED and at(img, 80, 80) == WHITE


def test_clip_rect_limits_fills() -> None:
    clip = plus(0x4032, 0, struct.pack("<4f", 0, 0, 50, 100))  # replace
    img = np.asarray(render(emf(plus_comment(plus_header(), clip, fill_rects(argb(*RED), (0, 0, 100, 100))))))
    assert at(img, 25, 50) == RED and at(img, 75, 50) == WHITE


def test_dual_file_draws_its_gdi_records() -> None:
    data = emf(
        plus_comment(plus_header(dual=True), fill_rects(argb(*BLUE), (0, 0, 100, 100))),
        create_brush(1, RED),
        select(1),
        rectangle(10, 10, 90, 90),
    )
    img = np.asarray(render(data))
    assert at(img, 50, 50) == RED and at(img, 5, 5) == WHITE


def test_damaged_emf_plus_record_is_a_clean_error() -> None:
    import pytest

    from dicomify.errors import CorruptImageError

    bad = plus_comment(plus_header(), struct.pack("<HHII", 0x400A, 0x8000, 4, 0))
    with pytest.raises(CorruptImageError, match="EMF\\+"):
        render(emf(bad))


def test_plus_only_file_draws_emf_plus_and_the_gdi_records_after_get_dc() -> None:
    # A GDI+ picture mixing both (metafile-render's GDI+-written "mixed" sample): EMF+ fills,
    # then EmfPlusGetDC and GDI records. Both parts are drawn; before, the GDI part alone was.
    data = emf(
        plus_comment(plus_header(), fill_rects(argb(*RED), (0, 0, 40, 40)), plus(0x4004)),
        create_brush(1, BLUE),
        select(1),
        rectangle(60, 60, 90, 90),
        plus_comment(fill_rects(argb(*RED), (60, 0, 90, 30))),
    )
    img = np.asarray(render(data))
    assert at(img, 20, 20) == RED and at(img, 75, 75) == BLUE and at(img, 75, 15) == RED


def test_plus_only_file_skips_gdi_records_without_get_dc() -> None:
    data = emf(
        plus_comment(plus_header(), fill_rects(argb(*RED), (0, 0, 40, 40))),
        create_brush(1, BLUE),
        select(1),
        rectangle(60, 60, 90, 90),  # no GetDC before it: the GDI record is not drawn
    )
    img = np.asarray(render(data))
    assert at(img, 20, 20) == RED and at(img, 75, 75) == WHITE


def test_metafile_image_of_a_placeable_wmf_as_gdi_plus_writes_it() -> None:
    # EmfPlusImage of type Metafile holding a placeable WMF (MetafileTypeWmfPlaceable): GDI+
    # pads the 22-byte placeable header to 24 and counts the size without it.
    picture = wmf(
        wrec(0x02FC, 0, 0x00FF, 0, 0),  # CreateBrushIndirect: solid red (COLORREF 0x0000FF)
        wrec(0x012D, 0),
        wrec(0x041B, 100, 100, 0, 0),  # Rectangle over the whole picture
        bbox=(0, 0, 100, 100),
        inch=96,
    )
    padded = picture[:22] + b"\x00\x00" + picture[22:]
    image = struct.pack("<IIII", 0xDBC01002, 2, 2, len(picture) - 22) + padded
    define = plus(0x4008, 0x0500 | 0, image)  # object 0, type Image
    draw = plus(0x401A, 0, struct.pack("<Ii4f4f", 0, 2, 0, 0, 100, 100, 20, 20, 60, 60))  # DrawImage into 20..80
    img = np.asarray(render(emf(plus_comment(plus_header(), define, draw))))
    assert at(img, 50, 50) == RED and at(img, 10, 10) == WHITE and at(img, 90, 90) == WHITE


def test_placeable_wmf_header_padded_to_24_bytes() -> None:
    picture = wmf(wrec(0x02FC, 0, 0x00FF, 0, 0), wrec(0x012D, 0), wrec(0x041B, 80, 80, 20, 20))
    padded = picture[:22] + b"\x00\x00" + picture[22:]
    img = np.asarray(render(padded))
    assert img.shape[:2] == (100, 100) and at(img, 50, 50) == RED and at(img, 5, 5) == WHITE
