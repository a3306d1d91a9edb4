"""Export DICOM files and folders to pictures, documents and video files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from .._files import atomic_output
from ..errors import DicomifyError, InputError, OutputError, UnsupportedFormatError
from ._render import display_frames, stored_frames

__all__ = ["ExportOptions", "FrameLayout", "export", "export_file", "extract_content"]

PICTURE_FORMATS = ("png", "jpeg", "tiff")
_SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif"}
_FORMAT_OF_SUFFIX = {".png": "png", ".apng": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}

# Documents by MIME type (PS3.3 C.24.2: Encapsulated Document module).
_DOCUMENT_SUFFIX = {
    "application/pdf": ".pdf",
    "text/xml": ".xml",
    "model/stl": ".stl",
    "model/obj": ".obj",
    "model/mtl": ".mtl",
}

# Video transfer syntaxes (PS3.5 8.2.5–8.2.9): the fragments are the video stream itself.
_VIDEO_SUFFIX = {
    "1.2.840.10008.1.2.4.100": ".mpg",  # MPEG-2 MP@ML
    "1.2.840.10008.1.2.4.100.1": ".mpg",
    "1.2.840.10008.1.2.4.101": ".mpg",  # MPEG-2 MP@HL
    "1.2.840.10008.1.2.4.101.1": ".mpg",
    "1.2.840.10008.1.2.4.102": ".mp4",  # MPEG-4 AVC/H.264
    "1.2.840.10008.1.2.4.102.1": ".mp4",
    "1.2.840.10008.1.2.4.103": ".mp4",
    "1.2.840.10008.1.2.4.103.1": ".mp4",
    "1.2.840.10008.1.2.4.104": ".mp4",
    "1.2.840.10008.1.2.4.104.1": ".mp4",
    "1.2.840.10008.1.2.4.105": ".mp4",
    "1.2.840.10008.1.2.4.105.1": ".mp4",
    "1.2.840.10008.1.2.4.106": ".mp4",
    "1.2.840.10008.1.2.4.106.1": ".mp4",
    "1.2.840.10008.1.2.4.107": ".mp4",  # HEVC/H.265
    "1.2.840.10008.1.2.4.108": ".mp4",
}


class FrameLayout(str, Enum):
    """How a multi-frame image is written."""

    PAGES = "pages"  # one file: a multi-page TIFF or an animated PNG (JPEG: numbered files)
    FILES = "files"  # one numbered file per frame: NAME-0001.png, NAME-0002.png, ...


@dataclass(frozen=True)
class ExportOptions:
    """How DICOM images become pictures.

    Parameters
    ----------
    format : {"png", "jpeg", "tiff"} or None
        The picture format; None takes it from the target's suffix, else PNG.
    window : tuple of float or None
        Window centre and width to display grayscale with, instead of the stored one.
    bits : {8, 16}
        Output depth of the displayed picture (JPEG is always 8).
    values : bool
        Write the stored values unchanged (no Modality LUT, window or inversion): the
        lossless way back to the pixels that were converted. Needs PNG or TIFF.
    frames : FrameLayout
        A multi-page/animated file, or one numbered file per frame.
    """

    format: str | None = None
    window: tuple[float, float] | None = None
    bits: int = 8
    values: bool = False
    frames: FrameLayout = FrameLayout.PAGES

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in PICTURE_FORMATS:
            raise DicomifyError(f"format {self.format!r} is not one of: {', '.join(PICTURE_FORMATS)}")
        if self.bits not in (8, 16):
            raise DicomifyError(f"bits {self.bits} must be 8 or 16")
        if self.window is not None and self.window[1] < 1:
            raise DicomifyError(f"window width {self.window[1]} must be at least 1")
        object.__setattr__(self, "frames", FrameLayout(self.frames))


def _read(source: Path) -> Dataset:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.misc import is_dicom

    try:
        if not is_dicom(source):
            raise UnsupportedFormatError("not a DICOM file (no DICM preamble)")
        return pydicom.dcmread(source)
    except IsADirectoryError:
        raise InputError("is a directory") from None
    except OSError as error:
        raise InputError(f"cannot open ({error.strerror})") from None
    except InvalidDicomError as error:
        raise InputError(f"not a readable DICOM file ({error})") from None
    except Exception as error:  # pydicom's parser fails in many ways on damaged files
        raise InputError(f"not a readable DICOM file ({type(error).__name__}: {error})") from None


def _target_for(source: Path, target: Path, suffix: str, into_folder: bool) -> Path:
    return target / (source.stem + suffix) if into_folder else target


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        with atomic_output(path) as file:
            file.write(data)
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror})") from None


def _document(dataset: Dataset) -> tuple[bytes, str] | None:
    if "EncapsulatedDocument" not in dataset:
        return None
    data = bytes(dataset.EncapsulatedDocument)
    length = dataset.get("EncapsulatedDocumentLength")
    if length is not None and 0 <= int(length) <= len(data):
        data = data[: int(length)]  # without the padding byte of an odd length
    mime = str(dataset.get("MIMETypeOfEncapsulatedDocument", "")).strip().lower()
    return data, _DOCUMENT_SUFFIX.get(mime, ".bin")


def _video(dataset: Dataset) -> tuple[bytes, str] | None:
    syntax = str(getattr(dataset.file_meta, "TransferSyntaxUID", ""))
    if syntax not in _VIDEO_SUFFIX or "PixelData" not in dataset:
        return None
    from pydicom.encaps import generate_frames

    # The whole stream is one "frame" of one or more fragments (PS3.5 8.2.5-8.2.9).
    stream = next(generate_frames(dataset.PixelData, number_of_frames=1))
    suffix = _VIDEO_SUFFIX[syntax]
    if suffix == ".mp4":
        stream = stream[: _mp4_length(stream)]
    return stream, suffix


def _mp4_length(data: bytes) -> int:
    """Where the MP4 file ends: its top-level boxes, without the fragment's padding byte."""
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if size == 1 and at + 16 <= len(data):
            size = int.from_bytes(data[at + 8 : at + 16], "big")  # 64-bit largesize
        if size == 0:
            return len(data)  # the last box runs to the end
        if size < 8:
            break
        at += size
    return min(at, len(data)) if at else len(data)


