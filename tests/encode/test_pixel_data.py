"""The encoder takes frames by type: arrays, or StripFrames from any source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.validators import dciodvfy_errors

from dicomify.encode.pixel_data import FrameStream, set_pixel_data
from dicomify.iod.sop import build_dataset
from dicomify.options import Compression, ConvertOptions
from dicomify.picture import FrameLayout, Picture, StripFrame, frames_of


class BandedArray(StripFrame):
    """A StripFrame that is not a reader's: an array served a few rows at a time."""

    def __init__(self, array: np.ndarray, rows_per_strip: int) -> None:
        super().__init__(array.shape, array.dtype)
        self.array = array
        self.rows_per_strip = rows_per_strip
        self.served = 0

    def strips(self) -> Iterator[bytes]:
        for top in range(0, self.shape[0], self.rows_per_strip):
            self.served += 1
            yield self.array[top : top + self.rows_per_strip].astype(self.dtype.newbyteorder("<")).tobytes()


def _gray16(frames: int) -> np.ndarray:
    return (np.arange(frames * 11 * 13, dtype=np.uint16) * 397).reshape(frames, 11, 13)


def _picture(frames: list[np.ndarray | StripFrame]) -> Picture:
    layout = FrameLayout(
        rows=11, columns=13, samples_per_pixel=1, bits_allocated=16, bits_stored=16, photometric="MONOCHROME2"
    )
    return Picture("test", layout, len(frames), frames_of(frames))


def _write(picture: Picture, compression: Compression, path: Path) -> pydicom.Dataset:
    ds = build_dataset(picture, {}, ConvertOptions(compression=compression), now=dt.datetime(2026, 12, 1))
    set_pixel_data(ds, picture, compression)
    ds.save_as(path, enforce_file_format=True)
    return pydicom.dcmread(path)


@pytest.mark.parametrize("compression", [Compression.NONE, Compression.RLE])
@pytest.mark.parametrize("count", [1, 3])
def test_strip_frames_give_the_array_pixels(tmp_path: Path, compression: Compression, count: int) -> None:
    arrays = _gray16(count)
    frames = [BandedArray(a, rows_per_strip=4) for a in arrays]  # 4 + 4 + 3 rows
    written = _write(_picture(list(frames)), compression, tmp_path / "strips.dcm")
    expected = arrays[0] if count == 1 else arrays
    assert np.array_equal(written.pixel_array, expected)
    assert all(frame.served >= 3 for frame in frames)  # the strips were used, not an array
    assert dciodvfy_errors(tmp_path / "strips.dcm") == []


def test_strip_frames_and_arrays_mix(tmp_path: Path) -> None:
    arrays = _gray16(2)
    picture = _picture([BandedArray(arrays[0], 5), arrays[1]])
    ds = build_dataset(picture, {}, ConvertOptions(), now=dt.datetime(2026, 12, 1))
    set_pixel_data(ds, picture, Compression.NONE)
    assert isinstance(ds["PixelData"].value, FrameStream)  # several frames: streamed
    ds.save_as(tmp_path / "mixed.dcm", enforce_file_format=True)
    assert np.array_equal(pydicom.dcmread(tmp_path / "mixed.dcm").pixel_array, arrays)


def test_a_strip_frame_as_an_array() -> None:
    array = _gray16(1)[0]
    frame = BandedArray(array, 2)
    assert (frame.ndim, frame.shape, frame.dtype) == (2, (11, 13), np.dtype(np.uint16))
    assert np.array_equal(np.asarray(frame), array)
    assert np.asarray(frame, dtype=np.int32).dtype == np.int32


def test_a_strip_frame_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    picture = _picture([BandedArray(np.zeros((11, 12), np.uint16), 4)])
    ds = build_dataset(picture, {}, ConvertOptions(), now=dt.datetime(2026, 12, 1))
    from dicomify.errors import DicomifyError

    with pytest.raises(DicomifyError, match=r"a frame has shape \(11, 12\), the first had \(11, 13\)"):
        set_pixel_data(ds, picture, Compression.NONE)
