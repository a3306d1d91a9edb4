"""Device-independent bitmaps (MS-WMF 2.2.2.9 DeviceIndependentBitmap) to RGBA arrays.

Most DIBs are decoded by Pillow after prefixing the 14-byte BITMAPFILEHEADER a .bmp file
would carry; 32-bit DIBs are decoded here so their alpha channel survives for AlphaBlend.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

from ..errors import CorruptImageError

# A single embedded bitmap larger than this is refused (the canvas cap guards the rest).
MAX_DIB_PIXELS = 64_000_000

BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS, BI_JPEG, BI_PNG = 0, 1, 2, 3, 4, 5


def check_size(width: int, height: int) -> None:
    if width * height > MAX_DIB_PIXELS:
        raise CorruptImageError(f"an embedded bitmap is implausibly large ({width}x{height})")


def decode_dib(bmi: bytes, bits: bytes) -> np.ndarray:
    """Decode a BITMAPINFO header plus its bits into an (h, w, 4) uint8 RGBA array, top row first.

    The alpha channel is 255 everywhere except for 32-bit BI_RGB bitmaps (and BI_BITFIELDS
    ones with 8-8-8 masks) with any non-zero alpha, which keep theirs (premultiplied or not, as the file stored it).
    """
    if len(bmi) < 12:
        raise CorruptImageError("an embedded bitmap header is truncated")
    header_size = struct.unpack_from("<I", bmi, 0)[0]
    if header_size == 12:  # BITMAPCOREHEADER
        width, height, _planes, bit_count = struct.unpack_from("<HHHH", bmi, 4)
        compression = BI_RGB
    elif header_size >= 40 and len(bmi) >= 40:
        width, height, _planes, bit_count, compression = struct.unpack_from("<iiHHI", bmi, 4)
    else:
        raise CorruptImageError(f"an embedded bitmap has an unknown header size {header_size}")
    top_down = height < 0
    height = abs(height)
    if width <= 0 or height == 0:
        raise CorruptImageError(f"an embedded bitmap has an invalid size {width}x{height}")
    check_size(width, height)
    if compression in (BI_JPEG, BI_PNG):
        try:
            with Image.open(io.BytesIO(bits)) as im:
                check_size(*im.size)
                return np.asarray(im.convert("RGBA"))
        except CorruptImageError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure is damage
            raise CorruptImageError(f"an embedded JPEG/PNG bitmap cannot be decoded: {exc}") from None
    # 32-bit BI_BITFIELDS with the standard 8-8-8 masks is laid out as BI_RGB (what Office
    # writes for the alpha icons of OLE objects): decoded here so its alpha survives too.
    standard_masks = len(bmi) >= 52 and struct.unpack_from("<3I", bmi, 40) == (0xFF0000, 0xFF00, 0xFF)
    if bit_count == 32 and (compression == BI_RGB or (compression == BI_BITFIELDS and standard_masks)):
        stride = width * 4
        if len(bits) < stride * height:
            raise CorruptImageError("an embedded 32-bit bitmap is truncated")
        raw = np.frombuffer(bits, np.uint8, stride * height).reshape(height, width, 4)
        if not top_down:
            raw = raw[::-1]
        rgba = raw[..., [2, 1, 0, 3]].copy()
        if not rgba[..., 3].any():
            rgba[..., 3] = 255
        return rgba
    # Everything else: let Pillow's BMP decoder do it (palettes, RLE, bitfields, 16-bit).
    palette_entries = 0
    if header_size == 12:
        palette_entries = (1 << bit_count) if bit_count <= 8 else 0
        palette_bytes = palette_entries * 3
    else:
        colors_used = struct.unpack_from("<I", bmi, 32)[0]
        if bit_count <= 8:
            # biClrUsed beyond 2**bitcount is a damaged header (a 96-byte file declaring 2**28
            # entries asked for gigabytes): a palette never has more entries than indices.
            palette_entries = min(colors_used, 1 << bit_count) if colors_used else 1 << bit_count
        palette_bytes = palette_entries * 4
        if compression == BI_BITFIELDS and header_size == 40:
            palette_bytes += 12
    offset = 14 + min(len(bmi), header_size + palette_bytes)
    head = bmi[: offset - 14]
    if bit_count <= 8 and len(head) < header_size + palette_bytes:
        # A missing palette: pad with a grey ramp rather than failing.
        ramp = b"".join(bytes((v, v, v, 0)) for v in np.linspace(0, 255, palette_entries, dtype=int))
        head = head + ramp[len(head) - header_size :]
        offset = 14 + len(head)
    file_header = b"BM" + struct.pack("<IHHI", offset + len(bits), 0, 0, offset)
    try:
        with Image.open(io.BytesIO(file_header + head + bits)) as im:
            im.load()
            return np.asarray(im.convert("RGBA"))
    except Exception as exc:  # noqa: BLE001 - any decoder failure is damage
        raise CorruptImageError(f"an embedded bitmap cannot be decoded: {exc}") from None
