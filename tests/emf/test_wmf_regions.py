"""WMF region records (MS-WMF 2.2.1.5, 2.3.3, 2.3.4.2, 2.3.5): CreateRegion, FillRegion,
PaintRegion, FrameRegion, InvertRegion, SelectClipRegion, OffsetClipRgn, and the old
CreatePatternBrush, each drawn on a 100 x 100 picture (one logical unit a pixel unless the
window says otherwise) and checked pixel by pixel."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from helpers.emf_build import wmf, wmf_region, wrec

from dicomify.emf import render
from dicomify.errors import CorruptImageError

RED, GREEN, BLUE, CYAN, BLACK, WHITE = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (0, 255, 255),
    (0, 0, 0),
    (255, 255, 255),
)
NULL_PEN = wrec(0x02FA, 5, 0, 0, 0, 0)
# Two bands: 10..30 with a gap between x 40 and 60, then 30..50 across.
NOTCHED = [(10, 30, [(10, 40), (60, 90)]), (30, 50, [(10, 90)])]


def brush(c: tuple[int, int, int]) -> bytes:
    v = c[0] | (c[1] << 8) | (c[2] << 16)
    return wrec(0x02FC, 0, v & 0xFFFF, v >> 16, 0)


def draw(*records: bytes, bbox: tuple[int, int, int, int] = (0, 0, 100, 100)) -> np.ndarray:
    return np.asarray(render(wmf(*records, bbox=bbox, inch=96)))


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def assert_notched(img: np.ndarray, color: tuple[int, int, int]) -> None:
    assert at(img, 20, 20) == color and at(img, 80, 20) == color  # the two pieces of the first band
    assert at(img, 50, 20) == WHITE  # the gap
    assert at(img, 50, 40) == color  # the second band
    assert at(img, 50, 60) == WHITE and at(img, 5, 40) == WHITE and at(img, 95, 40) == WHITE


@pytest.mark.parametrize(
    "order",
    ["windows", "spec"],
    ids=["brush-then-region (Windows' recorder)", "region-then-brush (MS-WMF's field list)"],
)
def test_fill_region_with_a_brush(order: str) -> None:
    # Region in slot 0, brush in slot 1; the record's words in either order name them.
    words = (1, 0) if order == "windows" else (0, 1)
    assert_notched(draw(wmf_region(NOTCHED), brush(RED), wrec(0x0228, *words)), RED)


def test_paint_region_with_the_current_brush() -> None:
    img = draw(wmf_region(NOTCHED), brush(GREEN), wrec(0x012D, 1), wrec(0x012B, 0))
    assert_notched(img, GREEN)


def test_region_goes_through_the_window_mapping() -> None:
    # A 200 x 200 window on the 100 x 100 picture: region coordinates are halved.
    doubled = [(2 * t, 2 * b, [(2 * x0, 2 * x1) for x0, x1 in pairs]) for t, b, pairs in NOTCHED]
    img = draw(wrec(0x020B, 0, 0), wrec(0x020C, 200, 200), wmf_region(doubled), brush(RED), wrec(0x0228, 1, 0))
    assert_notched(img, RED)


def test_frame_region_draws_inside_the_region() -> None:
    # Width 4 on the vertical edges, height 2 on the horizontal ones, inside 20..80.
    square = [(20, 80, [(20, 80)])]
    img = draw(wmf_region(square), brush(BLUE), wrec(0x0429, 2, 4, 1, 0))  # height, width, brush, region
    for x, y in ((20, 50), (23, 50), (79, 50), (76, 50), (50, 20), (50, 21), (50, 79), (50, 78)):
        assert at(img, x, y) == BLUE, (x, y)
    for x, y in ((24, 50), (75, 50), (50, 22), (50, 77), (50, 50), (19, 50), (80, 50), (50, 19), (50, 80)):
        assert at(img, x, y) == WHITE, (x, y)


def test_frame_region_of_a_notched_region_follows_every_edge() -> None:
    img = draw(wmf_region(NOTCHED), brush(BLUE), wrec(0x0429, 1, 1, 1, 0))
    assert at(img, 10, 20) == BLUE and at(img, 39, 20) == BLUE and at(img, 60, 20) == BLUE
    assert at(img, 50, 30) == BLUE  # the gap's floor is an edge of the second band
    assert at(img, 50, 49) == BLUE and at(img, 50, 40) == WHITE and at(img, 20, 20) == WHITE


def test_invert_region_complements_each_pixel() -> None:
    img = draw(
        NULL_PEN,
        wrec(0x012D, 0),
        brush(RED),
        wrec(0x012D, 1),
        wrec(0x041B, 100, 50, 0, 0),  # red left half: bottom, right, top, left
        wmf_region([(25, 75, [(25, 75)])]),
        wrec(0x012A, 2),
    )
    assert at(img, 30, 50) == CYAN and at(img, 60, 50) == BLACK
    assert at(img, 10, 50) == RED and at(img, 90, 50) == WHITE and at(img, 30, 10) == RED


def test_invert_region_twice_restores_the_picture() -> None:
    img = draw(
        brush(RED), wrec(0x012D, 0), wrec(0x041B, 90, 90, 10, 10), wmf_region(NOTCHED), wrec(0x012A, 1), wrec(0x012A, 1)
    )
    assert at(img, 20, 20) == RED and at(img, 50, 40) == RED


def test_select_clip_region_clips_and_a_missing_region_resets() -> None:
    left_half = [(0, 100, [(0, 50)])]
    img = draw(
        wmf_region(left_half),  # slot 0
        NULL_PEN,  # slot 1
        wrec(0x012D, 1),
        brush(RED),  # slot 2
        wrec(0x012D, 2),
        wrec(0x012C, 0),  # clip to the left half
        wrec(0x041B, 60, 100, 0, 0),  # red across the top 60 rows: only the left half shows
        wrec(0x012C, 7),  # no object 7: the clip is reset
        brush(BLUE),  # slot 3
        wrec(0x012D, 3),
        wrec(0x041B, 100, 100, 80, 0),  # blue across the bottom rows, unclipped
    )
    assert at(img, 25, 30) == RED and at(img, 75, 30) == WHITE
    assert at(img, 25, 90) == BLUE and at(img, 75, 90) == BLUE


def test_offset_clip_region_moves_the_selected_region() -> None:
    img = draw(
        wmf_region([(0, 100, [(0, 50)])]),
        brush(RED),
        wrec(0x012D, 1),
        NULL_PEN,
        wrec(0x012D, 2),
        wrec(0x012C, 0),
        wrec(0x0220, 0, 25),  # OffsetClipRgn: y, x
        wrec(0x041B, 100, 100, 0, 0),
    )
    assert at(img, 10, 50) == WHITE and at(img, 30, 50) == RED and at(img, 70, 50) == RED and at(img, 80, 50) == WHITE


def test_intersect_and_exclude_clip_rect() -> None:
    img = draw(
        brush(RED),
        wrec(0x012D, 0),
        NULL_PEN,
        wrec(0x012D, 1),
        wrec(0x0416, 80, 80, 20, 20),  # IntersectClipRect: bottom, right, top, left
        wrec(0x0415, 60, 60, 40, 40),  # ExcludeClipRect
        wrec(0x041B, 100, 100, 0, 0),
    )
    assert at(img, 30, 30) == RED and at(img, 50, 50) == WHITE and at(img, 10, 10) == WHITE


def test_scan_with_mismatched_closing_count_ends_the_region() -> None:
    record = wmf_region(NOTCHED)
    # The first scan's Count2 (after 6 + 2 * 4 bytes of the scan) is broken: nothing is filled.
    first_scan = 6 + 22
    broken = record[: first_scan + 14] + struct.pack("<H", 3) + record[first_scan + 16 :]
    img = draw(broken, brush(RED), wrec(0x0228, 1, 0), wrec(0x041B, 100, 100, 95, 95))
    assert at(img, 20, 20) == WHITE and at(img, 50, 40) == WHITE


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (wmf_region(NOTCHED, scan_count=9), "cut"),
        (wmf_region(NOTCHED)[:-2], "more than the record holds"),
        (struct.pack("<IH", 3 + 5, 0x06FF) + bytes(10), "region header"),
    ],
    ids=["scan count past the record", "coordinate count past the record", "header cut"],
)
def test_damaged_region_is_refused_with_a_reason(record: bytes, reason: str) -> None:
    if len(record) % 2:
        record += b"\x00"
    record = struct.pack("<I", len(record) // 2) + record[4:]  # the record size says what is there
    with pytest.raises(CorruptImageError, match=reason) as caught:
        render(wmf(record, brush(RED), wrec(0x0228, 1, 0)))
    assert "WMF region record at offset" in str(caught.value)


def test_old_pattern_brush_from_a_monochrome_bitmap16() -> None:
    # 8 x 8 checkerboard, 1 bit a pixel, rows of 2 bytes (16-bit aligned): 0 bits take the
    # text colour, 1 bits the background colour.
    rows = b"".join(bytes([0xAA if y % 2 else 0x55, 0]) for y in range(8))
    header = struct.pack("<4hBB", 0, 8, 8, 2, 1, 1) + bytes(4) + bytes(18)
    body = header + rows
    pattern = struct.pack("<IH", 3 + len(body) // 2, 0x01F9) + body
    red = RED[0] | (RED[1] << 8) | (RED[2] << 16)
    blue = BLUE[0] | (BLUE[1] << 8) | (BLUE[2] << 16)
    img = draw(
        wrec(0x0209, red & 0xFFFF, red >> 16),  # SetTextColor
        wrec(0x0201, blue & 0xFFFF, blue >> 16),  # SetBkColor
        pattern,
        wrec(0x012D, 0),
        NULL_PEN,
        wrec(0x012D, 1),
        wrec(0x041B, 100, 100, 0, 0),
    )
    # Row 0 is 0x55 = 01010101: x even is a 0 bit (text colour), x odd a 1 bit (background).
    assert at(img, 16, 16) == RED and at(img, 17, 16) == BLUE
    assert at(img, 16, 17) == BLUE and at(img, 17, 17) == RED


def test_old_pattern_brush_of_a_palette_depth_is_a_grey_fill() -> None:
    body = struct.pack("<4hBB", 0, 8, 8, 8, 1, 8) + bytes(4) + bytes(18) + bytes(64)
    pattern = struct.pack("<IH", 3 + len(body) // 2, 0x01F9) + body
    img = draw(pattern, wrec(0x012D, 0), wrec(0x041B, 90, 90, 10, 10))
    assert at(img, 50, 50) == (128, 128, 128)


def test_frame_of_a_region_of_many_rectangles_is_worked_out_on_pixels() -> None:
    # 10,000 one-unit squares (a checkerboard region): each square is its own frame. Path
    # operations on such a region took minutes; on its pixels it takes a fraction of a second
    # (speed is measured in benchmarks, this checks the result).
    scans = [(y, y + 1, [(x, x + 1) for x in range(0, 200, 2)]) for y in range(0, 200, 2)]
    img = draw(wmf_region(scans), brush(BLUE), wrec(0x0429, 1, 1, 1, 0), bbox=(0, 0, 200, 200))
    assert at(img, 0, 0) == BLUE and at(img, 2, 2) == BLUE and at(img, 198, 198) == BLUE
    assert at(img, 1, 1) == WHITE and at(img, 1, 0) == WHITE and at(img, 199, 199) == WHITE
