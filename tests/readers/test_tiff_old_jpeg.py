"""Old-style JPEG TIFF (Compression 6) in the form of TIFF 6.0 section 22: tables in the
JPEGQTables/JPEGDCTables/JPEGACTables tags, strips of entropy-coded data only, no
JPEGInterchangeFormat stream. Made from JPEGs Pillow (libjpeg) writes, one per strip.

Reference decoders: libjpeg (through Pillow) decoding each strip's original JPEG, which
dicomify must match exactly, and libtiff's own tools (``tiffcp -c none`` for gray,
``tiff2rgba`` for colour): equal too (within 1 for colour: the YCbCr to RGB rounding),
except that libtiff repeats subsampled chroma over its block where libjpeg interpolates it.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from helpers.pictures import photo
from helpers.roundtrip import convert_and_check
from helpers.tiff_build import SHORT, old_jpeg_tiff, tiff_bytes
from helpers.validators import require_tool
from PIL import Image

import dicomify

H, W = 48, 40


def _libtiff(data: bytes, tmp_path: Path, colour: bool) -> np.ndarray:
    """What libtiff decodes: gray through tiffcp to an uncompressed copy, colour
    through its RGBA interface (tiff2rgba), both read back with tifffile."""
    source, out = tmp_path / "libtiff-in.tif", tmp_path / "libtiff-out.tif"
    source.write_bytes(data)
    command = ["tiff2rgba", str(source), str(out)] if colour else ["tiffcp", "-c", "none", str(source), str(out)]
    result = subprocess.run([require_tool(command[0]), *command[1:]], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    decoded = tifffile.imread(out)
    return decoded[..., :3] if colour else decoded


@pytest.mark.parametrize("rows_per_strip", [48, 16, 8])
def test_gray_old_jpeg_with_tables_in_tags(rows_per_strip: int, tmp_path: Path) -> None:
    gray = np.ascontiguousarray(photo(H, W)[..., 1])
    pages = [gray, np.ascontiguousarray(gray[::-1])]
    data, by_libjpeg = old_jpeg_tiff(pages, rows_per_strip)
    expected = _libtiff(data, tmp_path, colour=False)
    assert np.array_equal(expected, np.stack(by_libjpeg))
    ds = convert_and_check(data, expected, tmp_path, name="ojpeg-gray.tif")
    assert ds.PhotometricInterpretation == "MONOCHROME2" and ds.NumberOfFrames == 2


@pytest.mark.parametrize("subsampling", [0, 2], ids=["4:4:4", "4:2:0"])
@pytest.mark.parametrize("rows_per_strip", [48, 16])
def test_colour_old_jpeg_with_tables_in_tags(subsampling: int, rows_per_strip: int, tmp_path: Path) -> None:
    rgb = photo(H, W)
    pages = [rgb, np.ascontiguousarray(rgb[::-1])]
    data, by_libjpeg = old_jpeg_tiff(pages, rows_per_strip, subsampling)
    ds = convert_and_check(data, np.stack(by_libjpeg), tmp_path, name="ojpeg-colour.tif")
    assert ds.PhotometricInterpretation == "RGB" and ds.NumberOfFrames == 2
    difference = np.abs(_libtiff(data, tmp_path, colour=True).astype(int) - ds.pixel_array)
    if subsampling == 0:  # YCbCr to RGB: libtiff's and libjpeg's integer arithmetic round apart
        assert difference.max() <= 1
    else:  # libtiff repeats subsampled chroma over its block; libjpeg interpolates it
        assert difference.mean() < 2 and difference.max() <= 16


def test_lossless_jpeg_proc_is_refused(tmp_path: Path) -> None:
    data, _ = old_jpeg_tiff([photo(H, W)], 16, jpeg_proc=14)
    with pytest.raises(dicomify.UnsupportedFormatError, match="JPEGProc 14"):
        dicomify.DicomImage(data)


@pytest.mark.parametrize("colour", [False, True], ids=["gray", "colour"])
def test_damaged_huffman_table_is_a_clear_error(colour: bool, tmp_path: Path) -> None:
    pixels = photo(H, W) if colour else np.ascontiguousarray(photo(H, W)[..., 0])
    data, _ = old_jpeg_tiff([pixels], H)
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        value = tiff.pages[0].tags[520].value
    table = value[0] if isinstance(value, tuple) else value
    # 16 code counts of 255: more codes than a Huffman table can hold (T.81 C).
    damaged = data[:table] + b"\xff" * 16 + data[table + 16 :]
    source, target = tmp_path / "damaged.tif", tmp_path / "damaged.dcm"
    source.write_bytes(damaged)
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(source), "-o", str(target)], capture_output=True, text=True
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "damaged.tif" in result.stderr and "old-style JPEG" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize("colour", [False, True], ids=["gray", "colour"])
def test_whole_jpeg_stream_in_the_strip(colour: bool, tmp_path: Path) -> None:
    # No JPEGInterchangeFormat and no table tags: the strip is a whole JPEG stream.
    pixels = photo(H, W) if colour else np.ascontiguousarray(photo(H, W)[..., 0])
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90, subsampling=0)
    jpeg = buffer.getvalue()
    samples = 3 if colour else 1
    tags = {
        258: (SHORT, [8] * samples),
        259: (SHORT, [6]),
        262: (SHORT, [6 if colour else 1]),
        277: (SHORT, [samples]),
        530: (SHORT, [1, 1]),
    }
    data = tiff_bytes(W, H, tags, jpeg)
    by_libjpeg = np.asarray(Image.open(io.BytesIO(jpeg)))
    convert_and_check(data, by_libjpeg, tmp_path, name="ojpeg-stream.tif")
    assert np.abs(_libtiff(data, tmp_path, colour).astype(int) - by_libjpeg).max() <= 1


def test_markers_without_soi_in_the_strips_are_refused_as_libtiff_refuses_them(tmp_path: Path) -> None:
    # Tables in tags, but each strip holds a frame header, a scan header and the scan:
    # libtiff then looks for the tables in the stream and fails.
    data, _ = old_jpeg_tiff([photo(H, W)], H, 2, strips_with_headers=True)
    source = tmp_path / "headers.tif"
    source.write_bytes(data)
    result = subprocess.run(
        [require_tool("tiffcp"), "-c", "none", str(source), str(tmp_path / "copy.tif")], capture_output=True
    )
    assert result.returncode != 0
    with pytest.raises(dicomify.UnsupportedFormatError, match="libtiff cannot decode it either"):
        dicomify.DicomImage(data)
