"""Opening pictures with Pillow safely: size guards, EXIF facts, clear errors."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import CorruptImageError, ImageTooLargeError, UnsupportedFormatError
from ..options import ConvertOptions

__all__ = [
    "MAX_DICOM_SIDE",
    "check_size",
    "exif_datetime",
    "exif_orientation",
    "open_image",
    "upright",
]

# Rows and Columns are US (16-bit unsigned) in DICOM: PS3.3 C.7.6.3.
MAX_DICOM_SIDE = 65535

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132
_ORIENTATION = 0x0112


def pixel_limit(options: ConvertOptions) -> int | None:
    """The decompression-bomb limit in pixels (Pillow's default unless raised)."""
    return options.max_pixels if options.max_pixels is not None else Image.MAX_IMAGE_PIXELS


def check_size(width: int, height: int, options: ConvertOptions, frames: int = 1) -> None:
    """Refuse pictures DICOM cannot hold or that exceed the decompression-bomb limit."""
    if width <= 0 or height <= 0:
        raise CorruptImageError(f"the picture has no pixels ({width}x{height})")
    if width > MAX_DICOM_SIDE or height > MAX_DICOM_SIDE:
        raise ImageTooLargeError(
            f"{width}x{height} pixels is beyond DICOM's limit of {MAX_DICOM_SIDE} rows and columns"
        )
    limit = pixel_limit(options)
    if limit is not None and width * height > limit:
        raise ImageTooLargeError(
            f"{width}x{height} = {width * height} pixels exceeds the decompression-bomb limit of "
            f"{limit} pixels (raise it with --max-pixels if the picture is trusted)"
        )


def open_image(stream: BinaryIO, options: ConvertOptions, formats: list[str] | None = None) -> Image.Image:
    """``Image.open`` with our own size guard in place of Pillow's warning/bomb error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, with our message
            try:
                image = Image.open(stream, formats=formats)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except UnidentifiedImageError as error:
        raise UnsupportedFormatError("the picture cannot be identified by Pillow") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise CorruptImageError(f"the picture is damaged ({error})") from error
    check_size(image.width, image.height, options)
    return image


def load(image: Image.Image) -> Image.Image:
    """Decode the pixels, turning Pillow's many failure types into CorruptImageError."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
        raise CorruptImageError(f"the picture is damaged or truncated ({error})") from error
    return image


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
        value = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except Exception:  # a broken EXIF block must not stop the conversion
        return None
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
