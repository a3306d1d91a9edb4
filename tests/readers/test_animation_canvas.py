"""An animation whose frames grow the canvas: one object per canvas size, one series."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.gif_build import PALETTE, gif_bytes
from helpers.validators import dciodvfy_errors, dcmtk_decodes, gdcm_decodes
from PIL import Image, ImageSequence

import dicomify


def test_frames_that_grow_the_canvas_become_objects_in_one_series(tmp_path: Path) -> None:
    first = np.ones((8, 10), np.uint8)
    second = np.full((8, 8), 2, np.uint8)
    third = np.full((3, 3), 3, np.uint8)
    data = gif_bytes(10, 8, [(0, 0, first), (6, 4, second), (1, 1, third)])
    dicomify.convert(data, tmp_path / "anim.dcm")
    paths = [tmp_path / "anim.dcm", tmp_path / "anim-2.dcm"]
    assert sorted(tmp_path.iterdir()) == sorted(paths)
    one, two = (pydicom.dcmread(p) for p in paths)
    assert one.SeriesInstanceUID == two.SeriesInstanceUID and [one.InstanceNumber, two.InstanceNumber] == [1, 2]
    # The first canvas: frame 1 as drawn.
    assert one.pixel_array.shape == (8, 10, 3) and np.array_equal(one.pixel_array, PALETTE[first])
    # The grown canvas holds frames 2 and 3, as Pillow (the reference decoder) shows them.
    assert int(two.NumberOfFrames) == 2 and two.pixel_array.shape == (2, 12, 14, 3)
    with Image.open(io.BytesIO(data)) as image:
        shown = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)][1:]
    assert np.array_equal(two.pixel_array, np.stack(shown))
    assert np.all(two.pixel_array[0, 4:12, 6:14] == PALETTE[2])  # the frame that grew it
    assert np.all(two.pixel_array[1, 1:4, 1:4] == PALETTE[3])
    for path in paths:
        assert dciodvfy_errors(path) == []
        assert np.array_equal(gdcm_decodes(path, tmp_path), pydicom.dcmread(path).pixel_array)
        assert dcmtk_decodes(path, tmp_path) is not None


def test_a_canvas_that_keeps_growing_is_refused_with_the_reason() -> None:
    frames = [(0, 0, np.ones((2, 2), np.uint8))] + [(i, i, np.full((2, 2), 2, np.uint8)) for i in range(1, 70)]
    with pytest.raises(dicomify.UnsupportedFormatError, match="changes size 69 times"):
        dicomify.DicomImage(gif_bytes(2, 2, frames))
