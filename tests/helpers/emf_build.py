"""Small EMF and WMF files built record by record, for the renderer's tests (MS-EMF, MS-WMF)."""

from __future__ import annotations

import struct


def rec(rtype: int, payload: bytes = b"") -> bytes:
    """One EMF record: type, size, payload padded to 4 bytes."""
    payload += b"\x00" * (-len(payload) % 4)
    return struct.pack("<II", rtype, 8 + len(payload)) + payload


def emf(*records: bytes, size_px: tuple[int, int] = (100, 100), px_per_mm: float = 96 / 25.4) -> bytes:
    """An EMF whose frame is ``size_px`` reference pixels, so at 96 dpi one logical unit is one pixel."""
    w, h = size_px
    body = b"".join(records) + rec(14, struct.pack("<III", 0, 16, 20))
    device = (1000, 1000)
    mm = (round(1000 / px_per_mm), round(1000 / px_per_mm))
    frame = (
        0,
        0,
        round(w * 100 * mm[0] / device[0]),
        round(h * 100 * mm[1] / device[1]),
    )
    header = struct.pack(
        "<II4i4i4sIIIHHIII2i2i",
        1,
        88,
        0,
        0,
        w - 1,
        h - 1,
        *frame,
        b" EMF",
        0x10000,
        88 + len(body),
        len(records) + 2,
        1,
        0,
        0,
        0,
        0,
        *device,
        *mm,
    )
    return header + body


def colorref(r: int, g: int, b: int) -> int:
    return r | (g << 8) | (b << 16)


def create_pen(handle: int, style: int, width: int, color: tuple[int, int, int]) -> bytes:
    return rec(38, struct.pack("<IIiiI", handle, style, width, 0, colorref(*color)))


def create_brush(handle: int, color: tuple[int, int, int], style: int = 0, hatch: int = 0) -> bytes:
    return rec(39, struct.pack("<IIII", handle, style, colorref(*color), hatch))


def select(handle: int) -> bytes:
    return rec(37, struct.pack("<I", handle))


NULL_PEN = 0x80000008
NULL_BRUSH = 0x80000005


def rectangle(left: int, top: int, right: int, bottom: int) -> bytes:
    return rec(43, struct.pack("<4i", left, top, right, bottom))


def ellipse(left: int, top: int, right: int, bottom: int) -> bytes:
    return rec(42, struct.pack("<4i", left, top, right, bottom))


def polygon16(points: list[tuple[int, int]], rtype: int = 86) -> bytes:
    flat = [c for p in points for c in p]
    return rec(
        rtype,
        struct.pack("<4iI", 0, 0, 0, 0, len(points)) + struct.pack(f"<{len(flat)}h", *flat),
    )


def polygon32(points: list[tuple[int, int]], rtype: int = 3) -> bytes:
    flat = [c for p in points for c in p]
    return rec(
        rtype,
        struct.pack("<4iI", 0, 0, 0, 0, len(points)) + struct.pack(f"<{len(flat)}i", *flat),
    )


def font(
    handle: int,
    height: int,
    face: str = "Liberation Sans",
    weight: int = 400,
    escapement: int = 0,
) -> bytes:
    name = face.encode("utf-16-le")[:62].ljust(64, b"\x00")
    logfont = struct.pack("<5i8B", height, 0, escapement, escapement, weight, 0, 0, 0, 0, 0, 0, 0, 0) + name
    return rec(82, struct.pack("<I", handle) + logfont + b"\x00" * (320 - 92))


def ext_text_out_w(x: int, y: int, text: str, options: int = 0) -> bytes:
    chars = text.encode("utf-16-le")
    off_string = 76
    off_dx = off_string + len(chars) + (-len(chars) % 4)
    dx = b""
    payload = struct.pack("<4iIff", 0, 0, 0, 0, 1, 1.0, 1.0)
    payload += struct.pack("<iiIII4iI", x, y, len(text), off_string, options, 0, 0, 0, 0, 0)
    payload += chars + b"\x00" * (-len(chars) % 4) + dx
    del off_dx
    return rec(84, payload)


def dib24(pixels: list[list[tuple[int, int, int]]]) -> tuple[bytes, bytes]:
    """BITMAPINFOHEADER and bits of a 24-bit bottom-up DIB of ``pixels`` (rows top first)."""
    h, w = len(pixels), len(pixels[0])
    stride = (w * 3 + 3) // 4 * 4
    rows = []
    for row in reversed(pixels):
        line = b"".join(bytes((b, g, r)) for r, g, b in row)
        rows.append(line + b"\x00" * (stride - len(line)))
    bits = b"".join(rows)
    bmi = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(bits), 0, 0, 0, 0)
    return bmi, bits


def stretch_dibits(
    x: int,
    y: int,
    cx: int,
    cy: int,
    pixels: list[list[tuple[int, int, int]]],
    rop: int = 0x00CC0020,
) -> bytes:
    """A 24-bit bottom-up DIB of ``pixels`` (rows top first) stretched to the destination."""
    h, w = len(pixels), len(pixels[0])
    bmi, bits = dib24(pixels)
    off_bmi = 80
    off_bits = off_bmi + len(bmi)
    payload = struct.pack(
        "<4i6i6I2i",
        0,
        0,
        0,
        0,
        x,
        y,
        0,
        0,
        w,
        h,
        off_bmi,
        len(bmi),
        off_bits,
        len(bits),
        0,
        rop,
        cx,
        cy,
    )
    return rec(81, payload + bmi + bits)


