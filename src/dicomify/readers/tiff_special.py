"""TIFF pages tifffile does not decode: old-style JPEG and subsampled YCbCr without JPEG.

* Old-style JPEG (Compression 6, TIFF 6.0 section 22, withdrawn by TIFF Technical
  Note 2). In the form libtiff and most writers produced, JPEGInterchangeFormat points
  at a complete JPEG stream (the strips repeat its scan data): the stream is decoded as
  a JPEG viewer decodes it. In the form of section 22 itself the tables are in the
  JPEGQTables/JPEGDCTables/JPEGACTables tags and each strip holds entropy-coded data
  only: no JPEG stream exists to decode, so the page is decoded by libtiff (through
  Pillow), which builds one from the tags, exactly as libtiff-based viewers show it
  (chroma repeated over its block, converted with the file's reference black/white).
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
from ..options import ConvertOptions
from .colour import rationals, ycbcr_to_rgb
from .opening import load, open_image, seek

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


def decode_old_jpeg(page: Any, options: ConvertOptions) -> np.ndarray:
    """An old-style JPEG page, decoded from its JPEGInterchangeFormat stream, or by
    libtiff when its tables are in tags only."""
    offset, length = _single(_tag(page, 513)), _single(_tag(page, 514))
    if not offset:
        return _decode_with_libtiff(page, options)
    size = page.parent.filehandle.size
    stream = _read(page, offset, length if length else size - offset)
    if b"\xff\xda" not in stream:
        # Some writers point the interchange format at the tables only and keep the
        # scan in the strips: join them.
        stream = stream.rstrip(b"\x00").removesuffix(b"\xff\xd9")
        for strip_offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
            stream += _read(page, int(strip_offset), int(count))
    return _decode_stream(stream, int(page.imagelength), int(page.imagewidth))


def _decode_stream(stream: bytes, rows: int, columns: int) -> np.ndarray:
    """A whole JPEG stream holding the page, decoded as a JPEG viewer decodes it."""
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


# TIFF 6.0 section 22: JPEGProc 1 is baseline sequential, 14 lossless.
_JPEG_PROC_BASELINE = 1


def _decode_with_libtiff(page: Any, options: ConvertOptions) -> np.ndarray:
    """An old-style JPEG page without a JPEGInterchangeFormat stream as libtiff decodes
    it: through Pillow's libtiff binding for colour; one-component pages, which that
    binding reads as RGBX and fails on, from a JPEG stream per strip built the way
    libtiff builds it (:func:`_decode_gray_strips`)."""
    proc = _single(_tag(page, 512))
    if proc not in (None, _JPEG_PROC_BASELINE):
        raise UnsupportedFormatError(f"old-style JPEG TIFF with JPEGProc {proc} (lossless) is not supported")
    rows, columns = int(page.imagelength), int(page.imagewidth)
    if int(page.samplesperpixel) == 1:
        return _decode_gray_strips(page, rows, columns, options)
    handle = page.parent.filehandle
    handle.seek(0)
    data = bytes(handle.read(handle.size))
    image = open_image(io.BytesIO(data), options, formats=["TIFF"])
    if page.index:
        seek(image, page.index)
    if image.size != (columns, rows):
        raise CorruptImageError(f"libtiff reads the page as {image.width}x{image.height}, not {columns}x{rows}")
    try:
        converted = load(image).convert("RGB")
    except CorruptImageError as error:
        raise CorruptImageError(f"the old-style JPEG data cannot be decoded by libtiff ({error})") from None
    return np.ascontiguousarray(np.asarray(converted))


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


def _table(page: Any, code: int, kind: str) -> bytes:
    """The first component's table of JPEGQTables (64 bytes) or JPEGDC/ACTables (16
    counts, then as many values as they add up to)."""
    offset = _single(_tag(page, code))
    if not offset:
        raise CorruptImageError(f"the old-style JPEG TIFF has no {kind} tables and no JPEGInterchangeFormat stream")
    if code == 519:
        table = _read(page, offset, 64)
    else:
        counts = _read(page, offset, 16)
        table = counts + _read(page, offset + 16, sum(counts))
    if len(table) < 16 or (code == 519 and len(table) < 64) or (code != 519 and len(table) < 16 + sum(table[:16])):
        raise CorruptImageError(f"the old-style JPEG TIFF's {kind} table runs past the end of the file")
    return table


def _decode_gray_strips(page: Any, rows: int, columns: int, options: ConvertOptions) -> np.ndarray:
    """One-component old-style JPEG: each strip holds the entropy-coded data of its rows
    (TIFF 6.0 section 22); libtiff decodes it with SOI, the tag tables (DQT, DHT), a
    restart interval, a frame and a scan header in front. The same stream per strip is
    decoded here by libjpeg through Pillow."""
    if page.is_tiled:
        raise UnsupportedFormatError(
            "tiled old-style JPEG TIFF without a JPEGInterchangeFormat stream is not supported"
        )
    strips = list(zip(page.dataoffsets, page.databytecounts, strict=False))
    if strips and _read(page, int(strips[0][0]), 2) == b"\xff\xd8":
        # A whole JPEG stream in the strips (tables included), as libtiff also reads it.
        return _decode_stream(b"".join(_read(page, int(o), int(c)) for o, c in strips), rows, columns)
    tables = (
        _segment(0xDB, b"\x00" + _table(page, 519, "JPEGQTables"))
        + _segment(0xC4, b"\x00" + _table(page, 520, "JPEGDCTables"))
        + _segment(0xC4, b"\x10" + _table(page, 521, "JPEGACTables"))
    )
    restart = _single(_tag(page, 515))
    if restart:
        tables += _segment(0xDD, restart.to_bytes(2, "big"))
    rows_per_strip = min(int(page.rowsperstrip or rows), rows)
    bands = []
    for index, (offset, count) in enumerate(strips):
        height = min(rows_per_strip, rows - index * rows_per_strip)
        if height <= 0:
            break
        frame = _segment(
            0xC0, bytes((8,)) + height.to_bytes(2, "big") + columns.to_bytes(2, "big") + b"\x01\x01\x11\x00"
        )
        scan = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        stream = b"\xff\xd8" + tables + frame + scan + _read(page, int(offset), int(count)) + b"\xff\xd9"
        try:
            image = open_image(io.BytesIO(stream), options, formats=["JPEG"])
            band = np.asarray(load(image).convert("L"))
        except CorruptImageError as error:
            raise CorruptImageError(f"the old-style JPEG strip {index + 1} cannot be decoded ({error})") from None
        bands.append(band)
    if sum(band.shape[0] for band in bands) < rows:
        raise CorruptImageError("the old-style JPEG TIFF has fewer strips than its rows need")
    return np.ascontiguousarray(np.concatenate(bands)[:rows, :columns])


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
