"""WMF records (MS-WMF 2.3) played onto a :class:`~dicomify.emf._gdi.Device`.

WMF coordinates are 16-bit logical units; the picture is the placeable header's bounding
box (in units of ``inch`` per inch), or for a bare WMF the first SetWindowOrg/SetWindowExt.
Parameters of most records are stored in reverse order (y before x, bottom before top).
"""

from __future__ import annotations

import logging
import struct

import numpy as np
import skia

from ..errors import CorruptImageError
from . import _gdi
from ._dib import BI_BITFIELDS, BI_RGB, check_size, decode_dib
from ._emf import _codepage, _opaque, logfont
from ._gdi import Brush, Device, Pen, Rendered, color_of
from ._records import DAMAGED_RECORD_ERRORS
from ._size import output_canvas
from ._sniff import WMF_PLACEABLE_KEY

log = logging.getLogger(__name__)

ETO_OPAQUE, ETO_CLIPPED = 2, 4
DIB_RGB_COLORS, DIB_PAL_COLORS = 0, 1


def render_wmf(data: bytes, *, dpi: float | None, max_pixels: int | None) -> Rendered:
    """Play a WMF: the RGB pixels, whether anything was drawn, the characters no font has."""
    offset = 0
    bbox: tuple[int, int, int, int] | None = None
    inch = 1440
    if len(data) >= 22 and struct.unpack_from("<I", data, 0)[0] == WMF_PLACEABLE_KEY:
        left, top, right, bottom, inch = struct.unpack_from("<hhhhH", data, 6)
        bbox = (left, top, right, bottom)
        offset = 22
        if data[22:24] == b"\x00\x00" and data[24:28] in (b"\x01\x00\x09\x00", b"\x02\x00\x09\x00"):
            offset = 24  # GDI+ pads the 22-byte placeable header to 24 in EMF+ metafile images
    if len(data) < offset + 18:
        raise CorruptImageError("the WMF header is truncated")
    mtype, header_words = struct.unpack_from("<HH", data, offset)
    if mtype not in (1, 2) or header_words != 9:
        raise CorruptImageError("the WMF header is not a META_HEADER (type 1 or 2, 9 words)")
    records_at = offset + 18
    if bbox is None:
        bbox = _window_of(data, records_at)
        inch = 96  # a bare WMF has no physical size: one logical unit per 96 dpi pixel
    left, top, right, bottom = bbox
    width_units, height_units = abs(right - left), abs(bottom - top)
    if width_units == 0 or height_units == 0 or inch == 0:
        raise CorruptImageError(f"the WMF bounding box {bbox} (units per inch {inch}) is empty")
    width_mm, height_mm = width_units / inch * 25.4, height_units / inch * 25.4
    canvas = output_canvas(width_mm, height_mm, dpi=dpi, max_pixels=max_pixels)
    dev = Device(canvas.width, canvas.height, skia.Matrix(), wmf=True)
    # The placeable header (or first window) frames the picture, and the file's window maps
    # onto that frame. Some writers put the window in the wrong place, so that a drawing no
    # larger than the frame runs out of it (a circle whose polygon starts a pen margin
    # late): Windows shows the whole drawing, so the frame is moved over it.
    _map_window(dev, bbox, _frame_over_drawing(data, records_at, bbox, (width_mm, height_mm)))
    dev.device_px_per_mm = (canvas.dpi / 25.4, canvas.dpi / 25.4)
    _WmfPlayer(data, records_at, dev).play()
    return Rendered(dev.pixels(), dev.drew, frozenset(dev.missing_glyphs))


# Trial playback: the frame takes this many pixels on its longer side, centred in a canvas
# three frames wide and high; a drawing reaching more than OVERFLOW_PX past the frame's
# edge (anti-aliasing and half a pen width stay below it) counts as overflowing.
TRIAL_SIDE = 128
OVERFLOW_PX = 2


def _map_window(dev: Device, bbox: tuple[int, int, int, int], area: tuple[float, float, float, float]) -> None:
    """The initial mapping: the frame's window onto the device, showing ``area`` of it
    (fractions of the frame, (0, 0, 1, 1) for the frame itself) across the whole canvas."""
    left, top, right, bottom = bbox
    u0, v0, u1, v1 = area
    s = dev.state
    s.map_mode = _gdi.MM_ANISOTROPIC
    s.window_org = (float(min(left, right)), float(min(top, bottom)))
    s.window_ext = (float(abs(right - left)), float(abs(bottom - top)))
    vex, vey = dev.width / (u1 - u0), dev.height / (v1 - v0)
    s.viewport_ext = (vex, vey)
    s.viewport_org = (-u0 * vex, -v0 * vey)


