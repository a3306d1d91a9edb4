"""Turning a decoded Pillow image or numpy array into DICOM-ready frames.

The conversion policy lives here, shared by every reader:

* gray stays gray: 1-bit becomes 8-bit 0/255, 2/4/8-bit stays 8-bit, 16-bit stays 16-bit;
* palette images are expanded to RGB (or to gray when every palette entry is gray),
  because PALETTE COLOR is not allowed in the multi-frame and photographic IODs and
  many viewers render it poorly;
* alpha is composited over ``ConvertOptions.background`` (DICOM has no alpha);
* CMYK becomes RGB (DICOM has no CMYK).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from ..errors import UnsupportedFormatError
from ..picture import Frame, FrameLayout, StripFrame

__all__ = [
    "composite_alpha",
    "composite_associated",
    "frame_from_array",
    "frame_from_pil",
    "full_range_window",
    "layout_of",
    "orient",
    "value_range_window",
]


def layout_of(frame: Frame, bits_stored: int | None = None) -> FrameLayout:
    """The DICOM layout of a frame produced by :func:`frame_from_pil`/`frame_from_array`.

    ``bits_stored`` is the source's real depth when it is less than the sample type's
    (12-bit data in 16-bit samples); int8/int16 frames are signed.
    """
    samples = 1 if frame.ndim == 2 else frame.shape[2]
    bits = 16 if frame.dtype.itemsize == 2 else 8
    return FrameLayout(
        rows=frame.shape[0],
        columns=frame.shape[1],
        samples_per_pixel=samples,
        bits_allocated=bits,
        bits_stored=bits_stored or bits,
        photometric="MONOCHROME2" if samples == 1 else "RGB",
        signed=frame.dtype.kind == "i",
    )


def full_range_window(bits_stored: int) -> tuple[float, float]:
    """The VOI window (center, width) showing 0 .. 2**bits - 1 black to white."""
    return float(2 ** (bits_stored - 1)), float(2**bits_stored)


def value_range_window(low: float, high: float) -> tuple[float, float]:
    """The VOI window showing ``low`` black and ``high`` white (PS3.3 C.11.2.1.2.1)."""
    width = max(high - low + 1, 1.0)
    return (low + high + 1) / 2, width


# Alpha is blended this many pixels at a time, so the wide temporaries stay small
# whatever the picture's size (a whole-picture int64 blend peaked at ~23x the frame).
_BLEND_PIXELS = 1 << 20


def composite_alpha(
    color: np.ndarray, alpha: np.ndarray, background: tuple[int, int, int], full: int | None = None
) -> np.ndarray:
    """Blend ``color`` (H×W or H×W×3) over a solid background using ``alpha`` (H×W).

    Exact integer arithmetic with rounding, so opaque pixels are unchanged and
    fully transparent ones become exactly the background. ``full`` is the largest
    sample value (the type's maximum unless the samples have fewer bits). The sums fit
    the next wider unsigned type (8-bit: at most 255 * 255 + 127 < 2**16; 16-bit:
    < 2**32), and are formed a block of rows at a time, so memory stays near the output.
    """
    full = full or int(np.iinfo(color.dtype).max)
    wide = np.uint16 if color.dtype == np.uint8 else np.uint32
    if color.ndim == 2:
        bg: np.ndarray = np.asarray(round(_luma(background) * full / 255), dtype=wide)
    else:
        bg = np.asarray([round(c * full / 255) for c in background], dtype=wide)
    out = np.empty_like(color)
    width = color.shape[1] if color.ndim > 1 else 1
    rows = max(1, _BLEND_PIXELS // max(1, width))
    for top in range(0, color.shape[0], rows):
        a = alpha[top : top + rows].astype(wide)
        if color.ndim == 3:
            a = a[..., None]
        blended: np.ndarray = color[top : top + rows].astype(wide)
        np.multiply(blended, a, out=blended)
        np.subtract(full, a, out=a)  # a now holds 1 - alpha
        np.add(blended, a * bg, out=blended)
        np.add(blended, full // 2, out=blended, casting="unsafe")
        np.floor_divide(blended, full, out=blended, casting="unsafe")
        out[top : top + rows] = blended
    return out


def composite_associated(
    color: np.ndarray, alpha: np.ndarray, background: tuple[int, int, int], full: int | None = None
) -> np.ndarray:
    """Blend premultiplied (associated) ``color`` over a solid background: C + bg·(1 − α).

    TIFF 6.0 section 18, ExtraSamples = 1: the colour is already multiplied by alpha.
    Colour above alpha (not valid premultiplied data) is clipped to the sample range;
    ``full`` is the largest sample value, as for :func:`composite_alpha`.
    """
    full = full or int(np.iinfo(color.dtype).max)
    if color.ndim == 2:
        bg_value: np.ndarray = np.asarray(round(_luma(background) * full / 255), dtype=np.int64)
        a = alpha.astype(np.int64)
    else:
        bg_value = np.asarray([round(c * full / 255) for c in background], dtype=np.int64)
        a = alpha.astype(np.int64)[..., None]
    blended = color.astype(np.int64) + (bg_value * (full - a) + full // 2) // full
    return np.minimum(blended, full).astype(color.dtype)


def _luma(rgb: tuple[int, int, int]) -> float:
    # ITU-R 601-2 luma, as Pillow's "L" conversion uses.
    r, g, b = rgb
    return (r * 299 + g * 587 + b * 114) / 1000


def frame_from_array(array: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """Normalise a decoded array (H×W, H×W×{1,2,3,4}; bool/uint8/uint16) to a DICOM frame.

    Two channels are gray+alpha, four are RGB+alpha.
    """
    if array.dtype == bool:
        array = np.where(array, np.uint8(255), np.uint8(0))
    if array.dtype not in (np.uint8, np.uint16):
        raise UnsupportedFormatError(f"{array.dtype} samples are not supported")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[2] in (2, 4):
        color = array[..., 0] if array.shape[2] == 2 else array[..., :3]
        array = composite_alpha(color, array[..., -1], background)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise UnsupportedFormatError(f"pixel arrays of shape {array.shape} are not supported")
    return np.ascontiguousarray(array)


def _palette_is_gray(image: Image.Image) -> bool:
    palette = image.getpalette("RGB") or []
    used = image.getcolors(maxcolors=256)
    indices = [int(index) for _, index in used] if used else []  # type: ignore[arg-type]
    entries = [palette[3 * i : 3 * i + 3] for i in indices]
    return bool(entries) and all(len(e) == 3 and e[0] == e[1] == e[2] for e in entries)


# Above this many bytes an 8-bit gray or RGB picture is not copied into numpy at all:
# it is served to the encoder in row strips straight from Pillow's memory.
STRIP_THRESHOLD = 64 * 1024 * 1024
STRIP_BYTES = 16 * 1024 * 1024


class PillowStrips(StripFrame):
    """A decoded 8-bit L/RGB Pillow image as a frame, read in row strips.

    ``np.asarray(image)`` would hold Pillow's pixels, a joined ``tobytes()`` copy and the
    chunks it was joined from at once: over three times the picture. Served in strips,
    a 20000x20000 RGB picture (1.2 GB) converts with peak memory near 1.0x its size.
    """

    def __init__(self, image: Image.Image) -> None:
        super().__init__((image.height, image.width) + ((3,) if image.mode == "RGB" else ()), np.uint8)
        self.image = image

    def strips(self) -> Iterator[bytes]:
        width, height = self.image.size
        rows = max(1, STRIP_BYTES // (width * len(self.image.mode)))
        for top in range(0, height, rows):
            yield self.image.crop((0, top, width, min(height, top + rows))).tobytes()


def frame_from_pil(image: Image.Image, background: tuple[int, int, int]) -> Frame:
    """Decode a Pillow image into a DICOM frame following the module's policy."""
    mode = image.mode
    if mode in ("L", "RGB") and image.info.get("transparency") is not None:
        # A tRNS colour key (PNG 11.3.2.1): that colour is fully transparent.
        return frame_from_pil(image.convert("LA" if mode == "L" else "RGBA"), background)
    if mode.startswith("I;16") and isinstance(image.info.get("transparency"), int):
        values = np.asarray(image).astype(np.uint16, copy=False)
        key = np.where(values == image.info["transparency"], np.uint16(0), np.uint16(65535))
        return composite_alpha(values, key, background)
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode in ("L", "RGB"):
        if image.width * image.height * len(mode) > STRIP_THRESHOLD:
            return PillowStrips(image)
        return np.asarray(image)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image).astype(np.uint16, copy=False)
    if mode == "I":
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 65535:
            raise UnsupportedFormatError("32-bit integer samples outside 0..65535 are not supported")
        return values.astype(np.uint16)
    if mode == "LA":
        data = np.asarray(image)
        return composite_alpha(data[..., 0], data[..., 1], background)
    if mode == "La":
        return frame_from_pil(image.convert("LA"), background)
    if mode in ("RGBA", "RGBa"):
        # An RGBA image is read as it is: convert() would copy it first (one frame more).
        data = np.asarray(image if mode == "RGBA" else image.convert("RGBA"))
        if data[..., 3].min() == 255:
            return np.ascontiguousarray(data[..., :3])
        return composite_alpha(data[..., :3], data[..., 3], background)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        if has_alpha:
            return frame_from_pil(image.convert("RGBA"), background)
        if mode == "P" and _palette_is_gray(image):
            return np.asarray(image.convert("L"))
        return np.asarray(image.convert("RGB"))
    if mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return np.asarray(image.convert("RGB"))
    if mode == "F":
        raise UnsupportedFormatError("32-bit floating point pictures are not supported")
    raise UnsupportedFormatError(f"Pillow mode {mode!r} is not supported")


# EXIF/TIFF Orientation 2..8 as array operations, the same turns as
# ImageOps.exif_transpose (TIFF 6.0 tag 274; EXIF 2.3 4.6.4).
_ORIENTATIONS = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}


def orient(frame: np.ndarray, orientation: int) -> np.ndarray:
    """The frame as a viewer shows it, for an Orientation value (1 = as stored)."""
    turn = _ORIENTATIONS.get(orientation)
    return np.ascontiguousarray(turn(frame)) if turn else frame
