"""EMF records (MS-EMF 2.3) played onto a :class:`~dicomify.emf._gdi.Device`."""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import skia

from ..errors import CorruptImageError
from . import _gdi
from ._dib import decode_dib
from ._emfplus import EmfPlusPlayer
from ._gdi import Brush, Device, Font, Pen, Rendered, color_of
from ._records import DAMAGED_RECORD_ERRORS
from ._size import Canvas, output_canvas

log = logging.getLogger(__name__)

EMR_HEADER, EMR_EOF, EMR_GDICOMMENT = 1, 14, 70
# EMF+ playback for files whose GDI records draw nothing; "0" turns it off (benchmarks).
USE_EMF_PLUS = os.environ.get("DICOMIFY_EMF_PLUS", "1") != "0"
ETO_OPAQUE, ETO_CLIPPED, ETO_GLYPH_INDEX, ETO_NO_RECT, ETO_SMALL_CHARS, ETO_PDY = (
    2,
    4,
    0x10,
    0x100,
    0x200,
    0x2000,
)


@dataclass(frozen=True)
class EmfHeader:
    bounds: tuple[int, int, int, int]  # reference-device pixels, inclusive
    frame: tuple[int, int, int, int]  # 0.01 mm, inclusive
    device: tuple[int, int]  # reference device size, pixels
    millimeters: tuple[int, int]  # reference device size, mm
    emf_plus: bool
    emf_plus_only: bool = False  # EmfPlusHeader without the dual flag: GDI records only after GetDC


def parse_header(data: bytes) -> EmfHeader:
    if len(data) < 88:
        raise CorruptImageError(f"the EMF header is truncated ({len(data)} bytes)")
    rtype, size = struct.unpack_from("<II", data, 0)
    if rtype != EMR_HEADER or data[40:44] != b" EMF":
        raise CorruptImageError("not an EMF file (no EMR_HEADER record with the ' EMF' signature)")
    if size < 88 or size > len(data):
        raise CorruptImageError(f"the EMF header record has an invalid size {size}")
    bounds = struct.unpack_from("<4i", data, 8)
    frame = struct.unpack_from("<4i", data, 24)
    device = struct.unpack_from("<2i", data, 72)
    millimeters = struct.unpack_from("<2i", data, 80)
    # EMF+ files start with an EMR_COMMENT holding an EmfPlusHeader right after the header.
    emf_plus = plus_only = False
    if size + 20 <= len(data):
        ctype = struct.unpack_from("<I", data, size)[0]
        emf_plus = ctype == EMR_GDICOMMENT and data[size + 12 : size + 16] == b"EMF+"
    if emf_plus and size + 20 <= len(data):
        # The comment's first EMF+ record is the EmfPlusHeader (MS-EMFPLUS 2.3.3.3): its
        # record flags' bit 0 says dual (the EmfPlusFlags field after it only tells a
        # display from a printer reference device).
        plus_type, record_flags = struct.unpack_from("<HH", data, size + 16)
        plus_only = plus_type == 0x4001 and not record_flags & 1
    return EmfHeader(bounds, frame, device, millimeters, emf_plus, plus_only)


def picture_geometry(
    header: EmfHeader,
) -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    """The picture rectangle in 0.01 mm and the reference device's pixels per mm."""
    dw, dh = header.device
    mw, mh = header.millimeters
    if dw > 0 and dh > 0 and mw > 0 and mh > 0:
        px_per_mm = (dw / mw, dh / mh)
    else:
        px_per_mm = (96 / 25.4, 96 / 25.4)
    fl, ft, fr, fb = header.frame
    if fr > fl and fb > ft:
        return (float(fl), float(ft), float(fr), float(fb)), px_per_mm
    bl, bt, br, bb = header.bounds
    if br >= bl and bb >= bt and (br > bl or bb > bt):
        return (
            bl * 100 / px_per_mm[0],
            bt * 100 / px_per_mm[1],
            (br + 1) * 100 / px_per_mm[0],
            (bb + 1) * 100 / px_per_mm[1],
        ), px_per_mm
    raise CorruptImageError(f"the EMF header gives no picture size (frame {header.frame}, bounds {header.bounds})")


