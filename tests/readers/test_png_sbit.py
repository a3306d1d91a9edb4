"""Gray PNG with an sBIT chunk: the samples at their real depth when they follow from it.

The PNGs are written by Pillow (gray) and libpng through imagecodecs (gray+alpha), the
sBIT chunk inserted after IHDR. Expected values: the top ``n`` bits of each sample; the
display is checked against dcmtk's rendering, ``v * 255 / (2**n - 1)`` as a PNG viewer
shows ``sample / (2**depth - 1)``.
"""

from __future__ import annotations

import io
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from helpers.pictures import RNG, pil_bytes, png_chunk
from helpers.roundtrip import convert_and_check, dcmtk_default, dcmtk_windowed
from PIL import Image

import dicomify

H, W = 23, 31


def _with_sbit(png: bytes, *bits: int) -> bytes:
    end_of_ihdr = 8 + 12 + 13  # signature, then IHDR's length, type, 13 bytes and CRC
    return png[:end_of_ihdr] + png_chunk(b"sBIT", bytes(bits)) + png[end_of_ihdr:]


def _scaled(values: np.ndarray, bits: int, depth: int, way: str) -> np.ndarray:
    wide = values.astype(np.int64)
    if way == "shift":
        out = wide << (depth - bits)
    elif way == "replicate":
        out = np.zeros_like(wide)
        position = depth - bits
        while position > -bits:
            out |= wide << position if position >= 0 else wide >> -position
            position -= bits
    else:
        top = 2**bits - 1
        out = np.rint(wide * (2**depth - 1) / top).astype(np.int64)
    return out.astype(np.uint16 if depth == 16 else np.uint8)


def _values(bits: int) -> np.ndarray:
    values = RNG.integers(0, 2**bits, (H, W))
    values[0, :2] = (0, 2**bits - 1)
    return values


def _check_display(path: Path, values: np.ndarray, bits: int, tmp_path: Path) -> None:
    expected = values * 255.0 / (2**bits - 1)
    assert np.abs(dcmtk_windowed(path, tmp_path) - expected).max() <= 1.0
    if bits > 8:
        assert np.abs(dcmtk_default(path, tmp_path) - expected).max() <= 1.0


@pytest.mark.parametrize("way", ["shift", "replicate", "exact"])
@pytest.mark.parametrize("bits", [10, 12, 14])
def test_16bit_gray_png_with_sbit_keeps_its_real_depth(bits: int, way: str, tmp_path: Path) -> None:
    values = _values(bits)
    samples = _scaled(values, bits, 16, way)
    png = pil_bytes(Image.fromarray(samples), "PNG")
    assert Image.open(io.BytesIO(png)).mode == "I;16"
    ds = convert_and_check(_with_sbit(png, bits), values, tmp_path, name="deep.png")
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, bits, bits - 1)
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (2 ** (bits - 1), 2**bits)
    _check_display(tmp_path / "out.dcm", values, bits, tmp_path)


@pytest.mark.parametrize("bits", [3, 5, 7])
def test_8bit_gray_png_with_sbit(bits: int, tmp_path: Path) -> None:
    values = _values(bits)
    png = pil_bytes(Image.fromarray(_scaled(values, bits, 8, "replicate")), "PNG")
    ds = convert_and_check(_with_sbit(png, bits), values, tmp_path, name="low.png")
    assert (ds.BitsAllocated, ds.BitsStored) == (8, bits)
    _check_display(tmp_path / "out.dcm", values, bits, tmp_path)


def test_16bit_png_with_8_significant_bits_is_stored_in_8(tmp_path: Path) -> None:
    values = _values(8)
    png = pil_bytes(Image.fromarray(_scaled(values, 8, 16, "replicate")), "PNG")
    ds = convert_and_check(_with_sbit(png, 8), values, tmp_path, name="eight.png")
    assert (ds.BitsAllocated, ds.BitsStored) == (8, 8) and "WindowCenter" not in ds


def test_gray_alpha_png_with_sbit(tmp_path: Path) -> None:
    values = _values(12)
    opaque = np.full((H, W), 65535, np.uint16)
    png = imagecodecs.png_encode(np.dstack([_scaled(values, 12, 16, "replicate"), opaque]))
    assert png[25] == 4  # gray+alpha, written by libpng
    ds = convert_and_check(_with_sbit(png, 12, 16), values, tmp_path, name="alpha.png")
    assert ds.BitsStored == 12


def test_gray_alpha_png_blended_stays_16bit(tmp_path: Path) -> None:
    # Blending with partial alpha makes values the 12 bits cannot hold: kept at 16 bits.
    values = _scaled(_values(12), 12, 16, "replicate")
    alpha = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    png = imagecodecs.png_encode(np.dstack([values, alpha]))
    full = 65535.0
    expected = np.rint(values * (alpha / full) + full * (1 - alpha / full)).astype(np.uint16)
    ds = convert_and_check(_with_sbit(png, 12, 16), expected, tmp_path, tolerance=1, name="blend.png")
    assert ds.BitsStored == 16
    assert any("kept at 16 bits" in note for note in dicomify.DicomImage(tmp_path / "blend.png").notes)


def test_samples_that_do_not_follow_from_sbit_stay_16bit(tmp_path: Path) -> None:
    samples = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    samples[0, 0] = 1  # a low bit no scaling of 12 bits gives
    png = _with_sbit(pil_bytes(Image.fromarray(samples), "PNG"), 12)
    ds = convert_and_check(png, samples, tmp_path, name="noisy.png")
    assert ds.BitsStored == 16 and "WindowCenter" not in ds
    notes = dicomify.DicomImage(tmp_path / "noisy.png").notes
    assert any("sBIT says 12" in note for note in notes)


@pytest.mark.parametrize("sbit", [0, 16, 17])
def test_invalid_sbit_is_ignored(sbit: int, tmp_path: Path) -> None:
    samples = _scaled(_values(12), 12, 16, "shift")
    ds = convert_and_check(_with_sbit(pil_bytes(Image.fromarray(samples), "PNG"), sbit), samples, tmp_path)
    assert ds.BitsStored == 16
