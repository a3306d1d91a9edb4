"""PNG, APNG, BMP, GIF and WebP, decoded by Pillow.

Animated GIF/WebP become one multi-frame picture, each frame as the viewer shows it
(Pillow applies disposal and blending), always RGB so every frame has the same layout;
APNG is composed by :mod:`.apng` the same way. 16-bit colour PNG, and 16-bit gray PNG
with a tRNS colour key, are decoded by imagecodecs because Pillow reduces the one to
8 bits and ignores the key of the other. A gray PNG's sBIT depth is kept when its
samples follow from it (:mod:`.png_depth`).
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np
from PIL import Image

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import FrameLayout, Picture, frames_of
from . import Reader, register
from .apng import parse_apng
from .bmp_bitfields import parse_bitfields
from .headers import Animation, scan_animation
from .opening import (
    check_object,
    check_size,
    exif_datetime,
    exif_orientation,
    load,
    max_frames,
    open_image,
    seek,
    upright,
)
from .pixels import composite_alpha, frame_from_array, frame_from_pil, layout_of, orient
from .png_depth import significant_bits, with_significant_bits

_PNG = b"\x89PNG\r\n\x1a\n"
# Objects made from one animation whose canvas grows (see _read_animation).
_MAX_CANVAS_SIZES = 64
_FORMATS = {"PNG": "PNG", "BMP": "BMP", "DIB": "BMP", "GIF": "GIF", "WEBP": "WebP"}


def sniff(head: bytes) -> bool:
    return (
        head.startswith(_PNG)
        or head.startswith(b"BM")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _is_16bit_colour_png(head: bytes) -> bool:
    # IHDR follows the signature: bit depth at byte 24, colour type at 25 (PNG spec 11.2.2).
    return head.startswith(_PNG) and len(head) > 25 and head[24] == 16 and head[25] in (2, 4, 6)


def _chunk_kinds_before_data(stream: BinaryIO) -> set[bytes]:
    """The PNG chunk types before the first IDAT, read from the chunk headers only."""
    kinds: set[bytes] = set()
    stream.seek(8)
    while True:
        header = stream.read(8)
        if len(header) < 8 or header[4:8] in (b"IDAT", b"IEND"):
            break
        kinds.add(header[4:8])
        stream.seek(int.from_bytes(header[:4], "big") + 4, 1)
    stream.seek(0)
    return kinds


def _png_chunks(data: bytes) -> tuple[set[bytes], bool]:
    """The chunk types before the first IDAT, and whether anything but IDAT/IEND follows
    (or there is no IDAT at all).

    Only the chunk headers are read (a few dozen for a 512x512 slice).
    """
    before: set[bytes] = set()
    seen_data = False
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            seen_data = True
        elif kind == b"IEND":
            break
        elif seen_data:
            return before, True
        else:
            before.add(kind)
        at += 12 + length
    return before, not seen_data


def read(stream: BinaryIO, options: ConvertOptions) -> Picture:
    head = stream.read(64)
    stream.seek(0)
    if head.startswith(_PNG):
        kinds = _chunk_kinds_before_data(stream)
        if b"acTL" in kinds:
            picture = _read_apng(stream, options)
            if picture is not None:
                return picture
        # A 16-bit gray colour key (tRNS) is lost by Pillow's I;16 mode.
        if _is_16bit_colour_png(head) or (len(head) > 25 and head[24] == 16 and b"tRNS" in kinds):
            picture = _read_16bit_png(stream, options)
            return with_significant_bits(picture, significant_bits(stream)) if b"sBIT" in kinds else picture
    if head.startswith(b"BM"):
        picture = _read_bitfield_bmp(stream, options)
        if picture is not None:
            return picture
    scan = None
    if head[:6] in (b"GIF87a", b"GIF89a") or head[8:12] == b"WEBP":
        # Counted and sized from the headers, before Pillow allocates a canvas (WebP does
        # so while opening) or walks every frame (GIF's n_frames).
        data = stream.read()
        stream.seek(0)
        scan = scan_animation(data, "GIF" if head.startswith(b"GIF") else "WebP", limit=max_frames(options))
        if scan.width and scan.height:
            # GIF frames may grow the canvas past the logical screen: the largest counts.
            check_size(scan.width, scan.height, options)
            frames = 1 if options.page is not None else max(1, scan.frames)
            check_object(frames, scan.width * scan.height * 3, options)
    image = open_image(stream, options, formats=list(_FORMATS))
    frame_count = max(1, scan.frames) if scan is not None else getattr(image, "n_frames", 1)
    source_format = (
        "APNG"
        if image.format == "PNG" and frame_count > 1
        else _FORMATS.get(image.format or "", image.format or "picture")
    )
    if options.page is not None:
        if not 0 <= options.page < frame_count:
            raise CorruptImageError(f"there is no frame {options.page} (the picture has {frame_count})")
    if frame_count > 1 and options.page is None:
        return _read_animation(stream, image, source_format, frame_count, scan, options)
    if options.page:
        seek(image, options.page)
    picture = picture_from_image(load(image), source_format, options)
    if head.startswith(_PNG) and frame_count == 1:
        # A gray PNG's real depth (sBIT) is kept when its samples follow from it.
        return with_significant_bits(picture, significant_bits(stream))
    return picture


def picture_from_image(image: Image.Image, source_format: str, options: ConvertOptions) -> Picture:
    """One decoded Pillow frame as a Picture: upright, policy applied, ICC and EXIF date kept."""
    frame = frame_from_pil(upright(image, options), options.background)
    return Picture(
        source_format=source_format,
        layout=layout_of(frame),
        number_of_frames=1,
        frames=frames_of([frame]),
        icc_profile=image.info.get("icc_profile") if frame.ndim == 3 else None,
        content_datetime=exif_datetime(image),
    )


def _read_animation(
    stream: BinaryIO,
    image: Image.Image,
    source_format: str,
    frame_count: int,
    scan: Animation | None,
    options: ConvertOptions,
) -> Picture:
    """GIF/WebP frames as the viewer shows them, each decoded once per pass.

    Frame sizes and times come from the headers (``scan``), so nothing is decoded before
    the encoder asks for the frames, one at a time.
    """
    stream.seek(0)
    data = stream.read()
    formats = [image.format or "GIF"]

    def fresh() -> Image.Image:
        # A fresh image per pass: Pillow loses a palette when it seeks back to frame 0.
        return open_image(io.BytesIO(data), options, formats=formats)

    if scan is not None and scan.frames == frame_count and scan.sizes:
        durations = list(scan.durations)
        sizes = list(scan.sizes)
    else:
        durations, sizes = [0.0] * frame_count, [image.size] * frame_count
    for width, height in dict.fromkeys(sizes):
        check_size(width, height, options)
    # Frames that grow the canvas cannot share one object with the frames before them:
    # each run of one canvas size is one object, all in one series.
    runs: list[tuple[int, int]] = []
    for index, size in enumerate(sizes):
        if runs and sizes[runs[-1][0]] == size:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))

    if len(runs) > _MAX_CANVAS_SIZES:
        # Each object decodes the animation from its start: keep that bounded.
        raise UnsupportedFormatError(
            f"the animation's canvas changes size {len(runs) - 1} times (at most "
            f"{_MAX_CANVAS_SIZES - 1} are converted, one object per size); convert one frame with --page N"
        )

    def frames_of_run(start: int, stop: int) -> Callable[[], Iterator[np.ndarray]]:
        def frames() -> Iterator[np.ndarray]:
            animation = fresh()
            for index in range(stop):
                seek(animation, index)
                frame = load(animation)
                if index >= start and frame.mode == "RGB":  # no transparency: nothing to blend
                    yield np.asarray(frame)
                elif index >= start:
                    rgba = np.asarray(frame if frame.mode == "RGBA" else frame.convert("RGBA"))
                    yield composite_alpha(rgba[..., :3], rgba[..., 3], options.background)

        return frames

    parts = []
    for start, stop in runs:
        width, height = sizes[start]
        layout = FrameLayout(height, width, 3, 8, 8, "RGB")
        check_object(stop - start, layout.frame_bytes, options)
        times = tuple(durations[start:stop])
        parts.append(
            Picture(
                source_format=source_format,
                layout=layout,
                number_of_frames=stop - start,
                frames=frames_of_run(start, stop),
                icc_profile=image.info.get("icc_profile"),
                frame_times_ms=times if any(times) else None,
            )
        )
    if len(parts) > 1:
        parts[0].notes.append(
            f"the animation's canvas grows ({', '.join(f'{w}x{h}' for w, h in dict.fromkeys(sizes))}): "
            f"one DICOM object per canvas size, {len(parts)} in one series"
        )
        parts[0].more = tuple(parts[1:])
    return parts[0]


def _read_bitfield_bmp(stream: BinaryIO, options: ConvertOptions) -> Picture | None:
    """A 16/32-bit bitfield BMP with an alpha mask, or whose layout Pillow does not
    decode; None for the others.

    Pillow drops a 16-bit BMP's alpha mask (A1R5G5B5 comes out opaque) and takes a
    32-bit alpha mask whose values are all zero as fully transparent (a white picture);
    browsers composite the first and show the second opaque, as :mod:`.bmp_bitfields`
    does.
    """
    data = stream.read()
    stream.seek(0)
    bmp = parse_bitfields(data)
    if bmp is None:
        return None
    if not bmp.masks[3]:
        try:
            open_image(io.BytesIO(data), options, formats=["BMP"])
            return None  # a layout Pillow knows: read it the usual way
        except CorruptImageError:
            pass
    check_size(bmp.width, bmp.height, options)
    frame = frame_from_array(bmp.decode(), options.background)
    return Picture(
        source_format="BMP",
        layout=layout_of(frame),
        number_of_frames=1,
        frames=frames_of([frame]),
        notes=[f"BMP bitfields {', '.join(hex(m) for m in bmp.masks)} decoded by dicomify"],
    )


def _read_apng(stream: BinaryIO, options: ConvertOptions) -> Picture | None:
    """An animated PNG, or None when it holds one frame (read as a still picture)."""
    data = stream.read()
    stream.seek(0)
    animation = parse_apng(data)
    if animation is None:
        return None
    check_size(animation.width, animation.height, options)
    for frame in animation.frames:  # APNG 4.2: frames lie inside the canvas
        if frame.x + frame.width > animation.width or frame.y + frame.height > animation.height:
            raise CorruptImageError(
                f"an APNG frame ({frame.width}x{frame.height} at {frame.x},{frame.y}) lies outside "
                f"the {animation.width}x{animation.height} canvas"
            )
    check_object(len(animation.frames), animation.width * animation.height * 3, options)
    # Keep the frames whose data is whole, as browsers do with a damaged or miscounted APNG.
    # Counting inflates each frame's data once; decoding and composing happen once, in frames().
    decodable = animation.intact_frames()
    if decodable == 0:
        raise CorruptImageError("the APNG's first frame is damaged or truncated")
    animation = dataclasses.replace(animation, frames=animation.frames[:decodable])
    notes = []
    if decodable != animation.declared_frames:
        notes.append(f"the APNG declares {animation.declared_frames} frames; {decodable} decode")
    if options.page is not None:
        if not 0 <= options.page < decodable:
            raise CorruptImageError(f"there is no frame {options.page} (the picture has {decodable})")
    elif decodable <= 1:
        return None
    if animation.bit_depth == 16:
        notes.append("16-bit APNG frames stored at 8 bits, as browsers show them")
    background = options.background
    page = options.page

    def frames() -> Iterator[np.ndarray]:
        # Shown over the background and brought to 8 bits a block of rows at a time: whole
        # frames of 32-bit temporaries were most of the peak memory.
        rows = max(1, (1 << 18) // animation.width)
        for index, canvas in enumerate(animation.rgba_frames()):
            if page is None or index == page:
                shown = np.empty((animation.height, animation.width, 3), np.uint8)
                for top in range(0, animation.height, rows):
                    block = canvas[top : top + rows]
                    blended = composite_alpha(block[..., :3], block[..., 3], background).astype(np.uint32)
                    shown[top : top + rows] = (blended + 128) // 257
                yield shown
            if page is not None and index >= page:
                return

    durations = animation.durations_ms
    single = page is not None
    return Picture(
        source_format="APNG",
        layout=FrameLayout(animation.height, animation.width, 3, 8, 8, "RGB"),
        number_of_frames=1 if single else decodable,
        frames=frames,
        icc_profile=open_image(io.BytesIO(data), options, formats=["PNG"]).info.get("icc_profile"),
        frame_times_ms=None if single or not any(durations) else durations,
        notes=notes,
    )


def _read_16bit_png(stream: BinaryIO, options: ConvertOptions) -> Picture:
    import imagecodecs

    data = stream.read()
    # Pillow reads the header (size, ICC, EXIF) without decoding the samples.
    image = open_image(io.BytesIO(data), options, formats=["PNG"])
    try:
        array = imagecodecs.png_decode(data)
    except Exception as error:  # imagecodecs raises its own PngError/ValueError
        raise CorruptImageError(f"the PNG is damaged or truncated ({error})") from error
    frame = frame_from_array(array, options.background)
    if not _png_chunks(data)[1]:
        # Pillow read every chunk but IDAT/IEND at open, so its info is complete; its
        # PNG getexif() would otherwise decode all the pixels again to look for more.
        image.getexif = functools.partial(Image.Image.getexif, image)  # type: ignore[method-assign]
    if not options.keep_orientation:
        frame = orient(frame, exif_orientation(image))
    return Picture(
        source_format="PNG",
        layout=layout_of(frame),
        number_of_frames=1,
        frames=frames_of([frame]),
        icc_profile=image.info.get("icc_profile") if frame.ndim == 3 else None,
        content_datetime=exif_datetime(image),
    )


register(Reader(name="Pillow (PNG/BMP/GIF/WebP)", sniff=sniff, read=read))