def render_emf(data: bytes, *, dpi: float | None, max_pixels: int | None) -> Rendered:
    """Play an EMF: the RGB pixels, whether anything was drawn, the characters no font has."""
    header = parse_header(data)
    frame, px_per_mm = picture_geometry(header)
    canvas = output_canvas(
        (frame[2] - frame[0]) / 100.0,
        (frame[3] - frame[1]) / 100.0,
        dpi=dpi,
        max_pixels=max_pixels,
    )
    # Reference-device pixels -> 0.01 mm -> output pixels.
    kx = canvas.width / (frame[2] - frame[0])
    ky = canvas.height / (frame[3] - frame[1])
    to_out = skia.Matrix.MakeAll(
        100.0 / px_per_mm[0] * kx,
        0,
        -frame[0] * kx,
        0,
        100.0 / px_per_mm[1] * ky,
        -frame[1] * ky,
        0,
        0,
        1,
    )
    # A dual EMF+ file is drawn from its GDI records: our GDI playback agrees with
    # LibreOffice better than our partial EMF+ playback does. An EMF+-only file is drawn
    # from its EMF+ records, with the GDI records that follow an EmfPlusGetDC (a GDI+
    # picture mixing both: the GDI records alone are only part of it); should those draw
    # nothing, or for a file that says it is EMF+ only without EMF+ drawing records, the
    # GDI records are played alone.
    if header.emf_plus_only and USE_EMF_PLUS:
        dev = Device(canvas.width, canvas.height, to_out)
        dev.device_px_per_mm = px_per_mm
        _Player(data, dev, canvas, emf_plus=True).play()
        if dev.drew:
            return Rendered(dev.pixels(), dev.drew, frozenset(dev.missing_glyphs))
    dev = Device(canvas.width, canvas.height, to_out)
    dev.device_px_per_mm = px_per_mm
    _Player(data, dev, canvas, emf_plus=False).play()
    if not dev.drew and header.emf_plus and not header.emf_plus_only and USE_EMF_PLUS:
        dev = Device(canvas.width, canvas.height, to_out)
        dev.device_px_per_mm = px_per_mm
        _Player(data, dev, canvas, emf_plus=True).play()
    return Rendered(dev.pixels(), dev.drew, frozenset(dev.missing_glyphs))


def _rect(v: tuple[int, ...]) -> tuple[float, float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]), float(v[3]))


