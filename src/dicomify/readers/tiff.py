"""TIFF (and BigTIFF), decoded page by page with tifffile.

* Pages are decoded one at a time, so a 1000-page file never sits in memory whole.
* All full-resolution pages with the same size and kind become ONE multi-frame picture;
  reduced-resolution pages (thumbnails, NewSubfileType bit 0) are skipped.
  Pages that differ are refused with a message naming the first mismatch (convert one
  page with ``page``).
* 1-bit becomes 8-bit gray 0/255; white-is-zero is inverted as shown; palette expands
  to RGB (gray when the palette is gray); CMYK (8/16-bit) becomes RGB as Pillow converts
  it; L*a*b* and YCbCr become RGB (:mod:`.colour`); old-style JPEG and subsampled YCbCr
  are decoded by :mod:`.tiff_special`.
* Gray that does not fill its sample type (2..7 bits in 8, 9..15 in 16, or a smaller
  MaxSampleValue) keeps its values with Bits Stored = its depth and a VOI window
  showing its full range.
* Extra samples: associated alpha composites as C + background·(1 − α), unassociated
  as C·α + background·(1 − α); unspecified extra samples are dropped.
* int8/int16 gray is kept signed (Pixel Representation 1) with a window from its
  lowest to its highest value; 8/16-bit unsigned samples are kept; 32-bit integer and
  floating point samples are
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

from .._warnings import WARNING_PREFIX
from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Picture
from . import Reader, register
from .colour import CIELAB, ICCLAB, ITULAB, cmyk_to_rgb, lab_to_rgb, lab_values, rationals, white_of, ycbcr_to_rgb
from .headers import tiff_page_count
from .opening import check_object, check_size, max_frames
from .pixels import (
    composite_alpha,
    composite_associated,
    frame_from_array,
    full_range_window,
    layout_of,
    orient,
    value_range_window,
)
from .tiff_special import decode_old_jpeg, decode_subsampled_ycbcr, is_old_jpeg, is_subsampled_ycbcr

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
    for tag in ("compression", "planarconfig", "photometric"):  # damaged tags of another type
        value = getattr(page, tag)
        if not isinstance(value, int):
            raise ValueError(f"{tag.capitalize()} {value!r}")
    if page.dtype is None:  # tifffile has no numpy type for this BitsPerSample/SampleFormat
        raise ValueError(f"{page.bitspersample}-bit samples of sample format {int(getattr(page, 'sampleformat', 1))}")
    # Touched here, where a damaged value is a clear refusal, so that decoding can
    # take them as numbers.
    for value in (page.planarconfig, page.rowsperstrip, *page.extrasamples):
        if not isinstance(value, int):
            raise ValueError(f"a damaged layout value {value!r}")
    return _PageKind(
        rows=int(page.imagelength),
        columns=int(page.imagewidth),
        photometric=int(page.photometric),
        samples=int(page.samplesperpixel),
        bits=int(page.bitspersample),
        dtype=str(page.dtype),
    )


def _colour_samples(photometric: int) -> int:
    """How many samples per pixel carry colour for a Photometric value (the rest are extra)."""
    if photometric in (_MINISWHITE, _MINISBLACK, _PALETTE):
        return 1
    if photometric == _SEPARATED:
        return 4
    return 3


def _decode(page: Any) -> np.ndarray:
    """The page's stored samples, H×W×samples (chunky), or a finished RGB/gray frame
    for the kinds tifffile cannot decode (see :mod:`.tiff_special`)."""
    try:
        array = page.asarray()
    except Exception as error:  # tifffile/imagecodecs raise many types for damaged data
        raise CorruptImageError(f"a TIFF page cannot be decoded ({error})") from error
    samples = int(page.samplesperpixel)
    if array.ndim == 3 and int(page.planarconfig) == 2 and array.shape[0] == samples and samples > 1:
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 2:
        array = array[..., None]
    rows, columns = int(page.imagelength), int(page.imagewidth)
    if array.ndim != 3 or array.shape[:2] != (rows, columns):
        # Depth (volumes), or a damaged page tifffile decodes to something else.
        raise CorruptImageError(f"a TIFF page of {columns}x{rows} decodes to samples of shape {array.shape}")
    return array


def _depth(page: Any) -> int | None:
    """The real bit depth of unsigned gray/RGB samples that do not fill their type, if known.

    From BitsPerSample (2..7 in 8-bit samples, 9..15 in 16-bit) or a MaxSampleValue
    below the type's maximum (TIFF 6.0 section 8).
    """
    if int(page.photometric) not in (_MINISWHITE, _MINISBLACK, _RGB) or page.dtype.kind != "u":
        return None
    bits = int(page.bitspersample)
    container = 8 * page.dtype.itemsize
    if 1 < bits < container:
        return bits
    maximum = _tag_value(page, "MaxSampleValue")
    if isinstance(maximum, tuple):
        maximum = max(maximum[: _colour_samples(int(page.photometric))])
    if isinstance(maximum, int) and 1 < maximum < 2**container - 1 and int(page.samplesperpixel) == 1:
        return max(2, int(maximum).bit_length())
    return None


def _page_to_frame(page: Any, options: ConvertOptions) -> np.ndarray:
    if is_old_jpeg(page):
        return decode_old_jpeg(page, options)
    if is_subsampled_ycbcr(page):
        return decode_subsampled_ycbcr(page)
    array = _decode(page)
    photometric = int(page.photometric)
    colours = min(_colour_samples(photometric), array.shape[2])
    color = array[..., :colours]
    # ExtraSamples (TIFF 6.0 section 18): 1 associated (premultiplied) alpha,
    # 2 unassociated alpha, 0 unspecified data that is not part of the picture. An
    # extra sample the tag does not describe is taken as unassociated alpha.
    kinds = [int(kind) for kind in page.extrasamples]
    alpha: np.ndarray | None = None
    associated = False
    for index in range(array.shape[2] - colours):
        kind = kinds[index] if index < len(kinds) else 2
        if kind in (1, 2):
            alpha, associated = array[..., colours + index], kind == 1
            break
    if color.dtype.kind == "i":
        return _signed_frame(color, alpha, options)
    if photometric == _RGB and _is_wide(color.dtype):
        color = _unit_range_to_16(color)
        alpha = _unit_range_to_16(alpha) if alpha is not None else None
    if photometric == _PALETTE:
        color = _expand_palette(page, color[..., 0])
    elif photometric == _SEPARATED:
        if colours < 4:
            raise UnsupportedFormatError(f"CMYK TIFF with {colours} inks is not supported")
        if color.dtype not in (np.uint8, np.uint16):
            raise UnsupportedFormatError(f"CMYK TIFF with {color.dtype} samples is not supported")
        color = cmyk_to_rgb(color)
    elif photometric in (CIELAB, ICCLAB, ITULAB):
        if color.dtype not in (np.uint8, np.uint16) or colours != 3:
            raise UnsupportedFormatError("L*a*b* TIFF is supported with three 8- or 16-bit samples")
        # CIELab is relative to the WhitePoint tag (libtiff's reading); ICCLab and ITULab to D50.
        white = white_of(rationals(_tag_value(page, "WhitePoint"), 2)) if photometric == CIELAB else None
        lab = lab_values(color, photometric, rationals(_tag_value(page, "Decode"), 6))
        color = lab_to_rgb(lab, color.dtype, white)
    elif photometric == _YCBCR and int(page.compression) not in (6, 7):
        # JPEG-compressed pages come out of the JPEG decoder as RGB already.
        if colours < 3:
            raise CorruptImageError(f"the YCbCr TIFF page has {colours} sample(s) per pixel, not 3")
        color = ycbcr_to_rgb(
            color,
            rationals(_tag_value(page, "YCbCrCoefficients"), 3),
            rationals(_tag_value(page, "ReferenceBlackWhite"), 6),
        )
    elif color.dtype == bool:
        color = np.where(color, np.uint8(255), np.uint8(0))
    if photometric == _MINISWHITE:
        depth = _depth(page)
        color = (2**depth - 1 if depth else np.iinfo(color.dtype).max) - color
    frame = color[..., 0] if color.shape[2] == 1 else color
    if alpha is None:
        return frame_from_array(frame, options.background)
    if alpha.dtype != frame.dtype:
        raise UnsupportedFormatError(f"an alpha sample of {alpha.dtype} with {frame.dtype} colour is not supported")
    depth = _depth(page)
    full = 2**depth - 1 if depth is not None else None  # samples and alpha at the source's depth
    if associated:
        return composite_associated(frame, alpha, options.background, full)
    return composite_alpha(frame, alpha, options.background, full)


def _is_wide(dtype: np.dtype) -> bool:
    """Float or 32/64-bit integer samples: more than DICOM's 16 bits a colour sample holds."""
    return np.dtype(dtype).kind == "f" or (np.dtype(dtype).kind == "u" and np.dtype(dtype).itemsize > 2)


