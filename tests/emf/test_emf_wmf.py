"""WMF playback: placeable and bare files built here, 16-bit records with reversed parameters."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from helpers.emf_build import wmf, wrec

from dicomify.emf import is_wmf, render
from dicomify.errors import CorruptImageError

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def at(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def brush(r: int, g: int, b: int) -> bytes:
    color = r | (g << 8) | (b << 16)
    return wrec(0x02FC, 0, color & 0xFFFF, color >> 16, 0)


def pen(width: int, r: int, g: int, b: int, style: int = 0) -> bytes:
    color = r | (g << 8) | (b << 16)
    return wrec(0x02FA, style, width, 0, color & 0xFFFF, color >> 16)


NULL_PEN = pen(0, 0, 0, 0, style=5)


def test_placeable_header_is_sniffed_and_sizes_the_picture() -> None:
    data = wmf(bbox=(0, 0, 200, 100), inch=96)
    assert is_wmf(data[:64])
    assert render(data).size == (200, 100)


def test_placeable_units_per_inch() -> None:
    # 1440 units per inch (twips): 1440 x 720 units is 1 x 0.5 inch, 96 x 48 pixels.
    assert render(wmf(bbox=(0, 0, 1440, 720), inch=1440)).size == (96, 48)


def test_rectangle_with_brush_and_pen_objects() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*RED),
                wrec(0x012D, 0),
                pen(5, *BLUE),
                wrec(0x012D, 1),
                wrec(0x041B, 80, 80, 20, 20),  # bottom, right, top, left
            )
        )
    )
    assert at(img, 50, 50) == RED and at(img, 20, 50) == BLUE and at(img, 5, 5) == WHITE


def test_objects_take_the_lowest_free_slot() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*BLUE),
                brush(*RED),
                wrec(0x01F0, 0),  # delete slot 0: the next object reuses it
                brush(0, 255, 0),
                wrec(0x012D, 0),
                NULL_PEN,
                wrec(0x012D, 2),
                wrec(0x041B, 80, 80, 20, 20),
            )
        )
    )
    assert at(img, 50, 50) == (0, 255, 0)


def test_polygon_and_window_extent() -> None:
    points = [(0, 0), (1000, 0), (0, 1000)]
    flat = [c for p in points for c in p]
    img = np.asarray(
        render(
            wmf(
                wrec(0x020B, 0, 0),
                wrec(0x020C, 1000, 1000),  # window ext (y, x): 1000 units across 100 px
                brush(*RED),
                wrec(0x012D, 0),
                NULL_PEN,
                wrec(0x012D, 1),
                wrec(0x0324, len(points), *flat),
            )
        )
    )
    assert at(img, 20, 20) == RED and at(img, 80, 80) == WHITE


def test_ellipse_and_line() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*RED),
                wrec(0x012D, 0),
                NULL_PEN,
                wrec(0x012D, 1),
                wrec(0x0418, 90, 90, 10, 10),
                pen(4, *BLUE),
                wrec(0x012D, 2),
                wrec(0x0214, 5, 0),
                wrec(0x0213, 5, 100),
            )
        )
    )
    assert at(img, 50, 50) == RED and at(img, 12, 12) == WHITE and at(img, 50, 5) == BLUE


def test_text_out() -> None:
    face = b"Liberation Sans".ljust(32, b"\x00")
    logfont = struct.pack("<5h8B", -30, 0, 0, 0, 400, 0, 0, 0, 0, 0, 0, 0, 0) + face
    words = struct.unpack(f"<{len(logfont) // 2}H", logfont)
    text = b"HI"
    img = np.asarray(
        render(
            wmf(
                wrec(0x02FB, *words),
                wrec(0x012D, 0),
                wrec(0x0102, 1),
                wrec(0x0521, len(text), *struct.unpack("<H", text), 10, 10),  # count, string, y, x
            )
        )
    )
    assert (img[10:45, 10:60, 0] < 128).sum() > 50


def test_bare_wmf_sized_by_its_window() -> None:
    data = wmf(
        wrec(0x020B, 0, 0),
        wrec(0x020C, 50, 80),
        brush(*RED),
        wrec(0x012D, 0),
        wrec(0x041B, 50, 80, 0, 0),
        placeable=False,
    )
    assert is_wmf(data[:64])
    img = np.asarray(render(data))
    assert img.shape == (50, 80, 3)
    assert at(img, 40, 25) == RED


# -- embedded bitmaps: what GDI tolerates ---------------------------------------------------


def stretch_dib_record(bmi: bytes, bits: bytes, w: int, h: int, usage: int = 0) -> bytes:
    """META_STRETCHDIB of a raw BITMAPINFO + bits onto (10, 10)-(90, 90), SRCCOPY."""
    body = struct.pack("<I9h", 0x00CC0020, usage, h, w, 0, 0, 80, 80, 10, 10) + bmi + bits
    body += b"\x00" * (len(body) & 1)
    return struct.pack("<IH", 3 + len(body) // 2, 0x0F43) + body


def info_header(w: int, h: int, bit_count: int, colors_used: int = 0) -> bytes:
    return struct.pack("<IiiHHIIiiII", 40, w, h, 1, bit_count, 0, 0, 0, 0, colors_used, 0)


def test_colour_table_larger_than_256_is_read_as_gdi_does() -> None:
    # biClrUsed = 1000: GDI reads 256 entries, so the pixels start after them.
    palette = bytes((0, 0, 255, 0)) + bytes(4 * 255)  # entry 0 red (BGR0)
    bits = bytes(4 * 2)  # 2x2 pixels of index 0, rows padded to 4 bytes
    img = np.asarray(render(wmf(stretch_dib_record(info_header(2, 2, 8, 1000) + palette, bits, 2, 2))))
    assert at(img, 50, 50) == RED


def test_palette_index_colour_table_is_two_bytes_an_entry() -> None:
    # DIB_PAL_COLORS: a table of 16-bit indices into the selected logical palette (here the
    # stock one: 0 black, 1 dark red), not RGBQUADs; the pixels follow it.
    table = struct.pack("<2H", 0, 1)
    bits = bytes((0x40, 0, 0, 0, 0x40, 0, 0, 0))  # 1-bit, 2x2, rows padded to 4 bytes: index 0, 1
    img = np.asarray(render(wmf(stretch_dib_record(info_header(2, 2, 1) + table, bits, 2, 2, usage=1))))
    assert at(img, 5, 5) == WHITE  # outside the bitmap
    assert at(img, 15, 50) == (0, 0, 0) and at(img, 85, 50) == (128, 0, 0)


def test_palette_indices_look_up_the_selected_palette() -> None:
    # CreatePalette (a LOGPALETTE: version, count, entries r, g, b, flags) + SelectPalette.
    palette = wrec(0x00F7, 0x0300, 2, 0x00FF, 0, 0x0000, 0x00FF)  # entries red, blue
    table = struct.pack("<2H", 1, 0)
    bits = bytes((0x40, 0, 0, 0, 0x40, 0, 0, 0))
    img = np.asarray(
        render(wmf(palette, wrec(0x0234, 0), stretch_dib_record(info_header(2, 2, 1) + table, bits, 2, 2, usage=1)))
    )
    assert at(img, 15, 50) == BLUE and at(img, 85, 50) == RED


def test_palette_bitmap_without_its_colour_table_indexes_the_selected_palette() -> None:
    # PowerPoint's slide thumbnails: an 8-bit DIB, biClrUsed 0, stored in a DIBStretchBlt
    # without the 256-entry table its header implies; the pixels fill the record right after
    # the header and index the logical palette selected before.
    palette = wrec(0x00F7, 0x0300, 2, 0x00FF, 0, 0x0000, 0x00FF)  # entries red, blue
    bits = bytes((0, 1, 0, 0, 0, 1, 0, 0))  # 2x2: index 0 left, 1 right (rows padded to 4)
    body = struct.pack("<I8h", 0x00CC0020, 2, 2, 0, 0, 80, 80, 10, 10) + info_header(2, 2, 8) + bits
    blit = struct.pack("<IH", 3 + len(body) // 2, 0x0B41) + body
    img = np.asarray(render(wmf(palette, wrec(0x0234, 0), blit)))
    assert at(img, 20, 50) == RED and at(img, 80, 50) == BLUE


def test_rows_missing_at_the_end_are_drawn_as_zeros() -> None:
    # 24-bit, 1 pixel wide, 3 rows bottom-up (4 bytes a row): the writer stopped after two
    # rows and left off the last padding. GDI and LibreOffice draw what is there.
    bits = bytes((255, 0, 0, 0)) + bytes((0, 0, 255))  # bottom row blue, middle row red (BGR)
    img = np.asarray(render(wmf(stretch_dib_record(info_header(1, 3, 24), bits, 1, 3))))
    near = [np.abs(img[y, 50].astype(int) - c).max() <= 8 for y, c in ((80, BLUE), (50, RED), (20, (0, 0, 0)))]
    assert all(near), [at(img, 50, y) for y in (80, 50, 20)]


def test_bitmap_without_pixels_is_skipped() -> None:
    img = np.asarray(
        render(
            wmf(
                brush(*RED),
                wrec(0x012D, 0),
                wrec(0x041B, 20, 20, 0, 0),
                stretch_dib_record(info_header(2, 2, 24), b"", 2, 2),
            )
        )
    )
    assert at(img, 10, 10) == RED and at(img, 50, 50) == WHITE


def test_bitmap_header_cut_short_is_damage() -> None:
    with pytest.raises(CorruptImageError, match="colour table"):
        render(wmf(stretch_dib_record(info_header(2, 2, 8), bytes(40), 2, 2)))


def bitblt16(rop: int, rows: list[int], width: int, stretch: bool = False) -> bytes:
    """META_BITBLT (or META_STRETCHBLT to twice the size) of a monochrome Bitmap16 at (20, 20)."""
    height = len(rows)
    bitmap = struct.pack("<4hBB", 0, width, height, 2, 1, 1) + b"".join(struct.pack(">H", r) for r in rows)
    if stretch:
        params = struct.pack("<I8h", rop, height, width, 0, 0, 2 * height, 2 * width, 20, 20)
        func = 0x0B23
    else:
        params = struct.pack("<I6h", rop, 0, 0, height, width, 20, 20)
        func = 0x0922
    body = params + bitmap
    return struct.pack("<IH", 3 + len(body) // 2, func) + body


def test_monochrome_bitmap16_takes_text_and_background_colours() -> None:
    # Windows 3.0 BitBlt of a device-dependent monochrome bitmap: 0 bits in the text colour,
    # 1 bits in the background colour. Top half 0 bits, bottom half 1 bits (rows top first).
    rows = [0x0000] * 8 + [0xFFFF] * 8
    records = (
        wrec(0x0209, 0x00FF, 0),  # SetTextColor red
        wrec(0x0201, 0x0000, 0x00FF),  # SetBkColor blue
    )
    img = np.asarray(render(wmf(*records, bitblt16(0x00CC0020, rows, 16))))
    assert at(img, 25, 22) == RED and at(img, 25, 32) == BLUE and at(img, 10, 10) == WHITE
    img = np.asarray(render(wmf(*records, bitblt16(0x00CC0020, rows, 16, stretch=True))))
    assert at(img, 30, 25) == RED and at(img, 30, 45) == BLUE and at(img, 55, 55) == WHITE


def test_bitmap16_mask_with_srcand_keeps_the_background() -> None:
    # A mask (0 = icon, 1 = keep) ANDed onto a white page with black text and white
    # background colours leaves white where the mask is 1 and black where it is 0.
    rows = [0xFF00] * 16
    img = np.asarray(render(wmf(wrec(0x0209, 0, 0), wrec(0x0201, 0xFFFF, 0x00FF), bitblt16(0x008800C6, rows, 16))))
    assert at(img, 22, 25) == WHITE and at(img, 32, 25) == (0, 0, 0)
