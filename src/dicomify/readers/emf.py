"""EMF and WMF metafiles, rendered to RGB by :mod:`dicomify.emf` (any OS, no Windows GDI)."""

from __future__ import annotations

from typing import BinaryIO

from ..emf import is_emf, is_wmf, render_array
from . import Reader, register
from .base import FrameLayout, Picture, ReadOptions, frames_of


def sniff(head: bytes) -> bool:
    """EMF: EMR_HEADER at offset 0 with " EMF" at 40; WMF: placeable key or a META header."""
    return is_emf(head) or is_wmf(head)


def read(stream: BinaryIO, options: ReadOptions) -> Picture:
    pixels, source_format = render_array(
        stream.read(), dpi=options.dpi, max_pixels=options.max_pixels
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
    picture.notes.append(
        f"{source_format} vector picture rendered at {rows}x{columns} pixels"
    )
    return picture


register(Reader(name="EMF/WMF", sniff=sniff, read=read))