def extract_content(dataset: Dataset) -> tuple[bytes, str] | None:
    """The encapsulated document or video stream of ``dataset`` as its own file's bytes.

    Parameters
    ----------
    dataset : Dataset
        A DICOM object (with its Pixel Data for video).

    Returns
    -------
    tuple of bytes and str, or None
        The bytes, byte-identical to what was encapsulated, and the file suffix
        (``.pdf``, ``.mp4``, ``.mpg`` ...); None for an image.
    """
    return _document(dataset) or _video(dataset)


def _pictures(dataset: Dataset, options: ExportOptions, picture_format: str) -> np.ndarray:
    if "PixelData" not in dataset:
        sop = dataset.get("SOPClassUID")
        name = getattr(sop, "name", str(sop)) if sop is not None else "unknown SOP class"
        raise UnsupportedFormatError(f"not an image or document ({name}): nothing to export")
    if options.values:
        if picture_format == "jpeg":
            raise DicomifyError("stored values need a lossless format: use png or tiff, not jpeg")
        frames = stored_frames(dataset)
        if frames.dtype.kind == "i" and picture_format == "png":
            raise DicomifyError("signed stored values do not fit PNG: use tiff")
        if frames.dtype.itemsize > 2:
            raise DicomifyError(
                f"{frames.dtype.itemsize * 8}-bit stored values do not fit {picture_format}: use display mode"
            )
        return frames
    bits = 8 if picture_format == "jpeg" else options.bits
    return display_frames(dataset, window=options.window, bits=bits)