def _frame_over_drawing(
    data: bytes, records_at: int, bbox: tuple[int, int, int, int], size_mm: tuple[float, float]
) -> tuple[float, float, float, float]:
    """Where the frame goes, in fractions of it: (0, 0, 1, 1) where it is, moved along an
    axis on which the drawing is no larger than the frame but runs out of it.

    A drawing larger than the frame (a background bleeding past the page, a cropped
    picture) keeps the frame: cutting it there is what the file asks for.
    """
    aspect = size_mm[0] / size_mm[1]
    fw = max(1, round(TRIAL_SIDE * min(1.0, aspect)))
    fh = max(1, round(TRIAL_SIDE * min(1.0, 1 / aspect)))
    dev = Device(3 * fw, 3 * fh, skia.Matrix(), wmf=True, transparent=True)
    _map_window(dev, bbox, (-1.0, -1.0, 2.0, 2.0))
    dev.device_px_per_mm = (fw / size_mm[0], fh / size_mm[1])  # the fixed mapping modes (MM_LOMETRIC ...)
    try:
        _WmfPlayer(data, records_at, dev).play()
    except CorruptImageError:
        return (0.0, 0.0, 1.0, 1.0)  # the real playback reports the damage
    covered = dev.coverage()
    rows = np.flatnonzero(covered.any(axis=1))
    cols = np.flatnonzero(covered.any(axis=0))
    if not len(rows):
        return (0.0, 0.0, 1.0, 1.0)
    u0, v0 = _axis_place(int(cols[0]), int(cols[-1]) + 1, fw), _axis_place(int(rows[0]), int(rows[-1]) + 1, fh)
    return (u0, v0, u0 + 1.0, v0 + 1.0)


def _axis_place(start: int, end: int, frame: int) -> float:
    """The frame's new start on one axis (fractions of the frame), from the drawing's extent
    in trial pixels (the frame spans ``frame`` .. ``2 * frame``)."""
    inside = start >= frame - OVERFLOW_PX and end <= 2 * frame + OVERFLOW_PX
    if inside or end - start > frame + OVERFLOW_PX:
        return 0.0
    return ((start + end) / 2 - frame) / frame - 0.5  # centred on the drawing


def _window_of(data: bytes, at: int) -> tuple[int, int, int, int]:
    org = (0, 0)
    ext = None
    off = at
    for _ in range(10000):
        if off + 6 > len(data):
            break
        size, func = struct.unpack_from("<IH", data, off)
        if size < 3 or func == 0:
            break
        if func == 0x020B and off + 10 <= len(data):
            y, x = struct.unpack_from("<hh", data, off + 6)
            org = (x, y)
        elif func == 0x020C and off + 10 <= len(data):
            y, x = struct.unpack_from("<hh", data, off + 6)
            ext = (x, y)
            break
        off += size * 2
    if ext is None:
        raise CorruptImageError("the WMF has neither a placeable header nor a SetWindowExt record to size it")
    return (org[0], org[1], org[0] + ext[0], org[1] + ext[1])


class _Palette:
    """A logical palette object (CreatePalette): its colours as RGB byte triples."""

    def __init__(self, colors: tuple[bytes, ...]):
        self.colors = colors


