"""Our renderings against renderings made by Windows GDI (Pillow's test files, see data/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.emf_build import wmf, wrec
from PIL import Image

from dicomify.emf import render

DATA = Path(__file__).with_name("data")


def red(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB")).astype(int)
    return (rgb[..., 0] > 200) & (rgb[..., 1] < 100) & (rgb[..., 2] < 100)


def overlap(ours: Image.Image, reference: Image.Image) -> float:
    """Intersection over union of the red areas, ours resized to the reference's size."""
    a, b = red(ours.resize(reference.size, Image.Resampling.BILINEAR)), red(reference)
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize(("dpi", "reference"), [(72, "drawing_wmf_ref.png"), (144, "drawing_wmf_ref_144.png")])
def test_placeable_wmf_drawing_past_its_box_is_whole(dpi: int, reference: str) -> None:
    # The circle's polygon runs 16% past the placeable bounding box on the right and
    # bottom; Windows draws the whole circle filling the picture, and so must we.
    ours = render((DATA / "drawing.wmf").read_bytes(), dpi=dpi)
    with Image.open(DATA / reference) as ref:
        assert abs(ours.width - ref.width) <= 2 and abs(ours.height - ref.height) <= 2
        assert overlap(ours, ref) > 0.95
    # Nothing is cut off: the picture's border is background all round.
    rgb = np.asarray(ours)
    assert not red(ours)[[0, -1], :].any() and not red(ours)[:, [0, -1]].any()
    assert rgb.shape[0] == rgb.shape[1]


def test_emf_matches_windows() -> None:
    ours = render((DATA / "drawing.emf").read_bytes())
    with Image.open(DATA / "drawing_emf_ref.png") as ref:
        assert overlap(ours, ref) > 0.95


def _circle_wmf(window_org: tuple[int, int]) -> bytes:
    red_brush = wrec(0x02FC, 0, 0x00FF, 0, 0)
    return wmf(
        wrec(0x020B, window_org[1], window_org[0]),  # SetWindowOrg (y, x)
        wrec(0x020C, 1000, 1000),  # SetWindowExt
        red_brush,
        wrec(0x012D, 0),
        wrec(0x0418, 900, 900, 100, 100),  # Ellipse: bottom, right, top, left
        bbox=(0, 0, 1000, 1000),
        inch=1000,  # 1000 units = 1 inch = 96 pixels
    )


def test_window_origin_that_cuts_the_drawing_is_moved_over_it() -> None:
    # The window starts at (300, 300): the circle (100..900) would lose its left and top.
    img = np.asarray(render(_circle_wmf((300, 300))))
    assert img.shape == (96, 96, 3)  # the declared size
    mask = red(Image.fromarray(img))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    # The whole circle, 800 units = 77 pixels across, centred, not squeezed.
    assert 74 <= cols[-1] - cols[0] + 1 <= 79 and 74 <= rows[-1] - rows[0] + 1 <= 79
    assert abs((cols[0] + cols[-1]) / 2 - 47.5) <= 2 and abs((rows[0] + rows[-1]) / 2 - 47.5) <= 2


def test_drawing_larger_than_its_frame_is_cut_as_the_file_asks() -> None:
    # A background bleeding past the frame on every side is not a misplaced window.
    blue = wrec(0x02FC, 0, 0, 0x00FF, 0)
    img = np.asarray(render(wmf(blue, wrec(0x012D, 0), wrec(0x041B, 120, 120, -20, -20), bbox=(0, 0, 100, 100))))
    assert img.shape == (100, 100, 3) and (img == (0, 0, 255)).all()


def test_drawing_inside_its_window_keeps_the_declared_frame() -> None:
    # A drawing with margins inside its window keeps them: the picture is the frame.
    img = np.asarray(render(_circle_wmf((0, 0))))
    assert img.shape == (96, 96, 3)
    mask = red(Image.fromarray(img))
    cols = np.flatnonzero(mask.any(axis=0))
    assert 8 <= cols[0] <= 11 and 85 <= cols[-1] <= 87


def test_fixed_mapping_mode_drawing_is_placed_the_same_in_the_trial() -> None:
    # MM_LOMETRIC (0.1 mm, y up) inside a 2-inch placeable frame: a 25.4 mm square from the
    # window origin is the top-left quarter; the trial playback must agree on its size.
    img = np.asarray(
        render(
            wmf(
                wrec(0x0103, 2),  # SetMapMode(MM_LOMETRIC)
                wrec(0x020B, 0, 0),
                wrec(0x02FC, 0, 0x00FF, 0, 0),
                wrec(0x012D, 0),
                wrec(0x02FA, 5, 0, 0, 0, 0),
                wrec(0x012D, 1),
                wrec(0x041B, -254, 254, 0, 0),  # bottom, right, top, left: the top-left quarter
                bbox=(0, 0, 1000, 1000),
                inch=500,
            )
        )
    )
    assert img.shape == (192, 192, 3)
    assert tuple(img[90, 90]) == (255, 0, 0) and tuple(img[100, 100]) == (255, 255, 255)
