"""Convert a test input, then check the DICOM with pydicom, dciodvfy, GDCM and dcmtk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom

import dicomify
from helpers.validators import dciodvfy_errors, dcmtk_decodes, gdcm_decodes, require_tool


def convert_and_check(
    data: bytes, expected: np.ndarray, tmp_path: Path, tolerance: int = 0, name: str = "source", **options: object
) -> pydicom.Dataset:
    """Convert ``data``, compare the stored pixels with ``expected`` (±tolerance), validate.

    Returns the dataset read back from the file.
    """
    source = tmp_path / name
    source.write_bytes(data)
    target = tmp_path / "out.dcm"
    dicomify.convert(source, target, **options)
    ds = pydicom.dcmread(target)
    pixels = ds.pixel_array
    assert pixels.shape == expected.shape, (pixels.shape, expected.shape)
    difference = np.abs(pixels.astype(np.int64) - expected.astype(np.int64))
    assert difference.max() <= tolerance, f"largest difference {difference.max()}"
    assert dciodvfy_errors(target) == []
    gdcm = gdcm_decodes(target, tmp_path)
    assert gdcm.shape == expected.shape
    assert np.abs(gdcm.astype(np.int64) - expected.astype(np.int64)).max() <= tolerance
    rendered = dcmtk_decodes(target, tmp_path)
    assert rendered is not None
    return ds


def dcmtk_windowed(path: Path, tmp_path: Path) -> np.ndarray:
    """dcmtk's rendering of frame 1 through the file's first VOI window (8-bit)."""
    out = tmp_path / "dcmtk-window.pgm"
    result = subprocess.run(
        [require_tool("dcmj2pnm"), "--write-raw-pnm", "+Wi", "1", str(path), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as image:
        return np.asarray(image)


def dcmtk_default(path: Path, tmp_path: Path) -> np.ndarray:
    """dcmtk's rendering of frame 1 with no options, as a viewer opening the file does."""
    out = tmp_path / "dcmtk-default.pgm"
    result = subprocess.run(
        [require_tool("dcmj2pnm"), "--write-raw-pnm", str(path), str(out)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as image:
        return np.asarray(image)