# The stock DEFAULT_PALETTE: the 20 static colours of the system palette.
_DEFAULT_PALETTE: tuple[bytes, ...] = tuple(
    bytes(c)
    for c in (
        (0, 0, 0),
        (128, 0, 0),
        (0, 128, 0),
        (128, 128, 0),
        (0, 0, 128),
        (128, 0, 128),
        (0, 128, 128),
        (192, 192, 192),
        (192, 220, 192),
        (166, 202, 240),
        (255, 251, 240),
        (160, 160, 164),
        (128, 128, 128),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (0, 0, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    )
)


class _Region:
    """A region object (CreateRegion): its rectangles in logical units."""

    def __init__(self, rects: list[tuple[int, int, int, int]]):
        self.rects = rects


class _WmfPlayer:
    def __init__(self, data: bytes, at: int, dev: Device):
        self.data = data
        self.at = at
        self.dev = dev
        self.objects: dict[int, object] = {}
        self.palette: tuple[bytes, ...] = _DEFAULT_PALETTE  # the selected logical palette, RGB

    def params(self, off: int, size: int, count: int, fmt: str = "h") -> tuple[int, ...]:
        if 6 + 2 * count > size * 2:
            raise CorruptImageError(f"WMF record at offset {off} is too short for its parameters")
        return struct.unpack_from(f"<{count}{fmt}", self.data, off + 6)

    def add_object(self, obj: object) -> None:
        # WMF objects take the lowest free slot (MS-WMF 3.1.4.1).
        index = 0
        while index in self.objects:
            index += 1
        self.objects[index] = obj

    def play(self) -> None:
        data, off, end = self.data, self.at, len(self.data)
        dev = self.dev
        while off + 6 <= end:
            size, func = struct.unpack_from("<IH", data, off)
            if func == 0x0000:
                return
            if size < 3 or off + size * 2 > end:
                if not dev.drew:
                    raise CorruptImageError(f"WMF record {func:#06x} at offset {off} has an invalid size {size}")
                log.debug("WMF record at offset %d runs past the end; stopping", off)
                return
            try:
                self.record(off, size, func)
            except DAMAGED_RECORD_ERRORS as exc:
                raise CorruptImageError(f"WMF record {func:#06x} at offset {off} is damaged ({exc})") from None
            off += size * 2
        if not dev.drew:  # cut short (no end-of-file record) before anything was drawn
            raise CorruptImageError(f"the WMF ends at byte {off} without its end-of-file record, with nothing drawn")

    def record(self, off: int, size: int, func: int) -> None:
        dev = self.dev
        s = dev.state

        def p(n: int, fmt: str = "h") -> tuple[int, ...]:
            return self.params(off, size, n, fmt)

        # The most frequent records first (object selection and state saves outnumber the
        # drawing records in typical files).
        if func == 0x012D:
            obj = self.objects.get(p(1, "H")[0])
            if obj is not None:
                dev.select(obj)
        elif func == 0x01F0:
            self.objects.pop(p(1, "H")[0], None)
        elif func == 0x001E:
            dev.save()
        elif func == 0x0127:
            dev.restore(p(1)[0])
        elif func == 0x0201:
            s.bk_color = color_of(p(1, "I")[0])
        elif func == 0x0102:
            s.bk_mode = p(1, "H")[0]
        elif func == 0x0103:
            s.map_mode = p(1, "H")[0]
            dev.changed()
        elif func == 0x0104:
            s.rop2 = p(1, "H")[0]
        elif func == 0x0106:
            s.poly_fill_mode = p(1, "H")[0]
        elif func == 0x0209:
            s.text_color = color_of(p(1, "I")[0])
        elif func == 0x012E:
            s.text_align = p(1, "H")[0]
        elif func in (0x020B, 0x020C, 0x020D, 0x020E):
            y, x = p(2)
            name = {
                0x020B: "window_org",
                0x020C: "window_ext",
                0x020D: "viewport_org",
                0x020E: "viewport_ext",
            }[func]
            if func == 0x020E or func == 0x020D:
                log.debug("WMF viewport record ignored: the viewport is the output canvas")
                return
            setattr(s, name, (float(x), float(y)))
            dev.changed()
        elif func == 0x020F:  # OffsetWindowOrg
            y, x = p(2)
            s.window_org = (s.window_org[0] + x, s.window_org[1] + y)
            dev.changed()
        elif func == 0x0410:  # ScaleWindowExt
            yd, yn, xd, xn = p(4)
            if xd and yd:
                s.window_ext = (s.window_ext[0] * xn / xd, s.window_ext[1] * yn / yd)
                dev.changed()
        elif func == 0x0213:
            y, x = p(2)
            dev.line_to(x, y)
        elif func == 0x0214:
            y, x = p(2)
            dev.move_to(x, y)
        elif func in (0x0415, 0x0416):
            bottom, right, top, left = p(4)
            dev.clip_rect(left, top, right, bottom, exclude=func == 0x0415)
        elif func == 0x0220:
            y, x = p(2)
            dev.offset_clip(x, y)
        elif func == 0x041B:
            bottom, right, top, left = p(4)
            dev.rectangle(left, top, right, bottom)
        elif func == 0x0418:
            bottom, right, top, left = p(4)
            dev.ellipse(left, top, right, bottom)
        elif func == 0x061C:
            h, w, bottom, right, top, left = p(6)
            dev.round_rect(left, top, right, bottom, w, h)
        elif func in (0x0817, 0x081A, 0x0830):
            ye, xe, ys, xs, bottom, right, top, left = p(8)
            kind = {0x0817: "arc", 0x081A: "pie", 0x0830: "chord"}[func]
            dev.arc((left, top, right, bottom), (xs, ys), (xe, ye), kind)
        elif func in (0x0324, 0x0325):
            n = p(1)[0]
            flat = p(1 + 2 * n)[1:]
            pts = [(float(x), float(y)) for x, y in zip(flat[0::2], flat[1::2], strict=False)]
            dev.polyline(pts, closed=func == 0x0324)
        elif func == 0x0538:
            n = p(1)[0]
            counts = p(1 + n)[1:]
            flat = p(1 + n + 2 * sum(counts))[1 + n :]
            pts = [(float(x), float(y)) for x, y in zip(flat[0::2], flat[1::2], strict=False)]
            polys: list[list[tuple[float, float]]] = []
            i = 0
            for c in counts:
                polys.append(pts[i : i + c])
                i += c
            dev.polypolygon(polys, closed=True)
        elif func == 0x02FA:  # CreatePenIndirect: style, width (POINTS), colour
            style, width, _wy = p(3, "H")
            color = p(5, "H")
            self.add_object(Pen(style, float(width), color_of(color[3] | (color[4] << 16))))
        elif func == 0x02FC:  # CreateBrushIndirect
            style, c1, c2, hatch = p(4, "H")
            self.add_object(Brush(style, color_of(c1 | (c2 << 16)), hatch))
        elif func == 0x02FB:
            self.add_object(logfont(self.data, off + 6, wide=False))
        elif func == 0x0142:  # DIBCreatePatternBrush
            style, usage = p(2, "H")
            if style == _gdi.BS_PATTERN:  # MS-WMF 2.3.4.8: the table is RGB whatever ColorUsage says
                usage = DIB_RGB_COLORS
            try:
                pattern = self.dib(off, off + 10, off + size * 2, usage)
            except CorruptImageError:
                pattern = None
            if pattern is None:
                self.add_object(Brush(_gdi.BS_SOLID, (128, 128, 128)))
            else:
                self.add_object(Brush(_gdi.BS_DIBPATTERN, (0, 0, 0), 0, pattern))
        elif func == 0x00F7:  # CreatePalette: a LOGPALETTE (version, count, PALETTEENTRY r, g, b, flags)
            _version, count = p(2, "H")
            count = min(count, (size * 2 - 10) // 4)
            entries = self.data[off + 10 : off + 10 + 4 * count]
            self.add_object(_Palette(tuple(entries[i : i + 3] for i in range(0, len(entries), 4))))
        elif func == 0x0234:  # SelectPalette
            obj = self.objects.get(p(1, "H")[0])
            if isinstance(obj, _Palette):
                self.palette = obj.colors
        elif func == 0x06FF:  # CreateRegion
            self.add_object(_Region(self.region_rects(off, size)))
        elif func == 0x01F9:  # CreatePatternBrush: a Windows 3.0 bitmap
            self.add_object(self.pattern_brush(off, size))
        elif func in (0x0228, 0x0429):  # FillRegion: region, brush; FrameRegion: + height, width
            words = p(2 if func == 0x0228 else 4, "H")
            region, brush, extent = self.region_and_brush(words)
            paint = dev.brush_paint(brush) if region is not None and brush is not None else None
            if paint is not None and region is not None:
                path = dev.device_region(region.rects, logical=True)
                if func == 0x0228:
                    dev.fill_output(path, paint)
                else:
                    m = dev.matrix()
                    h, w = (v - 0x10000 if v & 0x8000 else v for v in extent)  # signed 16-bit
                    dev.frame_region(path, paint, abs(w * m.getScaleX()), abs(h * m.getScaleY()))
        elif func in (0x012B, 0x012A):  # PaintRegion (current brush), InvertRegion
            obj = self.objects.get(p(1, "H")[0])
            if isinstance(obj, _Region):
                path = dev.device_region(obj.rects, logical=True)
                if func == 0x012A:
                    dev.invert_region(path)
                elif (paint := dev.brush_paint()) is not None:
                    dev.fill_output(path, paint)
        elif func == 0x0521:  # TextOut: count, string (padded), y, x
            n = p(1)[0]
            raw = self.data[off + 8 : off + 8 + n]
            pad = n + (n & 1)
            y, x = struct.unpack_from("<hh", self.data, off + 8 + pad)
            dev.text(x, y, raw.decode(_codepage(s.font), "replace"))
        elif func == 0x0A32:  # ExtTextOut: y, x, count, options, [rect], string, [dx]
            y, x, n, options = p(4)
            at = off + 14
            rect = None
            if options & (ETO_OPAQUE | ETO_CLIPPED):
                t_l, t_t, t_r, t_b = struct.unpack_from("<4h", self.data, at)
                rect = (float(t_l), float(t_t), float(t_r), float(t_b))
                at += 8
            raw = self.data[at : at + n]
            at += n + (n & 1)
            dx = None
            if at + 2 * n <= off + size * 2 and n:
                dx = [float(v) for v in struct.unpack_from(f"<{n}h", self.data, at)]
            dev.text(
                x,
                y,
                raw.decode(_codepage(s.font), "replace"),
                dx=dx,
                opaque_rect=rect if options & ETO_OPAQUE else None,
                clip_rect=rect if options & ETO_CLIPPED else None,
            )
        elif func == 0x061D:  # PatBlt: rop (u32), h, w, y, x
            rop_lo, rop_hi, h, w, y, x = p(6)
            dev.pattern_blit((x, y, w, h), (rop_lo & 0xFFFF) | ((rop_hi & 0xFFFF) << 16))
        elif func in (0x0940, 0x0B41, 0x0F43):
            self.dib_blit(off, size, func)
        elif func in (0x0922, 0x0B23):
            self.bitmap16_blit(off, size, func)
        elif func == 0x041F:  # SetPixel: colour, y, x
            c_lo, c_hi, y, x = p(4, "H")
            path = skia.Path()
            path.addRect(skia.Rect.MakeXYWH(np.int16(x), np.int16(y), 1, 1))
            dev.fill_output(
                dev.to_output(path),
                skia.Paint(Color=skia.Color(*color_of(c_lo | (c_hi << 16)))),
            )
        elif func == 0x012C:  # SelectClipRegion: the region becomes the clip; no region resets it
            obj = self.objects.get(p(1, "H")[0])
            clip = dev.device_region(obj.rects, logical=True) if isinstance(obj, _Region) else None
            dev.combine_clip(clip, _gdi.RGN_COPY)
        else:
            log.debug("WMF record %#06x at offset %d skipped", func, off)

    def region_rects(self, off: int, size: int) -> list[tuple[int, int, int, int]]:
        """The rectangles of a META_CREATEREGION's Region object (MS-WMF 2.2.1.5): after
        nextInChain, ObjectType, ObjectCount, RegionSize, ScanCount, maxScan and the bounding
        rectangle, ScanCount scans of Count, Top, Bottom, Count / 2 (Left, Right) pairs and
        Count2. A scan whose Count2 differs from its Count ends the region there, as GDI
        (Wine's player) does; counts that run past the record are damage."""
        end = off + size * 2
        at = off + 6
        if at + 22 > end:
            raise CorruptImageError(f"WMF region record at offset {off} is too short for its region header")
        scans = struct.unpack_from("<H", self.data, at + 10)[0]
        at += 22
        rects: list[tuple[int, int, int, int]] = []
        for index in range(scans):
            if at + 8 > end:
                raise CorruptImageError(
                    f"WMF region record at offset {off} is too short for its {scans} scans (scan {index} is cut)"
                )
            count, top, bottom = struct.unpack_from("<Hhh", self.data, at)
            if at + 8 + 2 * count > end:
                raise CorruptImageError(
                    f"WMF region record at offset {off}: scan {index} counts {count} coordinates, "
                    "more than the record holds"
                )
            xs = struct.unpack_from(f"<{count}h", self.data, at + 6)
            count2 = struct.unpack_from("<H", self.data, at + 6 + 2 * count)[0]
            if count2 != count or count % 2:
                log.debug(
                    "WMF region at offset %d: scan %d has counts %d/%d; region ends there", off, index, count, count2
                )
                break
            rects.extend((xs[i], top, xs[i + 1], bottom) for i in range(0, count, 2))
            at += 8 + 2 * count
        return rects

    def region_and_brush(self, words: tuple[int, ...]) -> tuple[_Region | None, Brush | None, tuple[int, ...]]:
        """The region and brush of FillRegion (2 words) or FrameRegion (4 words), and the
        frame's (height, width). MS-WMF lists Region, Brush[, Height, Width]; Windows' recorder
        writes them reversed like every other WMF parameter list (Wine's recorder and player
        follow it). The objects' kinds tell the two orders apart; Windows' order wins a tie."""
        windows = (words[-1], words[-2], words[:2] if len(words) == 4 else ())
        spec = (words[0], words[1], words[2:])
        for region_index, brush_index, extent in (windows, spec):
            region, brush = self.objects.get(region_index), self.objects.get(brush_index)
            if isinstance(region, _Region) and isinstance(brush, Brush):
                return region, brush, extent
        log.debug("WMF region record names no region and brush (%s)", words)
        return None, None, ()

    def pattern_brush(self, off: int, size: int) -> Brush:
        """META_CREATEPATTERNBRUSH (MS-WMF 2.3.4.4): a Bitmap16 header (its Bits pointer
        unused), 18 reserved bytes, then the pattern's rows, each aligned to 16 bits."""
        rgba = self.bitmap16(off, off + 6, off + 38, off + size * 2, aligned=True)
        if rgba is None:  # a depth that needs the writer's palette: mid-grey, as for a damaged DIB pattern
            return Brush(_gdi.BS_SOLID, (128, 128, 128))
        return Brush(_gdi.BS_PATTERN, (0, 0, 0), 0, rgba)

    def dib(self, off: int, bmi_at: int, end: int, usage: int = DIB_RGB_COLORS) -> np.ndarray | None:
        """Decode the DIB of the record at ``off`` (header at ``bmi_at``, record end ``end``),
        tolerating what GDI tolerates; None when it holds no pixels at all.

        The colour table is sized as GDI sizes it (Wine's ``bitmap_info_size``): ``biClrUsed``
        at most 256 entries, 2-byte palette indices for DIB_PAL_COLORS, the three masks of a
        BI_BITFIELDS BITMAPINFOHEADER. Pixel rows missing at the end (writers that cut the
        last row's padding, or the last rows) are drawn as zeros rather than refusing the
        picture; a header or colour table cut short is damage.
        """
        data = self.data
        if bmi_at + 16 > end:
            raise CorruptImageError(f"WMF bitmap record at offset {off} is too short for a bitmap header")
        header_size = struct.unpack_from("<I", data, bmi_at)[0]
        entry = 2 if usage == DIB_PAL_COLORS else 3 if header_size == 12 else 4
        if header_size == 12:
            width, height, _planes, bit_count = struct.unpack_from("<4H", data, bmi_at + 4)
            compression, used, masks = BI_RGB, 0, 0
        elif 40 <= header_size <= end - bmi_at:
            width, height, _planes, bit_count, compression = struct.unpack_from("<iiHHI", data, bmi_at + 4)
            used = struct.unpack_from("<I", data, bmi_at + 32)[0]
            masks = 12 if compression == BI_BITFIELDS and header_size == 40 else 0
        else:
            raise CorruptImageError(f"WMF bitmap record at offset {off} has a bitmap header of {header_size} bytes")
        colors = min(used, 256) if used else (1 << bit_count if bit_count <= 8 else 0)
        table_at = bmi_at + header_size + masks
        bits_at = table_at + colors * entry
        if self._without_table(width, height, bit_count, compression, colors, bits_at, table_at, end):
            # A palette device's bitmap stored without its colour table (PowerPoint's slide
            # thumbnails): the pixels fill the record from the end of the header, and index
            # the selected logical palette, as they did on the device that drew them.
            usage, entry, bits_at = DIB_PAL_COLORS, 2, table_at
            table_bytes = struct.pack(f"<{colors}H", *range(colors))
        elif bits_at > end:
            raise CorruptImageError(f"WMF bitmap record at offset {off} is too short for its colour table")
        else:
            table_bytes = data[table_at:bits_at]
        header = bytearray(data[bmi_at:table_at])
        table = table_bytes
        if header_size >= 40:
            # The decoder reads exactly the entries the pixels can index; more is GDI slack.
            kept = min(colors, 1 << bit_count) if bit_count <= 8 else 0
            struct.pack_into("<I", header, 32, kept)
            table = table[: kept * entry]
        if usage == DIB_PAL_COLORS:
            # 16-bit indices into the selected logical palette: looked up into RGBQUADs.
            indices = struct.unpack(f"<{len(table) // 2}H", table)
            black = b"\x00\x00\x00"
            table = b"".join(
                (self.palette[i] if i < len(self.palette) else black)[::-1] + (b"\x00" if header_size >= 40 else b"")
                for i in indices
            )
        bits = data[bits_at:end]
        if not bits:
            log.debug("WMF bitmap record at offset %d holds no pixels; skipped", off)
            return None
        if compression in (BI_RGB, BI_BITFIELDS) and width > 0:
            needed = (width * bit_count + 31) // 32 * 4 * abs(height)
            if len(bits) < needed:
                log.debug("WMF bitmap at offset %d lacks %d bytes of pixels; zeros drawn", off, needed - len(bits))
                bits = bits + bytes(needed - len(bits))
        return decode_dib(bytes(header) + table, bits)

    @staticmethod
    def _without_table(
        width: int, height: int, bit_count: int, compression: int, colors: int, bits_at: int, table_at: int, end: int
    ) -> bool:
        """Whether a palette bitmap's record holds its pixels but no room for its colour table."""
        if compression != BI_RGB or not 0 < bit_count <= 8 or width <= 0 or not colors:
            return False
        needed = (width * bit_count + 31) // 32 * 4 * abs(height)
        return bits_at + needed > end and table_at + needed <= end < table_at + needed + 4

    def dib_blit(self, off: int, size: int, func: int) -> None:
        end = off + size * 2
        rop = struct.unpack_from("<I", self.data, off + 6)[0]
        usage = DIB_RGB_COLORS
        # Without a bitmap (record size (func >> 8) + 3 words, MS-WMF 2.3.1.2.2 / 2.3.1.3.2)
        # the blit is a pattern blit and a reserved word precedes the destination.
        no_bitmap = func != 0x0F43 and size == (func >> 8) + 3
        reserved = 1 if no_bitmap else 0
        if func == 0x0940:  # DIBBitBlt: rop, ySrc, xSrc, [reserved], height, width, yDest, xDest, [DIB]
            ys, xs = struct.unpack_from("<2h", self.data, off + 10)
            h, w, yd, xd = struct.unpack_from("<4h", self.data, off + 14 + 2 * reserved)
            src = (xs, ys, w, h)
            dest = (xd, yd, w, h)
            bmi_at = off + 22
        elif func == 0x0B41:  # DIBStretchBlt: rop, hSrc, wSrc, ySrc, xSrc, [reserved], hDest, wDest, yDest, xDest
            hs, ws, ys, xs = struct.unpack_from("<4h", self.data, off + 10)
            hd, wd, yd, xd = struct.unpack_from("<4h", self.data, off + 18 + 2 * reserved)
            src = (xs, ys, ws, hs)
            dest = (xd, yd, wd, hd)
            bmi_at = off + 26
        else:  # StretchDIB: rop, usage, hSrc, wSrc, ySrc, xSrc, hDest, wDest, yDest, xDest
            usage, hs, ws, ys, xs, hd, wd, yd, xd = struct.unpack_from("<9h", self.data, off + 10)
            src = (xs, ys, ws, hs)
            dest = (xd, yd, wd, hd)
            bmi_at = off + 28
        if no_bitmap:
            self.dev.pattern_blit(dest, rop)
            return
        rgba = self.dib(off, bmi_at, end, usage)
        if rgba is None:
            return
        h = rgba.shape[0]
        bottom_up = (
            struct.unpack_from("<I", self.data, bmi_at)[0] == 12
            or struct.unpack_from("<i", self.data, bmi_at + 8)[0] > 0
        )
        sx, sy, sw, sh = src
        # StretchDIB records a StretchDIBits call, whose source y counts from a bottom-up
        # DIB's last row. DIBBitBlt and DIBStretchBlt record BitBlt/StretchBlt from a device
        # bitmap, whose source y counts from the top whatever the stored DIB's row order (as
        # EMR_BITBLT/EMR_STRETCHBLT): Office's OLE icons blit the upper half of a double-height
        # mask from y 0, which counted from the bottom is all black.
        if bottom_up and func == 0x0F43:
            sy = h - sy - sh
        self.dev.draw_bitmap(_opaque(rgba), dest, (sx, sy, sw, sh), rop=rop)

    def bitmap16_blit(self, off: int, size: int, func: int) -> None:
        """META_BITBLT / META_STRETCHBLT (MS-WMF 2.3.1.1, 2.3.1.4): a Windows 3.0 device-dependent
        Bitmap16. Monochrome ones (the common case, masks and patterns) are drawn as GDI draws a
        monochrome bitmap on a colour device: 0 bits in the text colour, 1 bits in the
        background colour; 24- and 32-bit ones as they are. Other depths depend on the palette
        of the device that wrote them and are skipped, as LibreOffice does."""
        end = off + size * 2
        rop = struct.unpack_from("<I", self.data, off + 6)[0]
        stretch = func == 0x0B23
        fixed = 9 if stretch else 7  # parameter words after the raster operation
        if size == (func >> 8) + 3:  # no bitmap: a pattern blit, a reserved word before the destination
            hd, wd, yd, xd = struct.unpack_from("<4h", self.data, off + (20 if stretch else 16))
            self.dev.pattern_blit((xd, yd, wd, hd), rop)
            return
        if stretch:
            hs, ws, ys, xs, hd, wd, yd, xd = struct.unpack_from("<8h", self.data, off + 10)
        else:
            ys, xs, hd, wd, yd, xd = struct.unpack_from("<6h", self.data, off + 10)
            hs, ws = hd, wd
        bm_at = off + 10 + 2 * (fixed - 1)
        rgba = self.bitmap16(off, bm_at, bm_at + 10, end)
        if rgba is not None:
            self.dev.draw_bitmap(rgba, (xd, yd, wd, hd), (xs, ys, ws, hs), rop=rop)

    def bitmap16(self, off: int, header_at: int, bits_at: int, end: int, *, aligned: bool = False) -> np.ndarray | None:
        """A Windows 3.0 Bitmap16 (MS-WMF 2.2.2.1) as RGBA: monochrome in the text (0 bits) and
        background (1 bits) colours, 24- and 32-bit as they are; None for other depths.
        ``aligned`` takes the row length from the width (16-bit aligned rows) rather than
        WidthBytes, as a pattern brush's bitmap says (MS-WMF 2.3.4.4)."""
        if header_at + 10 > end:
            raise CorruptImageError(f"WMF bitmap record at offset {off} is too short for its bitmap")
        _type, width, height, width_bytes, planes, bits_pixel = struct.unpack_from("<4hBB", self.data, header_at)
        if aligned:
            width_bytes = (width * bits_pixel + 15) // 16 * 2
        if width <= 0 or height <= 0 or width_bytes < (width * bits_pixel + 7) // 8:
            raise CorruptImageError(f"WMF bitmap record at offset {off} has an invalid bitmap ({width}x{height})")
        check_size(width, height)
        rows = np.frombuffer(self.data, np.uint8, max(0, min(width_bytes * height, end - bits_at)), bits_at)
        if rows.size < width_bytes * height:  # rows missing at the end: zeros, as for DIBs
            rows = np.concatenate([rows, np.zeros(width_bytes * height - rows.size, np.uint8)])
        rows = rows.reshape(height, width_bytes)
        if planes == 1 and bits_pixel == 1:
            ones = np.unpackbits(rows, axis=1)[:, :width].astype(bool)
            rgba = np.empty((height, width, 4), np.uint8)
            rgba[..., :3] = np.where(ones[..., None], self.dev.state.bk_color, self.dev.state.text_color)
            rgba[..., 3] = 255
            return rgba
        if planes == 1 and bits_pixel in (24, 32):
            k = bits_pixel // 8
            bgr = rows[:, : width * k].reshape(height, width, k)
            return np.dstack([bgr[..., 2], bgr[..., 1], bgr[..., 0], np.full((height, width), 255, np.uint8)])
        log.debug("WMF bitmap of %d planes x %d bits at offset %d skipped", planes, bits_pixel, off)
        return None