def _save_frames(frames: np.ndarray, path: Path, picture_format: str, dataset: Dataset) -> None:
    """Write (frames, rows, columns[, 3]) to one file; multi-frame needs TIFF or PNG."""
    from ._write import write_picture

    frame_ms = float(dataset.get("FrameTime", 0) or 0) or 100.0
    try:
        with atomic_output(path) as file:
            write_picture(file, frames, picture_format, frame_ms)
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror})") from None


def export_file(
    source: str | os.PathLike[str], target: str | os.PathLike[str], options: ExportOptions | None = None
) -> list[Path]:
    """Export one DICOM file; return the files written.

    Parameters
    ----------
    source : str or PathLike
        A DICOM file (Part 10).
    target : str or PathLike
        The output file, or an existing folder (or a path ending in ``/``) to write
        ``SOURCE_STEM.png`` (or ``.pdf``, ``.mpg`` ...) into.
    options : ExportOptions, optional
        Format, window, depth and frame layout.

    Returns
    -------
    list of Path
        The files written: one, or one per frame with ``FrameLayout.FILES``.

    Raises
    ------
    InputError
        The source is not a readable DICOM file, or holds nothing to export.
    OutputError
        The target cannot be written.
    """
    options = options or ExportOptions()
    source, target = Path(source), Path(target)
    into_folder = target.is_dir() or str(target).endswith(os.sep)
    try:
        dataset = _read(source)
        extracted = extract_content(dataset)
        if extracted is not None:
            data, suffix = extracted
            path = _target_for(source, target, suffix, into_folder)
            _write_bytes(path, data)
            return [path]
        picture_format = options.format or _FORMAT_OF_SUFFIX.get(target.suffix.lower(), "png")
        if into_folder:
            picture_format = options.format or "png"
        frames = _pictures(dataset, options, picture_format)
        path = _target_for(source, target, _SUFFIX[picture_format], into_folder)
        if len(frames) == 1 or (options.frames is FrameLayout.PAGES and picture_format != "jpeg"):
            _save_frames(frames, path, picture_format, dataset)
            return [path]
        written = []
        for index, frame in enumerate(frames, start=1):
            numbered = path.with_name(f"{path.stem}-{index:04d}{path.suffix}")
            _save_frames(frame[np.newaxis], numbered, picture_format, dataset)
            written.append(numbered)
        return written
    except DicomifyError as error:
        raise type(error)(f"{source}: {error}") from None


@dataclass(frozen=True)
class ExportResult:
    """One source's outcome in :func:`export`: the files written, or the error."""

    source: Path
    outputs: tuple[Path, ...]
    error: str | None = None


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield Path(root) / name


def export(
    sources: list[str | os.PathLike[str]], target: str | os.PathLike[str], options: ExportOptions | None = None
) -> Iterator[ExportResult]:
    """Export DICOM files and folders (recursively) into the folder ``target``.

    Files in folders that are not DICOM (no ``DICM`` preamble) are passed over silently;
    a file named explicitly that is not DICOM is an error result.

    Parameters
    ----------
    sources : list of str or PathLike
        DICOM files and folders.
    target : str or PathLike
        The output folder; created when missing. Folder structure below each given
        folder is kept.
    options : ExportOptions, optional
        As for :func:`export_file`.

    Yields
    ------
    ExportResult
        One per DICOM file, in order.
    """
    from pydicom.misc import is_dicom

    out = Path(target)
    for given in map(Path, sources):
        if given.is_dir():
            for path in _walk(given):
                if not is_dicom(path):
                    continue
                folder = out / path.parent.relative_to(given)
                yield _one(path, folder, options)
        else:
            yield _one(given, out, options)


def _one(path: Path, folder: Path, options: ExportOptions | None) -> ExportResult:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return ExportResult(path, (), f"{folder}: cannot create ({error.strerror})")
    try:
        return ExportResult(path, tuple(export_file(path, folder, options)))
    except DicomifyError as error:
        return ExportResult(path, (), str(error))
