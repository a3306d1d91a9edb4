"""WMF files in the shapes Office documents and clip-art take, built record by record.

Each is what a real writer emits for a kind of picture (see the docstrings); the WMF corpus
test (tests/emf/test_wmf_corpus.py) converts every one to DICOM. ``DAMAGED`` holds files
cut or broken the ways real damaged files are, which must be refused cleanly.
"""

from __future__ import annotations

import struct

from helpers.emf_build import dib24, wmf, wmf_region, wrec

Pixel = tuple[int, int, int]
RED, GREEN, BLUE, YELLOW, BLACK, WHITE = (
    (255, 0, 0),
    (0, 160, 0),
    (0, 0, 255),
    (255, 220, 0),
    (0, 0, 0),
    (255, 255, 255),
)


def _ref(c: Pixel) -> tuple[int, int]:
    v = c[0] | (c[1] << 8) | (c[2] << 16)
    return v & 0xFFFF, v >> 16


def brush(c: Pixel, style: int = 0, hatch: int = 0) -> bytes:
    return wrec(0x02FC, style, *_ref(c), hatch)


def pen(c: Pixel, width: int = 1, style: int = 0) -> bytes:
    return wrec(0x02FA, style, width, 0, *_ref(c))


def select(i: int) -> bytes:
    return wrec(0x012D, i)


def delete(i: int) -> bytes:
    return wrec(0x01F0, i)


def font(height: int, face: str, weight: int = 400, escapement: int = 0) -> bytes:
    raw = struct.pack("<5h8B", height, 0, escapement, escapement, weight, 0, 0, 0, 0, 0, 0, 0, 0)
    raw += face.encode("latin-1")[:31].ljust(32, b"\x00")
    return wrec(0x02FB, *struct.unpack(f"<{len(raw) // 2}H", raw))


def text_out(x: int, y: int, text: str) -> bytes:
    raw = text.encode("latin-1")
    raw += b"\x00" * (len(raw) & 1)
    return wrec(0x0521, len(text), *struct.unpack(f"<{len(raw) // 2}H", raw), y, x)


def ext_text_out(x: int, y: int, text: str, dx: int) -> bytes:
    raw = text.encode("latin-1")
    raw += b"\x00" * (len(raw) & 1)
    words = struct.unpack(f"<{len(raw) // 2}H", raw)
    return wrec(0x0A32, y, x, len(text), 0, *words, *([dx] * len(text)))


