"""EMF and WMF metafiles, rendered to RGB by :mod:`dicomify.emf` (any OS, no Windows GDI).

The renderer needs skia-python, whose Linux wheel loads the system's libGL and libEGL;
it is imported only when a metafile is read, so the other formats work without it.
"""

from __future__ import annotations

import importlib
from typing import BinaryIO

from .._warnings import WARNING_PREFIX
from ..emf._sniff import is_emf, is_wmf
from ..errors import UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import FrameLayout, Picture, frames_of
from . import Reader, register


def sniff(head: bytes) -> bool:
    return is_emf(head) or is_wmf(head)


def read(stream: BinaryIO, options: ConvertOptions) -> Picture:
    try:  # the renderer, which loads skia
        importlib.import_module("dicomify.emf._emf")
    except ImportError as exc:  # skia-python missing, or its system libraries (libGL, libEGL)
        raise UnsupportedFormatError(
            f"EMF/WMF rendering needs skia-python, which cannot be loaded ({exc}); "
            "install it with 'pip install skia-python' (on Debian/Ubuntu it also needs "
            "'apt-get install libgl1 libegl1')"
        ) from None
    from ..emf import render_array

    pixels, source_format, missing = render_array(
        stream.read(), dpi=options.dpi, max_pixels=options.max_pixels, max_records=options.max_records
    )
    rows, columns = pixels.shape[:2]
    picture = Picture(
        source_format=source_format,
        layout=FrameLayout(
            rows=rows,
            columns=columns,
            samples_per_pixel=3,
            bits_allocated=8,
            bits_stored=8,
            photometric="RGB",
        ),
        number_of_frames=1,
        frames=frames_of([pixels]),
    )
    picture.notes.append(f"{source_format} vector picture rendered at {rows}x{columns} pixels")
    if missing:
        # Not silent: the text in the picture is not all there (a CJK caption without a CJK font).
        shown = "".join(sorted(missing)[:8])
        picture.notes.append(
            f"{WARNING_PREFIX}{len(missing)} character(s) of its text are in no installed font and "
            f"are drawn as boxes ({shown}); install a font that has them (e.g. fonts-noto-cjk)"
        )
    return picture


register(Reader(name="EMF/WMF", sniff=sniff, read=read))
