"""Conversion options shared by the library, the CLI and the batch engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .errors import DicomifyError

__all__ = ["Compression", "ConvertOptions", "Iod", "parse_color", "split_options"]


class Iod(str, Enum):
    """Which DICOM object to build."""

    SECONDARY_CAPTURE = "sc"  # single or multi-frame Secondary Capture (PS3.3 A.8)
    PHOTOGRAPHIC = "photo"  # VL Photographic Image (PS3.3 A.32.4), for clinical photos


class Compression(str, Enum):
    """Lossless compression of decoded pixels (JPEG passthrough is never re-encoded)."""

    NONE = "none"
    RLE = "rle"  # RLE Lossless, 1.2.840.10008.1.2.5
    JPEG_LS = "jpeg-ls"  # JPEG-LS Lossless, 1.2.840.10008.1.2.4.80
    JPEG_2000 = "jpeg2000"  # JPEG 2000 Lossless, 1.2.840.10008.1.2.4.90


@dataclass(frozen=True)
class ConvertOptions:
    """How a picture becomes DICOM. Every field has a CLI flag of the same name."""

    iod: Iod = Iod.SECONDARY_CAPTURE
    compression: Compression = Compression.NONE
    decode_jpeg: bool = False
    keep_orientation: bool = False
    background: tuple[int, int, int] = (255, 255, 255)
    dpi: float | None = None
    page: int | None = None
    max_pixels: int | None = None
    # Resource limits per object (None: the defaults in docs/limits.md).
    max_frames: int | None = None
    max_bytes: int | None = None
    all_images: bool = False
    # JPEG passthrough keeps EXIF/XMP/IPTC/comments in the stored codestream (readers/jpeg_segments.py).
    keep_jpeg_metadata: bool = False

    def __post_init__(self) -> None:
        # Accept plain strings for the enums and colour names for the background.
        try:
            object.__setattr__(self, "iod", Iod(self.iod))
        except ValueError:
            raise DicomifyError(f"iod {self.iod!r} is not one of: {', '.join(i.value for i in Iod)}") from None
        try:
            object.__setattr__(self, "compression", Compression(self.compression))
        except ValueError:
            raise DicomifyError(
                f"compression {self.compression!r} is not one of: {', '.join(c.value for c in Compression)}"
            ) from None
        if isinstance(self.background, str):
            object.__setattr__(self, "background", parse_color(self.background))
        if self.dpi is not None and not 1 <= self.dpi <= 2400:
            raise DicomifyError(f"dpi {self.dpi} is outside 1..2400")
        if self.page is not None and self.page < 0:
            raise DicomifyError(f"page {self.page} must be 0 or more")
        for limit in ("max_pixels", "max_frames", "max_bytes"):
            value = getattr(self, limit)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise DicomifyError(f"{limit} {value!r} must be a positive whole number")



def parse_color(text: str) -> tuple[int, int, int]:
    """A colour name or #rrggbb, as Pillow understands it."""
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(text)[:3]  # type: ignore[return-value]
    except ValueError:
        raise DicomifyError(f"background {text!r} is not a colour (try white, black or #rrggbb)") from None


_OPTION_NAMES = {field.name for field in dataclasses.fields(ConvertOptions)}


def split_options(
    kwargs: Mapping[str, Any], options: ConvertOptions | None = None
) -> tuple[ConvertOptions, dict[str, Any]]:
    """Separate snake_case option names from CamelCase DICOM metadata keywords."""
    chosen = {k: v for k, v in kwargs.items() if k in _OPTION_NAMES}
    metadata = {k: v for k, v in kwargs.items() if k not in _OPTION_NAMES}
    base = options or ConvertOptions()
    return (dataclasses.replace(base, **chosen) if chosen else base), metadata
