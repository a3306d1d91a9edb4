"""Big pictures without big copies: streamed frames and Pillow row strips (exercised small)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
import tifffile
from PIL import Image

from dicomify import DicomImage, convert
from dicomify.encode import pixel_data
from dicomify.readers import pixels


@pytest.fixture
def tiny_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pixels, "STRIP_THRESHOLD", 100)
    monkeypatch.setattr(pixels, "STRIP_BYTES", 1000)  # strips of a few rows, the last one short
    monkeypatch.setattr(pixel_data, "STREAM_THRESHOLD", 100)


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("compress", ["none", "rle"])
def test_strips_give_the_same_pixels(tmp_path: Path, tiny_thresholds: None, mode: str, compress: str) -> None:
    rng = np.random.default_rng(7)
    shape = (53, 61) + ((3,) if mode == "RGB" else ())
    source = rng.integers(0, 255, shape, dtype=np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(source, mode).save(path)
    ds = convert(path, tmp_path / "big.dcm", compression=compress)
    assert isinstance(ds["PixelData"].value, (bytes, pixel_data.FrameStream)) or compress != "none"
    back = pydicom.dcmread(tmp_path / "big.dcm")
    np.testing.assert_array_equal(back.pixel_array, source)


def test_pillow_strips_quack_like_a_frame(tiny_thresholds: None) -> None:
    image = Image.fromarray(np.arange(35 * 40 * 3, dtype=np.uint32).astype(np.uint8).reshape(35, 40, 3))
    frame = pixels.frame_from_pil(image, (255, 255, 255))
    assert isinstance(frame, pixels.PillowStrips)
    assert (frame.shape, frame.ndim, frame.dtype) == ((35, 40, 3), 3, np.uint8)
    assert len(list(frame.strips())) == 5  # 8 rows of 120 bytes per strip
    np.testing.assert_array_equal(np.asarray(frame), np.asarray(image))
    assert np.asarray(frame, dtype=np.uint16).dtype == np.uint16


def test_multi_page_tiff_streams_page_by_page(tmp_path: Path) -> None:
    pages = np.random.default_rng(1).integers(0, 65535, (5, 17, 19), dtype=np.uint16)
    path = tmp_path / "pages.tif"
    tifffile.imwrite(path, pages, photometric="minisblack")
    buffer = io.BytesIO()
    with DicomImage(path) as image:
        assert isinstance(image.dataset["PixelData"].value, pixel_data.FrameStream)
        image.save(buffer)
    back = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    np.testing.assert_array_equal(back.pixel_array, pages)
    # convert() hands back a dataset that stays usable once the source is closed.
    for target in (io.BytesIO(), tmp_path / "pages.dcm"):
        ds = convert(path, target)
        np.testing.assert_array_equal(ds.pixel_array, pages)


def test_frame_stream_reads_and_seeks_across_pieces(tiny_thresholds: None) -> None:
    image = Image.fromarray(np.arange(30 * 50, dtype=np.uint32).astype(np.uint8).reshape(30, 50))
    from dicomify.picture import Picture, frames_of
    from dicomify.readers.pixels import layout_of

    frame = pixels.frame_from_pil(image, (0, 0, 0))
    picture = Picture("test", layout_of(frame), 2, frames_of([frame, np.asarray(image)]))
    stream = pixel_data.FrameStream(picture)
    whole = np.asarray(image).tobytes() * 2
    assert stream.read() == whole
    stream.seek(990)
    assert stream.read(30) == whole[990:1020]
    stream.seek(-7, 2)
    assert stream.read() == whole[-7:]
    stream.seek(3)
    assert stream.read(2000) == whole[3:2003]


@pytest.mark.parametrize("sizes", [(3,), (4, 3), (300001,), (5, 6, 7)])
def test_encapsulation_matches_pydicom(sizes: tuple[int, ...]) -> None:
    from pydicom.encaps import encapsulate

    frames = tuple(bytes(range(256)) * (size // 256) + bytes(size % 256) for size in sizes)
    assert pixel_data._encapsulate(frames) == encapsulate(list(frames))
