"""The output raster: picture size in millimetres and resolution -> pixels, under the caps."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ImageTooLargeError

# Default rendering resolution: the 96 dpi at which Windows shows a metafile at its
# recorded physical size (rclFrame).
DEFAULT_DPI = 96.0
# The canvas cap when ConvertOptions.max_pixels is not set: 100 megapixels, 400 MB of RGBA.
DEFAULT_MAX_PIXELS = 100_000_000
# Without an explicit dpi, a picture larger than this at 96 dpi (a poster-sized frame) is
# drawn smaller to fit: 16 megapixels is plenty for a chart and keeps DICOM files sane.
DEFAULT_FIT_PIXELS = 16_000_000
# DICOM Rows and Columns are US (16-bit) values (PS3.3 C.7.6.3.1).
MAX_SIDE = 65535
# A picture larger than this (in mm, on either side) is a damaged header, not a drawing.
MAX_PICTURE_MM = 100_000.0


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    dpi: float


def output_canvas(width_mm: float, height_mm: float, *, dpi: float | None, max_pixels: int | None) -> Canvas:
    """Pixels for a picture of the given physical size.

    With the default resolution an oversized picture is scaled down to fit the caps;
    an explicit ``dpi`` that would exceed them is an error.
    """
    if not (width_mm > 0 and height_mm > 0):
        raise ImageTooLargeError(f"the picture size {width_mm:g} x {height_mm:g} mm is not drawable")
    if width_mm > MAX_PICTURE_MM or height_mm > MAX_PICTURE_MM:
        raise ImageTooLargeError(
            f"the picture claims to be {width_mm / 1000:.0f} x {height_mm / 1000:.0f} m, beyond the "
            f"{MAX_PICTURE_MM / 1000:.0f} m this reader accepts"
        )
    cap = max_pixels if max_pixels is not None else DEFAULT_MAX_PIXELS
    if dpi is None:
        cap = min(cap, DEFAULT_FIT_PIXELS)
    if dpi is not None and not dpi > 0:
        raise ValueError(f"dpi must be positive, not {dpi!r}")
    chosen = DEFAULT_DPI if dpi is None else float(dpi)
    width = max(1, round(width_mm / 25.4 * chosen))
    height = max(1, round(height_mm / 25.4 * chosen))
    if width > MAX_SIDE or height > MAX_SIDE or width * height > cap:
        if dpi is not None:
            raise ImageTooLargeError(
                f"at {dpi:g} dpi the picture would be {width} x {height} pixels, beyond the canvas cap "
                f"({cap} pixels, at most {MAX_SIDE} a side); choose a lower dpi"
            )
        shrink = min(MAX_SIDE / width, MAX_SIDE / height, (cap / (width * height)) ** 0.5)
        chosen *= shrink
        width = max(1, int(width_mm / 25.4 * chosen))
        height = max(1, int(height_mm / 25.4 * chosen))
    return Canvas(width, height, chosen)
