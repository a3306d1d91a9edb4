"""16- and 32-bit bitfield BMPs whose layouts Pillow does not decode, decoded from
their masks; the expected pixels are computed from the masks with a formula."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from helpers.pictures import RNG, composite
from helpers.roundtrip import convert_and_check

import dicomify

H, W = 13, 11  # odd width: rows are padded to 4 bytes


def bitfield_bmp(pixels: np.ndarray, bpp: int, masks: tuple[int, int, int, int], header: int = 108) -> bytes:
    """A bottom-up BI_BITFIELDS BMP of raw pixel integers (H×W)."""
    h, w = pixels.shape
    rows = []
    for row in pixels[::-1]:
        raw = row.astype("<u2" if bpp == 16 else "<u4").tobytes()
        rows.append(raw + b"\x00" * ((-len(raw)) % 4))
    data = b"".join(rows)
    info = struct.pack("<IiiHHIIiiII", header, w, h, 1, bpp, 3, len(data), 2835, 2835, 0, 0)
    if header >= 108:
        info += struct.pack("<IIII", *masks) + b"sRGB" + b"\x00" * 48
        if header == 124:
            info += struct.pack("<IIII", 4, 0, 0, 0)
    else:
        info += struct.pack("<III", *masks[:3])
    offset = 14 + len(info)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + data


def channel(pixels: np.ndarray, mask: int, out_bits: int = 8) -> np.ndarray:
    shift = (mask & -mask).bit_length() - 1
    bits = bin(mask).count("1")
    values = (pixels.astype(np.int64) & mask) >> shift
    return np.rint(values * (2**out_bits - 1) / (2**bits - 1)).astype(np.uint8 if out_bits == 8 else np.uint16)


LAYOUTS = {
    "a4r4g4b4": (16, (0x0F00, 0x00F0, 0x000F, 0xF000)),
    "x4r4g4b4": (16, (0x0F00, 0x00F0, 0x000F, 0)),
    "a4b4g4r4": (16, (0x000F, 0x00F0, 0x0F00, 0xF000)),
    "r3g3b2": (16, (0x00E0, 0x001C, 0x0003, 0)),
    "a2r10g10b10": (32, (0x3FF00000, 0x000FFC00, 0x000003FF, 0xC0000000)),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_bitfield_layouts_pillow_does_not_decode(name: str, tmp_path: Path) -> None:
    bpp, masks = LAYOUTS[name]
    limit = 2**bpp if bpp == 16 else 2**32
    pixels = RNG.integers(0, limit, (H, W), dtype=np.uint64).astype(np.uint32)
    data = bitfield_bmp(pixels, bpp, masks)
    out_bits = 16 if max(bin(m).count("1") for m in masks) > 8 else 8
    rgb = np.dstack([channel(pixels, m, out_bits) for m in masks[:3]])
    expected = composite(rgb, channel(pixels, masks[3], out_bits), (255, 255, 255)) if masks[3] else rgb
    ds = convert_and_check(data, expected, tmp_path, tolerance=1 if masks[3] else 0, name=f"{name}.bmp")
    assert ds.BitsStored == out_bits


def test_all_zero_alpha_means_opaque(tmp_path: Path) -> None:
    masks = (0x0F00, 0x00F0, 0x000F, 0xF000)
    pixels = RNG.integers(0, 0x1000, (H, W), dtype=np.uint32)  # alpha bits all zero
    expected = np.dstack([channel(pixels, m) for m in masks[:3]])
    convert_and_check(bitfield_bmp(pixels, 16, masks), expected, tmp_path, name="a4.bmp")


@pytest.mark.parametrize(
    "masks",
    [(0x7C00, 0x03E0, 0x001F, 0x8000), (0xF800, 0x07E0, 0x001F, 0)],
    ids=["a1r5g5b5", "r5g6b5"],
)
def test_16bit_layouts_pillow_decodes_keep_their_alpha(masks: tuple[int, int, int, int], tmp_path: Path) -> None:
    # Pillow decodes these layouts but drops the alpha bit (A1R5G5B5 came out opaque).
    pixels = RNG.integers(0, 0x10000, (H, W), dtype=np.uint32)
    rgb = np.dstack([channel(pixels, m) for m in masks[:3]])
    expected = composite(rgb, channel(pixels, masks[3]), (255, 255, 255)) if masks[3] else rgb
    # Pillow scales 5/6-bit channels by bit replication, within 1 of the rounded formula.
    convert_and_check(bitfield_bmp(pixels, 16, masks), expected, tmp_path, tolerance=1, name="argb1555.bmp")


@pytest.mark.parametrize("header", [108, 124])
def test_32bit_alpha_mask_of_zeros_is_opaque_not_white(header: int, tmp_path: Path) -> None:
    # Screenshots saved as BITMAPV4/V5 A8R8G8B8 with every alpha byte 0 mean "no alpha" to
    # browsers; Pillow reads them as fully transparent, which came out all white.
    masks = (0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    pixels = RNG.integers(0, 0x1000000, (H, W), dtype=np.uint32)
    expected = np.dstack([channel(pixels, m) for m in masks[:3]])
    convert_and_check(bitfield_bmp(pixels, 32, masks, header=header), expected, tmp_path, name="x8.bmp")


def test_32bit_alpha_mask_with_alpha_is_composited(tmp_path: Path) -> None:
    masks = (0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    pixels = RNG.integers(0, 2**32, (H, W), dtype=np.uint64).astype(np.uint32)
    rgb = np.dstack([channel(pixels, m) for m in masks[:3]])
    expected = composite(rgb, channel(pixels, masks[3]), (255, 255, 255))
    convert_and_check(bitfield_bmp(pixels, 32, masks), expected, tmp_path, tolerance=1, name="a8.bmp")


def test_masks_after_an_info_header(tmp_path: Path) -> None:
    masks = (0x0F00, 0x00F0, 0x000F, 0)
    pixels = RNG.integers(0, 0x1000, (H, W), dtype=np.uint32)
    expected = np.dstack([channel(pixels, m) for m in masks[:3]])
    convert_and_check(bitfield_bmp(pixels, 16, masks, header=40), expected, tmp_path, name="x4.bmp")


@pytest.mark.parametrize(
    ("masks", "reason"),
    [((0x0F00, 0x00F0, 0x000F, 0x0FF0), "overlap"), ((0x0F0F, 0x00F0, 0, 0), "not valid")],
)
def test_bad_masks_are_refused_with_the_reason(masks: tuple[int, int, int, int], reason: str) -> None:
    pixels = RNG.integers(0, 0x1000, (H, W), dtype=np.uint32)
    with pytest.raises(dicomify.InputError, match=reason):
        dicomify.DicomImage(bitfield_bmp(pixels, 16, masks))


def test_truncated_bitfield_bmp_is_refused() -> None:
    pixels = RNG.integers(0, 0x1000, (H, W), dtype=np.uint32)
    data = bitfield_bmp(pixels, 16, (0x0F00, 0x00F0, 0x000F, 0xF000))
    with pytest.raises(dicomify.CorruptImageError, match="truncated"):
        dicomify.DicomImage(data[:-40])


def test_bitfield_bmp_beyond_dicoms_limit_is_refused_with_that_reason() -> None:
    data = bytearray(bitfield_bmp(RNG.integers(0, 0x1000, (1, 4), dtype=np.uint32), 16, LAYOUTS["x4r4g4b4"][1]))
    data[18:22] = struct.pack("<i", 70000)  # the width, as a header can claim
    with pytest.raises(dicomify.ImageTooLargeError, match="65535"):
        dicomify.DicomImage(bytes(data))