def dib_stretch_blt(x: int, y: int, w: int, h: int, rop: int, pixels: list[list[Pixel]]) -> bytes:
    """META_DIBSTRETCHBLT of a 24-bit DIB (the record Office writes for pictures and icons)."""
    bmi, bits = dib24(pixels)
    sh, sw = len(pixels), len(pixels[0])
    body = struct.pack("<I8h", rop, sh, sw, 0, 0, h, w, y, x) + bmi + bits
    body += b"\x00" * (len(body) & 1)
    return struct.pack("<IH", 3 + len(body) // 2, 0x0B41) + body


def _office_header() -> list[bytes]:
    # What Office writes first: window, background mode, text alignment, poly fill mode.
    return [wrec(0x020B, 0, 0), wrec(0x020C, 1000, 1500), wrec(0x0102, 1), wrec(0x012E, 24), wrec(0x0106, 2)]


def ole_icon() -> bytes:
    """An OLE object's icon as Word draws it: mask with SRCAND, then the image with SRCINVERT,
    then the caption."""
    n = 16
    mask = [[BLACK if 3 <= x < 13 and 2 <= y < 14 else WHITE for x in range(n)] for y in range(n)]
    image = [
        [(BLUE if y < 5 else YELLOW) if 3 <= x < 13 and 2 <= y < 14 else BLACK for x in range(n)] for y in range(n)
    ]
    return wmf(
        *_office_header(),
        dib_stretch_blt(500, 100, 500, 500, 0x008800C6, mask),
        dib_stretch_blt(500, 100, 500, 500, 0x00660046, image),
        font(-120, "Arial"),
        select(0),
        text_out(300, 800, "Document.docx"),
        bbox=(0, 0, 1500, 1000),
        inch=1440,
    )


def bar_chart() -> bytes:
    """A chart as Excel exports it: y-up anisotropic window, hatched and solid bars, grid,
    axis labels with per-glyph advances."""
    records = [wrec(0x0103, 8), wrec(0x020B, 600, 0), wrec(0x020C, -600, 800), wrec(0x0102, 1)]
    records += [pen((128, 128, 128), 0, 2), select(0)]
    for y in range(100, 600, 100):
        records += [wrec(0x0214, y, 50), wrec(0x0213, y, 780)]
    records += [wrec(0x02FA, 5, 0, 0, 0, 0), select(1)]  # null pen
    colours = [RED, GREEN, BLUE, YELLOW]
    for i, c in enumerate(colours):
        top, left = 100 * (i + 2), 150 + 150 * i
        records += [brush(c, 2 if i % 2 else 0, 3), select(2), wrec(0x041B, 60, left + 100, top, left)]
        records += [delete(2)]
    records += [font(-40, "Arial"), select(2), ext_text_out(60, 50, "Q1 Q2 Q3 Q4", 25)]
    return wmf(*records, bbox=(0, 0, 800, 600), inch=576)


def clip_art() -> bytes:
    """Clip-art: polypolygons with holes, pies, chords, arcs, round rects, a clip rect,
    saved and restored states, a pattern-brush fill, a region filled, framed and clipped to."""
    outer = [(100, 100), (900, 100), (900, 900), (100, 900)]
    inner = [(300, 300), (700, 300), (700, 700), (300, 700)]
    flat = [c for p in outer + inner for c in p]
    tile = [[RED if (x + y) % 2 else WHITE for x in range(8)] for y in range(8)]
    bmi, bits = dib24(tile)
    pattern = struct.pack("<2H", 5, 0) + bmi + bits
    records = [
        wrec(0x020B, 0, 0),
        wrec(0x020C, 1000, 1000),
        pen(BLACK, 10),
        select(0),
        brush(GREEN),
        select(1),
        wrec(0x0538, 2, 4, 4, *flat),  # PolyPolygon
        wrec(0x001E),  # SaveDC
        wrec(0x0416, 600, 600, 400, 400),  # IntersectClipRect
        brush(BLUE),
        select(2),
        wrec(0x0418, 700, 700, 300, 300),  # Ellipse, clipped
        wrec(0x0127, 0xFFFF),  # RestoreDC(-1)
        struct.pack("<IH", 3 + len(pattern) // 2, 0x0142) + pattern,  # DIBCreatePatternBrush
        select(3),
        wrec(0x081A, 120, 980, 20, 980, 180, 980, 20, 820),  # Pie
        wrec(0x0830, 980, 120, 980, 20, 980, 180, 820, 20),  # Chord
        wrec(0x0817, 50, 50, 950, 950, 990, 990, 10, 10),  # Arc
        wrec(0x061C, 60, 60, 980, 180, 820, 20),  # RoundRect
        # A region (two bands) filled, framed, then used as the clip for a hatched ellipse,
        # as clip-art exported through GDI's metafile recorder carries them.
        wmf_region([(400, 500, [(50, 150), (850, 950)]), (500, 600, [(50, 950)])]),  # slot 4
        brush(YELLOW),  # slot 5
        wrec(0x0228, 5, 4),  # FillRegion: brush, region
        wrec(0x0429, 10, 10, 1, 4),  # FrameRegion: height, width, brush, region
        wrec(0x012C, 4),  # SelectClipRegion
        brush(RED, 2, 3),  # slot 6: hatched
        select(6),
        wrec(0x0418, 650, 950, 350, 50),  # Ellipse, clipped to the region
        wrec(0x012C, 0xFFFF),  # no region: the clip is reset
    ]
    return wmf(*records, bbox=(0, 0, 1000, 1000), inch=1000)


def bare_with_text() -> bytes:
    """A WMF without a placeable header (as the clipboard and some converters write it),
    sized by its window, with rotated text."""
    return wmf(
        wrec(0x020B, 0, 0),
        wrec(0x020C, 300, 400),
        brush(YELLOW),
        select(0),
        wrec(0x041B, 290, 390, 10, 10),
        font(-40, "Times New Roman", 700, 450),
        select(1),
        wrec(0x0209, *_ref(RED)),
        text_out(100, 250, "Tilted"),
        placeable=False,
    )


def misplaced_window() -> bytes:
    """The window of a drawing put a pen margin off, as in Pillow's drawing.wmf: the circle
    runs out of the frame; the whole circle is drawn."""
    return wmf(
        wrec(0x020C, 1000, 1000),
        wrec(0x020B, 0, 0),
        brush(RED),
        select(0),
        wrec(0x0418, 1150, 1150, 200, 200),
        bbox=(0, 0, 1000, 1000),
        inch=1200,
    )


GOOD = {
    "ole_icon": ole_icon,
    "bar_chart": bar_chart,
    "clip_art": clip_art,
    "bare_with_text": bare_with_text,
    "misplaced_window": misplaced_window,
}


def _damaged() -> dict[str, bytes]:
    icon = ole_icon()
    header_only = icon[: 22 + 18]
    zero_size = icon[:40] + struct.pack("<IH", 0, 0x0103) + icon[46:]
    past_end = icon[:40] + struct.pack("<IH", 0x7FFFFFFF, 0x041B) + icon[46:]
    bad_header = icon[:22] + struct.pack("<HH", 7, 3) + icon[26:]
    bitmap = dib_stretch_blt(0, 0, 10, 10, 0x00CC0020, [[RED] * 4] * 4)
    cut_bitmap = bitmap[:6] + bitmap[6:30]  # record size still claims the whole bitmap
    cut_bitmap = struct.pack("<I", len(cut_bitmap) // 2) + cut_bitmap[4:]
    return {
        "cut_after_header": header_only,
        "cut_in_placeable_header": icon[:15],
        "zero_size_record": zero_size,
        "record_past_the_end": past_end,
        "not_a_meta_header": bad_header,
        "bitmap_header_cut": wmf(cut_bitmap),
    }


DAMAGED = _damaged()
