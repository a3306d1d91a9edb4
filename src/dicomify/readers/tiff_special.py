"""TIFF pages tifffile does not decode: old-style JPEG and subsampled YCbCr without JPEG.

* Old-style JPEG (Compression 6, TIFF 6.0 section 22, withdrawn by TIFF Technical
  Note 2). In the form libtiff and most writers produced, JPEGInterchangeFormat points
  at a complete JPEG stream (the strips repeat its scan data): the stream is decoded as
  a JPEG viewer decodes it. In the form of section 22 itself the tables are in the
  JPEGQTables/JPEGDCTables/JPEGACTables tags and each strip holds entropy-coded data
  only: a JPEG stream is built per strip from the tags, as libtiff builds it, and
  decoded like the interchange stream.
* Subsampled YCbCr (TIFF 6.0 section 21) stores data units of h×v luma samples and one
  Cb and Cr each, in strips or in tiles (each tile the data units of its area); chroma is repeated over its block, as libtiff does, then converted
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
from .opening import load, open_image

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
    its strips when its tables are in tags only."""
    offset, length = _single(_tag(page, 513)), _single(_tag(page, 514))
    if not offset:
        return _decode_strips(page, options)
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
_RGB = 2


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


def _tables(page: Any, code: int, kind: str, components: int) -> list[bytes]:
    """Each component's table of JPEGQTables (64 bytes, zigzag order) or
    JPEGDCTables/JPEGACTables (16 code counts, then as many values as they add up to)."""
    value = _tag(page, code)
    offsets = [int(v) for v in (value if isinstance(value, (tuple, list)) else [value])] if value else []
    if not offsets or not all(offsets):
        raise CorruptImageError(f"the old-style JPEG TIFF has neither a JPEGInterchangeFormat stream nor {kind}")
    tables = []
    for index in range(components):  # a missing entry repeats the last one
        offset = offsets[min(index, len(offsets) - 1)]
        if code == 519:
            table = _read(page, offset, 64)
            complete = len(table) == 64
        else:
            counts = _read(page, offset, 16)
            table = counts + _read(page, offset + 16, sum(counts))
            complete = len(counts) == 16 and len(table) == 16 + sum(counts)
        if not complete:
            raise CorruptImageError(f"the old-style JPEG TIFF's {kind} run past the end of the file")
        tables.append(table)
    return tables


def _headers(page: Any, components: int) -> tuple[bytes, bytes, bytes]:
    """(tables and restart interval, frame component specs, scan header) libtiff puts
    in front of each strip: table ``i`` for component ``i`` (tif_ojpeg.c)."""
    qt = _tables(page, 519, "JPEGQTables", components)
    dc = _tables(page, 520, "JPEGDCTables", components)
    ac = _tables(page, 521, "JPEGACTables", components)
    tables = b"".join(_segment(0xDB, bytes((i,)) + qt[i]) for i in range(components))
    tables += b"".join(
        _segment(0xC4, bytes((i,)) + dc[i]) + _segment(0xC4, bytes((0x10 | i,)) + ac[i]) for i in range(components)
    )
    restart = _single(_tag(page, 515))
    if restart:
        tables += _segment(0xDD, (restart & 0xFFFF).to_bytes(2, "big"))
    if components == 1:
        ids, sampling = [1], [0x11]
    elif int(page.photometric) == _RGB:
        ids, sampling = [ord("R"), ord("G"), ord("B")], [0x11] * 3  # libjpeg reads these as RGB
    else:
        h, v = (int(s) for s in (_tag(page, 530) or (2, 2)))
        if h not in (1, 2, 4) or v not in (1, 2, 4):
            raise CorruptImageError(f"YCbCr subsampling {h}x{v} is not valid (TIFF 6.0 section 21)")
        ids, sampling = [1, 2, 3], [h << 4 | v, 0x11, 0x11]
    specs = b"".join(bytes((ids[i], sampling[i], i)) for i in range(components))
    scan = _segment(
        0xDA, bytes((components,)) + b"".join(bytes((ids[i], i << 4 | i)) for i in range(components)) + b"\x00\x3f\x00"
    )
    return tables, specs, scan


