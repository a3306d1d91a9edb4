"""BMPs with bitfield layouts Pillow does not decode (A4R4G4B4, X4R4G4B4, R3G3B2, 10-bit ...).

A BI_BITFIELDS (3) or BI_ALPHABITFIELDS (6) BMP says where each channel sits in a
16- or 32-bit pixel with one mask per channel (Microsoft's BITMAPINFOHEADER,
BITMAPV4HEADER and BITMAPV5HEADER documentation). Each channel is taken from its mask
and scaled to the full range, v · (2^out − 1) / (2^bits − 1) rounded, to 8 bits (16
when a channel has more than 8 bits). An alpha mask whose values are all zero is
ignored, as browsers do (such files mean "no alpha").
"""

from __future__ import annotations

import struct

import numpy as np

from ..errors import CorruptImageError, UnsupportedFormatError

__all__ = ["BitfieldBmp", "parse_bitfields"]

_BITFIELDS, _ALPHABITFIELDS = 3, 6


class BitfieldBmp:
    """A parsed bitfield BMP: geometry, masks and the pixel rows."""

    def __init__(
        self, data: bytes, width: int, height: int, top_down: bool, bpp: int, offset: int, masks: tuple[int, ...]
    ) -> None:
        self.data = data
        self.width = width
        self.height = height
        self.top_down = top_down
        self.bpp = bpp
        self.offset = offset
        self.masks = masks  # red, green, blue, alpha (0 = none)

    def decode(self) -> np.ndarray:
        """H×W×3 (or ×4 with alpha), uint8, or uint16 when a channel is deeper than 8 bits."""
        stride = ((self.width * self.bpp + 31) // 32) * 4
        end = self.offset + stride * self.height
        if self.offset < 0 or len(self.data) < end:
            raise CorruptImageError("the BMP pixel data is truncated")
        rows = np.frombuffer(self.data, np.uint8, count=stride * self.height, offset=self.offset)
        rows = rows.reshape(self.height, stride)[:, : self.width * self.bpp // 8]
        pixels = rows.copy().view("<u2" if self.bpp == 16 else "<u4").astype(np.uint32)
        if not self.top_down:
            pixels = pixels[::-1]
        depths = [bin(mask).count("1") for mask in self.masks if mask]
        out_bits = 16 if max(depths) > 8 else 8
        out_full = 2**out_bits - 1
        channels = []
        for mask in self.masks[:3] + ((self.masks[3],) if self.masks[3] else ()):
            if not mask:
                channels.append(np.zeros(pixels.shape, np.uint32))
                continue
            shift = (mask & -mask).bit_length() - 1
            levels = 2 ** bin(mask).count("1") - 1
            values = ((pixels & mask) >> shift).astype(np.uint64)
            channels.append(((values * out_full * 2 + levels) // (2 * levels)).astype(np.uint32))
        if len(channels) == 4 and not channels[3].any():
            channels = channels[:3]  # an all-zero alpha channel means no alpha
        return np.dstack(channels).astype(np.uint16 if out_bits == 16 else np.uint8)


def _contiguous(mask: int) -> bool:
    if mask == 0:
        return True
    shifted = mask >> ((mask & -mask).bit_length() - 1)
    return shifted & (shifted + 1) == 0


def parse_bitfields(data: bytes) -> BitfieldBmp | None:
    """The bitfield layout of a BMP, or None when it is not a 16/32-bit bitfield BMP."""
    if len(data) < 54 or not data.startswith(b"BM"):
        return None
    (offset,) = struct.unpack_from("<I", data, 10)
    header_size, width, height, _, bpp, compression = struct.unpack_from("<IiiHHI", data, 14)
    if compression not in (_BITFIELDS, _ALPHABITFIELDS) or bpp not in (16, 32) or header_size < 40:
        return None
    if header_size >= 56:
        masks = struct.unpack_from("<IIII", data, 54)
    elif header_size >= 52:
        masks = struct.unpack_from("<III", data, 54) + (0,)
    else:
        count = 4 if compression == _ALPHABITFIELDS else 3
        if len(data) < 54 + 4 * count:
            raise CorruptImageError("the BMP bitfield masks are truncated")
        masks = struct.unpack_from(f"<{count}I", data, 54) + ((0,) if count == 3 else ())
    if width <= 0 or height == 0:
        raise CorruptImageError(f"the BMP has no pixels ({width}x{height})")
    limit = 2**bpp - 1
    if not any(masks[:3]) or any(mask > limit or not _contiguous(mask) for mask in masks):
        raise UnsupportedFormatError(f"BMP bitfield masks {[hex(m) for m in masks]} are not valid for {bpp}-bit pixels")
    for index, mask in enumerate(masks):
        if any(mask & other for other in masks[index + 1 :]):
            raise UnsupportedFormatError(f"BMP bitfield masks {[hex(m) for m in masks]} overlap")
    return BitfieldBmp(data, width, abs(height), height < 0, bpp, offset, masks)
