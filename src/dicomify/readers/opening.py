"""Opening pictures with Pillow safely: size guards, EXIF facts, clear errors."""

from __future__ import annotations

import datetime as dt
import importlib
import struct
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import CorruptImageError, ImageTooLargeError, UnsupportedFormatError
from ..options import ConvertOptions

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXEL_DATA_BYTES",
    "MAX_DICOM_SIDE",
    "bomb_error",
    "check_object",
    "check_size",
    "datetime_of_exif",
    "exif_datetime",
    "exif_orientation",
    "load",
    "max_frames",
    "open_image",
    "pixel_limit",
    "seek",
    "upright",
]

# Rows and Columns are US (16-bit unsigned) in DICOM: PS3.3 C.7.6.3.
MAX_DICOM_SIDE = 65535

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132
_ORIENTATION = 0x0112


# Pillow's own default decompression-bomb limit, as a constant of ours: the limit a
# conversion uses never depends on (nor changes) the process-wide Image.MAX_IMAGE_PIXELS.
DEFAULT_MAX_PIXELS = 89_478_485
# Frames per object (animation frames, TIFF pages) and decoded bytes per object, unless
# raised: a few hundred bytes of GIF or WebP can otherwise ask for gigabytes.
DEFAULT_MAX_FRAMES = 10_000
DEFAULT_MAX_BYTES = 1 << 30
# Native Pixel Data has a 32-bit length, even (PS3.5 7.1.1): no option can go beyond it.
MAX_PIXEL_DATA_BYTES = 0xFFFFFFFE

# The Pillow plugin that reads each format named in ``open_image(formats=...)``.
_PLUGINS = {
    "PNG": "PngImagePlugin",
    "BMP": "BmpImagePlugin",
    "DIB": "BmpImagePlugin",
    "GIF": "GifImagePlugin",
    "WEBP": "WebPImagePlugin",
    "JPEG": "JpegImagePlugin",
    "AVIF": "AvifImagePlugin",
}


def pixel_limit(options: ConvertOptions) -> int:
    """The decompression-bomb limit in pixels per frame (``max_pixels`` or the default)."""
    return options.max_pixels if options.max_pixels is not None else DEFAULT_MAX_PIXELS


def max_frames(options: ConvertOptions) -> int:
    """Frames allowed in one object (``max_frames`` or the default)."""
    return options.max_frames if options.max_frames is not None else DEFAULT_MAX_FRAMES


def check_object(frames: int, frame_bytes: int, options: ConvertOptions) -> None:
    """Refuse, before decoding, an object with too many frames or too many decoded bytes."""
    frame_limit = max_frames(options)
    if frames > frame_limit:
        raise ImageTooLargeError(
            f"the picture has {frames} frames, more than the limit of {frame_limit} "
            "(raise it with --max-frames if the picture is trusted)"
        )
    total = frames * frame_bytes
    if total > MAX_PIXEL_DATA_BYTES:
        raise ImageTooLargeError(
            f"{frames} frame(s) of {frame_bytes} bytes make {total} bytes of pixel data, beyond the "
            f"{MAX_PIXEL_DATA_BYTES} bytes (4 GiB) a DICOM object can hold (convert one page with --page N)"
        )
    byte_limit = options.max_bytes if options.max_bytes is not None else DEFAULT_MAX_BYTES
    if total > byte_limit:
        raise ImageTooLargeError(
            f"{frames} frame(s) of {frame_bytes} bytes decode to {total} bytes, more than the limit of "
            f"{byte_limit} (raise it with --max-bytes if the picture is trusted)"
        )


def check_size(width: int, height: int, options: ConvertOptions, frames: int = 1) -> None:
    """Refuse pictures DICOM cannot hold or that exceed the decompression-bomb limit."""
    if width <= 0 or height <= 0:
        raise CorruptImageError(f"the picture has no pixels ({width}x{height})")
    if width > MAX_DICOM_SIDE or height > MAX_DICOM_SIDE:
        raise ImageTooLargeError(
            f"{width}x{height} pixels is beyond DICOM's limit of {MAX_DICOM_SIDE} rows and columns"
        )
    limit = pixel_limit(options)
    if width * height > limit:
        raise ImageTooLargeError(
            f"{width}x{height} = {width * height} pixels exceeds the decompression-bomb limit of "
            f"{limit} pixels (raise it with --max-pixels if the picture is trusted)"
        )