def _decode_strips(page: Any, options: ConvertOptions) -> np.ndarray:
    """An old-style JPEG page without a JPEGInterchangeFormat stream (TIFF 6.0 section
    22): each strip holds the entropy-coded data of its rows, the tables are in tags.
    libtiff decodes it by putting SOI, the tag tables, a restart interval, a frame and a
    scan header in front of the strips; the same stream is built per strip here and
    decoded by libjpeg through Pillow (as a JPEG viewer decodes it: subsampled chroma
    interpolated, where libtiff repeats it over its block). A whole JPEG stream in the
    strips (tables included) is decoded as it is, as libtiff reads it too."""
    proc = _single(_tag(page, 512))
    if proc not in (None, _JPEG_PROC_BASELINE):
        raise UnsupportedFormatError(f"old-style JPEG TIFF with JPEGProc {proc} (lossless) is not supported")
    # Tag values read directly: a damaged multi-valued tag breaks tifffile's properties.
    if _tag(page, 322) is not None:  # TileWidth
        raise UnsupportedFormatError(
            "tiled old-style JPEG TIFF without a JPEGInterchangeFormat stream is not supported"
        )
    rows, columns = int(page.imagelength), int(page.imagewidth)
    components = _single(_tag(page, 277)) or 1
    if components not in (1, 3):
        raise UnsupportedFormatError(f"old-style JPEG TIFF with {components} samples per pixel is not supported")
    strips = list(zip(page.dataoffsets, page.databytecounts, strict=False))
    if strips and _read(page, int(strips[0][0]), 2) == b"\xff\xd8":
        return _decode_stream(b"".join(_read(page, int(o), int(c)) for o, c in strips), rows, columns)
    if strips and _read(page, int(strips[0][0]), 1) == b"\xff":
        # JPEG markers but no SOI: libtiff does not decode this either (it then takes
        # the tables from the stream, which has none).
        raise UnsupportedFormatError(
            "old-style JPEG TIFF whose strips start with JPEG markers but no SOI, and no JPEGInterchangeFormat "
            "stream, is not supported (libtiff cannot decode it either)"
        )
    tables, specs, scan = _headers(page, components)
    rows_per_strip = min(_single(_tag(page, 278)) or rows, rows)
    bands = []
    for index, (offset, count) in enumerate(strips):
        height = min(rows_per_strip, rows - index * rows_per_strip)
        if height <= 0:
            break
        frame = _segment(
            0xC0, bytes((8,)) + height.to_bytes(2, "big") + columns.to_bytes(2, "big") + bytes((components,)) + specs
        )
        stream = b"\xff\xd8" + tables + frame + scan + _read(page, int(offset), int(count)) + b"\xff\xd9"
        try:
            image = open_image(io.BytesIO(stream), options, formats=["JPEG"])
            band = np.asarray(load(image).convert("L" if components == 1 else "RGB"))
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


def _units_to_ycbcr(data: bytes, block_rows: int, block_columns: int, h: int, v: int) -> np.ndarray:
    """Data units (h×v luma samples, then Cb and Cr) in row order as a YCbCr array of
    block_rows·v × block_columns·h, chroma repeated over its block as libtiff does."""
    unit = h * v + 2
    units = np.frombuffer(data, np.uint8, count=block_rows * block_columns * unit)
    units = units.reshape(block_rows, block_columns, unit)
    blocks = units[..., : h * v].reshape(block_rows, block_columns, v, h)
    luma = blocks.transpose(0, 2, 1, 3).reshape(block_rows * v, block_columns * h)
    cb = np.repeat(np.repeat(units[..., h * v], v, axis=0), h, axis=1)
    cr = np.repeat(np.repeat(units[..., h * v + 1], v, axis=0), h, axis=1)
    return np.dstack([luma, cb, cr])