class _Player:
    def __init__(self, data: bytes, dev: Device, canvas: Canvas, *, emf_plus: bool = True):
        self.data = data
        self.dev = dev
        self.canvas = canvas
        self.plus = EmfPlusPlayer(dev)
        self.emf_plus = emf_plus
        self.handlers: dict[int, Callable[[int, int], None]] = {
            2: lambda o, n: self.dev.polybezier(self.points(o, 24, False), to=False),
            3: lambda o, n: self.dev.polyline(self.points(o, 24, False), closed=True),
            4: lambda o, n: self.dev.polyline(self.points(o, 24, False), closed=False),
            5: lambda o, n: self.dev.polybezier(self.points(o, 24, False), to=True),
            6: lambda o, n: self.dev.polyline_to(self.points(o, 24, False)),
            7: lambda o, n: self.dev.polypolygon(self.polys(o, False), closed=False),
            8: lambda o, n: self.dev.polypolygon(self.polys(o, False), closed=True),
            85: lambda o, n: self.dev.polybezier(self.points(o, 24, True), to=False),
            86: lambda o, n: self.dev.polyline(self.points(o, 24, True), closed=True),
            87: lambda o, n: self.dev.polyline(self.points(o, 24, True), closed=False),
            88: lambda o, n: self.dev.polybezier(self.points(o, 24, True), to=True),
            89: lambda o, n: self.dev.polyline_to(self.points(o, 24, True)),
            90: lambda o, n: self.dev.polypolygon(self.polys(o, True), closed=False),
            91: lambda o, n: self.dev.polypolygon(self.polys(o, True), closed=True),
            56: lambda o, n: self.polydraw(o, False),
            92: lambda o, n: self.polydraw(o, True),
            9: lambda o, n: self.set_state("window_ext", self.ints(o, 8, 2)),
            10: lambda o, n: self.set_state("window_org", self.ints(o, 8, 2)),
            11: lambda o, n: self.set_state("viewport_ext", self.ints(o, 8, 2)),
            12: lambda o, n: self.set_state("viewport_org", self.ints(o, 8, 2)),
            17: lambda o, n: self.set_state("map_mode", self.u32(o, 8)),
            18: lambda o, n: self.set_state("bk_mode", self.u32(o, 8)),
            19: lambda o, n: self.set_state("poly_fill_mode", self.u32(o, 8)),
            20: lambda o, n: self.set_state("rop2", self.u32(o, 8)),
            22: lambda o, n: self.set_state("text_align", self.u32(o, 8)),
            24: lambda o, n: self.set_state("text_color", color_of(self.u32(o, 8))),
            25: lambda o, n: self.set_state("bk_color", color_of(self.u32(o, 8))),
            57: lambda o, n: self.set_state("arc_direction", self.u32(o, 8)),
            58: lambda o, n: self.set_state("miter_limit", float(self.u32(o, 8))),
            27: lambda o, n: self.dev.move_to(*self.ints(o, 8, 2)),
            54: lambda o, n: self.dev.line_to(*self.ints(o, 8, 2)),
            29: lambda o, n: self.dev.clip_rect(*self.ints(o, 8, 4), exclude=True),
            30: lambda o, n: self.dev.clip_rect(*self.ints(o, 8, 4), exclude=False),
            26: lambda o, n: self.dev.offset_clip(*self.ints(o, 8, 2)),
            31: lambda o, n: self.scale_ext(o, "viewport_ext"),
            32: lambda o, n: self.scale_ext(o, "window_ext"),
            33: lambda o, n: self.dev.save(),
            34: lambda o, n: self.dev.restore(self.i32(o, 8)),
            35: lambda o, n: self.set_world(o, 4),
            36: lambda o, n: self.set_world(o, self.u32(o, 32)),
            37: lambda o, n: self.select_object(self.u32(o, 8)),
            38: self.create_pen,
            39: self.create_brush,
            40: lambda o, n: self.delete_object(self.u32(o, 8)),
            41: self.angle_arc,
            42: lambda o, n: self.dev.ellipse(*self.ints(o, 8, 4)),
            43: lambda o, n: self.dev.rectangle(*self.ints(o, 8, 4)),
            44: lambda o, n: self.dev.round_rect(*self.ints(o, 8, 4), *self.ints(o, 24, 2)),
            45: lambda o, n: self.arc(o, "arc"),
            46: lambda o, n: self.arc(o, "chord"),
            47: lambda o, n: self.arc(o, "pie"),
            55: lambda o, n: self.arc(o, "arcto"),
            59: lambda o, n: self.dev.begin_path(),
            60: lambda o, n: self.dev.end_path(),
            61: lambda o, n: self.dev.close_figure(),
            62: lambda o, n: self.dev.fill_path(fill=True, stroke=False),
            63: lambda o, n: self.dev.fill_path(fill=True, stroke=True),
            64: lambda o, n: self.dev.fill_path(fill=False, stroke=True),
            65: lambda o, n: None,  # FLATTENPATH: skia draws curves exactly
            66: lambda o, n: None,  # WIDENPATH: the stroke is drawn when the path is used
            67: lambda o, n: self.dev.clip_path(self.u32(o, 8)),
            68: lambda o, n: self.abort_path(),
            71: self.fill_rgn,
            72: self.frame_rgn,
            73: self.invert_rgn,
            74: self.paint_rgn,
            75: self.select_clip_rgn,
            76: lambda o, n: self.blt(o, stretch=False),
            77: lambda o, n: self.blt(o, stretch=True),
            80: self.set_dibits,
            81: self.stretch_dibits,
            78: self.mask_blt,
            114: lambda o, n: self.blt(o, stretch=True, alpha_blend=True),
            116: lambda o, n: self.blt(o, stretch=True, transparent=True),
            82: self.create_font,
            83: lambda o, n: self.ext_text_out(o, n, wide=False),
            84: lambda o, n: self.ext_text_out(o, n, wide=True),
            108: self.small_text_out,
            93: self.create_pattern_brush,
            94: self.create_pattern_brush,
            95: self.ext_create_pen,
            15: self.set_pixel,
            118: self.gradient_fill,
            49: lambda o, n: self.dev.objects.__setitem__(self.u32(o, 8), object()),
        }
        # Records that change nothing we draw.
        self.ignored = {
            13,
            16,
            21,
            23,
            28,
            48,
            50,
            51,
            52,
            70,
            98,
            99,
            100,
            101,
            102,
            110,
            115,
            119,
            120,
            121,
            122,
        }

    # -- reading -----------------------------------------------------------------------------

    def u32(self, off: int, at: int) -> int:
        return struct.unpack_from("<I", self.data, off + at)[0]

    def i32(self, off: int, at: int) -> int:
        return struct.unpack_from("<i", self.data, off + at)[0]

    def ints(self, off: int, at: int, n: int) -> tuple[int, ...]:
        return struct.unpack_from(f"<{n}i", self.data, off + at)

    def points(self, off: int, at: int, short: bool) -> list[tuple[float, float]]:
        count = self.u32(off, at)
        self._check_count(off, at + 4, count * (4 if short else 8))
        fmt = "<%dh" if short else "<%di"
        flat = struct.unpack_from(fmt % (2 * count), self.data, off + at + 4)
        return list(zip(flat[0::2], flat[1::2], strict=False))

    def polys(self, off: int, short: bool) -> list[list[tuple[float, float]]]:
        npolys, total = self.u32(off, 24), self.u32(off, 28)
        self._check_count(off, 32, npolys * 4 + total * (4 if short else 8))
        counts = struct.unpack_from(f"<{npolys}I", self.data, off + 32)
        if sum(counts) > total:
            raise CorruptImageError("a poly-polygon record's point counts exceed its total")
        at = off + 32 + 4 * npolys
        flat = struct.unpack_from(("<%dh" if short else "<%di") % (2 * total), self.data, at)
        pts = list(zip(flat[0::2], flat[1::2], strict=False))
        result, i = [], 0
        for c in counts:
            result.append(pts[i : i + c])
            i += c
        return result

    def _check_count(self, off: int, at: int, nbytes: int) -> None:
        size = self.u32(off, 4)
        if at + nbytes > size:
            raise CorruptImageError(
                f"EMF record {self.u32(off, 0)} at offset {off} claims {nbytes} bytes of data but holds {size - at}"
            )

    # -- playing -----------------------------------------------------------------------------

    def play(self) -> None:
        data = self.data
        off = 0
        end = len(data)
        while off + 8 <= end:
            rtype, size = struct.unpack_from("<II", data, off)
            if size < 8 or size % 4 or off + size > end:
                if off == 0 or size < 8:
                    raise CorruptImageError(f"EMF record {rtype} at offset {off} has an invalid size {size}")
                # A truncated last record: keep what was drawn so far.
                log.debug(
                    "EMF record %d at offset %d runs past the end of the file; stopping",
                    rtype,
                    off,
                )
                if not self.dev.drew:
                    raise CorruptImageError(f"the EMF is truncated (record {rtype} at offset {off})")
                return
            if rtype == EMR_EOF:
                return
            if rtype == EMR_GDICOMMENT and size >= 16 and data[off + 12 : off + 16] == b"EMF+":
                if self.emf_plus:
                    datasize = min(self.u32(off, 8), size - 12)
                    self.plus.play_comment(data, off + 16, off + 12 + datasize)
                off += size
                continue
            if self.plus.active and not self.plus.get_dc and rtype != EMR_HEADER:
                # EMF+ playback: GDI records are the fallback, drawn only after EMF+ GetDC.
                off += size
                continue
            handler = self.handlers.get(rtype)
            if handler is not None:
                try:
                    handler(off, size)
                except DAMAGED_RECORD_ERRORS as exc:
                    raise CorruptImageError(f"EMF record {rtype} at offset {off} is damaged ({exc})") from None
            elif rtype not in self.ignored and rtype != EMR_HEADER:
                log.debug("EMF record %d at offset %d skipped", rtype, off)
            off += size

    # -- state -------------------------------------------------------------------------------

    def set_state(self, name: str, value: object) -> None:
        if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            value = (float(value[0]), float(value[1]))
        setattr(self.dev.state, name, value)
        self.dev.changed()

    def scale_ext(self, off: int, name: str) -> None:
        xn, xd, yn, yd = self.ints(off, 8, 4)
        ex, ey = getattr(self.dev.state, name)
        if xd and yd:
            self.set_state(name, (ex * xn / xd, ey * yn / yd))

    def set_world(self, off: int, mode: int) -> None:
        xf = struct.unpack_from("<6f", self.data, off + 8)
        if not all(np.isfinite(xf)):
            log.debug("non-finite world transform ignored")
            return
        cur = self.dev.state.world
        new: tuple[float, ...]
        if mode == 1:
            new = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        elif mode == 4:
            new = tuple(float(v) for v in xf)
        elif mode == 2:  # left multiply: the new transform applies first
            new = _mul(xf, cur)
        elif mode == 3:
            new = _mul(cur, xf)
        else:
            log.debug("ModifyWorldTransform mode %d ignored", mode)
            return
        self.dev.state.world = (new[0], new[1], new[2], new[3], new[4], new[5])
        self.dev.changed()

    def delete_object(self, handle: int) -> None:
        self.dev.objects.pop(handle, None)

    def select_object(self, handle: int) -> None:
        if handle & 0x80000000:
            obj = _gdi.STOCK_OBJECTS.get(handle & 0x7FFFFFFF)
        else:
            obj = self.dev.objects.get(handle)
        if obj is None:
            log.debug("SelectObject of unknown handle %#x ignored", handle)
            return
        self.dev.select(obj)

    def create_pen(self, off: int, size: int) -> None:
        handle, style, width, _wy, color = struct.unpack_from("<IIiiI", self.data, off + 8)
        self.dev.objects[handle] = Pen(style, float(abs(width)), color_of(color))

    def ext_create_pen(self, off: int, size: int) -> None:
        handle = self.u32(off, 8)  # a DIB pattern for the pen's brush is not used: the colour is
        style, width, brush_style, color, _hatch, nstyle = struct.unpack_from("<6I", self.data, off + 28)
        dashes: tuple[float, ...] = ()
        if (style & 0xF) == _gdi.PS_USERSTYLE and nstyle:
            self._check_count(off, 52, 4 * nstyle)
            dashes = tuple(float(v) for v in struct.unpack_from(f"<{nstyle}I", self.data, off + 52))
        if brush_style == _gdi.BS_NULL:
            style = (style & ~0xF) | _gdi.PS_NULL
        self.dev.objects[handle] = Pen(style, float(width), color_of(color), dashes)

    def create_brush(self, off: int, size: int) -> None:
        handle, style, color, hatch = struct.unpack_from("<IIII", self.data, off + 8)
        self.dev.objects[handle] = Brush(style, color_of(color), hatch)

    def create_pattern_brush(self, off: int, size: int) -> None:
        handle, _usage, off_bmi, cb_bmi, off_bits, cb_bits = struct.unpack_from("<6I", self.data, off + 8)
        try:
            rgba = self.dib(off, size, off_bmi, cb_bmi, off_bits, cb_bits)
        except CorruptImageError as exc:
            log.debug("pattern brush bitmap skipped: %s", exc)
            self.dev.objects[handle] = Brush(_gdi.BS_SOLID, (128, 128, 128))
            return
        if rgba.shape[0] * rgba.shape[1] <= 64 and self._is_mono(off, off_bmi):
            # A monochrome pattern: 0 bits take the text colour, 1 bits the background.
            mask = rgba[..., 0] > 127
            rgba = rgba.copy()
            rgba[..., :3] = np.where(mask[..., None], self.dev.state.bk_color, self.dev.state.text_color)
        self.dev.objects[handle] = Brush(_gdi.BS_DIBPATTERN, (0, 0, 0), 0, rgba)

    def _is_mono(self, off: int, off_bmi: int) -> bool:
        try:
            return struct.unpack_from("<H", self.data, off + off_bmi + 14)[0] == 1
        except struct.error:
            return False

    def create_font(self, off: int, size: int) -> None:
        handle = self.u32(off, 8)
        self.dev.objects[handle] = logfont(self.data, off + 12, wide=True)

    # -- drawing -----------------------------------------------------------------------------

    def arc(self, off: int, kind: str) -> None:
        box = self.ints(off, 8, 4)
        start = self.ints(off, 24, 2)
        end = self.ints(off, 32, 2)
        self.dev.arc(
            _rect(box),
            (float(start[0]), float(start[1])),
            (float(end[0]), float(end[1])),
            kind,
        )

    def angle_arc(self, off: int, size: int) -> None:
        x, y, radius, start, sweep = struct.unpack_from("<iiIff", self.data, off + 8)
        self.dev.angle_arc(x, y, radius, start, sweep)

    def abort_path(self) -> None:
        self.dev.path = None
        self.dev.last_path = None

    def polydraw(self, off: int, short: bool) -> None:
        pts = self.points(off, 24, short)
        count = len(pts)
        types_at = off + 28 + count * (4 if short else 8)
        types = self.data[types_at : types_at + count]
        if len(types) < count:
            raise CorruptImageError("a PolyDraw record is truncated")
        path = skia.Path()
        path.moveTo(*self.dev.state.position)
        i = 0
        while i < count:
            t = types[i] & ~1
            if t == 6:  # PT_MOVETO
                path.moveTo(*pts[i])
            elif t == 2:  # PT_LINETO
                path.lineTo(*pts[i])
            elif t == 4 and i + 2 < count:  # PT_BEZIERTO, three points
                path.cubicTo(*pts[i], *pts[i + 1], *pts[i + 2])
                i += 2
            if types[i] & 1:
                path.close()
            i += 1
        if pts:
            self.dev.state.position = pts[-1]
        self.dev.draw(path, fill=False, stroke=True)

    def region(self, off: int, at: int, nbytes: int) -> list[tuple[int, int, int, int]]:
        if nbytes < 32:
            return []
        self._check_count(off, at, nbytes)
        _size, _type, count, _rgn = struct.unpack_from("<4I", self.data, off + at)
        if 32 + 16 * count > nbytes:
            raise CorruptImageError("a region's rectangle count exceeds its size")
        flat = struct.unpack_from(f"<{4 * count}i", self.data, off + at + 32)
        return [tuple(flat[i : i + 4]) for i in range(0, len(flat), 4)]  # type: ignore[misc]

    def fill_rgn(self, off: int, size: int) -> None:
        nbytes, handle = self.u32(off, 24), self.u32(off, 28)
        brush = self.brush_of(handle)
        paint = self.dev.brush_paint(brush) if brush else None
        if paint is not None:
            self.dev.fill_output(self.dev.device_region(self.region(off, 32, nbytes)), paint)

    def paint_rgn(self, off: int, size: int) -> None:
        nbytes = self.u32(off, 24)
        paint = self.dev.brush_paint()
        if paint is not None:
            self.dev.fill_output(self.dev.device_region(self.region(off, 28, nbytes)), paint)

    def frame_rgn(self, off: int, size: int) -> None:
        nbytes, handle, width, height = struct.unpack_from("<IIii", self.data, off + 24)
        brush = self.brush_of(handle)
        paint = self.dev.brush_paint(brush) if brush else None
        if paint is None:
            return
        region = self.dev.device_region(self.region(off, 40, nbytes))
        m = self.dev.device_to_output
        self.dev.frame_region(region, paint, abs(width * m.getScaleX()), abs(height * m.getScaleY()))

    def invert_rgn(self, off: int, size: int) -> None:
        self.dev.invert_region(self.dev.device_region(self.region(off, 28, self.u32(off, 24))))

    def brush_of(self, handle: int) -> Brush | None:
        obj = _gdi.STOCK_OBJECTS.get(handle & 0x7FFFFFFF) if handle & 0x80000000 else self.dev.objects.get(handle)
        return obj if isinstance(obj, Brush) else None

    def select_clip_rgn(self, off: int, size: int) -> None:
        nbytes, mode = self.u32(off, 8), self.u32(off, 12)
        if nbytes < 32:
            if mode == _gdi.RGN_COPY:
                self.dev.combine_clip(None, mode)
            return
        rects = self.region(off, 16, nbytes)
        self.dev.combine_clip(self.dev.device_region(rects), mode)

    def set_pixel(self, off: int, size: int) -> None:
        x, y = self.ints(off, 8, 2)
        path = skia.Path()
        path.addRect(skia.Rect.MakeXYWH(x, y, 1, 1))
        self.dev.fill_output(
            self.dev.to_output(path),
            skia.Paint(Color=skia.Color(*color_of(self.u32(off, 16)))),
        )

    # -- bitmaps -----------------------------------------------------------------------------

    def dib(
        self,
        off: int,
        size: int,
        off_bmi: int,
        cb_bmi: int,
        off_bits: int,
        cb_bits: int,
    ) -> np.ndarray:
        if off_bmi + cb_bmi > size or off_bits + cb_bits > size:
            raise CorruptImageError(f"a bitmap at offset {off} lies outside its record")
        bmi = self.data[off + off_bmi : off + off_bmi + cb_bmi]
        bits = self.data[off + off_bits : off + off_bits + cb_bits]
        return decode_dib(bmi, bits)

    def blt(
        self,
        off: int,
        *,
        stretch: bool,
        alpha_blend: bool = False,
        transparent: bool = False,
    ) -> None:
        x, y, cx, cy, rop, xs, ys = struct.unpack_from("<iiiiIii", self.data, off + 24)
        src_xform = struct.unpack_from("<6f", self.data, off + 52)
        _bk, _usage, off_bmi, cb_bmi, off_bits, cb_bits = struct.unpack_from("<6I", self.data, off + 76)
        if stretch:
            cxs, cys = struct.unpack_from("<ii", self.data, off + 100)
        else:
            cxs, cys = abs(cx), abs(cy)
        if cb_bmi == 0 or cb_bits == 0:
            if not (alpha_blend or transparent):
                self.dev.pattern_blit((x, y, cx, cy), rop)
            return
        rgba = self.dib(off, self.u32(off, 4), off_bmi, cb_bmi, off_bits, cb_bits)
        # The source transform maps destination-logical to source pixels; GDI writers put
        # a pure scale there, which the source rectangle already expresses.
        del src_xform
        if alpha_blend:
            fmt = rop.to_bytes(4, "little")
            constant = fmt[2] / 255.0
            has_alpha = fmt[3] & 1
            premultiplied = bool(has_alpha)
            if not has_alpha:
                rgba = rgba.copy()
                rgba[..., 3] = 255
            self.dev.draw_bitmap(
                rgba,
                (x, y, cx, cy),
                (xs, ys, cxs, cys),
                premultiplied=premultiplied,
                alpha=constant,
            )
            return
        if transparent:
            key = color_of(rop)
            rgba = rgba.copy()
            rgba[..., 3] = np.where(np.all(rgba[..., :3] == key, axis=-1), 0, 255)
            self.dev.draw_bitmap(rgba, (x, y, cx, cy), (xs, ys, cxs, cys))
            return
        self.dev.draw_bitmap(_opaque(rgba), (x, y, cx, cy), (xs, ys, cxs, cys), rop=rop)

    def mask_blt(self, off: int, size: int) -> None:
        """EMR_MASKBLT (MS-EMF 2.3.1.3): a source, a monochrome mask and a quaternary raster
        operation (the foreground operation where the mask is 1, the background one where 0)."""
        x, y, cx, cy, rop, xs, ys = struct.unpack_from("<iiiiIii", self.data, off + 24)
        _bk, _usage, off_bmi, cb_bmi, off_bits, cb_bits = struct.unpack_from("<6I", self.data, off + 76)
        xm, ym, _mask_usage, off_bmi_m, cb_bmi_m, off_bits_m, cb_bits_m = struct.unpack_from(
            "<iiI4I", self.data, off + 100
        )
        source = None
        if cb_bmi and cb_bits:
            rgba = self.dib(off, size, off_bmi, cb_bmi, off_bits, cb_bits)
            sy = rgba.shape[0] - ys - abs(cy) if self._bottom_up(off, off_bmi) else ys
            source = (rgba, (float(xs), float(sy), float(abs(cx)), float(abs(cy))))
        if not (cb_bmi_m and cb_bits_m):  # no mask: a BitBlt with the foreground operation
            self.dev.raster_blit((x, y, cx, cy), rop & 0x00FFFFFF, source)
            return
        mask = self.dib(off, size, off_bmi_m, cb_bmi_m, off_bits_m, cb_bits_m)
        my = mask.shape[0] - ym - abs(cy) if self._bottom_up(off, off_bmi_m) else ym
        self.dev.raster_blit(
            (x, y, cx, cy), rop, source, mask=(mask, (float(xm), float(my), float(abs(cx)), float(abs(cy))))
        )

    def stretch_dibits(self, off: int, size: int) -> None:
        (
            x,
            y,
            xs,
            ys,
            cxs,
            cys,
            off_bmi,
            cb_bmi,
            off_bits,
            cb_bits,
            _usage,
            rop,
            cx,
            cy,
        ) = struct.unpack_from("<6i6I2i", self.data, off + 24)
        if cb_bmi == 0:
            self.dev.pattern_blit((x, y, cx, cy), rop)
            return
        rgba = self.dib(off, size, off_bmi, cb_bmi, off_bits, cb_bits)
        h = rgba.shape[0]
        # Source y counts from the bottom row of a bottom-up DIB; the array is top-down.
        sy = h - ys - cys if self._bottom_up(off, off_bmi) else ys
        self.dev.draw_bitmap(_opaque(rgba), (x, y, cx, cy), (xs, sy, cxs, cys), rop=rop)

    def set_dibits(self, off: int, size: int) -> None:
        x, y, xs, ys, cxs, cys, off_bmi, cb_bmi, off_bits, cb_bits = struct.unpack_from("<6i4I", self.data, off + 24)
        rgba = self.dib(off, size, off_bmi, cb_bmi, off_bits, cb_bits)
        sy = rgba.shape[0] - ys - cys if self._bottom_up(off, off_bmi) else ys
        self.dev.draw_bitmap(_opaque(rgba), (x, y, cxs, cys), (xs, sy, cxs, cys))

    def _bottom_up(self, off: int, off_bmi: int) -> bool:
        if struct.unpack_from("<I", self.data, off + off_bmi)[0] == 12:
            return True
        return struct.unpack_from("<i", self.data, off + off_bmi + 8)[0] > 0

    def gradient_fill(self, off: int, size: int) -> None:
        nver, nmesh, mode = struct.unpack_from("<3I", self.data, off + 24)
        self._check_count(off, 36, nver * 16 + nmesh * (12 if mode == 2 else 8))
        verts = [struct.unpack_from("<iiHHHH", self.data, off + 36 + 16 * i) for i in range(nver)]
        at = off + 36 + 16 * nver
        m = self.dev.matrix()
        for k in range(nmesh):
            if mode == 2:
                idx = struct.unpack_from("<3I", self.data, at + 12 * k)
                if max(idx) >= nver:
                    continue
                pts = [m.mapXY(verts[i][0], verts[i][1]) for i in idx]
                colors = [skia.Color(verts[i][2] >> 8, verts[i][3] >> 8, verts[i][4] >> 8) for i in idx]
                vertices = skia.Vertices(skia.Vertices.kTriangles_VertexMode, pts, None, colors)
                self.dev._clipped()
                try:
                    self.dev.canvas.drawVertices(vertices, skia.Paint(AntiAlias=True), skia.BlendMode.kDst)
                finally:
                    self.dev.canvas.restore()
            else:
                i0, i1 = struct.unpack_from("<2I", self.data, at + 8 * k)
                if max(i0, i1) >= nver:
                    continue
                v0, v1 = verts[i0], verts[i1]
                path = skia.Path()
                path.addRect(skia.Rect.MakeLTRB(v0[0], v0[1], v1[0], v1[1]).makeSorted())
                p0 = (v0[0], v0[1])
                p1 = (v1[0], v0[1]) if mode == 0 else (v0[0], v1[1])
                shader = skia.GradientShader.MakeLinear(
                    [skia.Point(*p0), skia.Point(*p1)],
                    [
                        skia.Color(v0[2] >> 8, v0[3] >> 8, v0[4] >> 8),
                        skia.Color(v1[2] >> 8, v1[3] >> 8, v1[4] >> 8),
                    ],
                    None,
                    skia.TileMode.kClamp,
                    0,
                    m,
                )
                self.dev.fill_output(self.dev.to_output(path), skia.Paint(AntiAlias=True, Shader=shader))
        self.dev.drew = True

    # -- text --------------------------------------------------------------------------------

    def ext_text_out(self, off: int, size: int, *, wide: bool) -> None:
        x, y, nchars, off_string, options = struct.unpack_from("<iiIII", self.data, off + 36)
        rect = self.ints(off, 56, 4)
        off_dx = self.u32(off, 72)
        if nchars > 0:
            self._check_count(off, off_string, nchars * (2 if wide else 1))
        raw = self.data[off + off_string : off + off_string + nchars * (2 if wide else 1)]
        glyph_indices = bool(options & ETO_GLYPH_INDEX)
        chars: str | list[int]
        if glyph_indices:
            chars = list(struct.unpack_from(f"<{nchars}H", raw)) if wide else list(raw)
        else:
            chars = (
                raw.decode("utf-16-le", "replace") if wide else raw.decode(_codepage(self.dev.state.font), "replace")
            )
        dx: list[float] | None = None
        dy: list[float] | None = None
        pairs = 2 if options & ETO_PDY else 1
        if off_dx and nchars and off_dx + 4 * pairs * nchars <= size:
            vals = struct.unpack_from(f"<{pairs * nchars}i", self.data, off + off_dx)
            dx = [float(v) for v in vals[0::pairs]]
            if pairs == 2:
                dy = [float(v) for v in vals[1::2]]
        has_rect = not (options & ETO_NO_RECT) and rect[2] != rect[0] and rect[3] != rect[1]
        self.dev.text(
            float(x),
            float(y),
            chars,
            dx=dx,
            dy=dy,
            opaque_rect=_rect(rect) if has_rect and options & ETO_OPAQUE else None,
            clip_rect=_rect(rect) if has_rect and options & ETO_CLIPPED else None,
            glyph_indices=glyph_indices,
        )

    def small_text_out(self, off: int, size: int) -> None:
        x, y, nchars, options = struct.unpack_from("<iiII", self.data, off + 8)
        at = 36
        rect = None
        if not options & ETO_NO_RECT:
            rect = _rect(self.ints(off, 36, 4))
            at = 52
        small = bool(options & ETO_SMALL_CHARS)
        self._check_count(off, at, nchars * (1 if small else 2))
        raw = self.data[off + at : off + at + nchars * (1 if small else 2)]
        glyph_indices = bool(options & ETO_GLYPH_INDEX)
        chars: str | list[int]
        if glyph_indices:
            chars = list(raw) if small else list(struct.unpack_from(f"<{nchars}H", raw))
        else:
            chars = raw.decode("latin-1") if small else raw.decode("utf-16-le", "replace")
        self.dev.text(
            float(x),
            float(y),
            chars,
            opaque_rect=rect if rect and options & ETO_OPAQUE else None,
            clip_rect=rect if rect and options & ETO_CLIPPED else None,
            glyph_indices=glyph_indices,
        )


