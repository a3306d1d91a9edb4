"""Colour spaces DICOM has no name for, converted to RGB as viewers show them.

* CIE L*a*b* (TIFF Photometric 8 CIELab, 9 ICCLab, 10 ITULab) becomes sRGB through
  CIE XYZ, relative to the D50 white (ICC PCS, Adobe's TIFF note and libtiff's default)
  or, for CIELab, the file's WhitePoint tag as libtiff reads it (ImageMagick writes D65),
  Bradford-adapted to sRGB's D65 (IEC 61966-2-1): the conversion lcms/Pillow make,
  computed in floating point so 8- and 16-bit samples get the same colours.
* YCbCr (TIFF Photometric 6 without JPEG) becomes RGB with the file's coefficients and
  reference black/white (TIFF 6.0 section 21; the defaults give JPEG's full range).
* 16-bit CMYK becomes RGB as Pillow converts 8-bit CMYK: R = (1 - C)(1 - K).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["cmyk_to_rgb", "lab_to_rgb", "lab_values", "rationals", "white_of", "ycbcr_to_rgb"]

# D50 reference white (ICC PCS) and sRGB's D65 white, XYZ with Y = 1.
_D50 = np.array([0.9642, 1.0, 0.8249])
_D65 = np.array([0.95047, 1.0, 1.08883])
# Bradford cone response matrix (chromatic adaptation), and XYZ (D65) -> linear sRGB.
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_XYZ_TO_SRGB = np.array(
    [
        [3.2404542, -1.5371385, -0.4985314],
        [-0.9692660, 1.8760108, 0.0415560],
        [0.0556434, -0.2040259, 1.0572252],
    ]
)


def _xyz_to_linear_srgb(white: np.ndarray) -> np.ndarray:
    """XYZ relative to ``white``, Bradford-adapted to D65, to linear sRGB (one matrix)."""
    cones = np.diag((_BRADFORD @ _D65) / (_BRADFORD @ white))
    return _XYZ_TO_SRGB @ np.linalg.inv(_BRADFORD) @ cones @ _BRADFORD


# TIFF Photometric values for L*a*b*.
CIELAB, ICCLAB, ITULAB = 8, 9, 10
# ITU-T T.42 default ranges (TIFF tag Decode absent): L 0..100, a -85..85, b -75..125.
_ITU_DEFAULT = (0.0, 100.0, -85.0, 85.0, -75.0, 125.0)


def rationals(value: Sequence[float] | None, count: int) -> tuple[float, ...] | None:
    """A RATIONAL tag's ``count`` values, from tifffile's numerator/denominator pairs.

    tifffile gives RATIONAL values flattened, (n1, d1, n2, d2, ...); a value already
    given as ``count`` numbers is returned as it is. Anything else (a zero denominator,
    a wrong count) is None: the tag is ignored and its default used.
    """
    if value is None:
        return None
    numbers = tuple(value)
    if len(numbers) == count:
        return tuple(float(n) for n in numbers)
    if len(numbers) != 2 * count or any(d == 0 for d in numbers[1::2]):
        return None
    return tuple(float(n) / float(d) for n, d in zip(numbers[0::2], numbers[1::2], strict=True))


def lab_values(samples: np.ndarray, photometric: int, decode: Sequence[float] | None = None) -> np.ndarray:
    """L*, a*, b* as float64 from a TIFF's stored samples (H×W×3, uint8 or uint16).

    CIELab stores L* unsigned and a*, b* as signed integers (1/256 per unit at 16 bits);
    ICCLab stores all three unsigned, a* and b* offset by 128; ITULab maps each sample
    range linearly onto the ranges of the Decode tag (TIFF 6.0 section 23, Adobe
    PageMaker 6.0 TIFF Technical Notes, RFC 2301 section 6.2).
    """
    full = float(np.iinfo(samples.dtype).max)
    lightness = samples[..., 0].astype(np.float64) * (100.0 / full)
    if photometric == CIELAB:
        signed = samples[..., 1:].view(np.int8 if samples.dtype == np.uint8 else np.int16)
        chroma = signed.astype(np.float64) / (1.0 if samples.dtype == np.uint8 else 256.0)
    elif photometric == ICCLAB:
        chroma = samples[..., 1:].astype(np.float64) * (255.0 / full) - 128.0
    else:
        ranges = tuple(decode) if decode is not None and len(decode) == 6 else _ITU_DEFAULT
        low = np.array([ranges[0], ranges[2], ranges[4]])
        high = np.array([ranges[1], ranges[3], ranges[5]])
        return low + samples.astype(np.float64) * ((high - low) / full)
    return np.concatenate([lightness[..., None], chroma], axis=-1)


def white_of(chromaticity: Sequence[float] | None) -> np.ndarray | None:
    """The XYZ (Y = 1) of a TIFF WhitePoint (x, y), or None when it is missing or not a colour."""
    if chromaticity is None or len(chromaticity) != 2:
        return None
    x, y = chromaticity
    if not (0.0 < x < 1.0 and 0.0 < y < 1.0 and x + y < 1.0):
        return None
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def lab_to_rgb(lab: np.ndarray, dtype: np.dtype, white: np.ndarray | None = None) -> np.ndarray:
    """L*a*b* (float, relative to ``white``, default D50) to sRGB samples of ``dtype``
    (uint8 or uint16), clipped to the gamut."""
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    f = np.stack([fx, fy, fz], axis=-1)
    epsilon = 6.0 / 29.0
    # CIE 15: the inverse of the Lab companding function, linear near black.
    white = _D50 if white is None else white
    xyz = np.where(f > epsilon, f**3, 3 * epsilon**2 * (f - 4.0 / 29.0)) * white
    linear = np.clip(xyz @ _xyz_to_linear_srgb(white).T, 0.0, 1.0)
    return _encode_srgb(linear, dtype)


def _encode_srgb(linear: np.ndarray, dtype: np.dtype) -> np.ndarray:
    # IEC 61966-2-1 transfer function.
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    full = np.iinfo(dtype).max
    return np.rint(np.clip(encoded, 0.0, 1.0) * full).astype(dtype)


def ycbcr_to_rgb(
    ycbcr: np.ndarray,
    coefficients: Sequence[float] | None = None,
    reference: Sequence[float] | None = None,
) -> np.ndarray:
    """Full-resolution YCbCr samples (uint8/uint16, H×W×3) to RGB of the same type.

    ``coefficients`` are LumaRed, LumaGreen, LumaBlue (tag 529, default ITU-R BT.601);
    ``reference`` is ReferenceBlackWhite (tag 532, default full range).
    """
    full = float(np.iinfo(ycbcr.dtype).max)
    red, green, blue = (
        tuple(coefficients)
        if coefficients is not None and len(coefficients) == 3
        else (
            0.299,
            0.587,
            0.114,
        )
    )
    half = (full + 1) / 2
    ref = tuple(reference) if reference is not None and len(reference) == 6 else (0.0, full, half, full, half, full)
    values = ycbcr.astype(np.float64)
    # TIFF 6.0 section 21: scale each component onto the code range from its references.
    y = (values[..., 0] - ref[0]) * full / (ref[1] - ref[0])
    cb = (values[..., 1] - ref[2]) * (full - half) / (ref[3] - ref[2])
    cr = (values[..., 2] - ref[4]) * (full - half) / (ref[5] - ref[4])
    r = cr * (2 - 2 * red) + y
    b = cb * (2 - 2 * blue) + y
    g = (y - blue * b - red * r) / green
    rgb = np.stack([r, g, b], axis=-1)
    return np.rint(np.clip(rgb, 0, full)).astype(ycbcr.dtype)


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """Uncalibrated CMYK (uint8/uint16) to RGB, each channel (1 - C)(1 - K) rounded."""
    full = int(np.iinfo(cmyk.dtype).max)
    values = cmyk.astype(np.int64)
    white = full - values[..., 3:4]
    rgb = white - (values[..., :3] * white + full // 2) // full
    return rgb.astype(cmyk.dtype)
