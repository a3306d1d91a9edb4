"""Conversion options shared by the library, the CLI and the batch engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from .errors import OptionError

__all__ = ["Compression", "ConvertOptions", "Iod", "parse_color", "split_options"]


class Iod(str, Enum):
    """Which DICOM object to build."""

    SECONDARY_CAPTURE = "sc"  # single or multi-frame Secondary Capture (PS3.3 A.8)
    PHOTOGRAPHIC = "photo"  # VL Photographic Image (PS3.3 A.32.4), for clinical photos


class VideoKind(str, Enum):
    """Which video IOD a video source becomes (PS3.3 A.32.5-A.32.7)."""

    PHOTOGRAPHIC = "photographic"  # Video Photographic Image, Modality XC
    ENDOSCOPIC = "endoscopic"  # Video Endoscopic Image, Modality ES
    MICROSCOPIC = "microscopic"  # Video Microscopic Image, Modality GM


class Compression(str, Enum):
    """Lossless compression of decoded pixels (JPEG passthrough is never re-encoded)."""

    NONE = "none"
    RLE = "rle"  # RLE Lossless, 1.2.840.10008.1.2.5
    JPEG_LS = "jpeg-ls"  # JPEG-LS Lossless, 1.2.840.10008.1.2.4.80
    JPEG_2000 = "jpeg2000"  # JPEG 2000 Lossless, 1.2.840.10008.1.2.4.90


@dataclass(frozen=True)
class ConvertOptions:
    """How a picture becomes DICOM. Every field has a CLI flag of the same name.

    Metadata (patient, study, series) is not an option: it goes in ``metadata=`` of
    :class:`dicomify.DicomImage` and :func:`dicomify.convert`.

    Parameters
    ----------
    iod : Iod or str
        ``"sc"``: Secondary Capture (multi-frame SC for several frames); ``"photo"``:
        VL Photographic Image, one 8-bit frame.
    compression : Compression or str
        Lossless compression of decoded pixels: ``"none"``, ``"rle"``, ``"jpeg-ls"``,
        ``"jpeg2000"``. JPEG kept byte-exact is never re-encoded.
    decode_jpeg : bool
        Store JPEG decoded instead of byte-exact.
    keep_orientation : bool
        Ignore EXIF/TIFF orientation: keep the pixels as stored.
    background : tuple of int, or str
        The colour transparent pixels are composited over: ``(r, g, b)`` or a colour
        name or ``#rrggbb``.
    dpi : float, optional
        Rendering resolution of EMF/WMF, 1 to 2400.
    page : int, optional
        Convert only this page or frame (0-based) of a multi-page source.
    max_pixels : int, optional
        Decompression-bomb guard per frame (default: Pillow's limit).
    max_frames : int, optional
        Frames (animation frames, TIFF pages) per source (default 10,000).
    max_bytes : int, optional
        Decoded pixel bytes per object (default 1 GiB); DICOM's 4 GiB is never exceeded.
    max_records : int, optional
        Records per EMF/WMF (default 1,000,000), counted before drawing.
    max_seconds : float, optional
        Seconds per file in a batch worker, the command line, the server's worker
        processes or ``dicomify watch`` (default 600); a file that takes longer is
        reported failed. Not applied in a library caller's process.
    all_images : bool
        HEIF holding several images: every image as a frame, not only the primary one.
    keep_jpeg_metadata : bool
        Keep EXIF, XMP, IPTC and comment segments inside JPEG stored byte-exact.
    pdf_as_images : bool
        Render PDF pages into a multi-frame Secondary Capture (at ``dpi``, default 150)
        instead of keeping the PDF as Encapsulated PDF.
    video : VideoKind or str
        Video sources: ``"photographic"`` (default), ``"endoscopic"`` or ``"microscopic"``.
    transcode : bool
        Re-encode a video that no DICOM video transfer syntax allows to H.264 High
        Profile / Level 4.1 (lossy); without it such a video is refused.

    Raises
    ------
    OptionError
        A value is not valid (an unknown IOD or compression, a colour Pillow does not
        know or components outside 0..255, a flag that is not a bool, ``dpi``, ``page``
        or a limit of the wrong type or out of range); the message lists the
        valid values.
    """

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
    max_records: int | None = None
    # Seconds per file in a batch worker or the command line (batch/deadline.py).
    max_seconds: float | None = None
    all_images: bool = False
    # JPEG passthrough keeps EXIF/XMP/IPTC/comments in the stored codestream (readers/jpeg_segments.py).
    keep_jpeg_metadata: bool = False
    pdf_as_images: bool = False
    video: VideoKind = VideoKind.PHOTOGRAPHIC
    transcode: bool = False

    def __post_init__(self) -> None:
        # Every value is checked, never coerced: "no" is not False, (300, -1, 5) is not a
        # colour. Plain strings are accepted for the enums, colour names for the background.
        object.__setattr__(self, "iod", _member(Iod, self.iod, "iod"))
        object.__setattr__(self, "compression", _member(Compression, self.compression, "compression"))
        object.__setattr__(self, "video", _member(VideoKind, self.video, "video"))
        for name in (
            "decode_jpeg",
            "keep_orientation",
            "all_images",
            "keep_jpeg_metadata",
            "pdf_as_images",
            "transcode",
        ):
            if not isinstance(getattr(self, name), bool):
                raise OptionError(f"{name} {getattr(self, name)!r} must be True or False")
        object.__setattr__(self, "background", _color(self.background))
        if self.dpi is not None and (not _is_number(self.dpi) or not 1 <= self.dpi <= 2400):
            raise OptionError(f"dpi {self.dpi!r} must be a number from 1 to 2400")
        if self.page is not None and (not _is_integer(self.page) or self.page < 0):
            raise OptionError(f"page {self.page!r} must be a whole number, 0 or more")
        if self.max_seconds is not None and (not _is_number(self.max_seconds) or not self.max_seconds > 0):
            raise OptionError(f"max_seconds {self.max_seconds!r} must be a number above 0")
        for limit in ("max_pixels", "max_frames", "max_bytes", "max_records"):
            value = getattr(self, limit)
            if value is not None and (not _is_integer(value) or value <= 0):
                raise OptionError(f"{limit} {value!r} must be a whole number above 0")


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_Choice = TypeVar("_Choice", Iod, Compression, VideoKind)


def _member(kind: type[_Choice], value: object, name: str) -> _Choice:
    try:
        return kind(value)
    except ValueError:
        raise OptionError(f"{name} {value!r} is not one of: {', '.join(m.value for m in kind)}") from None


def _color(value: object) -> tuple[int, int, int]:
    if isinstance(value, str):
        return parse_color(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 3
        and all(_is_integer(part) and 0 <= part <= 255 for part in value)
    ):
        return (int(value[0]), int(value[1]), int(value[2]))
    raise OptionError(
        f"background {value!r} is not a colour: give a name, #rrggbb or three whole numbers from 0 to 255"
    )


def parse_color(text: str) -> tuple[int, int, int]:
    """A colour name or #rrggbb, as Pillow understands it."""
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(text)[:3]  # type: ignore[return-value]
    except ValueError:
        raise OptionError(f"background {text!r} is not a colour (try white, black or #rrggbb)") from None


_OPTION_NAMES = {field.name for field in dataclasses.fields(ConvertOptions)}


def split_options(
    kwargs: Mapping[str, Any], options: ConvertOptions | None = None
) -> tuple[ConvertOptions, dict[str, Any]]:
    """Separate snake_case option names from CamelCase DICOM metadata keywords."""
    chosen = {k: v for k, v in kwargs.items() if k in _OPTION_NAMES}
    metadata = {k: v for k, v in kwargs.items() if k not in _OPTION_NAMES}
    base = options or ConvertOptions()
    return (dataclasses.replace(base, **chosen) if chosen else base), metadata
