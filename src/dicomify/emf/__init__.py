"""A pure-Python EMF / WMF renderer: records parsed here, drawn with skia (skia-python).

``render(data)`` turns the bytes of an EMF (MS-EMF) or WMF (MS-WMF) file into a Pillow
RGB image over white. See ``docs/emf.md`` for the records covered and the limits.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
from PIL import Image

from ..errors import CorruptImageError, DicomifyError
from ._limits import MAX_RECORDS, check_record_count
from ._size import DEFAULT_DPI, DEFAULT_MAX_PIXELS
from ._sniff import is_emf, is_wmf

_DEBUG = bool(os.environ.get("DICOMIFY_EMF_DEBUG"))

__all__ = ["DEFAULT_DPI", "DEFAULT_MAX_PIXELS", "Rendering", "is_emf", "is_wmf", "render", "render_array"]


def render(data: bytes, *, dpi: float | None = None, max_pixels: int | None = None) -> Image.Image:
    """Render EMF or WMF bytes to an RGB image.

    ``dpi`` defaults to 96 (the picture's recorded physical size at screen resolution);
    ``max_pixels`` caps the canvas (default 100 megapixels; each side is also capped at
    65535, DICOM's limit). Raises :class:`~dicomify.errors.CorruptImageError` for damaged
    files and :class:`~dicomify.errors.ImageTooLargeError` beyond the caps.
    """
    pixels = render_array(data, dpi=dpi, max_pixels=max_pixels)[0]
    return Image.fromarray(pixels, "RGB")


class Rendering(NamedTuple):
    """A rendered metafile: RGB pixels, ``"EMF"`` or ``"WMF"``, and the characters no
    installed font has (drawn as missing-glyph boxes)."""

    pixels: np.ndarray
    source_format: str
    missing_glyphs: frozenset[str] = frozenset()


def render_array(
    data: bytes, *, dpi: float | None = None, max_pixels: int | None = None, max_records: int | None = None
) -> Rendering:
    """Like :func:`render`, returning ``(rgb uint8 array, format name, missing glyphs)``.

    ``max_records`` caps the records drawn (default :data:`._limits.MAX_RECORDS`).
    """
    if dpi is not None and not dpi > 0:
        raise ValueError(f"dpi must be a positive number, not {dpi!r}")
    from ._emf import (
        render_emf,
    )  # skia is loaded here, not when the package is imported
    from ._wmf import render_wmf

    head = bytes(data[:64])
    check_record_count(bytes(data), emf=is_emf(head), limit=MAX_RECORDS if max_records is None else max_records)
    try:
        if is_emf(head):
            played = render_emf(bytes(data), dpi=dpi, max_pixels=max_pixels)
            return Rendering(played.pixels, "EMF", played.missing_glyphs)
        if is_wmf(head):
            played = render_wmf(bytes(data), dpi=dpi, max_pixels=max_pixels)
            return Rendering(played.pixels, "WMF", played.missing_glyphs)
    except DicomifyError:
        raise
    except Exception as exc:
        if _DEBUG and isinstance(exc, (TypeError, AttributeError, NameError)):
            raise  # a programming error, shown while developing (DICOMIFY_EMF_DEBUG=1)
        raise CorruptImageError(f"the metafile is damaged ({type(exc).__name__}: {exc})") from None
    raise CorruptImageError("not an EMF or WMF file")