def _unit_range_to_16(samples: np.ndarray) -> np.ndarray:
    """Float colour samples (0 black .. 1 white, outside clipped) or 32-bit ones (0 ..
    2**32 - 1) as 16-bit samples, the way image editors show them (GIMP, ImageMagick);
    a colour picture has no Modality LUT to keep other values."""
    if samples.dtype.kind == "f":
        if not np.all(np.isfinite(samples)):
            raise UnsupportedFormatError("the TIFF holds NaN or infinite samples, which DICOM cannot restore")
        scale, low, high = 65535.0, 0.0, 1.0
    else:
        scale, low, high = 65535.0 / float(np.iinfo(samples.dtype).max), None, None
    # In float64 (exact rounding; float16 would overflow), a block of rows at a time.
    out = np.empty(samples.shape, np.uint16)
    rows = max(1, (1 << 20) // max(1, samples[0].size))
    for top in range(0, samples.shape[0], rows):
        block = samples[top : top + rows].astype(np.float64)
        if low is not None:
            np.clip(block, low, high, out=block)
        out[top : top + rows] = np.rint(block * scale)
    return out


def _wide_colour_note(pages: list[Any]) -> str:
    """What was done to float/32-bit colour samples, and whether any were clipped.

    A pass of its own over the pages (float colour TIFF only): the warning must be known
    before the object is written, as the server shows notes before it saves.
    """
    dtype = np.dtype(pages[0].dtype)
    if dtype.kind != "f":
        return f"{dtype} colour samples scaled to 16 bits"
    clipped = total = 0
    for page in pages:  # one page in memory at a time
        values = _decode(page)
        colour = values[..., : min(3, values.shape[2])]
        clipped += int(np.count_nonzero((colour < 0) | (colour > 1)))
        total += colour.size
    note = f"{dtype} colour samples 0..1 stored as 16 bits"
    if clipped:
        share = 100.0 * clipped / total
        note = f"{WARNING_PREFIX}{note}; {share:.1f}% of them lie outside 0..1 and are shown clipped, as image editors show them"
    return note


def _expand_palette(page: Any, index: np.ndarray) -> np.ndarray:
    if page.colormap is None:
        # libtiff refuses it too ("Missing required ColorMap tag").
        raise CorruptImageError("the palette TIFF has no ColorMap")
    colormap = np.asarray(page.colormap)
    if colormap.ndim != 2 or colormap.shape[0] != 3 or colormap.shape[1] == 0:
        raise CorruptImageError(f"the palette TIFF's ColorMap has shape {colormap.shape}, not 3 x entries")
    # Pillow's reading of TIFF palettes: the high byte of each 16-bit entry.
    rgb = (colormap >> 8).astype(np.uint8).T if colormap.max() > 255 else colormap.astype(np.uint8).T
    expanded = rgb[np.minimum(index.astype(np.intp), len(rgb) - 1)]
    if np.all(rgb[:, 0] == rgb[:, 1]) and np.all(rgb[:, 1] == rgb[:, 2]):
        return np.ascontiguousarray(expanded[..., :1])
    return np.ascontiguousarray(expanded)


def _signed_frame(color: np.ndarray, alpha: np.ndarray | None, options: ConvertOptions) -> np.ndarray:
    """int8/int16 gray kept as two's complement samples (Pixel Representation 1)."""
    if color.shape[2] != 1:
        raise UnsupportedFormatError("signed integer colour TIFF is not supported (DICOM colour samples are unsigned)")
    frame = color[..., 0]
    if frame.dtype not in (np.int8, np.int16):
        raise UnsupportedFormatError(f"{frame.dtype} samples are not supported")
    if alpha is None:
        return np.ascontiguousarray(frame)
    # Alpha over a background mapped onto the signed range (white = the largest value).
    info = np.iinfo(frame.dtype)
    red, green, blue = options.background
    level = info.min + (info.max - info.min) * (0.299 * red + 0.587 * green + 0.114 * blue) / 255
    a = np.clip(alpha.astype(np.float64), 0, None) / float(np.iinfo(alpha.dtype).max)
    blended = frame.astype(np.float64) * a + level * (1 - a)
    return np.clip(np.rint(blended), info.min, info.max).astype(frame.dtype)


def _orientation(page: Any) -> int:
    """Orientation 1..8 (TIFF 6.0 tag 274); a damaged tag is ignored, as for EXIF."""
    value = _tag_value(page, "Orientation")
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


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


def _pages(tiff: Any, count: int) -> Iterator[Any]:
    """The first ``count`` pages, by index (iterating ``tiff.pages`` can loop forever)."""
    for index in range(count):
        try:
            yield tiff.pages[index]
        except IndexError:  # tifffile stopped earlier, at a damaged IFD
            return


def read(stream: BinaryIO, options: ConvertOptions) -> Picture:
    import tifffile

    # The IFD chain is walked first, ending on a loop (tifffile iterates a looping chain
    # forever) and at twice the frame limit (reduced-resolution pages come in pairs).
    count = tiff_page_count(stream, limit=2 * max_frames(options))
    try:
        tiff = tifffile.TiffFile(stream)
        pages = [page for page in _pages(tiff, count) if not (int(getattr(page, "subfiletype", 0)) & 1)]
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
    if all(kind == first for kind in kinds):
        picture = _picture(tiff, pages, first, options)
        if not (
            picture.number_of_frames > 1
            and picture.layout.samples_per_pixel == 3
            and picture.layout.bits_allocated == 16
        ):
            return picture
        reason = "16-bit colour pages cannot share one multi-frame object (True Color SC is 8-bit)"
    else:
        number, kind = next((n, k) for n, k in enumerate(kinds, start=1) if k != first)
        reason = f"the pages differ (page 1: {first.describe()}; page {number}: {kind.describe()})"
    # One object per page, all in one series (the builder numbers them in page order).
    parts = [_picture(tiff, [page], kind, options) for page, kind in zip(pages, kinds, strict=True)]
    parts[0].notes.append(f"{reason}: one DICOM object per page, {len(parts)} in one series")
    parts[0].more = tuple(parts[1:])
    return parts[0]


def _picture(tiff: Any, pages: list[Any], first: _PageKind, options: ConvertOptions) -> Picture:
    """One picture of pages that share size and kind (one multi-frame object)."""
    check_size(first.columns, first.rows, options)
    colour = first.samples >= 3 or first.photometric in (_RGB, _PALETTE, _SEPARATED, _YCBCR)
    check_object(len(pages), first.rows * first.columns * (3 if colour else 1) * (2 if first.bits > 8 else 1), options)
    orientation = 1 if options.keep_orientation else _orientation(pages[0])
    first_page = pages[0]
    wide_rgb = first.photometric == _RGB and _is_wide(np.dtype(first.dtype))
    needs_rescale = not wide_rgb and (np.dtype(first.dtype).kind == "f" or np.dtype(first.dtype).itemsize > 2)
    if np.dtype(first.dtype).kind == "i" and len(pages) > 1 and first.samples == 1:
        # The multi-frame grayscale SC IODs hold unsigned samples only (PS3.3 A.8.3.4,
        # A.8.4.4): signed pages are stored offset, a Modality LUT restoring the values.
        needs_rescale = True
    if needs_rescale:
        return _read_rescaled(tiff, pages, orientation, options)

    def frames() -> Iterator[np.ndarray]:
        for page in pages:
            yield orient(_page_to_frame(page, options), orientation)

    frame = next(frames())
    icc = _tag_value(first_page, "InterColorProfile")
    depth = _depth(first_page) if not (is_old_jpeg(first_page) or is_subsampled_ycbcr(first_page)) else None
    window = None
    if frame.dtype.kind == "i":
        # Signed data: shown from its lowest to its highest value, as viewers scale it.
        low, high = np.inf, -np.inf
        for signed in frames():  # one page in memory at a time
            low, high = min(low, float(signed.min())), max(high, float(signed.max()))
        window = value_range_window(low, high)
    elif depth is not None and frame.ndim == 2:
        window = full_range_window(depth)
        if depth < 8 and len(pages) > 1:
            # Multi-frame Grayscale Byte SC holds Bits Stored 8 (PS3.3 A.8.3.4): the
            # values stay, the window alone shows their depth.
            depth = None
    return Picture(
        source_format="TIFF",
        layout=layout_of(frame, depth),
        window=window,
        number_of_frames=len(pages),
        frames=frames,
        icc_profile=bytes(icc) if icc is not None and frame.ndim == 3 else None,
        content_datetime=_datetime(first_page),
        notes=[_wide_colour_note(pages)] if wide_rgb else [],
    )


def _values(page: Any) -> np.ndarray:
    """The gray samples of a page, extra samples dropped."""
    array = _decode(page)[..., 0]
    if int(page.photometric) == _MINISWHITE:
        raise UnsupportedFormatError(f"white-is-zero {array.dtype} TIFF is not supported")
    return array


def _read_rescaled(tiff: Any, pages: list[Any], orientation: int, options: ConvertOptions) -> Picture:
    """32-bit integer, float or multi-page signed samples mapped into 16 bits with a
    Modality LUT, and a window from the lowest to the highest value."""
    if _colour_samples(int(pages[0].photometric)) != 1:
        raise UnsupportedFormatError("32-bit, floating point and signed colour TIFF is not supported")
    low, high = np.inf, -np.inf
    for page in pages:  # one page in memory at a time
        values = _values(page)
        if np.dtype(values.dtype).kind == "f" and not np.all(np.isfinite(values)):
            raise UnsupportedFormatError("the TIFF holds NaN or infinite samples, which DICOM cannot restore")
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    integer = np.dtype(pages[0].dtype).kind in "iu"
    span = high - low
    slope = 1.0 if (integer and span <= 65535) or span == 0 else span / 65535
    intercept = low

    def frames() -> Iterator[np.ndarray]:
        for page in pages:
            values = _values(page).astype(np.float64)
            stored = np.rint((values - intercept) / slope)
            yield orient(np.clip(stored, 0, 65535).astype(np.uint16), orientation)

    frame = next(frames())
    return Picture(
        window=value_range_window(0, round(span / slope)),
        source_format="TIFF",
        layout=layout_of(frame),
        number_of_frames=len(pages),
        frames=frames,
        content_datetime=_datetime(pages[0]),
        rescale=(slope, intercept),
        notes=[f"{pages[0].dtype} samples mapped to 16 bits (slope {slope:g}, intercept {intercept:g})"],
    )


register(Reader(name="TIFF", sniff=sniff, read=read))
