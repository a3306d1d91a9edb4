"""Animated PNG, composed frame by frame as a browser shows it.

Pillow's APNG support loses the palette when an animation is read a second time and
reduces 16-bit frames, so the animation is composed here, following the APNG
specification (https://wiki.mozilla.org/APNG_Specification):

* the canvas starts fully transparent black; each fcTL frame covers a region of it;
* ``blend_op`` SOURCE replaces the region, OVER composites the frame over it;
* after the frame is shown, ``dispose_op`` BACKGROUND clears the region to transparent
  black, PREVIOUS restores what was there before (on the first frame it acts as
  BACKGROUND);
* the default image (IDAT) is the first frame only when an fcTL precedes it.

Each frame is decoded as a stand-alone PNG (the frame's IHDR with the file's PLTE and
tRNS) by imagecodecs, which expands palettes, low bit depths and tRNS colour keys to
alpha. The canvas is kept at 16 bits per sample; the frames are shown over the
background at 8 bits, as browsers display them. The frame count in acTL is not
trusted: every frame that decodes is used, as browsers do.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import CorruptImageError

__all__ = ["Animation", "parse_apng"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks a frame's stand-alone PNG needs besides IHDR and its data.
_SHARED = (b"PLTE", b"tRNS", b"sBIT")
_DISPOSE_NONE, _DISPOSE_BACKGROUND, _DISPOSE_PREVIOUS = 0, 1, 2
_BLEND_SOURCE, _BLEND_OVER = 0, 1
_FULL = 65535


@dataclass(frozen=True)
class _Frame:
    x: int
    y: int
    width: int
    height: int
    delay_ms: float
    dispose: int
    blend: int
    data: bytes  # the zlib stream (IDAT or fdAT payloads joined)


@dataclass(frozen=True)
class Animation:
    """The frames of an APNG and what is needed to decode them."""

    width: int
    height: int
    ihdr: bytes
    shared: tuple[tuple[bytes, bytes], ...]
    frames: tuple[_Frame, ...]
    declared_frames: int
    bit_depth: int

    @property
    def durations_ms(self) -> tuple[float, ...]:
        return tuple(frame.delay_ms for frame in self.frames)

    def intact_frames(self) -> int:
        """How many frames, from the first, hold image data of the size the header says.

        Each frame's zlib stream is inflated, bounded to that size, and its row filter
        bytes checked, without unfiltering or composing: the frame count a reader needs
        before the frames are decoded, once, by :meth:`rgba_frames`.
        """
        channels = _CHANNELS.get(self.ihdr[9], 0)
        interlaced = self.ihdr[12] == 1
        for index, frame in enumerate(self.frames):
            passes = _passes(frame.width, frame.height, channels * self.bit_depth, interlaced)
            expected = sum(rows * (1 + row_bytes) for rows, row_bytes in passes)
            try:
                raw = zlib.decompressobj().decompress(frame.data, expected)
            except zlib.error:
                return index
            if len(raw) < expected or not _filters_valid(raw, passes):
                return index
        return len(self.frames)

    def rgba_frames(self) -> Iterator[np.ndarray]:
        """The composed canvas after each frame: H×W×4 uint16, straight alpha.

        The same array every time (no copy of a whole canvas per frame): use it before
        asking for the next frame.
        """
        canvas = np.zeros((self.height, self.width, 4), np.uint16)
        for index, frame in enumerate(self.frames):
            decoded = self._decode(frame)
            region = (slice(frame.y, frame.y + frame.height), slice(frame.x, frame.x + frame.width))
            saved = canvas[region].copy() if frame.dispose == _DISPOSE_PREVIOUS and index > 0 else None
            if frame.blend == _BLEND_SOURCE:
                _fill_rgba16(canvas[region], decoded)
            else:
                canvas[region] = _over(_to_rgba16(decoded), canvas[region])
            del decoded
            yield canvas
            if saved is not None:
                canvas[region] = saved
            elif frame.dispose != _DISPOSE_NONE:
                canvas[region] = 0

    def _decode(self, frame: _Frame) -> np.ndarray:
        import imagecodecs

        ihdr = struct.pack(">II", frame.width, frame.height) + self.ihdr[8:]
        png = _SIGNATURE + _chunk(b"IHDR", ihdr)
        for kind, body in self.shared:
            png += _chunk(kind, body)
        png += _chunk(b"IDAT", frame.data) + _chunk(b"IEND", b"")
        try:
            return imagecodecs.png_decode(png)  # gray, gray+alpha, RGB or RGBA; 8 or 16-bit
        except Exception as error:  # imagecodecs raises PngError/ValueError for damaged data
            raise CorruptImageError(f"an APNG frame cannot be decoded ({error})") from error


# Samples per pixel by PNG colour type (gray, RGB, palette, gray+alpha, RGBA).
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: first column, first row, column step, row step.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _passes(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> list[tuple[int, int]]:
    """The (rows, bytes per row) of each non-empty pass of a frame's filtered data."""
    if not interlaced:
        return [(height, (width * bits_per_pixel + 7) // 8)]
    passes = []
    for x0, y0, dx, dy in _ADAM7:
        columns, rows = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if columns > 0 and rows > 0:
            passes.append((rows, (columns * bits_per_pixel + 7) // 8))
    return passes


def _filters_valid(raw: bytes, passes: list[tuple[int, int]]) -> bool:
    """Whether every row starts with one of the five PNG filter types."""
    data = np.frombuffer(raw, np.uint8)
    at = 0
    for rows, row_bytes in passes:
        if (data[at : at + rows * (1 + row_bytes) : 1 + row_bytes] > 4).any():
            return False
        at += rows * (1 + row_bytes)
    return True


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _to_rgba16(array: np.ndarray) -> np.ndarray:
    """A decoded PNG (gray, gray+alpha, RGB, RGBA; 8 or 16-bit) as RGBA uint16."""
    out = np.empty(array.shape[:2] + (4,), np.uint16)
    _fill_rgba16(out, array)
    return out


def _fill_rgba16(out: np.ndarray, array: np.ndarray) -> None:
    """Write a decoded PNG into ``out`` (H×W×4 uint16, a region of the canvas), in place:
    no wider temporaries of the whole frame."""
    values = array if array.ndim == 3 else array[..., None]
    channels = values.shape[2]
    eight = array.dtype == np.uint8
    out[..., :3] = values[..., :1] if channels in (1, 2) else values[..., :3]  # gray broadcasts
    out[..., 3] = values[..., -1] if channels in (2, 4) else (255 if eight else _FULL)
    if eight:
        out *= 257  # 255 * 257 = 65535: exact


# OVER is computed in float64 a block of rows at a time: on a whole 89-megapixel canvas its
# temporaries alone took ~30 times the output frame.
_OVER_PIXELS = 1 << 18


def _over(source: np.ndarray, destination: np.ndarray) -> np.ndarray:
    """Porter-Duff OVER with straight (unassociated) alpha, both RGBA uint16."""
    out = np.empty_like(destination)
    rows = max(1, _OVER_PIXELS // max(1, source.shape[1]))
    for top in range(0, source.shape[0], rows):
        out[top : top + rows] = _over_block(source[top : top + rows], destination[top : top + rows])
    return out


def _over_block(source: np.ndarray, destination: np.ndarray) -> np.ndarray:
    sa = source[..., 3:].astype(np.float64) / _FULL
    da = destination[..., 3:].astype(np.float64) / _FULL
    out_alpha = sa + da * (1 - sa)
    color = source[..., :3] * sa + destination[..., :3] * da * (1 - sa)
    with np.errstate(invalid="ignore", divide="ignore"):
        color = np.where(out_alpha > 0, color / out_alpha, 0.0)
    result = np.concatenate([color, out_alpha * _FULL], axis=2)
    return np.rint(result).astype(np.uint16)


def parse_apng(data: bytes) -> Animation | None:
    """The animation in a PNG, or None when it has no acTL chunk (a still picture).

    Frames after a damaged or missing part are dropped; a file whose first frame is
    damaged is a CorruptImageError.
    """
    if not data.startswith(_SIGNATURE):
        return None
    at = len(_SIGNATURE)
    ihdr = b""
    shared: list[tuple[bytes, bytes]] = []
    declared = None
    frames: list[_Frame] = []
    control: tuple[int, int, int, int, float, int, int] | None = None
    pieces: list[bytes] = []
    seen_idat = False

    def finish() -> None:
        nonlocal control, pieces
        if control is not None and pieces:
            frames.append(_Frame(*control, data=b"".join(pieces)))
        control, pieces = None, []

    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        if len(body) < length:
            break  # truncated: keep the frames that are complete
        at += 12 + length
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"acTL" and len(body) >= 8:
            declared = int.from_bytes(body[:4], "big")
        elif kind in _SHARED and not seen_idat:
            shared.append((kind, body))
        elif kind == b"fcTL" and len(body) >= 26:
            finish()
            _, width, height, x, y, num, den, dispose, blend = struct.unpack(">IIIIIHHBB", body[:26])
            control = (x, y, width, height, 1000.0 * num / (den or 100), dispose, blend)
        elif kind == b"IDAT":
            seen_idat = True
            if control is not None:  # the default image is the first frame
                pieces.append(body)
        elif kind == b"fdAT":
            if control is not None:
                pieces.append(body[4:])  # after the sequence number
        elif kind == b"IEND":
            break
    finish()
    if declared is None:
        return None
    if len(ihdr) < 13:
        raise CorruptImageError("the PNG has no valid IHDR chunk")
    width, height = struct.unpack(">II", ihdr[:8])
    valid = tuple(
        f for f in frames if f.width > 0 and f.height > 0 and f.x + f.width <= width and f.y + f.height <= height
    )
    if len(valid) != len(frames):
        # A frame outside the canvas ends the animation for browsers too.
        valid = tuple(frames[: next(i for i, f in enumerate(frames) if f not in valid)])
    return Animation(
        width=width,
        height=height,
        ihdr=ihdr,
        shared=tuple(shared),
        frames=valid,
        declared_frames=declared,
        bit_depth=ihdr[8],
    )