def logfont(data: bytes, at: int, *, wide: bool) -> Font:
    """A LOGFONTW (EMF) or LOGFONT (WMF, 16-bit fields) at ``at``."""
    if wide:
        height, width, esc, _orient, weight = struct.unpack_from("<5i", data, at)
        italic, underline, strike, charset, _o, _c, _q, pitch = struct.unpack_from("<8B", data, at + 20)
        raw = data[at + 28 : at + 28 + 64]
        face = raw.decode("utf-16-le", "replace").split("\x00", 1)[0]
    else:
        height, width, esc, _orient, weight = struct.unpack_from("<5h", data, at)
        italic, underline, strike, charset, _o, _c, _q, pitch = struct.unpack_from("<8B", data, at + 10)
        raw = data[at + 18 : at + 18 + 32]
        face = raw.split(b"\x00", 1)[0].decode("latin-1")
    return Font(
        float(height),
        float(abs(width)),
        float(esc),
        weight,
        bool(italic),
        bool(underline),
        bool(strike),
        charset,
        pitch,
        face,
    )


_CHARSET_CODEPAGES = {
    0: "cp1252",
    128: "cp932",
    129: "cp949",
    134: "gbk",
    136: "cp950",
    161: "cp1253",
    162: "cp1254",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    238: "cp1250",
}


def _codepage(font: Font) -> str:
    return _CHARSET_CODEPAGES.get(font.charset, "cp1252")


def _opaque(rgba: np.ndarray) -> np.ndarray:
    """Blits other than AlphaBlend ignore the alpha byte of 32-bit bitmaps."""
    if rgba[..., 3].min() == 255:
        return rgba
    out = rgba.copy()
    out[..., 3] = 255
    return out


def _mul(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    """XFORM product a*b: apply a, then b (MS-EMF 2.2.28 XForm, row-vector convention)."""
    a11, a12, a21, a22, adx, ady = a
    b11, b12, b21, b22, bdx, bdy = b
    return (
        a11 * b11 + a12 * b21,
        a11 * b12 + a12 * b22,
        a21 * b11 + a22 * b21,
        a21 * b12 + a22 * b22,
        adx * b11 + ady * b21 + bdx,
        adx * b12 + ady * b22 + bdy,
    )
