"""TIFF pages tifffile does not decode: old-style JPEG and subsampled YCbCr without JPEG.

* Old-style JPEG (Compression 6, TIFF 6.0 section 22, withdrawn by TIFF Technical
  Note 2) in the form libtiff and most writers produced: JPEGInterchangeFormat points at
  a complete JPEG stream (the strips repeat its scan data). The stream is decoded as a
  JPEG viewer decodes it. Files with only the JPEGQTables/DCTables/ACTables form are
  refused with that reason.
* Subsampled YCbCr (TIFF 6.0 section 21) stores data units of h×v luma samples and one
  Cb and Cr each; chroma is repeated over its block, as libtiff does, then converted
  with the file's coefficients and reference black/white.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from ..errors import CorruptImageError, UnsupportedFormatError
from .colour import rationals, ycbcr_to_rgb

__all__ = ["decode_old_jpeg", "decode_subsampled_ycbcr", "is_old_jpeg", "is_subsampled_ycbcr"]

_OLD_JPEG = 6
_YCBCR = 6
_NONE, _LZW, _ADOBE_DEFLATE, _DEFLATE, _PACKBITS = 1, 5, 8, 32946, 32773


def _tag(page: Any, code: int) -> Any:
    tag = page.tags.get(code)
    return tag.value if tag is not None else None


def _single(value: Any) -> int | None:
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    return int(value) if value is not None else None


def _read(page: Any, offset: int, count: int) -> bytes:
    handle = page.parent.filehandle
    handle.seek(offset)
    return bytes(handle.read(count))


def is_old_jpeg(page: Any) -> bool:
    return int(page.compression) == _OLD_JPEG


def decode_old_jpeg(page: Any) -> np.ndarray:
    """An old-style JPEG page, decoded from its JPEGInterchangeFormat stream."""
    offset, length = _single(_tag(page, 513)), _single(_tag(page, 514))
    if not offset:
        raise UnsupportedFormatError(
            "old-style JPEG TIFF without a JPEGInterchangeFormat stream (tables in JPEGQTables tags) is not supported"
        )
    size = page.parent.filehandle.size
    stream = _read(page, offset, length if length else size - offset)
    if b"\xff\xda" not in stream:
        # Some writers point the interchange format at the tables only and keep the
        # scan in the strips: join them.
        stream = stream.rstrip(b"\x00").removesuffix(b"\xff\xd9")
        for strip_offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
            stream += _read(page, int(strip_offset), int(count))
    rows, columns = int(page.imagelength), int(page.imagewidth)
    try:
        with Image.open(io.BytesIO(stream), formats=["JPEG"]) as image:
            # The page's size was checked; a stream much larger than the page is refused
            # before it is decoded (an MCU of padding is normal).
            if image.width > columns + 16 or image.height > rows + 16:
                raise CorruptImageError(
                    f"the old-style JPEG stream is {image.width}x{image.height}, the page {columns}x{rows}"
                )
            image.load()
            converted = image.convert("L" if image.mode == "L" else "RGB")
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptImageError(f"the old-style JPEG data cannot be decoded ({error})") from error
    array = np.asarray(converted)
    if array.shape[0] < rows or array.shape[1] < columns:
        raise CorruptImageError(
            f"the old-style JPEG stream is {array.shape[1]}x{array.shape[0]}, the page {columns}x{rows}"
        )
    return np.ascontiguousarray(array[:rows, :columns])


def is_subsampled_ycbcr(page: Any) -> bool:
    subsampling = _tag(page, 530) or (2, 2)
    return (
        int(page.photometric) == _YCBCR
        and int(page.compression) not in (_OLD_JPEG, 7)
        and tuple(int(s) for s in subsampling) != (1, 1)
    )


def _decompress(data: bytes, compression: int, limit: int) -> bytes:
    """A strip decompressed to at most ``limit`` bytes (more is never needed: no bombs)."""
    import zlib

    import imagecodecs

    if compression == _NONE:
        return data[:limit]
    if compression == _LZW:
        return bytes(imagecodecs.lzw_decode(data, out=limit))
    if compression in (_ADOBE_DEFLATE, _DEFLATE):
        try:
            return zlib.decompressobj().decompress(data, limit)
        except zlib.error as error:
            raise CorruptImageError(f"a YCbCr strip cannot be decompressed ({error})") from error
    if compression == _PACKBITS:
        return bytes(imagecodecs.packbits_decode(data, out=limit))
    raise UnsupportedFormatError(f"subsampled YCbCr TIFF with compression {compression} is not supported")


def decode_subsampled_ycbcr(page: Any) -> np.ndarray:
    """An 8-bit, chunky, striped subsampled YCbCr page as RGB."""
    h, v = (int(s) for s in (_tag(page, 530) or (2, 2)))
    if h not in (1, 2, 4) or v not in (1, 2, 4) or v > h:
        raise CorruptImageError(f"YCbCr subsampling {h}x{v} is not valid (TIFF 6.0 section 21)")
    if int(page.bitspersample) != 8 or int(page.planarconfig) != 1 or page.is_tiled:
        raise UnsupportedFormatError("subsampled YCbCr TIFF is supported with 8-bit samples in strips, chunky order")
    if int(_tag(page, 317) or 1) != 1:
        raise UnsupportedFormatError("subsampled YCbCr TIFF with a predictor is not supported")
    rows, columns = int(page.imagelength), int(page.imagewidth)
    block_columns = -(-columns // h)
    block_rows = -(-rows // v)
    unit = h * v + 2
    # Strips hold whole rows of data units (RowsPerStrip is a multiple of v), so the
    # joined strips are the data units in order.
    needed = block_columns * block_rows
    pieces: list[bytes] = []
    remaining = needed * unit
    try:
        for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
            if remaining <= 0:
                break
            piece = _decompress(
                _read(page, int(offset), min(int(count), 4 * remaining + 1024)), int(page.compression), remaining
            )
            pieces.append(piece)
            remaining -= len(piece)
    except (ValueError, RuntimeError) as error:  # imagecodecs' codec errors derive from these
        raise CorruptImageError(f"the YCbCr strips cannot be decompressed ({error})") from error
    data = b"".join(pieces)
    if len(data) < needed * unit:
        raise CorruptImageError("the YCbCr strips are truncated")
    units = np.frombuffer(data[: needed * unit], np.uint8).reshape(block_rows, block_columns, unit)
    blocks = units[..., : h * v].reshape(block_rows, block_columns, v, h)
    luma = blocks.transpose(0, 2, 1, 3).reshape(block_rows * v, block_columns * h)
    cb = np.repeat(np.repeat(units[..., h * v], v, axis=0), h, axis=1)
    cr = np.repeat(np.repeat(units[..., h * v + 1], v, axis=0), h, axis=1)
    ycbcr = np.dstack([luma, cb, cr])[:rows, :columns]
    return ycbcr_to_rgb(ycbcr, rationals(_tag(page, 529), 3), rationals(_tag(page, 532), 6))
