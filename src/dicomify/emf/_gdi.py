"""A GDI device context played onto a skia canvas: the state EMF and WMF records change,
and the drawing they request.

Coordinates go logical --world transform--> page --window/viewport--> reference device
--``device_to_output``--> output pixels (MS-EMF 3.1 "EMF Coordinate Spaces"). Paths are
built in logical units, mapped to output pixels, and drawn with an identity canvas matrix,
so path brackets (which GDI records in device space) and plain drawing share one code path.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import skia

from . import _rop
from ._fonts import fallback_typeface, typeface
from ._symbols import symbol_text

log = logging.getLogger(__name__)

Color = tuple[int, int, int]

# Mapping modes (MS-EMF 2.1.21 MapMode).
MM_TEXT, MM_LOMETRIC, MM_HIMETRIC, MM_LOENGLISH, MM_HIENGLISH, MM_TWIPS = (
    1,
    2,
    3,
    4,
    5,
    6,
)
MM_ISOTROPIC, MM_ANISOTROPIC = 7, 8
# Logical unit of the fixed mapping modes, in millimetres.
_MODE_MM = {
    MM_LOMETRIC: 0.1,
    MM_HIMETRIC: 0.01,
    MM_LOENGLISH: 0.254,
    MM_HIENGLISH: 0.0254,
    MM_TWIPS: 25.4 / 1440,
}

# Pen styles (MS-EMF 2.1.25 PenStyle).
(
    PS_SOLID,
    PS_DASH,
    PS_DOT,
    PS_DASHDOT,
    PS_DASHDOTDOT,
    PS_NULL,
    PS_INSIDEFRAME,
    PS_USERSTYLE,
) = range(8)
PS_ENDCAP_SQUARE, PS_ENDCAP_FLAT = 0x100, 0x200
PS_JOIN_BEVEL, PS_JOIN_MITER = 0x1000, 0x2000
PS_GEOMETRIC = 0x10000
# Brush styles (MS-WMF 2.1.1.4 BrushStyle).
BS_SOLID, BS_NULL, BS_HATCHED, BS_PATTERN, BS_DIBPATTERN, BS_DIBPATTERNPT = (
    0,
    1,
    2,
    3,
    5,
    6,
)
# Background modes, text alignment, arc direction, poly fill mode.
TRANSPARENT, OPAQUE = 1, 2
TA_UPDATECP, TA_RIGHT, TA_CENTER, TA_BOTTOM, TA_BASELINE = 1, 2, 6, 8, 24
AD_COUNTERCLOCKWISE = 1
ALTERNATE, WINDING = 1, 2
# Region combination modes (MS-EMF 2.1.29 RegionMode).
RGN_AND, RGN_OR, RGN_XOR, RGN_DIFF, RGN_COPY = 1, 2, 3, 4, 5

_DASHES = {
    PS_DASH: (3.0, 1.0),
    PS_DOT: (1.0, 1.0),
    PS_DASHDOT: (3.0, 1.0, 1.0, 1.0),
    PS_DASHDOTDOT: (3.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
# Cosmetic (one pixel) pens dash in device pixels.
_COSMETIC_DASHES = {
    PS_DASH: (18.0, 6.0),
    PS_DOT: (3.0, 3.0),
    PS_DASHDOT: (9.0, 6.0, 3.0, 6.0),
    PS_DASHDOTDOT: (9.0, 3.0, 3.0, 3.0, 3.0, 3.0),
}
# Output pixels per band of an exact raster-operation blit (4 MB of RGBA per layer).
_BLIT_BAND_PIXELS = 1 << 20
# Points per piece when a long solid polyline is stroked piecewise.
_CHUNK = 1000


class Rendered(NamedTuple):
    """A played metafile: its RGB pixels, whether anything was drawn, and the characters
    no installed face has (drawn as missing-glyph boxes)."""

    pixels: np.ndarray
    drew: bool
    missing_glyphs: frozenset[str]


# 8x8 hatch patterns (HS_HORIZONTAL .. HS_DIAGCROSS), one byte per row, MSB left.
_HATCHES = {
    0: [0, 0, 0, 0, 0, 0, 0, 0xFF],
    1: [0x08] * 8,
    2: [0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01],
    3: [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80],
    4: [0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0xFF],
    5: [0x81, 0x42, 0x24, 0x18, 0x18, 0x24, 0x42, 0x81],
}


@dataclass(frozen=True)
class Pen:
    style: int = PS_SOLID
    width: float = 0.0  # logical units; 0 = one device pixel
    color: Color = (0, 0, 0)
    user_dashes: tuple[float, ...] = ()

    @property
    def null(self) -> bool:
        return (self.style & 0xF) == PS_NULL

    @property
    def cosmetic(self) -> bool:
        return not (self.style & PS_GEOMETRIC) and self.width <= 1


@dataclass(frozen=True)
class Brush:
    style: int = BS_SOLID
    color: Color = (255, 255, 255)
    hatch: int = 0
    pattern: np.ndarray | None = field(default=None, compare=False)  # RGBA

    @property
    def null(self) -> bool:
        return self.style == BS_NULL


@dataclass(frozen=True)
class Font:
    height: float = -12.0
    width: float = 0.0
    escapement: float = 0.0
    weight: int = 400
    italic: bool = False
    underline: bool = False
    strikeout: bool = False
    charset: int = 0
    pitch_and_family: int = 0
    face: str = ""


STOCK_OBJECTS: dict[int, object] = {
    0: Brush(BS_SOLID, (255, 255, 255)),
    1: Brush(BS_SOLID, (192, 192, 192)),
    2: Brush(BS_SOLID, (128, 128, 128)),
    3: Brush(BS_SOLID, (64, 64, 64)),
    4: Brush(BS_SOLID, (0, 0, 0)),
    5: Brush(BS_NULL),
    6: Pen(PS_SOLID, 0, (255, 255, 255)),
    7: Pen(PS_SOLID, 0, (0, 0, 0)),
    8: Pen(PS_NULL),
    10: Font(face="Courier New"),
    11: Font(face="Courier New"),
    12: Font(face="Arial"),
    13: Font(face="Arial"),
    14: Font(face="Arial"),
    16: Font(face="Courier New"),
    17: Font(height=-11, face="Arial"),
    18: Brush(BS_SOLID, (255, 255, 255)),
    19: Pen(PS_SOLID, 0, (0, 0, 0)),
}


@dataclass
class State:
    """What SaveDC saves."""

    map_mode: int = MM_TEXT
    window_org: tuple[float, float] = (0.0, 0.0)
    window_ext: tuple[float, float] = (1.0, 1.0)
    viewport_org: tuple[float, float] = (0.0, 0.0)
    viewport_ext: tuple[float, float] = (1.0, 1.0)
    world: tuple[float, float, float, float, float, float] = (
        1.0,
        0.0,
        0.0,
        1.0,
        0.0,
        0.0,
    )
    pen: Pen = field(default_factory=lambda: Pen())
    brush: Brush = field(default_factory=lambda: Brush())
    font: Font = field(default_factory=lambda: Font(face="Arial"))
    text_color: Color = (0, 0, 0)
    bk_color: Color = (255, 255, 255)
    bk_mode: int = OPAQUE
    poly_fill_mode: int = ALTERNATE
    rop2: int = 13
    text_align: int = 0
    arc_direction: int = AD_COUNTERCLOCKWISE
    miter_limit: float = 10.0
    position: tuple[float, float] = (0.0, 0.0)
    clip: skia.Path | None = None  # output pixels; None = whole canvas


def _opaque_rgba(rgba: np.ndarray) -> np.ndarray:
    """Raster operations work on colour bits only; the alpha byte is not a source operand."""
    if rgba[..., 3].min() == 255:
        return rgba
    out = rgba.copy()
    out[..., 3] = 255
    return out


# Pixels worked on at once by the raster region operations (FrameRgn, complex clips), and
# the path size (verbs of both operands) above which clips are combined on pixels.
_BAND_PIXELS = 1 << 20
_OP_VERBS = 5000


def _add_runs(path: skia.Path, mask: np.ndarray, x0: int, y0: int) -> None:
    """Add each row's runs of True pixels of ``mask`` (placed at x0, y0) as rectangles."""
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _rows, ends = np.nonzero(edges == -1)
    for y, a, b in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True):
        path.addRect(skia.Rect.MakeLTRB(x0 + a, y0 + y, x0 + b, y0 + y + 1))


