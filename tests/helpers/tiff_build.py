"""TIFF files written tag by tag, for the kinds tifffile and Pillow cannot write.

Old-style JPEG (Compression 6) and uncompressed subsampled YCbCr are rare enough that
no writer makes them; the tests assemble them from their parts (TIFF 6.0 sections 2,
21 and 22).
"""

from __future__ import annotations

import struct

import numpy as np

# TIFF field types: BYTE, ASCII, SHORT, LONG, RATIONAL.
_TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("I", 4), 5: ("II", 8)}
SHORT, LONG, RATIONAL = 3, 4, 5


def tiff_bytes(width: int, height: int, tags: dict[int, tuple[int, list[int]]], data: bytes) -> bytes:
    """A one-page little-endian TIFF holding ``data`` as its only strip.

    ``tags`` maps tag numbers to (type, values), a RATIONAL's values as numerator,
    denominator pairs flattened; StripOffsets, StripByteCounts,
    ImageWidth, ImageLength and RowsPerStrip are added. A value -1 in a LONG tag named
    by ``tags`` is replaced by the offset of ``data`` (for JPEGInterchangeFormat).
    """
    entries = dict(tags)
    entries[256] = (LONG, [width])
    entries[257] = (LONG, [height])
    entries[278] = (LONG, [height])
    entries[279] = (LONG, [len(data)])
    entries[273] = (LONG, [0])  # patched below
    count = len(entries)
    ifd_offset = 8
    extra_offset = ifd_offset + 2 + 12 * count + 4
    extras = bytearray()
    # Out-of-line values first, so the data offset is known.
    layout: list[tuple[int, int, int, bytes | None]] = []
    for tag in sorted(entries):
        kind, values = entries[tag]
        code, size = _TYPES[kind]
        items = len(values) // 2 if kind == RATIONAL else len(values)
        layout.append((tag, kind, items, None if size * items <= 4 else b""))
    for i, (tag, kind, n, _) in enumerate(layout):
        code, size = _TYPES[kind]
        if size * n > 4:
            layout[i] = (tag, kind, n, b"at")
            extras += b"\x00" * (size * n + (size * n) % 2)
    data_offset = extra_offset + len(extras)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", count))
    extras = bytearray()
    for tag, kind, n, where in layout:
        values = [data_offset if v == -1 else v for v in entries[tag][1]]
        if tag == 273:
            values = [data_offset]
        code, size = _TYPES[kind]
        packed = struct.pack("<" + code * n, *values) if kind != 5 else struct.pack("<" + "I" * 2 * n, *values)
        if where is None:
            out += struct.pack("<HHI", tag, kind, n) + packed.ljust(4, b"\x00")
        else:
            out += struct.pack("<HHII", tag, kind, n, extra_offset + len(extras))
            extras += packed + b"\x00" * (len(packed) % 2)
    out += struct.pack("<I", 0)
    assert len(out) == extra_offset
    return bytes(out + extras + data)