def bomb_error(error: Exception) -> ImageTooLargeError:
    """Pillow's own DecompressionBombError (its process-wide limit, which we never change)."""
    return ImageTooLargeError(
        f"Pillow refuses the picture as a decompression bomb ({error}); its process-wide limit "
        "is Image.MAX_IMAGE_PIXELS"
    )


def _open_unchecked(stream: BinaryIO, formats: list[str]) -> Image.ImageFile.ImageFile:
    """What ``Image.open`` does for these formats, without its size check.

    ``Image.open`` warns or raises against the process-wide ``Image.MAX_IMAGE_PIXELS``
    right after reading the header; the only way round it was to switch that global off,
    which also switched it off for every other thread. The plugin's own factory reads the
    same header, and :func:`check_size` then applies the conversion's own limit.
    """
    stream.seek(0)
    prefix = stream.read(16)
    for name in formats:
        plugin = _PLUGINS.get(name.upper())
        if plugin is None:
            continue
        try:
            importlib.import_module(f"PIL.{plugin}")  # registers the format (thread-safe import)
        except ImportError:  # e.g. Pillow built without WebP
            continue
        factory, accept = Image.OPEN[name.upper()]
        if accept is not None and not accept(prefix):
            continue
        stream.seek(0)
        try:
            return factory(stream, "")  # type: ignore[no-any-return]
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # not this format after all, as Image.open would go on to the next
    raise UnidentifiedImageError("cannot identify the picture")


def open_image(stream: BinaryIO, options: ConvertOptions, formats: list[str] | None = None) -> Image.Image:
    """Open a picture with Pillow under our own size guard (no process-wide state touched)."""
    try:
        image = _open_unchecked(stream, formats or list(_PLUGINS))
    except UnidentifiedImageError as error:
        raise UnsupportedFormatError("the picture cannot be identified by Pillow") from error
    except Image.DecompressionBombError as error:  # WebP checks its canvas while opening
        raise bomb_error(error) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise CorruptImageError(f"the picture is damaged ({error})") from error
    check_size(image.width, image.height, options)
    check_object(1, image.width * image.height * _output_bytes_per_pixel(image.mode), options)
    return image


def _output_bytes_per_pixel(mode: str) -> int:
    """Bytes per pixel of the DICOM frame a Pillow mode becomes (palettes counted as RGB)."""
    if mode in ("1", "L", "LA", "La"):
        return 1
    if mode.startswith("I"):
        return 2
    return 3


def load(image: Image.Image) -> Image.Image:
    """Decode the pixels, turning Pillow's many failure types into CorruptImageError."""
    try:
        image.load()
    except Image.DecompressionBombError as error:  # e.g. GIF frames growing past the canvas
        raise bomb_error(error) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
        raise CorruptImageError(f"the picture is damaged or truncated ({error})") from error
    return image


def seek(image: Image.Image, frame: int) -> None:
    """``image.seek(frame)``, Pillow's failures while moving between frames made ours."""
    try:
        image.seek(frame)
    except Image.DecompressionBombError as error:  # a GIF frame growing the canvas
        raise bomb_error(error) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:  # e.g. APNG sequence errors
        raise CorruptImageError(f"frame {frame} of the picture is damaged ({error})") from error


def exif_orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except Exception:  # a broken EXIF block must not stop the conversion
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright(image: Image.Image, options: ConvertOptions) -> Image.Image:
    """The picture as a photo viewer shows it (EXIF Orientation applied)."""
    if options.keep_orientation or exif_orientation(image) == 1:
        return image
    return ImageOps.exif_transpose(image)


def exif_datetime(image: Image.Image) -> dt.datetime | None:
    """DateTimeOriginal (or DateTime) from EXIF, if present and well-formed."""
    try:
        exif = image.getexif()
    except Exception:  # a broken EXIF block must not stop the conversion
        return None
    return datetime_of_exif(exif)


def datetime_of_exif(exif: Image.Exif) -> dt.datetime | None:
    """DateTimeOriginal (or DateTime) of parsed EXIF, if present and well-formed."""
    try:
        value = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except Exception:  # a broken EXIF block must not stop the conversion
        return None
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
