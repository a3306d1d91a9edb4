"""The EMF renderer, one record family per test, on files built here (see emf_build.py).

Frames are 100x100 reference pixels at 96 dpi, so logical units are output pixels
unless a test sets a mapping mode or transform.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from helpers.emf_build import (
    NULL_BRUSH,
    NULL_PEN,
    create_brush,
    create_pen,
    ellipse,
    emf,
    ext_text_out_w,
    font,
    polygon16,
    polygon32,
    rec,
    rectangle,
    select,
    stretch_dibits,
)

from dicomify.emf import render

RED, GREEN, BLUE, WHITE, BLACK = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 255),
    (0, 0, 0),
)


def pixels(*records: bytes, **kwargs: object) -> np.ndarray:
    return np.asarray(render(emf(*records), **kwargs))  # type: ignore[arg-type]


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def red_fill() -> list[bytes]:
    return [create_brush(1, RED), select(1), select(NULL_PEN)]


def test_output_size_and_white_background() -> None:
    img = pixels()
    assert img.shape == (100, 100, 3)
    assert (img == 255).all()


def test_dpi_scales_the_picture() -> None:
    img = pixels(*red_fill(), rectangle(10, 10, 50, 50), dpi=192)
    assert img.shape == (200, 200, 3)
    assert at(img, 60, 60) == RED and at(img, 110, 110) == WHITE


def test_rectangle_filled_with_solid_brush_and_outlined_by_pen() -> None:
    img = pixels(
        create_brush(1, RED),
        select(1),
        create_pen(2, 0, 5, BLUE),
        select(2),
        rectangle(20, 20, 80, 80),
    )
    assert at(img, 50, 50) == RED
    assert at(img, 20, 50) == BLUE
    assert at(img, 10, 10) == WHITE


def test_ellipse_fills_its_centre_not_its_corners() -> None:
    img = pixels(*red_fill(), ellipse(10, 10, 90, 90))
    assert at(img, 50, 50) == RED
    assert at(img, 14, 14) == WHITE


def test_round_rect_cuts_its_corners() -> None:
    img = pixels(*red_fill(), rec(44, struct.pack("<6i", 10, 10, 90, 90, 40, 40)))
    assert at(img, 50, 12) == RED
    assert at(img, 12, 12) == WHITE


@pytest.mark.parametrize("builder, rtype", [(polygon16, 86), (polygon32, 3)])
def test_polygon_16_and_32_bit(builder: object, rtype: int) -> None:
    img = pixels(*red_fill(), builder([(10, 10), (90, 10), (10, 90)], rtype))  # type: ignore[operator]
    assert at(img, 25, 25) == RED
    assert at(img, 80, 80) == WHITE


@pytest.mark.parametrize("builder, rtype", [(polygon16, 87), (polygon32, 4)])
def test_polyline_strokes_without_filling(builder: object, rtype: int) -> None:
    img = pixels(
        create_brush(1, RED),
        select(1),
        create_pen(2, 0, 4, BLUE),
        select(2),
        builder([(10, 50), (90, 50), (90, 90)], rtype),
    )  # type: ignore[operator]
    assert at(img, 50, 50) == BLUE
    assert at(img, 60, 70) == WHITE


def test_polybezier16_passes_near_its_midpoint() -> None:
    img = pixels(
        create_pen(1, 0, 4, BLUE),
        select(1),
        polygon16([(10, 90), (10, 10), (90, 10), (90, 90)], 85),
    )
    # The curve's midpoint is at (50, 30).
    assert at(img, 50, 30) == BLUE
    assert at(img, 50, 80) == WHITE


def test_polypolygon16_fills_each_polygon() -> None:
    counts = struct.pack("<2I", 3, 3)
    pts = [(5, 5), (45, 5), (5, 45), (55, 55), (95, 55), (55, 95)]
    flat = struct.pack("<12h", *[c for p in pts for c in p])
    img = pixels(*red_fill(), rec(91, struct.pack("<4iII", 0, 0, 0, 0, 2, 6) + counts + flat))
    assert at(img, 15, 15) == RED and at(img, 65, 65) == RED and at(img, 40, 60) == WHITE


def test_move_to_and_line_to() -> None:
    img = pixels(
        create_pen(1, 0, 6, GREEN),
        select(1),
        rec(27, struct.pack("<2i", 10, 50)),
        rec(54, struct.pack("<2i", 90, 50)),
    )
    assert at(img, 50, 50) == GREEN and at(img, 50, 30) == WHITE


def test_dashed_pen_leaves_gaps() -> None:
    img = pixels(
        create_pen(1, 0x10000 | 0x200 | 1, 4, BLACK),
        select(1),
        rec(27, struct.pack("<2i", 0, 50)),
        rec(54, struct.pack("<2i", 100, 50)),
    )
    row = img[50, :, 0]
    assert (row < 64).any() and (row > 192).any()


def test_pie_chord_and_arc() -> None:
    box = struct.pack("<4i", 10, 10, 90, 90)
    # Start at 3 o'clock, end at 12 o'clock, counter-clockwise: the top-right quarter.
    pie = pixels(*red_fill(), rec(47, box + struct.pack("<4i", 90, 50, 50, 10)))
    assert at(pie, 65, 35) == RED and at(pie, 35, 65) == WHITE and at(pie, 35, 35) == WHITE
    chord = pixels(*red_fill(), rec(46, box + struct.pack("<4i", 90, 50, 50, 10)))
    assert at(chord, 75, 25) == RED and at(chord, 60, 40) == WHITE
    arc = pixels(
        create_pen(1, 0, 4, BLUE),
        select(1),
        rec(45, box + struct.pack("<4i", 90, 50, 50, 10)),
    )
    assert at(arc, 78, 22) == BLUE and at(arc, 22, 78) == WHITE


def test_path_bracket_fill() -> None:
    img = pixels(
        *red_fill(),
        rec(59),
        polygon16([(10, 10), (90, 10), (90, 90)], 86),
        rec(60),
        rec(62, struct.pack("<4i", 0, 0, 0, 0)),
    )
    assert at(img, 75, 25) == RED and at(img, 25, 75) == WHITE


def test_path_bracket_stroke_draws_nothing_until_stroked() -> None:
    only_bracket = pixels(
        create_pen(1, 0, 4, BLUE),
        select(1),
        rec(59),
        rectangle(10, 10, 90, 90),
        rec(60),
    )
    assert (only_bracket == 255).all()
    stroked = pixels(
        create_pen(1, 0, 4, BLUE),
        select(1),
        rec(59),
        rectangle(10, 10, 90, 90),
        rec(60),
        rec(64, struct.pack("<4i", 0, 0, 0, 0)),
    )
    assert at(stroked, 10, 50) == BLUE and at(stroked, 50, 50) == WHITE


def test_intersect_clip_rect() -> None:
    img = pixels(
        *red_fill(),
        rec(30, struct.pack("<4i", 0, 0, 50, 100)),
        rectangle(10, 10, 90, 90),
    )
    assert at(img, 30, 50) == RED and at(img, 70, 50) == WHITE


def test_exclude_clip_rect_and_restore_dc() -> None:
    img = pixels(
        *red_fill(),
        rec(33),
        rec(29, struct.pack("<4i", 40, 40, 60, 60)),
        rectangle(10, 10, 90, 90),
        rec(34, struct.pack("<i", -1)),
        create_brush(2, BLUE),
        select(2),
        rectangle(45, 45, 55, 55),
    )
    assert at(img, 20, 20) == RED and at(img, 42, 50) == WHITE and at(img, 50, 50) == BLUE


def test_select_clip_path() -> None:
    img = pixels(
        *red_fill(),
        rec(59),
        ellipse(0, 0, 100, 100),
        rec(60),
        rec(67, struct.pack("<I", 5)),
        rectangle(0, 0, 100, 100),
    )
    assert at(img, 50, 50) == RED and at(img, 3, 3) == WHITE


def test_ext_select_clip_rgn_in_device_units() -> None:
    region = struct.pack("<4I4i", 32, 1, 1, 16, 0, 0, 50, 50) + struct.pack("<4i", 0, 0, 50, 50)
    img = pixels(
        *red_fill(),
        rec(75, struct.pack("<II", len(region), 5) + region),
        rectangle(0, 0, 100, 100),
    )
    assert at(img, 25, 25) == RED and at(img, 75, 75) == WHITE


def test_window_and_viewport_extents_scale_logical_units() -> None:
    img = pixels(
        *red_fill(),
        rec(17, struct.pack("<I", 8)),
        rec(9, struct.pack("<2i", 1000, 1000)),
        rec(11, struct.pack("<2i", 100, 100)),
        rec(10, struct.pack("<2i", 0, 0)),
        rectangle(0, 0, 500, 500),
    )
    assert at(img, 40, 40) == RED and at(img, 60, 60) == WHITE


def test_himetric_mapping_mode_flips_y() -> None:
    # 1 logical unit = 0.01 mm, y up: the rectangle lies above the origin.
    img = pixels(
        *red_fill(),
        rec(17, struct.pack("<I", 3)),
        rec(12, struct.pack("<2i", 0, 100)),
        rectangle(0, 0, 1000, 1000),
    )
    assert at(img, 20, 80) == RED and at(img, 20, 40) == WHITE and at(img, 60, 80) == WHITE


def test_world_transform_translates_and_scales() -> None:
    xform = struct.pack("<6f", 2.0, 0.0, 0.0, 2.0, 50.0, 0.0)
    img = pixels(*red_fill(), rec(35, xform), rectangle(0, 0, 20, 20))
    assert at(img, 70, 30) == RED and at(img, 30, 30) == WHITE


def test_modify_world_transform_left_multiply() -> None:
    img = pixels(
        *red_fill(),
        rec(35, struct.pack("<6f", 1, 0, 0, 1, 50, 0)),
        rec(36, struct.pack("<6fI", 2, 0, 0, 2, 0, 0, 2)),
        rectangle(0, 0, 20, 20),
    )
    # Scale first, then translate: covers x 50..90.
    assert at(img, 85, 30) == RED and at(img, 40, 30) == WHITE


def test_hatched_brush_mixes_colour_and_background() -> None:
    img = pixels(
        create_brush(1, BLACK, style=2, hatch=4),
        select(1),
        select(NULL_PEN),
        rectangle(0, 0, 100, 100),
    )
    values = img[20:60, 20:60, 0]
    assert (values < 64).any() and (values > 192).any()


def test_null_brush_and_null_pen_draw_nothing() -> None:
    img = pixels(select(NULL_BRUSH), select(NULL_PEN), rectangle(10, 10, 90, 90))
    assert (img == 255).all()


def test_stock_black_brush() -> None:
    img = pixels(select(0x80000004), rectangle(10, 10, 90, 90))
    assert at(img, 50, 50) == BLACK


def test_ext_text_out_draws_text_in_the_text_colour() -> None:
    img = pixels(
        font(1, -40),
        select(1),
        rec(24, struct.pack("<I", 0xFF)),
        rec(18, struct.pack("<I", 1)),
        ext_text_out_w(5, 20, "HH"),
    )
    ink = img[20:60, 5:60]
    red = (ink[..., 0] > 200) & (ink[..., 1] < 60)
    assert red.sum() > 100
    assert (img[70:, :] == 255).all()  # top-aligned: nothing far below the reference point


def test_text_alignment_right() -> None:
    img = pixels(
        font(1, -30),
        select(1),
        rec(22, struct.pack("<I", 2)),
        rec(18, struct.pack("<I", 1)),
        ext_text_out_w(95, 30, "MM"),
    )
    dark = img[..., 0] < 128
    cols = np.nonzero(dark.any(axis=0))[0]
    assert cols.max() <= 96 and cols.min() > 30


def test_text_escapement_turns_the_baseline() -> None:
    img = pixels(
        font(1, -20, escapement=900),
        select(1),
        rec(18, struct.pack("<I", 1)),
        rec(22, struct.pack("<I", 24)),
        ext_text_out_w(50, 95, "IIIIIIII"),
    )
    dark = img[..., 0] < 128
    rows = np.nonzero(dark.any(axis=1))[0]
    cols = np.nonzero(dark.any(axis=0))[0]
    assert rows.max() - rows.min() > 2 * (cols.max() - cols.min())


def test_opaque_text_background() -> None:
    img = pixels(
        font(1, -30),
        select(1),
        rec(25, struct.pack("<I", 0x00FF00)),
        rec(18, struct.pack("<I", 2)),
        ext_text_out_w(10, 10, "i"),
    )
    assert ((img[..., 1] == 255) & (img[..., 0] < 20)).sum() > 20


def test_stretch_dibits_scales_a_bitmap() -> None:
    img = pixels(stretch_dibits(0, 0, 100, 100, [[RED, GREEN], [BLUE, WHITE]]))
    assert at(img, 20, 20) == RED and at(img, 80, 20) == GREEN and at(img, 20, 80) == BLUE


def test_bitblt_without_bitmap_fills_with_the_brush() -> None:
    payload = struct.pack("<4i4iIii6f", 0, 0, 0, 0, 10, 10, 50, 50, 0x00F00021, 0, 0, 1, 0, 0, 1, 0, 0)
    payload += struct.pack("<6I", 0, 0, 0, 0, 0, 0)
    img = pixels(create_brush(1, BLUE), select(1), rec(76, payload))
    assert at(img, 30, 30) == BLUE and at(img, 80, 80) == WHITE


def test_unknown_records_are_skipped() -> None:
    img = pixels(rec(250, b"\x01\x02\x03\x04"), *red_fill(), rectangle(10, 10, 90, 90))
    assert at(img, 50, 50) == RED


def test_escapement_follows_a_y_up_mapping_mode() -> None:
    # MM_LOMETRIC (y up): the escapement turns in logical space, so 2700 reads upwards on the
    # page, as chart programs write their y-axis titles and LibreOffice draws them.
    records = [
        rec(17, struct.pack("<I", 2)),
        rec(12, struct.pack("<2i", 0, 100)),
        font(1, -50, escapement=2700),
        select(1),
        rec(18, struct.pack("<I", 1)),
        rec(22, struct.pack("<I", 24)),
    ]
    ref = pixels(*records, ext_text_out_w(130, 30, "L"))
    dark = ref[..., 0] < 128
    rows = np.nonzero(dark.any(axis=1))[0]
    cols = np.nonzero(dark.any(axis=0))[0]
    # The reference point is at y = 100 - 30*0.378 = 89 px; upright-rotated text lies above it.
    assert rows.max() <= 90 and rows.min() < 80
    assert cols.max() <= 52


def test_long_dashed_polyline_drawn_in_pieces_looks_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import dicomify.emf._gdi as gdi

    points = [(i, 1250) for i in range(2501)]  # 2500 logical units across 100 pixels
    records = [
        rec(17, struct.pack("<I", 8)),
        rec(9, struct.pack("<2i", 2500, 2500)),
        rec(11, struct.pack("<2i", 100, 100)),
        create_pen(1, 0x10000 | 0x200 | 1, 50, BLACK),  # geometric, flat caps, dashed, 2 px
        select(1),
        polygon32(points, 4),
    ]
    pieces = pixels(*records)
    monkeypatch.setattr(gdi, "_CHUNK", 10**6)
    whole = pixels(*records)
    assert (pieces[50, :, 0] < 128).any() and (pieces[50, :, 0] > 200).any()
    assert np.abs(pieces.astype(int) - whole.astype(int)).max() <= 8