def color_of(colorref: int) -> Color:
    """A COLORREF (0x00BBGGRR) as an RGB tuple."""
    return (colorref & 0xFF, (colorref >> 8) & 0xFF, (colorref >> 16) & 0xFF)


class Device:
    """The device context plus the canvas it draws on."""

    def __init__(
        self,
        width: int,
        height: int,
        device_to_output: skia.Matrix,
        *,
        wmf: bool = False,
        transparent: bool = False,
    ):
        self.width = width
        self.height = height
        self.surface = skia.Surface(width, height)
        self.canvas = self.surface.getCanvas()
        # Transparent only for a trial playback that asks where anything was drawn (coverage()).
        self.canvas.clear(skia.ColorTRANSPARENT if transparent else skia.ColorWHITE)
        self.device_to_output = device_to_output
        self.wmf = wmf
        # Characters no installed face has: drawn as missing-glyph boxes, and said so.
        self.missing_glyphs: set[str] = set()
        # Reference-device pixels per millimetre, for the fixed mapping modes.
        self.device_px_per_mm = (1.0, 1.0)
        self.state = State()
        self.saved: list[State] = []
        self.objects: dict[int, object] = {}
        self.path: skia.Path | None = None  # open path bracket, output pixels
        self.last_path: skia.Path | None = None  # closed bracket waiting for Fill/Stroke
        self._matrix: skia.Matrix | None = None
        self.drew = False
        self.dash_phase = 0.0  # output pixels into the dash pattern (piecewise strokes)

    # -- state -----------------------------------------------------------------------------

    def changed(self) -> None:
        self._matrix = None

    def save(self) -> None:
        # A shallow copy without copy.copy's reduce protocol (SaveDC can come by the thousand).
        s = object.__new__(State)
        s.__dict__.update(self.state.__dict__)
        if s.clip is not None:
            s.clip = skia.Path(s.clip)
        self.saved.append(s)

    def restore(self, relative: int) -> None:
        # RestoreDC(-1) is the last save; a positive value is an absolute level.
        index = len(self.saved) + relative if relative < 0 else relative - 1
        if not 0 <= index < len(self.saved):
            log.debug("RestoreDC(%d) with %d saved states ignored", relative, len(self.saved))
            return
        self.state = self.saved[index]
        del self.saved[index:]
        self.changed()

    def matrix(self) -> skia.Matrix:
        """Logical units to output pixels."""
        if self._matrix is not None:
            return self._matrix
        s = self.state
        m11, m12, m21, m22, dx, dy = s.world
        world = skia.Matrix.MakeAll(m11, m21, dx, m12, m22, dy, 0, 0, 1)
        wox, woy = s.window_org
        vox, voy = s.viewport_org
        mode = s.map_mode
        if mode in _MODE_MM:
            unit = _MODE_MM[mode]
            sx = unit * self.device_px_per_mm[0]
            sy = -unit * self.device_px_per_mm[1]
        elif mode in (MM_ISOTROPIC, MM_ANISOTROPIC) or self.wmf:
            wex, wey = s.window_ext
            vex, vey = s.viewport_ext
            sx = vex / wex if wex else 1.0
            sy = vey / wey if wey else 1.0
            if mode == MM_ISOTROPIC:
                k = min(abs(sx), abs(sy))
                sx = math.copysign(k, sx)
                sy = math.copysign(k, sy)
        else:
            sx = sy = 1.0
        page = skia.Matrix.MakeAll(sx, 0, vox - wox * sx, 0, sy, voy - woy * sy, 0, 0, 1)
        m = skia.Matrix.Concat(skia.Matrix.Concat(self.device_to_output, page), world)
        self._matrix = m
        return m

    def scale(self) -> float:
        """Output pixels per logical unit (geometric mean of the two axes)."""
        m = self.matrix()
        det = m.getScaleX() * m.getScaleY() - m.getSkewX() * m.getSkewY()
        return math.sqrt(abs(det)) or 1e-9

    def device_pixel(self) -> float:
        """Output pixels per reference-device pixel."""
        m = self.device_to_output
        return math.sqrt(abs(m.getScaleX() * m.getScaleY())) or 1.0

    def select(self, obj: object) -> None:
        if isinstance(obj, Pen):
            self.state.pen = obj
        elif isinstance(obj, Brush):
            self.state.brush = obj
        elif isinstance(obj, Font):
            self.state.font = obj

    # -- paint -----------------------------------------------------------------------------

    def pen_paint(self, pen: Pen | None = None) -> skia.Paint | None:
        pen = pen or self.state.pen
        if pen.null:
            return None
        paint = skia.Paint(AntiAlias=True, Color=skia.Color(*pen.color), Style=skia.Paint.kStroke_Style)
        self._rop2(paint)
        minimum = self.device_pixel()
        true_width = pen.width * self.scale()
        width = minimum if pen.cosmetic else max(true_width, minimum)
        paint.setStrokeWidth(width if width > 1.0 else 0.0)  # 0 = skia's one-pixel hairline
        if not pen.cosmetic and true_width < minimum:
            # A geometric pen thinner than a pixel: GDI would draw one solid pixel, anti-aliased
            # renderers (LibreOffice among them) a faint line; fading the hairline by the
            # coverage matches the latter, which keeps clip-art outlines light.
            paint.setAlphaf(paint.getAlphaf() * max(0.25, true_width / minimum))
        style = pen.style
        if style & PS_GEOMETRIC or pen.width > 1:
            end = style & 0xF00
            paint.setStrokeCap(
                skia.Paint.kSquare_Cap
                if end == PS_ENDCAP_SQUARE
                else skia.Paint.kButt_Cap
                if end == PS_ENDCAP_FLAT
                else skia.Paint.kRound_Cap
            )
            join = style & 0xF000
            paint.setStrokeJoin(
                skia.Paint.kBevel_Join
                if join == PS_JOIN_BEVEL
                else skia.Paint.kMiter_Join
                if join == PS_JOIN_MITER
                else skia.Paint.kRound_Join
            )
            paint.setStrokeMiter(max(1.0, self.state.miter_limit))
        else:
            paint.setStrokeCap(skia.Paint.kButt_Cap)
            paint.setStrokeJoin(skia.Paint.kMiter_Join)
        kind = style & 0xF
        intervals: tuple[float, ...] = ()
        if kind == PS_USERSTYLE and pen.user_dashes:
            unit = self.scale() if not pen.cosmetic else minimum
            intervals = tuple(max(v * unit, 0.5) for v in pen.user_dashes)
        elif kind in _DASHES:
            if pen.cosmetic:
                intervals = tuple(v * minimum for v in _COSMETIC_DASHES[kind])
            else:
                intervals = tuple(v * max(width, 1.0) for v in _DASHES[kind])
        if intervals:
            if len(intervals) % 2:
                intervals = intervals * 2
            paint.setPathEffect(skia.DashPathEffect.Make(list(intervals), self.dash_phase % sum(intervals)))
        return paint

    def brush_paint(self, brush: Brush | None = None, *, mix: bool = True) -> skia.Paint | None:
        """The brush as a fill paint; ``mix=False`` leaves out the ROP2 mix mode, which
        blits (whose raster operation says how the brush combines) do not use."""
        brush = brush or self.state.brush
        if brush.null:
            return None
        paint = skia.Paint(AntiAlias=True, Style=skia.Paint.kFill_Style)
        if mix:
            self._rop2(paint)
        if brush.style == BS_HATCHED:
            paint.setShader(self._hatch_shader(brush))
        elif brush.style in (BS_PATTERN, BS_DIBPATTERN, BS_DIBPATTERNPT) and brush.pattern is not None:
            image = skia.Image.fromarray(np.ascontiguousarray(brush.pattern), colorType=skia.kRGBA_8888_ColorType)
            k = self.device_pixel()
            paint.setShader(
                image.makeShader(
                    skia.TileMode.kRepeat,
                    skia.TileMode.kRepeat,
                    skia.SamplingOptions(),
                    skia.Matrix.Scale(k, k),
                )
            )
        else:
            paint.setColor(skia.Color(*brush.color))
        return paint

    def _hatch_shader(self, brush: Brush) -> skia.Shader:
        rows = _HATCHES.get(brush.hatch, _HATCHES[0])
        tile = np.zeros((8, 8, 4), np.uint8)
        if self.state.bk_mode == OPAQUE:
            tile[..., :3] = self.state.bk_color
            tile[..., 3] = 255
        for y, bits in enumerate(rows):
            for x in range(8):
                if bits & (0x80 >> x):
                    tile[y, x, :3] = brush.color
                    tile[y, x, 3] = 255
        image = skia.Image.fromarray(tile, colorType=skia.kRGBA_8888_ColorType)
        k = max(1.0, round(self.device_pixel()))
        return image.makeShader(
            skia.TileMode.kRepeat,
            skia.TileMode.kRepeat,
            skia.SamplingOptions(),
            skia.Matrix.Scale(k, k),
        )

    def _rop2(self, paint: skia.Paint) -> None:
        rop = self.state.rop2
        if rop == 13:  # R2_COPYPEN
            return
        if rop == 1:  # R2_BLACK
            paint.setColor(skia.ColorBLACK)
        elif rop == 16:  # R2_WHITE
            paint.setColor(skia.ColorWHITE)
        elif rop in (
            6,
            7,
            10,
        ):  # R2_NOT, R2_XORPEN, R2_NOTXORPEN: approximated by difference
            if rop == 6:
                paint.setColor(skia.ColorWHITE)
            paint.setBlendMode(skia.BlendMode.kDifference)
        elif rop == 9:  # R2_MASKPEN (AND)
            paint.setBlendMode(skia.BlendMode.kMultiply)
        elif rop == 15:  # R2_MERGEPEN (OR)
            paint.setBlendMode(skia.BlendMode.kLighten)
        elif rop == 11:  # R2_NOP
            paint.setAlphaf(0.0)

    # -- drawing ---------------------------------------------------------------------------

    def to_output(self, path: skia.Path) -> skia.Path:
        out = skia.Path(path)
        out.transform(self.matrix())
        return out

    def _clipped(self) -> bool:
        clip = self.state.clip
        self.canvas.save()
        if clip is not None:
            self.canvas.clipPath(clip, skia.ClipOp.kIntersect, True)
        return True

    def draw(self, path: skia.Path, *, fill: bool, stroke: bool, output_space: bool = False) -> None:
        """Fill and/or stroke a logical-unit path, or add it to the open path bracket."""
        out = path if output_space else self.to_output(path)
        if self.path is not None:
            self.path.addPath(out)
            return
        out.setFillType(
            skia.PathFillType.kWinding if self.state.poly_fill_mode == WINDING else skia.PathFillType.kEvenOdd
        )
        self._clipped()
        try:
            if fill:
                paint = self.brush_paint()
                if paint is not None:
                    self.canvas.drawPath(out, paint)
            if stroke:
                paint = self.pen_paint()
                if paint is not None:
                    self.canvas.drawPath(out, paint)
        finally:
            self.canvas.restore()
        self.drew = True

    def fill_output(self, path: skia.Path, paint: skia.Paint) -> None:
        self._clipped()
        try:
            self.canvas.drawPath(path, paint)
        finally:
            self.canvas.restore()
        self.drew = True

    # -- shapes ----------------------------------------------------------------------------

    def polyline(self, points: list[tuple[float, float]], *, closed: bool) -> None:
        if not points:
            return
        if not closed and len(points) > _CHUNK + 1 and self.path is None:
            # Skia strokes one long self-overlapping path in time that grows faster than its
            # length (a 200,000-point dashed polyline: 15 s whole, 1 s in pieces); long
            # polylines are stroked in pieces, dashes carrying their phase across.
            m = self.matrix()
            phase = 0.0
            try:
                for start in range(0, len(points) - 1, _CHUNK):
                    piece = points[start : start + _CHUNK + 1]
                    self.dash_phase = phase
                    path = skia.Path()
                    path.addPoly([skia.Point(x, y) for x, y in piece], False)
                    self.draw(path, fill=False, stroke=True)
                    mapped = [m.mapXY(x, y) for x, y in piece]
                    phase += sum(
                        math.hypot(b.x() - a.x(), b.y() - a.y()) for a, b in zip(mapped, mapped[1:], strict=False)
                    )
            finally:
                self.dash_phase = 0.0
            return
        path = skia.Path()
        path.addPoly([skia.Point(x, y) for x, y in points], closed)
        if closed:
            self.draw(path, fill=True, stroke=True)
        else:
            self.draw(path, fill=False, stroke=True)

    def polypolygon(self, polys: list[list[tuple[float, float]]], *, closed: bool) -> None:
        path = skia.Path()
        for pts in polys:
            if pts:
                path.addPoly([skia.Point(x, y) for x, y in pts], closed)
        self.draw(path, fill=closed, stroke=True)

    def polybezier(self, points: list[tuple[float, float]], *, to: bool) -> None:
        path = skia.Path()
        if to:
            start = self.state.position
            pts = points
        else:
            if not points:
                return
            start, pts = points[0], points[1:]
        path.moveTo(*start)
        for i in range(0, len(pts) - 2, 3):
            path.cubicTo(*pts[i], *pts[i + 1], *pts[i + 2])
        if to and len(pts) >= 3:
            self.state.position = pts[len(pts) // 3 * 3 - 1]
        self._draw_open(path)

    def polyline_to(self, points: list[tuple[float, float]]) -> None:
        if not points:
            return
        path = skia.Path()
        path.moveTo(*self.state.position)
        for p in points:
            path.lineTo(*p)
        self.state.position = points[-1]
        self._draw_open(path)

    def line_to(self, x: float, y: float) -> None:
        path = skia.Path()
        path.moveTo(*self.state.position)
        path.lineTo(x, y)
        self.state.position = (x, y)
        self._draw_open(path)

    def move_to(self, x: float, y: float) -> None:
        self.state.position = (x, y)
        if self.path is not None:
            self.path.moveTo(self.matrix().mapXY(x, y))

    def _draw_open(self, path: skia.Path) -> None:
        """An open figure continuing the current position (LineTo, PolylineTo ...)."""
        if self.path is not None:
            out = self.to_output(path)
            # Continue the bracket's current figure rather than starting a new one.
            verbs = out.countVerbs()
            if self.path.countVerbs() and verbs:
                self.path.addPath(out, skia.Path.AddPathMode.kExtend_AddPathMode)
            else:
                self.path.addPath(out)
            return
        self.draw(path, fill=False, stroke=True)

    def rectangle(self, left: float, top: float, right: float, bottom: float) -> None:
        path = skia.Path()
        path.addRect(skia.Rect.MakeLTRB(left, top, right, bottom).makeSorted())
        self.draw(path, fill=True, stroke=True)

    def round_rect(self, left: float, top: float, right: float, bottom: float, cx: float, cy: float) -> None:
        path = skia.Path()
        path.addRRect(
            skia.RRect.MakeRectXY(
                skia.Rect.MakeLTRB(left, top, right, bottom).makeSorted(),
                abs(cx) / 2,
                abs(cy) / 2,
            )
        )
        self.draw(path, fill=True, stroke=True)

    def ellipse(self, left: float, top: float, right: float, bottom: float) -> None:
        path = skia.Path()
        path.addOval(skia.Rect.MakeLTRB(left, top, right, bottom).makeSorted())
        self.draw(path, fill=True, stroke=True)

    def arc(
        self,
        box: tuple[float, float, float, float],
        start: tuple[float, float],
        end: tuple[float, float],
        kind: str,
    ) -> None:
        """Arc, ArcTo, Chord or Pie: the part of the box's ellipse from the start radial to the end."""
        rect = skia.Rect.MakeLTRB(*box).makeSorted()
        cx, cy = rect.centerX(), rect.centerY()
        a0 = math.degrees(math.atan2(start[1] - cy, start[0] - cx))
        a1 = math.degrees(math.atan2(end[1] - cy, end[0] - cx))
        # Counter-clockwise in GDI's y-down logical space is negative sweep in skia.
        m = self.matrix()
        flipped = (m.getScaleX() * m.getScaleY() - m.getSkewX() * m.getSkewY()) < 0
        ccw = (self.state.arc_direction == AD_COUNTERCLOCKWISE) != flipped
        sweep = (a1 - a0) % 360.0
        if ccw:
            sweep = sweep - 360.0 if sweep > 0 else -360.0
        elif sweep == 0:
            sweep = 360.0
        path = skia.Path()
        if kind == "pie":
            path.moveTo(cx, cy)
            path.arcTo(rect, a0, sweep, False)
            path.close()
        elif kind == "arcto":
            path.moveTo(*self.state.position)
            path.arcTo(rect, a0, sweep, False)
            p = path.getPoint(path.countPoints() - 1)
            self.state.position = (p.x(), p.y())
            self._draw_open(path)
            return
        else:
            path.arcTo(rect, a0, sweep, True)
            if kind == "chord":
                path.close()
        self.draw(path, fill=kind != "arc", stroke=True)

    def angle_arc(self, x: float, y: float, radius: float, start: float, sweep: float) -> None:
        rect = skia.Rect.MakeLTRB(x - radius, y - radius, x + radius, y + radius)
        path = skia.Path()
        path.moveTo(*self.state.position)
        path.arcTo(rect, -start, -sweep, False)
        p = path.getPoint(path.countPoints() - 1)
        self.state.position = (p.x(), p.y())
        self._draw_open(path)

    # -- path brackets ---------------------------------------------------------------------

    def begin_path(self) -> None:
        self.path = skia.Path()
        self.last_path = None

    def end_path(self) -> None:
        if self.path is not None:
            self.last_path = self.path
        self.path = None

    def close_figure(self) -> None:
        if self.path is not None:
            self.path.close()

    def take_path(self) -> skia.Path | None:
        if self.path is not None:  # FillPath without EndPath: GDI ends the bracket for us
            self.end_path()
        path, self.last_path = self.last_path, None
        return path

    def fill_path(self, *, fill: bool, stroke: bool) -> None:
        path = self.take_path()
        if path is not None:
            self.draw(path, fill=fill, stroke=stroke, output_space=True)

    def clip_path(self, mode: int) -> None:
        path = self.take_path()
        if path is not None:
            path.setFillType(
                skia.PathFillType.kWinding if self.state.poly_fill_mode == WINDING else skia.PathFillType.kEvenOdd
            )
            self.combine_clip(path, mode)

    # -- clipping --------------------------------------------------------------------------

    def canvas_path(self) -> skia.Path:
        path = skia.Path()
        path.addRect(skia.Rect.MakeWH(self.width, self.height))
        return path

    def combine_clip(self, region: skia.Path | None, mode: int) -> None:
        """Combine an output-pixel region into the clip (RGN_AND/OR/XOR/DIFF/COPY)."""
        if mode == RGN_COPY:
            self.state.clip = None if region is None else skia.Path(region)
            return
        if region is None:
            return
        current = self.state.clip if self.state.clip is not None else self.canvas_path()
        op = {
            RGN_AND: skia.PathOp.kIntersect_PathOp,
            RGN_OR: skia.PathOp.kUnion_PathOp,
            RGN_XOR: skia.PathOp.kXOR_PathOp,
            RGN_DIFF: skia.PathOp.kDifference_PathOp,
        }.get(mode)
        if op is None:
            log.debug("unknown region mode %d ignored", mode)
            return
        result = self.path_op(current, region, op)
        if result is not None:
            self.state.clip = result

    def path_op(self, one: skia.Path, two: skia.Path, op: skia.PathOp) -> skia.Path | None:
        """``one`` op ``two`` for output-pixel paths: skia's path operations, or for paths of
        thousands of contours (regions of many rectangles, where those take minutes) the
        same worked out on pixels, a band at a time, as rectangles."""
        if one.countVerbs() + two.countVerbs() <= _OP_VERBS:
            return skia.Op(one, two, op)
        result = skia.Path()
        band = max(1, _BAND_PIXELS // self.width)
        for y0 in range(0, self.height, band):
            rows = min(self.height, y0 + band) - y0
            a = self._region_mask(one, 0, y0, self.width, rows)
            b = self._region_mask(two, 0, y0, self.width, rows)
            if op == skia.PathOp.kIntersect_PathOp:
                kept = a & b
            elif op == skia.PathOp.kUnion_PathOp:
                kept = a | b
            elif op == skia.PathOp.kXOR_PathOp:
                kept = a ^ b
            elif op == skia.PathOp.kDifference_PathOp:
                kept = a & ~b
            else:  # kReverseDifference_PathOp
                kept = b & ~a
            _add_runs(result, kept, 0, y0)
        return result

    def clip_rect(self, left: float, top: float, right: float, bottom: float, *, exclude: bool) -> None:
        path = skia.Path()
        path.addRect(skia.Rect.MakeLTRB(left, top, right, bottom).makeSorted())
        self.combine_clip(self.to_output(path), RGN_DIFF if exclude else RGN_AND)

    def device_region(self, rects: list[tuple[int, int, int, int]], *, logical: bool = False) -> skia.Path:
        """A region (rectangles) as an output-pixel path: from reference-device units (EMF
        regions), or with ``logical`` from logical units through the current mapping (WMF)."""
        path = skia.Path()
        for left, top, right, bottom in rects:
            path.addRect(skia.Rect.MakeLTRB(left, top, right, bottom).makeSorted())
        path.transform(self.matrix() if logical else self.device_to_output)
        return path

    def frame_region(self, region: skia.Path, paint: skia.Paint, width: float, height: float) -> None:
        """FrameRgn: a border ``width`` output pixels wide on the region's vertical edges and
        ``height`` high on its horizontal ones, inside the region, as GDI draws it: the
        region's pixels less those whose neighbours that far off each way are all in it.

        Worked out on the region's pixels, a band of rows at a time (path operations on a
        region of thousands of rectangles take minutes), then drawn as rectangles."""
        box = region.computeTightBounds()
        left, top = max(0, math.floor(box.left())), max(0, math.floor(box.top()))
        right, bottom = min(self.width, math.ceil(box.right())), min(self.height, math.ceil(box.bottom()))
        dx, dy = (max(1, round(v)) if v > 0 else 0 for v in (width, height))
        if right <= left or bottom <= top or not (dx or dy):
            return
        cols = right - left
        band = max(1, _BAND_PIXELS // cols)
        frame = skia.Path()
        for y0 in range(top, bottom, band):
            rows = min(bottom, y0 + band) - y0
            # The band with the margin its pixels' neighbours reach into.
            mask = self._region_mask(region, left - dx, y0 - dy, cols + 2 * dx, rows + 2 * dy)
            inside = mask[dy : dy + rows, dx : dx + cols]
            kept = (
                inside
                & mask[dy : dy + rows, :cols]
                & mask[dy : dy + rows, 2 * dx :]
                & mask[:rows, dx : dx + cols]
                & mask[2 * dy :, dx : dx + cols]
            )
            _add_runs(frame, inside & ~kept, left, y0)
        self.fill_output(frame, paint)

    def _region_mask(self, region: skia.Path, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """Which pixels of the w x h block at (x0, y0) the region covers (pixel centres)."""
        surface = skia.Surface.MakeRaster(skia.ImageInfo.MakeA8(w, h))
        canvas = surface.getCanvas()
        canvas.translate(-x0, -y0)
        canvas.drawPath(region, skia.Paint(AntiAlias=False))
        alpha = np.zeros((h, w), np.uint8)
        surface.readPixels(skia.ImageInfo.MakeA8(w, h), alpha, w)
        return alpha > 127

    def invert_region(self, region: skia.Path) -> None:
        """InvertRgn: every pixel of the region becomes its complement (DSTINVERT); pixels are
        taken whole (no anti-aliasing), so inverting twice restores the picture."""
        self.fill_output(
            region,
            skia.Paint(Color=skia.ColorWHITE, BlendMode=skia.BlendMode.kDifference, AntiAlias=False),
        )

    def offset_clip(self, dx: float, dy: float) -> None:
        if self.state.clip is not None:
            m = self.matrix()
            v = m.mapVector(dx, dy)
            self.state.clip.offset(v.x(), v.y())

    # -- bitmaps ---------------------------------------------------------------------------

    def draw_bitmap(
        self,
        rgba: np.ndarray,
        dest: tuple[float, float, float, float],
        src: tuple[float, float, float, float] | None = None,
        *,
        rop: int = 0x00CC0020,
        premultiplied: bool = False,
        alpha: float = 1.0,
        device_dest: bool = False,
    ) -> None:
        """Draw an RGBA bitmap into a logical destination rectangle (x, y, width, height).

        SRCCOPY and NOTSRCCOPY are drawn like any picture (filtered when scaled, smooth
        edges); every other raster operation combines source, brush and destination bit
        by bit as GDI does (:meth:`raster_blit`).
        """
        h, w = rgba.shape[:2]
        if src is None:
            src = (0, 0, w, h)
        code = _rop.index_of(rop)
        if code == _rop.DEST:
            return
        if code not in (_rop.SRCCOPY, _rop.NOTSRCCOPY):
            self.raster_blit(dest, rop, (rgba, src), device_dest=device_dest)
            return
        if code == _rop.NOTSRCCOPY:
            rgba = np.concatenate([255 - rgba[..., :3], rgba[..., 3:]], axis=2)
        image = skia.Image.fromarray(
            np.ascontiguousarray(rgba),
            colorType=skia.kRGBA_8888_ColorType,
            alphaType=skia.kPremul_AlphaType if premultiplied else skia.kUnpremul_AlphaType,
        )
        paint = skia.Paint(AntiAlias=True)
        if alpha < 1.0:
            paint.setAlphaf(max(0.0, alpha))
        self._clipped()
        try:
            self._draw_image(self.canvas, image, dest, src, paint, skia.FilterMode.kLinear, device_dest)
        finally:
            self.canvas.restore()
        self.drew = True

    def _draw_image(
        self,
        canvas: skia.Canvas,
        image: skia.Image,
        dest: tuple[float, float, float, float],
        src: tuple[float, float, float, float],
        paint: skia.Paint,
        filter_mode: skia.FilterMode,
        device_dest: bool,
    ) -> None:
        x, y, dw, dh = dest
        sx, sy, sw, sh = src
        canvas.concat(self.device_to_output if device_dest else self.matrix())
        # Negative extents mirror the picture.
        canvas.translate(x + (min(0, dw)), y + (min(0, dh)))
        canvas.scale(-1 if dw < 0 else 1, -1 if dh < 0 else 1)
        canvas.drawImageRect(
            image,
            skia.Rect.MakeXYWH(sx, sy, sw, sh),
            skia.Rect.MakeWH(abs(dw), abs(dh)),
            skia.SamplingOptions(filter_mode),
            paint,
            skia.Canvas.kFast_SrcRectConstraint,
        )

    def pattern_blit(self, dest: tuple[float, float, float, float], rop: int) -> None:
        """A blit without a source bitmap (PatBlt): PATCOPY, BLACKNESS, WHITENESS, DSTINVERT ..."""
        code = _rop.index_of(rop)
        if code == _rop.DEST:
            return
        if _rop.uses_source(code):
            log.debug("blit without a bitmap, raster operation %#x, ignored", rop)
            return
        if code in (_rop.BLACKNESS, _rop.WHITENESS, _rop.PATCOPY):
            # Plain fills: drawn like any shape (smooth edges under a scaled transform).
            x, y, w, h = dest
            path = skia.Path()
            path.addRect(skia.Rect.MakeXYWH(x, y, w, h).makeSorted())
            if code == _rop.PATCOPY:
                paint = self.brush_paint(mix=False)
                if paint is None:
                    return
            else:
                paint = skia.Paint(AntiAlias=True, Color=skia.ColorBLACK if code == 0 else skia.ColorWHITE)
            self.fill_output(self.to_output(path), paint)
            return
        self.raster_blit(dest, rop, None)

    def raster_blit(
        self,
        dest: tuple[float, float, float, float],
        rop: int,
        source: tuple[np.ndarray, tuple[float, float, float, float]] | None,
        *,
        device_dest: bool = False,
        mask: tuple[np.ndarray, tuple[float, float, float, float]] | None = None,
    ) -> None:
        """BitBlt with any ternary raster operation, computed bit by bit as GDI does.

        With a ``mask`` (MaskBlt: a monochrome bitmap and its source rectangle) ``rop`` is
        a quaternary operation: its foreground operation (bits 16-23) applies where the
        mask is 1 (white), its background operation (bits 24-31) where it is 0.

        The destination rectangle (inside the clip) is found on the canvas without
        anti-aliasing, the source is sampled nearest-neighbour (GDI's default stretch
        mode keeps pixel values; filtering would invent colours the bitwise operation
        then scrambles, e.g. at a mask's edge), the brush is drawn over the same
        rectangle, and the three are combined with the operation's truth table.
        """
        code = _rop.index_of(rop)
        back = (rop >> 24) & 0xFF if mask is not None else code
        x, y, dw, dh = dest
        rect = skia.Path()
        rect.addRect(skia.Rect.MakeXYWH(x, y, dw, dh).makeSorted())
        rect.transform(self.device_to_output if device_dest else self.matrix())
        bounds = rect.computeTightBounds().roundOut()
        if not bounds.intersect(skia.IRect.MakeWH(self.width, self.height)):
            return
        brush: skia.Paint | None = None
        if _rop.uses_pattern(code) or _rop.uses_pattern(back):
            brush = self.brush_paint(mix=False)
            if brush is None:  # a null brush paints nothing
                return
            brush.setAntiAlias(False)
            brush.setBlendMode(skia.BlendMode.kSrc)
        if (_rop.uses_source(code) or _rop.uses_source(back)) and source is None:
            return

        def image_of(bitmap: tuple[np.ndarray, tuple[float, float, float, float]] | None) -> skia.Image | None:
            if bitmap is None:
                return None
            rgba = np.ascontiguousarray(_opaque_rgba(bitmap[0]))
            return skia.Image.fromarray(rgba, colorType=skia.kRGBA_8888_ColorType)

        source_image = image_of(source) if _rop.uses_source(code) or _rop.uses_source(back) else None
        mask_image = image_of(mask)
        x0, w = bounds.x(), bounds.width()
        # In bands of rows, so that a page-sized blit on a large canvas needs a few
        # megabytes at a time rather than several copies of the canvas.
        rows = max(1, _BLIT_BAND_PIXELS // w)
        for y0 in range(bounds.y(), bounds.bottom(), rows):
            h = min(rows, bounds.bottom() - y0)
            self._raster_band(
                (x0, y0, w, h), rect, code, back, brush, (source_image, source), (mask_image, mask), dest, device_dest
            )
        self.drew = True

    def _raster_band(
        self,
        band: tuple[int, int, int, int],
        rect: skia.Path,
        code: int,
        back: int,
        brush: skia.Paint | None,
        source: tuple[skia.Image | None, tuple[np.ndarray, tuple[float, float, float, float]] | None],
        mask: tuple[skia.Image | None, tuple[np.ndarray, tuple[float, float, float, float]] | None],
        dest: tuple[float, float, float, float],
        device_dest: bool,
    ) -> None:
        """One band of rows of :meth:`raster_blit`, in output pixels (x, y, width, height)."""
        x0, y0, w, h = band
        clip = self.state.clip

        def layer(draw: Callable[[skia.Canvas], None]) -> np.ndarray:
            surface = skia.Surface(w, h)
            canvas = surface.getCanvas()
            canvas.clear(skia.ColorTRANSPARENT)
            canvas.translate(-x0, -y0)
            if clip is not None:
                canvas.clipPath(clip, skia.ClipOp.kIntersect, False)
            draw(canvas)
            info = skia.ImageInfo.Make(w, h, skia.kRGBA_8888_ColorType, skia.kUnpremul_AlphaType)
            out = np.empty((h, w, 4), np.uint8)
            surface.readPixels(info, out, w * 4)
            return out

        def sampled(image: skia.Image, src: tuple[float, float, float, float]) -> np.ndarray:
            paint = skia.Paint(BlendMode=skia.BlendMode.kSrc)

            def draw(canvas: skia.Canvas) -> None:
                self._draw_image(canvas, image, dest, src, paint, skia.FilterMode.kNearest, device_dest)

            return layer(draw)[..., :3]

        coverage = layer(lambda c: c.drawPath(rect, skia.Paint(Color=skia.ColorWHITE)))[..., 3] >= 128
        if not coverage.any():
            return
        pattern = source_px = np.zeros((h, w, 3), np.uint8)
        if brush is not None:
            pattern = layer(lambda c: c.drawPath(rect, brush))[..., :3]
        if source[0] is not None and source[1] is not None:
            source_px = sampled(source[0], source[1][1])
        info = skia.ImageInfo.Make(w, h, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)
        canvas_px = np.empty((h, w, 4), np.uint8)
        self.surface.readPixels(info, canvas_px, w * 4, x0, y0)
        result = _rop.apply(code, pattern, source_px, canvas_px[..., :3])
        if mask[0] is not None and mask[1] is not None:
            foreground = sampled(mask[0], mask[1][1]).mean(axis=-1, keepdims=True) >= 128
            background = _rop.apply(back, pattern, source_px, canvas_px[..., :3])
            result = np.where(foreground, result, background)
        canvas_px[..., :3] = np.where(coverage[..., None], result, canvas_px[..., :3])
        canvas_px[..., 3] = 255  # the canvas is opaque (drawn over white)
        self.canvas.writePixels(info, canvas_px, w * 4, x0, y0)

    # -- text ------------------------------------------------------------------------------

    def text(
        self,
        x: float,
        y: float,
        chars: str | list[int],
        *,
        dx: list[float] | None = None,
        dy: list[float] | None = None,
        opaque_rect: tuple[float, float, float, float] | None = None,
        clip_rect: tuple[float, float, float, float] | None = None,
        glyph_indices: bool = False,
    ) -> None:
        s = self.state
        f = s.font
        m = self.matrix()
        if s.text_align & TA_UPDATECP:
            x, y = s.position
        if opaque_rect is not None:
            path = skia.Path()
            path.addRect(skia.Rect.MakeLTRB(*opaque_rect).makeSorted())
            self.fill_output(
                self.to_output(path),
                skia.Paint(AntiAlias=True, Color=skia.Color(*s.bk_color)),
            )
        if not chars:
            return
        # Font size: the logical height mapped through the y axis of the transform.
        v = m.mapVector(0, abs(f.height) or 12.0)
        size_cell = math.hypot(v.x(), v.y())
        xv = m.mapVector(1, 0)
        x_scale = math.hypot(xv.x(), xv.y())
        face = typeface(f.face, f.weight >= 600, f.italic, f.pitch_and_family)
        font = skia.Font(face, max(size_cell, 0.1))
        if f.height > 0:  # cell height: shrink so ascent + descent fits it
            metrics = font.getMetrics()
            extent = metrics.fDescent - metrics.fAscent
            if extent > 0:
                font.setSize(max(size_cell * size_cell / extent, 0.1))
        if f.italic and not face.isItalic():
            font.setSkewX(-0.2)
        if f.weight >= 600 and not face.isBold():
            font.setEmbolden(True)
        font.setSubpixel(True)
        font.setEdging(skia.Font.Edging.kAntiAlias)
        if isinstance(chars, str) and not glyph_indices:
            chars = symbol_text(f.face, chars)
        if glyph_indices:
            glyphs = [int(g) & 0xFFFF for g in chars]
        else:
            glyphs = list(font.textToGlyphs(chars)) if isinstance(chars, str) else []
        if not glyphs:
            return
        if f.width > 0:
            avg = font.getMetrics().fAvgCharWidth
            want = f.width * x_scale
            if avg > 0:
                font.setScaleX(min(4.0, max(0.25, want / avg)))
        widths = list(font.getWidths(glyphs))
        # Characters the face lacks (a smiley in a caption, an ideograph) are drawn from an
        # installed face that has them rather than as missing-glyph boxes.
        fonts: list[skia.Font] = [font] * len(glyphs)
        if isinstance(chars, str) and not glyph_indices and len(chars) == len(glyphs) and 0 in glyphs:
            for i, g in enumerate(glyphs):
                if g == 0 and chars[i].isprintable() and not chars[i].isspace():
                    other = fallback_typeface(chars[i], f.weight >= 600, f.italic)
                    if other is None:
                        self.missing_glyphs.add(chars[i])
                    else:
                        fonts[i] = skia.Font(other, font.getSize(), font.getScaleX(), font.getSkewX())
                        fonts[i].setSubpixel(True)
                        fonts[i].setEdging(skia.Font.Edging.kAntiAlias)
                        glyphs[i] = fonts[i].unicharToGlyph(ord(chars[i]))
                        widths[i] = fonts[i].getWidths([glyphs[i]])[0]
        xs: list[float] = []
        ys: list[float] = []
        if dx is not None and len(dx) >= len(glyphs):
            pos = 0.0
            ypos = 0.0
            for i in range(len(glyphs)):
                xs.append(pos)
                ys.append(ypos)
                pos += dx[i] * x_scale
                if dy is not None and i < len(dy):
                    ypos -= dy[i] * x_scale
            total = pos
        else:
            pos = 0.0
            for wdt in widths:
                xs.append(pos)
                ys.append(0.0)
                pos += wdt
            total = pos
        metrics = font.getMetrics()
        align_h = s.text_align & 6
        shift_x = -total if align_h == TA_RIGHT else -total / 2 if align_h == TA_CENTER else 0.0
        align_v = s.text_align & 24
        shift_y = 0.0 if align_v == TA_BASELINE else -metrics.fDescent if align_v == TA_BOTTOM else -metrics.fAscent
        origin = m.mapXY(x, y)
        # Baseline direction: escapement counter-clockwise from the logical x axis, with y
        # pointing down as in MM_TEXT, mapped through the transform (so a y-up mapping mode
        # turns the same escapement the other way on the page, as GDI does).
        esc = math.radians(f.escapement / 10.0)
        direction = m.mapVector(math.cos(esc), -math.sin(esc))
        angle = math.degrees(math.atan2(direction.y(), direction.x()))
        if s.text_align & TA_UPDATECP:
            adv = m.mapVector(1, 0)
            k = total / x_scale if x_scale else 0.0
            s.position = (x + k * (1 if adv.x() >= 0 else -1), y)
        self._clipped()
        try:
            if clip_rect is not None:
                path = skia.Path()
                path.addRect(skia.Rect.MakeLTRB(*clip_rect).makeSorted())
                self.canvas.clipPath(self.to_output(path), skia.ClipOp.kIntersect, True)
            self.canvas.translate(origin.x(), origin.y())
            if angle:
                self.canvas.rotate(angle)
            if s.bk_mode == OPAQUE and opaque_rect is None:
                box = skia.Rect.MakeLTRB(
                    shift_x,
                    shift_y + metrics.fAscent,
                    shift_x + total,
                    shift_y + metrics.fDescent,
                )
                self.canvas.drawRect(box, skia.Paint(Color=skia.Color(*s.bk_color)))
            builder = skia.TextBlobBuilder()
            positions = [skia.Point(px + shift_x, py + shift_y) for px, py in zip(xs, ys, strict=False)]
            start = 0
            for end in range(1, len(glyphs) + 1):  # one run per stretch of glyphs of one font
                if end == len(glyphs) or fonts[end] is not fonts[start]:
                    builder.allocRunPos(fonts[start], glyphs[start:end], positions[start:end])
                    start = end
            blob = builder.make()
            paint = skia.Paint(AntiAlias=True, Color=skia.Color(*s.text_color))
            if blob is not None:
                self.canvas.drawTextBlob(blob, 0, 0, paint)
            thickness = metrics.fUnderlineThickness or max(font.getSize() / 14.0, 1.0)
            if f.underline:
                pos_u = metrics.fUnderlinePosition or font.getSize() / 10.0
                self.canvas.drawRect(
                    skia.Rect.MakeXYWH(shift_x, shift_y + pos_u, total, thickness),
                    paint,
                )
            if f.strikeout:
                pos_s = metrics.fStrikeoutPosition or -font.getSize() / 3.0
                self.canvas.drawRect(
                    skia.Rect.MakeXYWH(shift_x, shift_y + pos_s, total, thickness),
                    paint,
                )
        finally:
            self.canvas.restore()
        self.drew = True

    # -- result ----------------------------------------------------------------------------

    def coverage(self) -> np.ndarray:
        """Where anything was drawn (any colour, white included): an (h, w) bool array."""
        info = skia.ImageInfo.Make(self.width, self.height, skia.kAlpha_8_ColorType, skia.kPremul_AlphaType)
        alpha = np.empty((self.height, self.width), np.uint8)
        self.surface.readPixels(info, alpha, self.width)
        return alpha >= 64

    def pixels(self) -> np.ndarray:
        """The canvas as an (h, w, 3) uint8 RGB array."""
        info = skia.ImageInfo.Make(self.width, self.height, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)
        array = np.empty((self.height, self.width, 4), np.uint8)
        self.surface.readPixels(info, array, self.width * 4)
        return np.ascontiguousarray(array[..., :3])