def ycbcr_subsampled(rgb: np.ndarray, h: int, v: int) -> tuple[bytes, np.ndarray]:
    """Uncompressed YCbCr data units (TIFF 6.0 section 21) for an RGB picture.

    Returns the strip bytes and the Y, Cb, Cr planes at full resolution (chroma
    repeated over its block), which is what a decoder reconstructs.
    """
    rgb = rgb.astype(np.float64)
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    cb = (rgb[..., 2] - y) / 1.772 + 128
    cr = (rgb[..., 0] - y) / 1.402 + 128
    rows, cols = y.shape
    assert rows % v == 0 and cols % h == 0
    y8 = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    cb8 = np.clip(np.rint(cb.reshape(rows // v, v, cols // h, h).mean(axis=(1, 3))), 0, 255).astype(np.uint8)
    cr8 = np.clip(np.rint(cr.reshape(rows // v, v, cols // h, h).mean(axis=(1, 3))), 0, 255).astype(np.uint8)
    units = bytearray()
    for by in range(rows // v):
        for bx in range(cols // h):
            units += y8[by * v : (by + 1) * v, bx * h : (bx + 1) * h].tobytes()
            units += bytes((cb8[by, bx], cr8[by, bx]))
    full_cb = np.repeat(np.repeat(cb8, v, axis=0), h, axis=1)
    full_cr = np.repeat(np.repeat(cr8, v, axis=0), h, axis=1)
    return bytes(units), np.dstack([y8, full_cb, full_cr])


def _jpeg_headers(jpeg: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The marker segments of a JPEG up to SOS (marker, body), and what follows SOS."""
    segments, position = [], 2
    while True:
        marker, length = jpeg[position + 1], struct.unpack(">H", jpeg[position + 2 : position + 4])[0]
        segments.append((marker, jpeg[position + 4 : position + 2 + length]))
        position += 2 + length
        if marker == 0xDA:
            return segments, jpeg[position:]


def _jpeg_tables(segments: list[tuple[int, bytes]]) -> dict[tuple[str, int], bytes]:
    """DQT and DHT tables by (kind, id): 64 zigzag bytes, or 16 counts and the values."""
    tables = {}
    for marker, body in segments:
        at = 0
        while marker == 0xDB and at < len(body):
            tables["q", body[at] & 15] = body[at + 1 : at + 65]
            at += 65
        while marker == 0xC4 and at < len(body):
            size = 17 + sum(body[at + 1 : at + 17])
            tables["dc" if body[at] >> 4 == 0 else "ac", body[at] & 15] = body[at + 1 : at + size]
            at += size
    return tables


def old_jpeg_tiff(
    pages: list[np.ndarray],
    rows_per_strip: int,
    subsampling: int = 2,
    jpeg_proc: int = 1,
    strips_with_headers: bool = False,
) -> tuple[bytes, list[np.ndarray]]:
    """An old-style JPEG TIFF in the form of TIFF 6.0 section 22: the tables in the
    JPEGQTables/JPEGDCTables/JPEGACTables tags, each strip the entropy-coded data of its
    rows only (no markers), no JPEGInterchangeFormat.

    Each strip is encoded by Pillow (libjpeg) as a JPEG of its own rows (quality 90, the
    same tables for all); gray pages (H×W) have one component, RGB pages are YCbCr with
    Pillow's ``subsampling`` (0 = 4:4:4, 2 = 4:2:0). Returns the file and, per page, the
    strips' JPEGs decoded by Pillow and stacked (what libjpeg makes of the same data,
    with its own chroma upsampling). ``strips_with_headers`` puts each strip's frame and
    scan headers in front of its data (a layout libtiff does not decode).
    """
    import io

    import tifffile
    from PIL import Image

    buffer = io.BytesIO()
    decoded_pages, page_tables = [], []
    with tifffile.TiffWriter(buffer) as writer:
        for pixels in pages:
            strips, decoded = [], []
            for top in range(0, pixels.shape[0], rows_per_strip):
                out = io.BytesIO()
                Image.fromarray(pixels[top : top + rows_per_strip]).save(
                    out, "JPEG", quality=90, subsampling=subsampling
                )
                decoded.append(np.asarray(Image.open(io.BytesIO(out.getvalue()))))
                segments, scan = _jpeg_headers(out.getvalue())
                headers = b"".join(
                    bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body
                    for marker, body in segments
                    if strips_with_headers and marker in (0xC0, 0xDA)
                )
                strips.append(headers + scan.removesuffix(b"\xff\xd9"))
            decoded_pages.append(np.concatenate(decoded))
            sof = next(body for marker, body in segments if marker == 0xC0)
            sos = next(body for marker, body in segments if marker == 0xDA)
            count = sof[5]
            tables = _jpeg_tables(segments)
            page_tables.append(
                [
                    [tables["q", sof[8 + 3 * i]] for i in range(count)],
                    [tables["dc", sos[2 + 2 * i] >> 4] for i in range(count)],
                    [tables["ac", sos[2 + 2 * i] & 15] for i in range(count)],
                ]
            )
            colour = pixels.ndim == 3
            # tifffile cannot write compression 6: written as 7 over precompressed strips,
            # the Compression tag patched below; the table offsets are patched too.
            writer.write(
                iter(strips),
                shape=pixels.shape,
                dtype=np.uint8,
                photometric="ycbcr" if colour else "minisblack",
                compression=7,
                rowsperstrip=rows_per_strip,
                subsampling=((2, 2) if subsampling == 2 else (1, 1)) if colour else None,
                extratags=[(512, "H", 1, jpeg_proc, True)]
                + [(code, "I", count, [0] * count, True) for code in (519, 520, 521)],
                metadata=None,
            )
    data = bytearray(buffer.getvalue())
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tiff:
        places = [{code: page.tags[code].valueoffset for code in (259, 519, 520, 521)} for page in tiff.pages]
    for where, tables in zip(places, page_tables, strict=True):
        data[where[259] : where[259] + 2] = struct.pack("<H", 6)
        for code, group in zip((519, 520, 521), tables, strict=True):
            offsets = []
            for table in group:
                offsets.append(len(data))
                data += table
            data[where[code] : where[code] + 4 * len(offsets)] = struct.pack(f"<{len(offsets)}I", *offsets)
    return bytes(data), decoded_pages


def ycbcr_tiled(rgb: np.ndarray, h: int, v: int, tile: tuple[int, int], lzw: bool = False) -> tuple[bytes, np.ndarray]:
    """A tiled subsampled YCbCr TIFF (TIFF 6.0 sections 15 and 21): each tile holds the
    data units of its area (tiles past the edge padded by repeating the edge). Returns
    the file and the Y, Cb, Cr planes a decoder reconstructs, as :func:`ycbcr_subsampled`.
    """
    import io

    import imagecodecs
    import tifffile

    length, width = tile
    rows, columns = rgb.shape[:2]
    padded = np.pad(rgb, ((0, -rows % length), (0, -columns % width), (0, 0)), mode="edge")
    tiles, planes = [], np.empty(padded.shape, np.uint8)
    for top in range(0, padded.shape[0], length):
        for left in range(0, padded.shape[1], width):
            units, ycc = ycbcr_subsampled(np.ascontiguousarray(padded[top : top + length, left : left + width]), h, v)
            tiles.append(bytes(imagecodecs.lzw_encode(units)) if lzw else units)
            planes[top : top + length, left : left + width] = ycc
    buffer = io.BytesIO()
    # tifffile writes no subsampled YCbCr: written as 1x1, then YCbCrSubSampling patched.
    tifffile.imwrite(
        buffer,
        iter(tiles),
        shape=rgb.shape,
        dtype=np.uint8,
        photometric="ycbcr",
        tile=tile,
        compression="lzw" if lzw else None,
        metadata=None,
    )
    data = bytearray(buffer.getvalue())
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tiff:
        where = tiff.pages[0].tags[530].valueoffset
    data[where : where + 4] = struct.pack("<HH", h, v)
    return bytes(data), planes[:rows, :columns]