def _decompressed(page: Any, offset: int, count: int, needed: int) -> bytes:
    try:
        return _decompress(_read(page, offset, min(count, 4 * needed + 1024)), int(page.compression), needed)
    except (ValueError, RuntimeError) as error:  # imagecodecs' codec errors derive from these
        raise CorruptImageError(f"the YCbCr data cannot be decompressed ({error})") from error


def decode_subsampled_ycbcr(page: Any) -> np.ndarray:
    """An 8-bit, chunky subsampled YCbCr page (strips or tiles) as RGB."""
    h, v = (int(s) for s in (_tag(page, 530) or (2, 2)))
    if h not in (1, 2, 4) or v not in (1, 2, 4) or v > h:
        raise CorruptImageError(f"YCbCr subsampling {h}x{v} is not valid (TIFF 6.0 section 21)")
    if int(page.bitspersample) != 8 or int(page.planarconfig) != 1:
        raise UnsupportedFormatError("subsampled YCbCr TIFF is supported with 8-bit samples in chunky order")
    if int(_tag(page, 317) or 1) != 1:
        raise UnsupportedFormatError("subsampled YCbCr TIFF with a predictor is not supported")
    rows, columns = int(page.imagelength), int(page.imagewidth)
    unit = h * v + 2
    segments = list(zip(page.dataoffsets, page.databytecounts, strict=False))
    if _tag(page, 322) is not None:  # TileWidth: each tile holds the data units of its area
        ycbcr = _tiles_to_ycbcr(page, segments, rows, columns, h, v)
    else:
        block_columns = -(-columns // h)
        block_rows = -(-rows // v)
        # Strips hold whole rows of data units (RowsPerStrip is a multiple of v), so the
        # joined strips are the data units in order.
        remaining = block_columns * block_rows * unit
        pieces: list[bytes] = []
        for offset, count in segments:
            if remaining <= 0:
                break
            piece = _decompressed(page, int(offset), int(count), remaining)
            pieces.append(piece)
            remaining -= len(piece)
        if remaining > 0:
            raise CorruptImageError("the YCbCr strips are truncated")
        ycbcr = _units_to_ycbcr(b"".join(pieces), block_rows, block_columns, h, v)[:rows, :columns]
    return ycbcr_to_rgb(ycbcr, rationals(_tag(page, 529), 3), rationals(_tag(page, 532), 6))


def _tiles_to_ycbcr(page: Any, tiles: list[tuple[int, int]], rows: int, columns: int, h: int, v: int) -> np.ndarray:
    """The YCbCr samples of a tiled subsampled page (TIFF 6.0 sections 15 and 21)."""
    width, length = _single(_tag(page, 322)) or 0, _single(_tag(page, 323)) or 0
    if width <= 0 or length <= 0 or width % h or length % v:
        raise CorruptImageError(f"YCbCr tiles of {width}x{length} do not hold whole {h}x{v} data units")
    if width * length > 4 * rows * columns + (1 << 20):
        # The page's size was checked; a tile far larger than the page is not decoded.
        raise CorruptImageError(f"YCbCr tiles of {width}x{length} are far larger than the {columns}x{rows} page")
    across, down = -(-columns // width), -(-rows // length)
    if len(tiles) < across * down:
        raise CorruptImageError(f"the YCbCr TIFF has {len(tiles)} tiles, its size needs {across * down}")
    needed = (width // h) * (length // v) * (h * v + 2)
    out = np.empty((rows, columns, 3), np.uint8)
    for index in range(across * down):
        top, left = (index // across) * length, (index % across) * width
        data = _decompressed(page, int(tiles[index][0]), int(tiles[index][1]), needed)
        if len(data) < needed:
            raise CorruptImageError(f"YCbCr tile {index + 1} is truncated")
        tile = _units_to_ycbcr(data, length // v, width // h, h, v)
        out[top : top + length, left : left + width] = tile[: rows - top, : columns - left]
    return out
