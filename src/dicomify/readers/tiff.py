"""TIFF (and BigTIFF), decoded page by page with tifffile.

* Pages are decoded one at a time, so a 1000-page file never sits in memory whole.
* All full-resolution pages with the same size and kind become ONE multi-frame picture;
  reduced-resolution pages (thumbnails, NewSubfileType bit 0) are skipped.
  Pages that differ are refused with a message naming the first mismatch (convert one
  page with ``page``).
* 1-bit and 2/4-bit become 8-bit gray (0..255, white-is-zero inverted as shown);
  palette expands to RGB (gray when the palette is gray); CMYK becomes RGB exactly as
  Pillow converts it; alpha (extra samples) is composited over the background.
* 8/16-bit integer samples are kept; 32-bit integer and floating point samples are
  mapped linearly into 16 bits with a Rescale Slope/Intercept that restores the
  values (exactly for integer data spanning at most 65536 values, otherwise to
  within half a step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Picture
from . import Reader, register
from .opening import check_size
from .pixels import frame_from_array, layout_of, orient

_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

# TIFF Photometric values (TIFF 6.0 section 3 and 16).
_MINISWHITE, _MINISBLACK, _RGB, _PALETTE, _SEPARATED, _YCBCR = 0, 1, 2, 3, 5, 6
_ORIENTATION_TAG = 274


def sniff(head: bytes) -> bool:
    return head[:4] in _MAGICS


@dataclass(frozen=True)
class _PageKind:
    rows: int
    columns: int
    photometric: int
    samples: int
    bits: int
    dtype: str

    def describe(self) -> str:
        return f"{self.columns}x{self.rows}, {self.samples} sample(s) of {self.dtype}, photometric {self.photometric}"


def _kind(page: Any) -> _PageKind:
    return _PageKind(
        rows=int(page.imagelength),
        columns=int(page.imagewidth),
        photometric=int(page.photometric),
        samples=int(page.samplesperpixel),
        bits=int(page.bitspersample),
        dtype=str(page.dtype),
    )


def _page_to_frame(page: Any, options: ConvertOptions) -> np.ndarray:
    try:
        array = page.asarray()
    except Exception as error:  # tifffile/imagecodecs raise many types for damaged data
        raise CorruptImageError(f"a TIFF page cannot be decoded ({error})") from error
    photometric = int(page.photometric)
    if array.ndim == 3 and int(page.planarconfig) == 2 and array.shape[0] == page.samplesperpixel:
        array = np.moveaxis(array, 0, -1)
    if photometric == _PALETTE:
        colormap = np.asarray(page.colormap)
        # Pillow's reading of TIFF palettes: the high byte of each 16-bit entry.
        rgb = (colormap >> 8).astype(np.uint8).T if colormap.max() > 255 else colormap.astype(np.uint8).T
        index = array.astype(np.intp)
        if np.all(rgb[:, 0] == rgb[:, 1]) and np.all(rgb[:, 1] == rgb[:, 2]):
            return np.ascontiguousarray(rgb[index, 0])
        return np.ascontiguousarray(rgb[index])
    if photometric == _SEPARATED:
        if array.ndim != 3 or array.shape[2] < 4 or array.dtype != np.uint8:
            raise UnsupportedFormatError("only 8-bit CMYK TIFF is supported")
        cmyk = Image.fromarray(np.ascontiguousarray(array[..., :4]), "CMYK")
        return np.asarray(cmyk.convert("RGB"))
    if array.dtype == bool:
        array = np.where(array, np.uint8(255), np.uint8(0))
    elif array.dtype == np.uint8 and int(page.bitspersample) in (2, 4):
        array = (array * (255 // (2 ** int(page.bitspersample) - 1))).astype(np.uint8)
    if photometric == _MINISWHITE:
        array = np.iinfo(array.dtype).max - array
    if array.ndim == 3 and array.shape[2] > 4:
        array = array[..., :4]
    return frame_from_array(array, options.background)


def _tag_value(page: Any, name: str) -> Any:
    tag = page.tags.get(name)
    return tag.value if tag is not None else None


def _datetime(page: Any) -> dt.datetime | None:
    value = _tag_value(page, "DateTime")
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def read(stream: BinaryIO, options: ConvertOptions) -> Picture:
    import tifffile

    try:
        tiff = tifffile.TiffFile(stream)
        pages = [page for page in tiff.pages if not (int(getattr(page, "subfiletype", 0)) & 1)]
    except Exception as error:  # tifffile raises TiffFileError, ValueError, struct.error ...
        raise CorruptImageError(f"the TIFF structure is damaged ({error})") from error
    if not pages:
        raise CorruptImageError("the TIFF has no full-resolution page")
    if options.page is not None:
        if not 0 <= options.page < len(pages):
            raise CorruptImageError(f"there is no page {options.page} (the TIFF has {len(pages)})")
        pages = [pages[options.page]]
    try:
        kinds = [_kind(page) for page in pages]
    except (TypeError, ValueError, AttributeError) as error:  # e.g. per-sample bit depths that differ
        raise UnsupportedFormatError(f"the TIFF page layout is not supported ({error})") from error
    first = kinds[0]
    for number, kind in enumerate(kinds[1:], start=2):
        if kind != first:
            raise UnsupportedFormatError(
                f"TIFF pages differ (page 1: {first.describe()}; page {number}: {kind.describe()}), "
                "so they cannot share one multi-frame DICOM; convert one page at a time with --page N"
            )
    check_size(first.columns, first.rows, options)
    orientation = 1 if options.keep_orientation else int(_tag_value(pages[0], "Orientation") or 1)
    first_page = pages[0]
    needs_rescale = np.dtype(first.dtype).kind == "f" or np.dtype(first.dtype).itemsize > 2
    if needs_rescale:
        return _read_rescaled(tiff, pages, orientation, options)

    def frames() -> Iterator[np.ndarray]:
        for page in pages:
            yield orient(_page_to_frame(page, options), orientation)

    frame = next(frames())
    icc = _tag_value(first_page, "InterColorProfile")
    return Picture(
        source_format="TIFF",
        layout=layout_of(frame),
        number_of_frames=len(pages),
        frames=frames,
        icc_profile=bytes(icc) if icc is not None and frame.ndim == 3 else None,
        content_datetime=_datetime(first_page),
    )


def _read_rescaled(tiff: Any, pages: list[Any], orientation: int, options: ConvertOptions) -> Picture:
    """32-bit integer or float samples mapped into 16 bits with a Modality LUT."""
    if int(pages[0].samplesperpixel) != 1:
        raise UnsupportedFormatError("32-bit and floating point colour TIFF is not supported")
    low, high = np.inf, -np.inf
    for page in pages:  # one page in memory at a time
        values = page.asarray()
        if np.dtype(values.dtype).kind == "f" and not np.all(np.isfinite(values)):
            raise UnsupportedFormatError("the TIFF holds NaN or infinite samples, which DICOM cannot restore")
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    integer = np.dtype(pages[0].dtype).kind in "iu"
    span = high - low
    slope = 1.0 if (integer and span <= 65535) or span == 0 else span / 65535
    intercept = low

    def frames() -> Iterator[np.ndarray]:
        for page in pages:
            values = page.asarray().astype(np.float64)
            stored = np.rint((values - intercept) / slope)
            yield orient(np.clip(stored, 0, 65535).astype(np.uint16), orientation)

    frame = next(frames())
    return Picture(
        source_format="TIFF",
        layout=layout_of(frame),
        number_of_frames=len(pages),
        frames=frames,
        content_datetime=_datetime(pages[0]),
        rescale=(slope, intercept),
        notes=[f"{pages[0].dtype} samples mapped to 16 bits (slope {slope:g}, intercept {intercept:g})"],
    )


register(Reader(name="TIFF", sniff=sniff, read=read))
