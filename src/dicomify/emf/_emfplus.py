"""EMF+ records (MS-EMFPLUS 2.3), carried in EMR_COMMENT records, drawn with skia.

Covered: the object table (brushes: solid, hatch, linear gradient, others as their main
colour; pens with width, caps, joins, dashes; paths; regions; fonts; string formats;
bitmaps and PNG/JPEG images), fills and outlines of rectangles, polygons, lines,
ellipses, pies, arcs, paths, regions, curves and Béziers, images, strings and driver
strings, world and page transforms, save/restore and containers, and clipping.
Not covered: path-gradient and texture brushes are drawn in their main colour; custom
line caps, compound lines and image attributes are ignored.
"""

from __future__ import annotations

import contextvars
import io
import logging
import math
import struct
from dataclasses import dataclass, field

import numpy as np
import skia
from PIL import Image

from ..errors import CorruptImageError
from ._dib import check_size
from ._fonts import typeface
from ._gdi import Device
from ._records import DAMAGED_RECORD_ERRORS

log = logging.getLogger(__name__)

# Unit types (MS-EMFPLUS 2.1.1.33) in device pixels per unit, for a given dpi.
_UNIT_PER_INCH = {3: 72.0, 4: 1.0, 5: 300.0, 6: 25.4}

_HATCH_DENSITY = 0.5  # hatch brushes are drawn as the mix of their two colours


@dataclass
class _Pen:
    width: float
    paint_color: skia.Color4f | None
    shader_brush: object
    cap_start: int = 0
    cap_end: int = 0
    join: int = 0
    miter: float = 10.0
    dash: tuple[float, ...] = ()
    unit: int = 2


@dataclass
class _Brush:
    color: tuple[int, int, int, int] = (0, 0, 0, 255)  # RGBA
    gradient: tuple[tuple[float, float, float, float], tuple[int, ...], tuple[int, ...]] | None = None


@dataclass
class _Font:
    size: float
    unit: int
    style: int
    family: str


@dataclass
class _Format:
    align: int = 0
    line_align: int = 0
    flags: int = 0


@dataclass
class _State:
    world: skia.Matrix = field(default_factory=skia.Matrix)
    clip: skia.Path | None = None  # output pixels


def _argb(value: int) -> tuple[int, int, int, int]:
    return (
        (value >> 16) & 0xFF,
        (value >> 8) & 0xFF,
        value & 0xFF,
        (value >> 24) & 0xFF,
    )


