"""The date a picture was taken, read from its header before the batch starts.

A study gets one Study Date/Time, the earliest picture date among its files
(see :mod:`dicomify.batch.grouping`), so the planning process reads each file's EXIF
date first: only the header, never the pixels, and only for the formats Pillow
reads lazily (JPEG, PNG, WebP, AVIF). Other formats count as undated here.
"""

from __future__ import annotations

import datetime as dt
import os

__all__ = ["picture_date"]

_FORMATS = ["JPEG", "PNG", "WEBP", "AVIF"]


def picture_date(path: str | os.PathLike[str]) -> dt.datetime | None:
    """EXIF DateTimeOriginal (or DateTime) of the picture at ``path``; None when unknown.

    Never raises: a file that cannot be read here is converted (or reported) later by
    the worker that owns it.
    """
    from .._warnings import library_notes
    from ..options import ConvertOptions
    from ..readers.opening import exif_datetime, open_image

    # Warnings about the header (damaged EXIF) are the worker's to report, with the file.
    with library_notes():
        try:
            with open(path, "rb") as stream:
                image = open_image(stream, ConvertOptions(), formats=_FORMATS)
                with image:
                    return exif_datetime(image)
        except Exception:  # any failure only means "no date"; the conversion reports the file
            return None
