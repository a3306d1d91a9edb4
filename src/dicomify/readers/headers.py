"""Frame counts, canvas sizes and frame times read from container headers, before decoding.

The limits (``max_pixels``, ``max_frames``, ``max_bytes``) must be applied before any
pixel is decoded, and a hostile header must not cost more than reading it: every scan
here walks the structure once, touches no pixel data and ends on any loop or overrun.

* TIFF: the chain of IFDs (TIFF 6.0 section 2; BigTIFF), ending on a loop;
* GIF: image descriptors and graphic control extensions (GIF89a sections 20, 23);
* WebP: ``VP8X`` canvas and ``ANMF`` frames (WebP container specification).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import CorruptImageError, ImageTooLargeError

__all__ = ["Animation", "scan_animation", "tiff_page_count"]


def tiff_page_count(stream: BinaryIO, limit: int) -> int:
    """How many IFDs (pages, thumbnails included) the TIFF's chain holds.

    Raises CorruptImageError when the chain loops back (tifffile would iterate such a
    chain forever) and ImageTooLargeError past ``limit`` IFDs.
    """
    stream.seek(0)
    head = stream.read(16)
    if len(head) < 8:
        raise CorruptImageError("the TIFF header is truncated")
    order = "<" if head[:2] == b"II" else ">"
    big = struct.unpack_from(order + "H", head, 2)[0] == 43
    if big:
        if len(head) < 16:
            raise CorruptImageError("the BigTIFF header is truncated")
        offset = struct.unpack_from(order + "Q", head, 8)[0]
        count_format, entry_size, offset_format = order + "Q", 20, order + "Q"
    else:
        offset = struct.unpack_from(order + "I", head, 4)[0]
        count_format, entry_size, offset_format = order + "H", 12, order + "I"
    count_size = struct.calcsize(count_format)
    offset_size = struct.calcsize(offset_format)
    seen: set[int] = set()
    while offset:
        if offset in seen:
            raise CorruptImageError(
                f"the TIFF page chain loops back to the page at byte {offset} after {len(seen)} pages"
            )
        if len(seen) >= limit:
            raise ImageTooLargeError(
                f"the TIFF has more than {limit} pages (IFDs); raise --max-frames if it is trusted"
            )
        seen.add(offset)
        stream.seek(offset)
        raw = stream.read(count_size)
        if len(raw) < count_size:
            break  # a chain pointing past the end: tifffile stops there too
        entries = struct.unpack(count_format, raw)[0]
        stream.seek(offset + count_size + entries * entry_size)
        raw = stream.read(offset_size)
        if len(raw) < offset_size:
            break
        offset = struct.unpack(offset_format, raw)[0]
    stream.seek(0)
    return len(seen)


@dataclass(frozen=True)
class Animation:
    """What the headers of an animated picture promise, read without decoding."""

    frames: int
    # The largest canvas any frame needs (GIF frames may grow past the logical screen).
    width: int
    height: int
    # Milliseconds each frame shows, as Pillow reports them (0 where none is given).
    durations: tuple[float, ...]
    # (width, height) of the canvas as each frame is shown: a GIF's grows with the frames
    # that pass its edge, as Pillow grows it.
    sizes: tuple[tuple[int, int], ...] = ()


def scan_animation(data: bytes, source_format: str, limit: int) -> Animation:
    """The frame count, canvas and frame times of a GIF or WebP.

    Raises ImageTooLargeError past ``limit`` frames (the scan stops there).
    """
    scan = _scan_gif if source_format == "GIF" else _scan_webp
    try:
        return scan(data, limit)
    except (IndexError, struct.error) as error:
        raise CorruptImageError(f"the {source_format} structure is truncated ({error})") from None


def _too_many(limit: int) -> ImageTooLargeError:
    return ImageTooLargeError(f"the picture has more than {limit} frames; raise --max-frames if it is trusted")


def _scan_gif(data: bytes, limit: int) -> Animation:
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    durations: list[float] = []
    pending: float | None = None  # delay of a graphic control extension before the frame
    max_w, max_h = width, height
    sizes: list[tuple[int, int]] = []
    end = len(data)
    while at < end:
        kind = data[at]
        if kind == 0x3B:  # trailer
            break
        if kind == 0x21:  # extension: label, then data sub-blocks
            label = data[at + 1]
            at += 2
            first = True
            while at < end and data[at]:
                size = data[at]
                if first and label == 0xF9 and size >= 3:
                    pending = struct.unpack_from("<H", data, at + 2)[0] * 10
                first = False
                at += 1 + size
            at += 1
        elif kind == 0x2C:  # image descriptor
            x, y, w, h, frame_flags = struct.unpack_from("<HHHHB", data, at + 1)
            max_w, max_h = max(max_w, x + w), max(max_h, y + h)
            sizes.append((max_w, max_h))
            at += 10 + (3 << ((frame_flags & 7) + 1) if frame_flags & 0x80 else 0)
            at += 1  # LZW minimum code size
            while at < end and data[at]:
                at += 1 + data[at]
            at += 1
            durations.append(float(pending or 0))
            pending = None
            if len(durations) > limit:
                raise _too_many(limit)
        else:
            at += 1  # Pillow skips stray bytes between blocks; so do we
    return Animation(frames=len(durations), width=max_w, height=max_h, durations=tuple(durations), sizes=tuple(sizes))


def _scan_webp(data: bytes, limit: int) -> Animation:
    at = 12
    width = height = 0
    durations: list[float] = []
    while at + 8 <= len(data):
        kind, size = struct.unpack_from("<4sI", data, at)
        payload = at + 8
        if kind == b"VP8X":
            width = 1 + int.from_bytes(data[payload + 4 : payload + 7], "little")
            height = 1 + int.from_bytes(data[payload + 7 : payload + 10], "little")
        elif kind == b"VP8L" and not width and data[payload] == 0x2F:  # a still lossless picture
            bits = int.from_bytes(data[payload + 1 : payload + 5], "little")
            width, height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        elif kind == b"VP8 " and not width:  # a still lossy picture: the key frame's size
            width = int.from_bytes(data[payload + 6 : payload + 8], "little") & 0x3FFF
            height = int.from_bytes(data[payload + 8 : payload + 10], "little") & 0x3FFF
        elif kind == b"ANMF":
            durations.append(float(int.from_bytes(data[payload + 12 : payload + 15], "little")))
            if len(durations) > limit:
                raise _too_many(limit)
        at = payload + size + (size & 1)
    return Animation(
        frames=len(durations),
        width=width,
        height=height,
        durations=tuple(durations),
        sizes=((width, height),) * len(durations),
    )