class EmfPlusPlayer:
    def __init__(self, dev: Device):
        self.dev = dev
        self.objects: dict[int, object] = {}
        self.pending: dict[int, tuple[int, bytearray]] = {}  # continued objects
        self.state = _State()
        self.page_unit = 2
        self.page_scale = 1.0
        self.dpi = (96.0, 96.0)
        self.saved: dict[int, _State] = {}
        self.get_dc = False
        self.active = False
        self.dual = False
        self.drew = False

    # -- transforms -------------------------------------------------------------------------

    def matrix(self) -> skia.Matrix:
        unit = self.page_unit
        if unit in _UNIT_PER_INCH:
            sx = self.dpi[0] / _UNIT_PER_INCH[unit] * self.page_scale
            sy = self.dpi[1] / _UNIT_PER_INCH[unit] * self.page_scale
        else:
            sx = sy = self.page_scale  # World, Display, Pixel: device pixels
        page = skia.Matrix.Scale(sx, sy)
        return skia.Matrix.Concat(skia.Matrix.Concat(self.dev.device_to_output, page), self.state.world)

    def scale(self) -> float:
        m = self.matrix()
        return math.sqrt(abs(m.getScaleX() * m.getScaleY() - m.getSkewX() * m.getSkewY())) or 1e-9

    # -- playing ----------------------------------------------------------------------------

    def play_comment(self, data: bytes, start: int, end: int) -> None:
        p = start
        while p + 12 <= end:
            rtype, flags, size, dsize = struct.unpack_from("<HHII", data, p)
            if size < 12 or p + size > end or dsize > size - 12:
                raise CorruptImageError(f"EMF+ record {rtype:#06x} at offset {p} has an invalid size {size}")
            self.get_dc = False
            try:
                self.record(rtype, flags, data, p + 12, p + 12 + dsize)
            except DAMAGED_RECORD_ERRORS as exc:
                raise CorruptImageError(f"EMF+ record {rtype:#06x} at offset {p} is damaged ({exc})") from None
            p += size

    def record(self, rtype: int, flags: int, d: bytes, at: int, end: int) -> None:
        if rtype == 0x4001:  # Header
            _version, _plus_flags, dpix, dpiy = struct.unpack_from("<IIII", d, at)
            self.dual = bool(flags & 1)  # the record's D flag; EmfPlusFlags only says display/printer
            if dpix > 0 and dpiy > 0:
                self.dpi = (float(dpix), float(dpiy))
            self.active = True
            return
        if rtype == 0x4004:
            self.get_dc = True
            return
        if rtype == 0x4008:
            self.define_object(flags, d, at, end)
            return
        if rtype == 0x402A:
            self.state.world = _matrix(struct.unpack_from("<6f", d, at))
        elif rtype == 0x402B:
            self.state.world = skia.Matrix()
        elif rtype == 0x402C:
            self.multiply(_matrix(struct.unpack_from("<6f", d, at)), flags)
        elif rtype == 0x402D:
            self.multiply(skia.Matrix.Translate(*struct.unpack_from("<2f", d, at)), flags)
        elif rtype == 0x402E:
            self.multiply(skia.Matrix.Scale(*struct.unpack_from("<2f", d, at)), flags)
        elif rtype == 0x402F:
            self.multiply(skia.Matrix.RotateDeg(struct.unpack_from("<f", d, at)[0]), flags)
        elif rtype == 0x4030:
            self.page_unit = flags & 0xFF
            self.page_scale = struct.unpack_from("<f", d, at)[0] or 1.0
        elif rtype in (0x4025, 0x4028):  # Save, BeginContainerNoParams
            self.saved[struct.unpack_from("<I", d, at)[0]] = self._copy_state()
        elif rtype == 0x4027:  # BeginContainer: dest rect, src rect, unit
            dest = struct.unpack_from("<4f", d, at)
            src = struct.unpack_from("<4f", d, at + 16)
            index = struct.unpack_from("<I", d, at + 32)[0]
            self.saved[index] = self._copy_state()
            if src[2] and src[3]:
                box = skia.Matrix.MakeRectToRect(
                    skia.Rect.MakeXYWH(*src),
                    skia.Rect.MakeXYWH(*dest),
                    skia.Matrix.kFill_ScaleToFit,
                )
                self.state.world = skia.Matrix.Concat(self.state.world, box)
        elif rtype in (0x4026, 0x4029):
            saved = self.saved.pop(struct.unpack_from("<I", d, at)[0], None)
            if saved is not None:
                self.state = saved
        elif rtype == 0x4031:
            self.state.clip = None
        elif rtype == 0x4032:
            path = skia.Path()
            path.addRect(skia.Rect.MakeXYWH(*struct.unpack_from("<4f", d, at)))
            self.clip(path, (flags >> 8) & 0xF)
        elif rtype == 0x4033:
            path = self.objects.get(flags & 0xFF)
            if isinstance(path, skia.Path):
                self.clip(path, (flags >> 8) & 0xF)
        elif rtype == 0x4034:
            region = self.objects.get(flags & 0xFF)
            if isinstance(region, skia.Path) or region is None:
                self.clip(region, (flags >> 8) & 0xF)
        elif rtype == 0x4035:
            if self.state.clip is not None:
                v = self.matrix().mapVector(*struct.unpack_from("<2f", d, at))
                self.state.clip.offset(v.x(), v.y())
        elif rtype in _DRAWING:
            self.draw_record(rtype, flags, d, at, end)
        elif rtype not in (
            0x4002,
            0x4003,
            0x401D,
            0x401E,
            0x401F,
            0x4020,
            0x4021,
            0x4022,
            0x4023,
            0x4024,
            0x4038,
        ):
            log.debug("EMF+ record %#06x skipped", rtype)

    def _copy_state(self) -> _State:
        return _State(
            _copy_matrix(self.state.world),
            None if self.state.clip is None else skia.Path(self.state.clip),
        )

    def multiply(self, m: skia.Matrix, flags: int) -> None:
        if flags & 0x2000:  # append: applied after the current transform
            self.state.world = skia.Matrix.Concat(m, self.state.world)
        else:
            self.state.world = skia.Matrix.Concat(self.state.world, m)

    def clip(self, path: skia.Path | None, mode: int) -> None:
        full = skia.Path()
        full.addRect(skia.Rect.MakeWH(self.dev.width, self.dev.height))
        if path is None:  # an infinite region
            out = full
        else:
            out = skia.Path(path)
            out.transform(self.matrix())
        current = self.state.clip if self.state.clip is not None else full
        if mode == 0:
            self.state.clip = out
            return
        op = {
            1: skia.PathOp.kIntersect_PathOp,
            2: skia.PathOp.kUnion_PathOp,
            3: skia.PathOp.kXOR_PathOp,
            4: skia.PathOp.kDifference_PathOp,
            5: skia.PathOp.kReverseDifference_PathOp,
        }.get(mode)
        if op is not None:
            result = self.dev.path_op(current, out, op)
            if result is not None:
                self.state.clip = result

    # -- objects ----------------------------------------------------------------------------

    def define_object(self, flags: int, d: bytes, at: int, end: int) -> None:
        oid = flags & 0xFF
        otype = (flags >> 8) & 0x7F
        if flags & 0x8000:  # continued: total size first, then a chunk
            total = struct.unpack_from("<I", d, at)[0]
            if total > 256 * 1024 * 1024:
                raise CorruptImageError(f"an EMF+ object claims {total} bytes")
            _t, buf = self.pending.get(oid, (otype, bytearray()))
            buf += d[at + 4 : end]
            if len(buf) < total:
                self.pending[oid] = (otype, buf)
                return
            self.pending.pop(oid, None)
            body = bytes(buf)
        else:
            body = bytes(d[at:end])
        try:
            self.objects[oid] = self.parse_object(otype, body)
        except (
            struct.error,
            IndexError,
            ValueError,
            OSError,
            CorruptImageError,
        ) as exc:
            log.debug("EMF+ object %d (type %d) unreadable: %s", oid, otype, exc)
            self.objects.pop(oid, None)

    def parse_object(self, otype: int, b: bytes) -> object:
        if otype == 1:
            return parse_brush(b, 0)[0]
        if otype == 2:
            return self.parse_pen(b)
        if otype == 3:
            return parse_path(b, 0)[0]
        if otype == 4:
            count = struct.unpack_from("<I", b, 4)[0]
            del count
            return parse_region_node(b, 8, 0)[0]
        if otype == 5:
            return parse_image(b)
        if otype == 6:
            _v, size, unit, style, _r, length = struct.unpack_from("<IfIiII", b, 0)
            family = b[24 : 24 + 2 * length].decode("utf-16-le", "replace")
            return _Font(size, unit, style, family)
        if otype == 7:
            _v, fflags, _lang, align, line_align = struct.unpack_from("<IIIII", b, 0)
            return _Format(align, line_align, fflags)
        return object()

    def parse_pen(self, b: bytes) -> _Pen:
        _v, _t, pflags, unit, width = struct.unpack_from("<IIIIf", b, 0)
        p = 20
        pen = _Pen(width, None, None, unit=unit)
        if pflags & 0x01:
            p += 24
        if pflags & 0x02:
            pen.cap_start = struct.unpack_from("<i", b, p)[0]
            p += 4
        if pflags & 0x04:
            pen.cap_end = struct.unpack_from("<i", b, p)[0]
            p += 4
        if pflags & 0x08:
            pen.join = struct.unpack_from("<i", b, p)[0]
            p += 4
        if pflags & 0x10:
            pen.miter = struct.unpack_from("<f", b, p)[0]
            p += 4
        style = 0
        if pflags & 0x20:
            style = struct.unpack_from("<i", b, p)[0]
            p += 4
        if pflags & 0x40:
            p += 4
        if pflags & 0x80:
            p += 4
        if pflags & 0x100:
            n = struct.unpack_from("<I", b, p)[0]
            pen.dash = tuple(struct.unpack_from(f"<{n}f", b, p + 4))
            p += 4 + 4 * n
        elif style in _DASH_STYLES:
            pen.dash = _DASH_STYLES[style]
        if pflags & 0x200:
            p += 4
        if pflags & 0x400:
            n = struct.unpack_from("<I", b, p)[0]
            p += 4 + 4 * n
        if pflags & 0x800:
            p += 4 + struct.unpack_from("<I", b, p)[0]
        if pflags & 0x1000:
            p += 4 + struct.unpack_from("<I", b, p)[0]
        pen.shader_brush = parse_brush(b, p)[0]
        return pen

    # -- drawing ----------------------------------------------------------------------------

    def brush(self, flags: int, value: int) -> _Brush | None:
        if flags & 0x8000:
            return _Brush(_argb(value))
        obj = self.objects.get(value & 0xFF)
        return obj if isinstance(obj, _Brush) else None

    def fill_paint(self, brush: _Brush | None) -> skia.Paint | None:
        if brush is None:
            return None
        paint = skia.Paint(AntiAlias=True, Style=skia.Paint.kFill_Style)
        if brush.gradient is not None:
            rect, c0, c1 = brush.gradient
            x, y, w, _h = rect
            shader = skia.GradientShader.MakeLinear(
                [skia.Point(x, y), skia.Point(x + w, y)],
                [
                    skia.Color(c0[0], c0[1], c0[2], c0[3]),
                    skia.Color(c1[0], c1[1], c1[2], c1[3]),
                ],
                None,
                skia.TileMode.kMirror,
                0,
                self.matrix(),
            )
            paint.setShader(shader)
        else:
            r, g, b_, a = brush.color
            paint.setColor(skia.Color(r, g, b_, a))
        return paint

    def pen_paint(self, pen: object) -> skia.Paint | None:
        if not isinstance(pen, _Pen):
            return None
        brush = pen.shader_brush if isinstance(pen.shader_brush, _Brush) else _Brush()
        paint = self.fill_paint(brush)
        if paint is None:
            return None
        paint.setStyle(skia.Paint.kStroke_Style)
        unit_scale = self.scale()
        if pen.unit in _UNIT_PER_INCH:  # a pen width in physical units, independent of world scale
            unit_scale = self.dpi[0] / _UNIT_PER_INCH[pen.unit] * self.dev.device_pixel()
        width = pen.width * unit_scale
        paint.setStrokeWidth(width if width > 1.0 else 0.0)
        paint.setStrokeCap({1: skia.Paint.kSquare_Cap, 2: skia.Paint.kRound_Cap}.get(pen.cap_end, skia.Paint.kButt_Cap))
        paint.setStrokeJoin(
            {1: skia.Paint.kBevel_Join, 2: skia.Paint.kRound_Join}.get(pen.join, skia.Paint.kMiter_Join)
        )
        paint.setStrokeMiter(max(1.0, pen.miter))
        if pen.dash:
            unit = max(width, 1.0)
            intervals = [max(v * unit, 0.5) for v in pen.dash]
            if len(intervals) % 2:
                intervals *= 2
            paint.setPathEffect(skia.DashPathEffect.Make(intervals, 0.0))
        return paint

    def paint_path(self, path: skia.Path, paint: skia.Paint | None) -> None:
        if paint is None:
            return
        out = skia.Path(path)
        out.transform(self.matrix())
        canvas = self.dev.canvas
        canvas.save()
        try:
            if self.state.clip is not None:
                canvas.clipPath(self.state.clip, skia.ClipOp.kIntersect, True)
            canvas.drawPath(out, paint)
        finally:
            canvas.restore()
        self.drew = self.dev.drew = True

    def draw_record(self, rtype: int, flags: int, d: bytes, at: int, end: int) -> None:
        compressed = bool(flags & 0x4000)
        if rtype == 0x400A:  # FillRects
            brush = self.brush(flags, struct.unpack_from("<I", d, at)[0])
            count = struct.unpack_from("<I", d, at + 4)[0]
            path = skia.Path()
            for r in _rects(d, at + 8, count, compressed, end):
                path.addRect(skia.Rect.MakeXYWH(*r))
            self.paint_path(path, self.fill_paint(brush))
        elif rtype == 0x400B:  # DrawRects
            count = struct.unpack_from("<I", d, at)[0]
            path = skia.Path()
            for r in _rects(d, at + 4, count, compressed, end):
                path.addRect(skia.Rect.MakeXYWH(*r))
            self.paint_path(path, self.pen_paint(self.objects.get(flags & 0xFF)))
        elif rtype in (0x400C, 0x4016):  # FillPolygon, FillClosedCurve
            brush = self.brush(flags, struct.unpack_from("<I", d, at)[0])
            p = at + 4
            tension = 0.0
            if rtype == 0x4016:
                tension = struct.unpack_from("<f", d, p)[0]
                p += 4
            count = struct.unpack_from("<I", d, p)[0]
            pts = _points(d, p + 4, count, flags, end)
            path = _curve(pts, tension, closed=True) if rtype == 0x4016 else _poly(pts, True)
            self.paint_path(path, self.fill_paint(brush))
        elif rtype == 0x400D:  # DrawLines
            count = struct.unpack_from("<I", d, at)[0]
            path = _poly(_points(d, at + 4, count, flags, end), bool(flags & 0x2000))
            self.paint_path(path, self.pen_paint(self.objects.get(flags & 0xFF)))
        elif rtype in (0x400E, 0x400F):  # Fill/DrawEllipse
            p = at
            brush = None
            if rtype == 0x400E:
                brush = self.brush(flags, struct.unpack_from("<I", d, at)[0])
                p += 4
            r = _rects(d, p, 1, compressed, end)[0]
            path = skia.Path()
            path.addOval(skia.Rect.MakeXYWH(*r))
            self.paint_path(
                path,
                self.fill_paint(brush) if brush else self.pen_paint(self.objects.get(flags & 0xFF)),
            )
        elif rtype in (0x4010, 0x4011, 0x4012):  # FillPie, DrawPie, DrawArc
            p = at
            brush = None
            if rtype == 0x4010:
                brush = self.brush(flags, struct.unpack_from("<I", d, at)[0])
                p += 4
            start, sweep = struct.unpack_from("<2f", d, p)
            r = skia.Rect.MakeXYWH(*_rects(d, p + 8, 1, compressed, end)[0])
            path = skia.Path()
            if rtype == 0x4012:
                path.arcTo(r, start, sweep, True)
            else:
                path.moveTo(r.centerX(), r.centerY())
                path.arcTo(r, start, sweep, False)
                path.close()
            self.paint_path(
                path,
                self.fill_paint(brush) if brush else self.pen_paint(self.objects.get(flags & 0xFF)),
            )
        elif rtype == 0x4013:  # FillRegion
            region = self.objects.get(flags & 0xFF)
            brush = self.brush(flags, struct.unpack_from("<I", d, at)[0])
            if isinstance(region, skia.Path):
                self.paint_path(region, self.fill_paint(brush))
        elif rtype == 0x4014:  # FillPath
            path = self.objects.get(flags & 0xFF)
            if isinstance(path, skia.Path):
                self.paint_path(
                    path,
                    self.fill_paint(self.brush(flags, struct.unpack_from("<I", d, at)[0])),
                )
        elif rtype == 0x4015:  # DrawPath
            path = self.objects.get(flags & 0xFF)
            pen = self.objects.get(struct.unpack_from("<I", d, at)[0] & 0xFF)
            if isinstance(path, skia.Path):
                self.paint_path(path, self.pen_paint(pen))
        elif rtype in (0x4017, 0x4018):  # DrawClosedCurve, DrawCurve
            tension = struct.unpack_from("<f", d, at)[0]
            p = at + 4
            if rtype == 0x4018:
                p += 8  # offset, number of segments
            count = struct.unpack_from("<I", d, p)[0]
            pts = _points(d, p + 4, count, flags, end)
            self.paint_path(
                _curve(pts, tension, closed=rtype == 0x4017),
                self.pen_paint(self.objects.get(flags & 0xFF)),
            )
        elif rtype == 0x4019:  # DrawBeziers
            count = struct.unpack_from("<I", d, at)[0]
            pts = _points(d, at + 4, count, flags, end)
            path = skia.Path()
            if pts:
                path.moveTo(*pts[0])
                for i in range(1, len(pts) - 2, 3):
                    path.cubicTo(*pts[i], *pts[i + 1], *pts[i + 2])
            self.paint_path(path, self.pen_paint(self.objects.get(flags & 0xFF)))
        elif rtype in (0x401A, 0x401B):
            self.draw_image(rtype, flags, d, at, end)
        elif rtype == 0x401C:
            self.draw_string(flags, d, at, end)
        elif rtype == 0x4036:
            self.draw_driver_string(flags, d, at, end)

    def draw_image(self, rtype: int, flags: int, d: bytes, at: int, end: int) -> None:
        image = self.objects.get(flags & 0xFF)
        if not isinstance(image, np.ndarray):
            return
        _attrs, _unit = struct.unpack_from("<Ii", d, at)
        sx, sy, sw, sh = struct.unpack_from("<4f", d, at + 8)
        if rtype == 0x401A:
            x, y, w, h = _rects(d, at + 24, 1, bool(flags & 0x4000), end)[0]
            pts = [(x, y), (x + w, y), (x, y + h)]
        else:
            count = struct.unpack_from("<I", d, at + 24)[0]
            pts = _points(d, at + 28, min(count, 3), flags, end)
            if len(pts) < 3:
                return
        if isinstance(image, _WholePicture):
            sx, sy, sw, sh = 0.0, 0.0, float(image.shape[1]), float(image.shape[0])
        skimage = skia.Image.fromarray(np.ascontiguousarray(np.asarray(image)), colorType=skia.kRGBA_8888_ColorType)
        (x0, y0), (x1, y1), (x2, y2) = pts
        # Map the unit square onto the parallelogram, then the source rectangle onto the square.
        para = skia.Matrix.MakeAll(x1 - x0, x2 - x0, x0, y1 - y0, y2 - y0, y0, 0, 0, 1)
        if not sw or not sh:
            return
        canvas = self.dev.canvas
        canvas.save()
        try:
            if self.state.clip is not None:
                canvas.clipPath(self.state.clip, skia.ClipOp.kIntersect, True)
            canvas.concat(self.matrix())
            canvas.concat(para)
            canvas.drawImageRect(
                skimage,
                skia.Rect.MakeXYWH(sx, sy, sw, sh),
                skia.Rect.MakeWH(1, 1),
                skia.SamplingOptions(skia.FilterMode.kLinear),
                skia.Paint(AntiAlias=True),
                skia.Canvas.kFast_SrcRectConstraint,
            )
        finally:
            canvas.restore()
        self.drew = self.dev.drew = True

    def make_font(self, font: _Font) -> tuple[skia.Font, float]:
        """A skia font sized in world units, and nothing else."""
        size = font.size
        if font.unit in _UNIT_PER_INCH:
            # Physical units: convert to page pixels, then back through the page scale.
            size = font.size * self.dpi[1] / _UNIT_PER_INCH[font.unit]
            if self.page_unit in _UNIT_PER_INCH:
                size /= self.dpi[1] / _UNIT_PER_INCH[self.page_unit] * self.page_scale
            elif self.page_scale:
                size /= self.page_scale
        face = typeface(font.family, bool(font.style & 1), bool(font.style & 2))
        sk = skia.Font(face, max(size, 0.01))
        sk.setSubpixel(True)
        sk.setEdging(skia.Font.Edging.kAntiAlias)
        sk.setLinearMetrics(True)
        return sk, size

    def draw_string(self, flags: int, d: bytes, at: int, end: int) -> None:
        font = self.objects.get(flags & 0xFF)
        if not isinstance(font, _Font):
            return
        brush_id, format_id, length = struct.unpack_from("<III", d, at)
        x, y, w, h = struct.unpack_from("<4f", d, at + 12)
        text = d[at + 28 : at + 28 + 2 * length].decode("utf-16-le", "replace")
        fmt = self.objects.get(format_id & 0xFF)
        fmt = fmt if isinstance(fmt, _Format) else _Format()
        sk, _size = self.make_font(font)
        paint = self.fill_paint(self.brush(flags, brush_id))
        if paint is None or not text:
            return
        metrics = sk.getMetrics()
        lines = text.split("\n")
        line_height = metrics.fDescent - metrics.fAscent + metrics.fLeading
        total_h = line_height * len(lines)
        top = y
        if h > 0:
            top = y + (h - total_h) / 2 if fmt.line_align == 1 else y + h - total_h if fmt.line_align == 2 else y
        self._text_begin()
        try:
            for i, line in enumerate(lines):
                width = sk.measureText(line)
                left = x
                if w > 0:
                    left = x + (w - width) / 2 if fmt.align == 1 else x + w - width if fmt.align == 2 else x
                elif fmt.align == 1:
                    left = x - width / 2
                elif fmt.align == 2:
                    left = x - width
                self.dev.canvas.drawString(line, left, top + i * line_height - metrics.fAscent, sk, paint)
                if font.style & 4:
                    self.dev.canvas.drawRect(
                        skia.Rect.MakeXYWH(
                            left,
                            top + i * line_height - metrics.fAscent + (metrics.fUnderlinePosition or 1),
                            width,
                            metrics.fUnderlineThickness or sk.getSize() / 14,
                        ),
                        paint,
                    )
        finally:
            self.dev.canvas.restore()
        self.drew = self.dev.drew = True

    def _text_begin(self) -> None:
        canvas = self.dev.canvas
        canvas.save()
        if self.state.clip is not None:
            canvas.clipPath(self.state.clip, skia.ClipOp.kIntersect, True)
        canvas.concat(self.matrix())

    def draw_driver_string(self, flags: int, d: bytes, at: int, end: int) -> None:
        font = self.objects.get(flags & 0xFF)
        if not isinstance(font, _Font):
            return
        brush_id, options, matrix_present, count = struct.unpack_from("<IIII", d, at)
        glyphs = list(struct.unpack_from(f"<{count}H", d, at + 16))
        p = at + 16 + 2 * count
        flat = struct.unpack_from(f"<{2 * count}f", d, p)
        positions = list(zip(flat[0::2], flat[1::2], strict=False))
        p += 8 * count
        sk, _size = self.make_font(font)
        paint = self.fill_paint(self.brush(flags, brush_id))
        if paint is None or not glyphs:
            return
        if options & 1:  # CmapLookup: the values are characters
            glyphs = list(sk.textToGlyphs("".join(chr(g) for g in glyphs)))
        if options & 4:  # RealizedAdvance: only the first position counts; advance by the glyph widths
            widths = sk.getWidths(glyphs)
            x0, y0 = positions[0]
            positions = []
            for wdt in widths:
                positions.append((x0, y0))
                x0 += wdt
        self._text_begin()
        try:
            if matrix_present and p + 24 <= end:
                self.dev.canvas.concat(_matrix(struct.unpack_from("<6f", d, p)))
            builder = skia.TextBlobBuilder()
            builder.allocRunPos(sk, glyphs, [skia.Point(px, py) for px, py in positions])
            blob = builder.make()
            if blob is not None:
                self.dev.canvas.drawTextBlob(blob, 0, 0, paint)
        finally:
            self.dev.canvas.restore()
        self.drew = self.dev.drew = True