def bitblt(x: int, y: int, cx: int, cy: int, rop: int, pixels: list[list[tuple[int, int, int]]] | None = None) -> bytes:
    """EMR_BITBLT (MS-EMF 2.3.1.2): a 24-bit source DIB, or none (a pattern blit, PatBlt)."""
    bmi, bits = dib24(pixels) if pixels else (b"", b"")
    off_bmi = 100 if bmi else 0
    off_bits = off_bmi + len(bmi) if bmi else 0
    payload = struct.pack(
        "<4i4iI2i6fII4I",
        0,
        0,
        0,
        0,
        x,
        y,
        cx,
        cy,
        rop,
        0,
        0,
        1,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        off_bmi,
        len(bmi),
        off_bits,
        len(bits),
    )
    return rec(76, payload + bmi + bits)


# -- WMF ---------------------------------------------------------------------------------------


def wrec(func: int, *words: int) -> bytes:
    return struct.pack("<IH", 3 + len(words), func) + struct.pack(f"<{len(words)}H", *(w & 0xFFFF for w in words))


def wmf_dib_stretch(x: int, y: int, cx: int, cy: int, rop: int, pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """META_STRETCHDIB (MS-WMF 2.3.1.3): a 24-bit DIB stretched to the destination."""
    h, w = len(pixels), len(pixels[0])
    bmi, bits = dib24(pixels)
    params = struct.pack("<I9h", rop, 0, h, w, 0, 0, cy, cx, y, x)
    body = params + bmi + bits
    body += b"\x00" * (len(body) & 1)
    return struct.pack("<IH", 3 + len(body) // 2, 0x0F43) + body


def wmf_dib_bitblt(
    x: int, y: int, cx: int, cy: int, rop: int, pixels: list[list[tuple[int, int, int]]] | None = None
) -> bytes:
    """META_DIBBITBLT (MS-WMF 2.3.1.2): a 24-bit DIB, or none (then it is a pattern blit)."""
    if pixels is None:
        params = struct.pack("<I6h", rop, 0, 0, 0, cy, cx, y) + struct.pack("<h", x)
        return struct.pack("<IH", 3 + len(params) // 2, 0x0940) + params
    bmi, bits = dib24(pixels)
    body = struct.pack("<I6h", rop, 0, 0, cy, cx, y, x) + bmi + bits
    body += b"\x00" * (len(body) & 1)
    return struct.pack("<IH", 3 + len(body) // 2, 0x0940) + body


def wmf_region(scans: list[tuple[int, int, list[tuple[int, int]]]], *, scan_count: int | None = None) -> bytes:
    """META_CREATEREGION (MS-WMF 2.2.1.5): scans of (top, bottom, [(left, right), ...]).
    ``scan_count`` overrides the header's ScanCount (damaged files)."""
    body = b""
    for top, bottom, pairs in scans:
        xs = [x for pair in pairs for x in pair]
        body += struct.pack(f"<Hhh{len(xs)}hH", len(xs), top, bottom, *xs, len(xs))
    xs_all = [x for _, _, pairs in scans for pair in pairs for x in pair] or [0]
    ys_all = [y for top, bottom, _ in scans for y in (top, bottom)] or [0]
    bound = (min(xs_all), min(ys_all), max(xs_all), max(ys_all))
    max_scan = max((len(pairs) for _, _, pairs in scans), default=0)
    count = len(scans) if scan_count is None else scan_count
    region = struct.pack("<HHIHHH4h", 0, 6, 0, (22 + len(body)) & 0xFFFF, count, max_scan, *bound) + body
    return struct.pack("<IH", 3 + len(region) // 2, 0x06FF) + region


def wmf(
    *records: bytes,
    bbox: tuple[int, int, int, int] = (0, 0, 100, 100),
    inch: int = 96,
    placeable: bool = True,
) -> bytes:
    body = b"".join(records) + wrec(0)
    header = struct.pack("<HHHIHIH", 1, 9, 0x0300, (18 + len(body)) // 2, 4, 64, 0)
    if not placeable:
        return header + body
    fields = struct.pack("<IH4hHI", 0x9AC6CDD7, 0, *bbox, inch, 0)
    checksum = 0
    for (word,) in struct.iter_unpack("<H", fields):
        checksum ^= word
    return fields + struct.pack("<H", checksum) + header + body


# -- EMF+ --------------------------------------------------------------------------------------


def plus(rtype: int, flags: int = 0, data: bytes = b"") -> bytes:
    """One EMF+ record (MS-EMFPLUS 2.3): type, flags, size, data size, data."""
    return struct.pack("<HHII", rtype, flags, 12 + len(data), len(data)) + data


def plus_comment(*records: bytes) -> bytes:
    """EMF+ records carried in an EMR_COMMENT."""
    body = b"EMF+" + b"".join(records)
    return rec(70, struct.pack("<I", len(body)) + body)


def plus_header(dual: bool = False) -> bytes:
    """EmfPlusHeader (MS-EMFPLUS 2.3.3.3): the record flag 1 says dual; EmfPlusFlags 1 says the
    reference device was a display (as GDI+ writes it on screen)."""
    return plus(0x4001, 1 if dual else 0, struct.pack("<IIII", 0xDBC01002, 1, 96, 96))
