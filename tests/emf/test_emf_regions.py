"""EMF region drawing records (MS-EMF 2.3.5): FillRgn, PaintRgn, FrameRgn, InvertRgn, each
with a RegionData of reference-device rectangles (one device pixel an output pixel here),
checked pixel by pixel. FrameRgn and InvertRgn share their drawing with the WMF records
(tests/emf/test_wmf_regions.py)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from helpers.emf_build import NULL_PEN, create_brush, emf, rec, rectangle, select

from dicomify.emf import render

RED, BLUE, CYAN, BLACK, WHITE = (255, 0, 0), (0, 0, 255), (0, 255, 255), (0, 0, 0), (255, 255, 255)
# Two rectangles: 10..40 and 60..90 across, 10..50 down.
RECTS = [(10, 10, 40, 50), (60, 10, 90, 50)]


def region(rects: list[tuple[int, int, int, int]]) -> bytes:
    """RegionData (MS-EMF 2.2.24): header (size 32, type 1, count, bytes, bounds), rectangles."""
    body = b"".join(struct.pack("<4i", *r) for r in rects)
    bound = (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects))
    return struct.pack("<4I4i", 32, 1, len(rects), len(body), *bound) + body


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def draw(*records: bytes) -> np.ndarray:
    return np.asarray(render(emf(*records)))


BOUNDS = struct.pack("<4i", 0, 0, 100, 100)


def test_fill_rgn_with_a_brush_object() -> None:
    data = region(RECTS)
    img = draw(create_brush(1, RED), rec(71, BOUNDS + struct.pack("<II", len(data), 1) + data))
    assert at(img, 20, 30) == RED and at(img, 80, 30) == RED
    assert at(img, 50, 30) == WHITE and at(img, 20, 70) == WHITE


def test_paint_rgn_with_the_selected_brush() -> None:
    data = region(RECTS)
    img = draw(create_brush(1, BLUE), select(1), rec(74, BOUNDS + struct.pack("<I", len(data)) + data))
    assert at(img, 20, 30) == BLUE and at(img, 50, 30) == WHITE


def test_frame_rgn_draws_a_border_inside_the_region() -> None:
    data = region([(20, 20, 80, 80)])
    img = draw(create_brush(1, BLUE), rec(72, BOUNDS + struct.pack("<IIii", len(data), 1, 4, 2) + data))
    for x, y in ((20, 50), (23, 50), (79, 50), (76, 50), (50, 20), (50, 21), (50, 79), (50, 78)):
        assert at(img, x, y) == BLUE, (x, y)
    for x, y in ((24, 50), (75, 50), (50, 22), (50, 77), (50, 50), (19, 50), (80, 50)):
        assert at(img, x, y) == WHITE, (x, y)


def test_invert_rgn_complements_the_pixels() -> None:
    data = region([(25, 25, 75, 75)])
    img = draw(
        select(NULL_PEN),
        create_brush(1, RED),
        select(1),
        rectangle(0, 0, 50, 100),
        rec(73, BOUNDS + struct.pack("<I", len(data)) + data),
    )
    assert at(img, 30, 50) == CYAN and at(img, 60, 50) == BLACK
    assert at(img, 10, 50) == RED and at(img, 90, 50) == WHITE


@pytest.mark.parametrize(
    ("mode", "on_square", "between"), [(1, RED, WHITE), (2, RED, RED), (3, WHITE, RED), (4, WHITE, RED)]
)
def test_clip_combined_with_a_region_of_many_rectangles(
    mode: int, on_square: tuple[int, int, int], between: tuple[int, int, int]
) -> None:
    # ExtSelectClipRgn with RGN_AND/OR/XOR/DIFF and 2,500 one-pixel squares: combined on
    # pixels (path operations on so many rectangles took half a minute for 20,000).
    rects = [(x, y, x + 1, y + 1) for y in range(0, 100, 2) for x in range(0, 100, 2)]
    data = region(rects)
    img = draw(
        select(NULL_PEN),
        create_brush(1, RED),
        select(1),
        rec(75, struct.pack("<II", len(data), mode) + data),
        rectangle(0, 0, 100, 100),
    )
    for x, y in ((2, 2), (50, 50), (98, 0)):
        assert at(img, x, y) == on_square, (x, y)
    for x, y in ((3, 3), (51, 50), (99, 99)):
        assert at(img, x, y) == between, (x, y)