_DRAWING = set(range(0x400A, 0x401D)) | {0x4036}
# DashStyle (MS-EMFPLUS 2.1.1.8): dash, dot, dash-dot, dash-dot-dot, in pen widths.
_DASH_STYLES = {
    1: (3.0, 1.0),
    2: (1.0, 1.0),
    3: (3.0, 1.0, 1.0, 1.0),
    4: (3.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}


def _copy_matrix(m: skia.Matrix) -> skia.Matrix:
    return skia.Matrix.Concat(skia.Matrix(), m)


def _matrix(v: tuple[float, ...]) -> skia.Matrix:
    m11, m12, m21, m22, dx, dy = v
    return skia.Matrix.MakeAll(m11, m21, dx, m12, m22, dy, 0, 0, 1)


def _rects(d: bytes, at: int, count: int, compressed: bool, end: int) -> list[tuple[float, float, float, float]]:
    size = 8 if compressed else 16
    if at + size * count > end:
        raise CorruptImageError("an EMF+ record's rectangles run past its end")
    flat = struct.unpack_from(f"<{4 * count}{'h' if compressed else 'f'}", d, at)
    return [tuple(float(v) for v in flat[i : i + 4]) for i in range(0, len(flat), 4)]  # type: ignore[misc]


def _points(d: bytes, at: int, count: int, flags: int, end: int) -> list[tuple[float, float]]:
    if flags & 0x0800:  # relative, 7- or 15-bit deltas
        pts = []
        x = y = 0.0
        p = at
        for _ in range(count):
            vals = []
            for _k in range(2):
                first = d[p]
                if first & 0x80:
                    v = ((first & 0x7F) << 8) | d[p + 1]
                    if v & 0x4000:
                        v -= 0x8000
                    p += 2
                else:
                    v = first - 0x80 if first & 0x40 else first
                    p += 1
                vals.append(v)
            x += vals[0]
            y += vals[1]
            pts.append((x, y))
        return pts
    compressed = bool(flags & 0x4000)
    size = 4 if compressed else 8
    if at + size * count > end:
        raise CorruptImageError("an EMF+ record's points run past its end")
    flat = struct.unpack_from(f"<{2 * count}{'h' if compressed else 'f'}", d, at)
    return [(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]


def _poly(pts: list[tuple[float, float]], closed: bool) -> skia.Path:
    path = skia.Path()
    if pts:
        path.addPoly([skia.Point(x, y) for x, y in pts], closed)
    return path


def _curve(pts: list[tuple[float, float]], tension: float, closed: bool) -> skia.Path:
    """A cardinal spline through the points as cubic Béziers (GDI+ tension, 0.5 default)."""
    path = skia.Path()
    n = len(pts)
    if n < 2:
        return path
    t = tension / 3.0
    path.moveTo(*pts[0])
    segments = n if closed else n - 1
    for i in range(segments):
        p0 = pts[(i - 1) % n] if (closed or i > 0) else pts[0]
        p1 = pts[i % n]
        p2 = pts[(i + 1) % n]
        p3 = pts[(i + 2) % n] if (closed or i + 2 < n) else p2
        c1 = (p1[0] + t * (p2[0] - p0[0]), p1[1] + t * (p2[1] - p0[1]))
        c2 = (p2[0] - t * (p3[0] - p1[0]), p2[1] - t * (p3[1] - p1[1]))
        path.cubicTo(*c1, *c2, *p2)
    if closed:
        path.close()
    return path


def parse_brush(b: bytes, at: int) -> tuple[_Brush, int]:
    _v, btype = struct.unpack_from("<II", b, at)
    p = at + 8
    if btype == 0:
        return _Brush(_argb(struct.unpack_from("<I", b, p)[0])), p + 4
    if btype == 1:  # hatch: style, fore, back -> their mix
        _style, fore, back = struct.unpack_from("<III", b, p)
        f, k = _argb(fore), _argb(back)
        mixed = tuple(round(f[i] * _HATCH_DENSITY + k[i] * (1 - _HATCH_DENSITY)) for i in range(4))
        return _Brush(mixed), p + 12  # type: ignore[arg-type]
    if btype == 4:  # linear gradient: flags, wrap, rect, start colour, end colour
        _flags, _wrap = struct.unpack_from("<II", b, p)
        rect = struct.unpack_from("<4f", b, p + 8)
        c0, c1 = struct.unpack_from("<II", b, p + 24)
        a, z = _argb(c0), _argb(c1)
        return _Brush(a, (rect, a, z)), p + 40  # type: ignore[arg-type]
    if btype == 3:  # path gradient: flags, wrap, centre colour -> the centre colour
        _flags, _wrap, center = struct.unpack_from("<III", b, p)
        return _Brush(_argb(center)), len(b)
    return _Brush((128, 128, 128, 255)), len(b)


def parse_path(b: bytes, at: int) -> tuple[skia.Path, int]:
    _v, count, pflags = struct.unpack_from("<III", b, at)
    p = at + 12
    if count > 10_000_000:
        raise ValueError("implausible point count")
    if pflags & 0x0800:
        raise ValueError("relative path points are not supported")  # rare; the object is skipped
    compressed = bool(pflags & 0x4000)
    size = 4 if compressed else 8
    flat = struct.unpack_from(f"<{2 * count}{'h' if compressed else 'f'}", b, p)
    pts = [(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]
    p += size * count
    if pflags & 0x1000:  # run-length encoded types
        types: list[int] = []
        while len(types) < count:
            head, value = b[p], b[p + 1]
            types.extend([value] * (head & 0x3F))
            p += 2
    else:
        types = list(b[p : p + count])
        p += count
    path = skia.Path()
    i = 0
    while i < count and i < len(types):
        kind = types[i] & 0x07
        if kind == 0:
            path.moveTo(*pts[i])
        elif kind == 1:
            path.lineTo(*pts[i])
        elif kind == 3 and i + 2 < count:
            path.cubicTo(*pts[i], *pts[i + 1], *pts[i + 2])
            i += 2
        if types[i] & 0x80:
            path.close()
        i += 1
    return path, p


def parse_region_node(b: bytes, at: int, depth: int) -> tuple[skia.Path | None, int]:
    """A region node as a path in world units; None means infinite."""
    if depth > 64:
        raise ValueError("region nodes nest too deep")
    ntype = struct.unpack_from("<I", b, at)[0]
    p = at + 4
    if ntype == 0x10000000:
        path = skia.Path()
        path.addRect(skia.Rect.MakeXYWH(*struct.unpack_from("<4f", b, p)))
        return path, p + 16
    if ntype == 0x10000001:
        size = struct.unpack_from("<I", b, p)[0]
        path, _ = parse_path(b[p + 4 : p + 4 + size], 0)
        return path, p + 4 + size
    if ntype == 0x10000002:
        return skia.Path(), p
    if ntype == 0x10000003:
        return None, p
    if 1 <= ntype <= 5:
        left, p = parse_region_node(b, p, depth + 1)
        right, p = parse_region_node(b, p, depth + 1)
        big = skia.Path()
        big.addRect(skia.Rect.MakeLTRB(-1e7, -1e7, 1e7, 1e7))
        left = big if left is None else left
        right = big if right is None else right
        op = {
            1: skia.PathOp.kIntersect_PathOp,
            2: skia.PathOp.kUnion_PathOp,
            3: skia.PathOp.kXOR_PathOp,
            4: skia.PathOp.kDifference_PathOp,
            5: skia.PathOp.kReverseDifference_PathOp,
        }[ntype]
        return skia.Op(left, right, op) or skia.Path(), p
    raise ValueError(f"unknown region node {ntype:#x}")


# How deep the current thread is in embedded pictures: per thread (a context variable),
# so conversions running at once never see each other's depth.
_NESTING: contextvars.ContextVar[int] = contextvars.ContextVar("dicomify_emf_nesting", default=0)


def _metafile_image(b: bytes) -> np.ndarray | None:
    """An embedded WMF/EMF picture, rendered on its own (at most two levels deep)."""
    mtype, size = struct.unpack_from("<II", b, 8)
    # GDI+ counts a placeable WMF's size without its placeable header (which it pads from
    # 22 to 24 bytes): the picture is the rest of the object.
    data = b[16:] if mtype == 2 else b[16 : 16 + size]
    depth = _NESTING.get()
    if depth >= 2:
        return None
    from . import render_array

    token = _NESTING.set(depth + 1)
    try:
        rgb = render_array(data, max_pixels=4_000_000)[0]
    except CorruptImageError as exc:
        log.debug("embedded metafile image skipped: %s", exc)
        return None
    finally:
        _NESTING.reset(token)
    # Marked so that DrawImage maps the whole picture: the source rectangle of a
    # metafile image is in its own units, not our raster's pixels.
    return _WholePicture(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))


class _WholePicture(np.ndarray):
    def __new__(cls, array: np.ndarray) -> _WholePicture:  # noqa: PYI034
        return np.asarray(array).view(cls)


def parse_image(b: bytes) -> np.ndarray | None:
    _v, itype = struct.unpack_from("<II", b, 0)
    if itype == 2:
        return _metafile_image(b)
    if itype != 1:
        return None
    width, height, stride, fmt, btype = struct.unpack_from("<iiiII", b, 8)
    data = b[28:]
    if btype == 1:
        with Image.open(io.BytesIO(data)) as im:
            check_size(*im.size)
            return np.asarray(im.convert("RGBA"))
    if width <= 0 or height <= 0 or width * height > 64_000_000 or stride < 0:
        raise ValueError("bad bitmap size")
    if fmt in (0x0026200A, 0x000E200B, 0x00022009):  # 32bpp ARGB, PARGB, RGB
        raw = np.frombuffer(data, np.uint8, stride * height).reshape(height, stride)[:, : width * 4]
        raw = raw.reshape(height, width, 4)
        rgba = raw[..., [2, 1, 0, 3]].copy()
        if fmt == 0x00022009:
            rgba[..., 3] = 255
        return rgba
    if fmt == 0x00021808:  # 24bpp RGB
        raw = np.frombuffer(data, np.uint8, stride * height).reshape(height, stride)[:, : width * 3]
        rgb = raw.reshape(height, width, 3)[..., ::-1]
        return np.dstack([rgb, np.full((height, width), 255, np.uint8)])
    return None
