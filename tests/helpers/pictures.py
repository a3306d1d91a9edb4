"""Test pictures the tests make themselves, with the pixels a viewer shows for each.

Every case returns the source bytes and the expected DICOM pixels: for lossless
sources the array the picture was made from (checked against Pillow's decode too);
for lossy JPEG, Pillow's decode of the source.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

RNG = np.random.default_rng(20261128)
H, W = 37, 53  # odd sizes catch row-padding and pad-byte mistakes


def photo(h: int = H, w: int = W, seed: int | None = None) -> np.ndarray:
    """A smooth, photo-like RGB picture (JPEG-friendly) with some noise.

    ``seed`` makes it the same picture whatever ran before (the shared RNG otherwise).
    """
    rng = RNG if seed is None else np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h) + 64], axis=-1)
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)


def gray8(h: int = H, w: int = W) -> np.ndarray:
    return RNG.integers(0, 256, (h, w), dtype=np.uint8)


def gray16(h: int = H, w: int = W) -> np.ndarray:
    return RNG.integers(0, 65536, (h, w), dtype=np.uint16)


def rgb16(h: int = H, w: int = W) -> np.ndarray:
    return RNG.integers(0, 65536, (h, w, 3), dtype=np.uint16)


def composite(color: np.ndarray, alpha: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """Reference alpha blend in floating point (the converter uses exact integers)."""
    full = float(np.iinfo(color.dtype).max)
    if color.ndim == 2:
        r, g, b = background
        bg = np.array((r * 299 + g * 587 + b * 114) / 1000 * full / 255)
        a = alpha / full
    else:
        bg = np.array(background) * full / 255
        a = (alpha / full)[..., None]
    return np.rint(color * a + bg * (1 - a)).astype(color.dtype)


def pil_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def gray_png_low_bits(values: np.ndarray, bits: int) -> bytes:
    """A 1/2/4-bit grayscale PNG (Pillow only writes those depths for palettes)."""
    h, w = values.shape
    per_byte = 8 // bits
    rows = []
    for row in values:
        padded = np.concatenate([row, np.zeros((-w) % per_byte, dtype=np.uint8)])
        packed = bytearray()
        for i in range(0, len(padded), per_byte):
            byte = 0
            for v in padded[i : i + per_byte]:
                byte = (byte << bits) | int(v)
            packed.append(byte)
        rows.append(b"\x00" + bytes(packed))
    ihdr = struct.pack(">IIBBBBB", w, h, bits, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + png_chunk(b"IEND", b"")
    )


def bmp_bytes(
    pixels: np.ndarray,
    *,
    bpp: int,
    header: int = 40,
    top_down: bool = False,
    compression: int = 0,
    masks: tuple[int, int, int, int] | None = None,
    palette: np.ndarray | None = None,
    data: bytes | None = None,
) -> bytes:
    """A BMP written field by field (Pillow writes only the plain forms).

    ``pixels`` is H×W×3 (RGB, for 16/24/32 bpp) or H×W indices (palette formats);
    ``data`` overrides the pixel array (RLE streams).
    """
    h, w = pixels.shape[:2]
    if data is None:
        rows = []
        for row in pixels:
            if bpp == 24:
                raw = row[:, ::-1].astype(np.uint8).tobytes()
            elif bpp == 32:
                r, g, b = (row[:, i].astype(np.uint32) for i in range(3))
                alpha = row[:, 3].astype(np.uint32) if row.shape[1] == 4 else np.full(w, 255, np.uint32)
                raw = ((alpha << 24) | (r << 16) | (g << 8) | b).astype("<u4").tobytes()
            elif bpp == 16:
                r, g, b = (row[:, i].astype(np.uint16) for i in range(3))
                raw = (((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)).astype("<u2").tobytes()
            elif bpp == 8:
                raw = row.astype(np.uint8).tobytes()
            elif bpp == 4:
                padded = np.concatenate([row, np.zeros(w % 2, np.uint8)]).astype(np.uint8)
                raw = ((padded[0::2] << 4) | padded[1::2]).tobytes()
            elif bpp == 1:
                raw = np.packbits(row.astype(np.uint8)).tobytes()
            else:
                raise ValueError(bpp)
            rows.append(raw + b"\x00" * ((-len(raw)) % 4))
        if not top_down:
            rows.reverse()
        data = b"".join(rows)
    colors = b""
    if palette is not None:
        colors = b"".join(bytes((int(b), int(g), int(r), 0)) for r, g, b in palette)
    info = struct.pack(
        "<IiiHHIIiiII",
        header,
        w,
        -h if top_down else h,
        1,
        bpp,
        compression,
        len(data),
        2835,
        2835,
        len(palette) if palette is not None else 0,
        0,
    )
    if header >= 108:
        red, green, blue, alpha = masks or (0, 0, 0, 0)
        info += struct.pack("<IIII", red, green, blue, alpha) + b"sRGB" + b"\x00" * 48
    if header == 124:
        info += struct.pack("<IIII", 4, 0, 0, 0)
    offset = 14 + len(info) + len(colors)
    if header == 40 and masks is not None:
        extra = struct.pack("<III", *masks[:3])
        offset += len(extra)
        info += extra
    file_header = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    return file_header + info + colors + data


def rle(indices: np.ndarray, bits: int) -> bytes:
    """BI_RLE8 (bits=8) or BI_RLE4 (bits=4) encoding, runs only, bottom-up rows.

    An RLE4 run repeats a byte holding two 4-bit indices; both are the run's index here.
    """
    out = bytearray()
    for row in indices[::-1]:
        i = 0
        while i < len(row):
            j = i
            while j < len(row) and row[j] == row[i] and j - i < 255:
                j += 1
            value = int(row[i]) if bits == 8 else (int(row[i]) << 4) | int(row[i])
            out += bytes((j - i, value))
            i = j
        out += b"\x00\x00"  # end of line
    out[-2:] = b"\x00\x01"  # end of bitmap
    return bytes(out)


def rle8(indices: np.ndarray) -> bytes:
    return rle(indices, 8)


def rle4(indices: np.ndarray) -> bytes:
    return rle(indices, 4)


@dataclass
class Case:
    """One matrix entry: how to make the source, and what the DICOM must hold."""

    id: str
    make: Callable[[], tuple[bytes, np.ndarray]]
    suffix: str
    photometric: str
    frames: int = 1
    tolerance: int = 0  # largest allowed per-sample difference from the expected pixels
    bits: int = 8
    transfer_syntax: str = "1.2.840.10008.1.2.1"
    options: dict[str, object] | None = None
