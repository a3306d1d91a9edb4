"""The library's front door: ``DicomImage`` and ``convert``.

Thin on purpose: it opens the source, asks a reader for a Picture, has the builder
make the dataset and the encoder add the pixels, and writes the result atomically.
"""

# pydicom is imported first, by _lazy, without requests: the other imports follow it.
# ruff: noqa: E402
from __future__ import annotations

from . import _lazy

_lazy.import_pydicom()  # first, without what it imports for its test-data downloads

import contextlib
import io
import logging
import os
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Any, BinaryIO, TypeVar

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset

from ._files import atomic_output, os_reason, write_all
from .encode.pixel_data import FrameStream, set_pixel_data
from .errors import DicomifyError, InputError, OutputError
from .iod.document import build_document_dataset
from .iod.metadata import gather, needs_unicode, split_keywords, validate
from .iod.sop import build_dataset, check_modality
from .iod.video import build_video_dataset
from .options import ConvertOptions
from .picture import Document, Picture, Video
from .readers import decoding, read_picture
from .readers.memory import picture_from_array, picture_from_pil

__all__ = ["DicomImage", "Source", "Target", "convert"]

logger = logging.getLogger(__name__)

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | Image.Image | np.ndarray
Target = str | os.PathLike[str] | IO[bytes]


def _source_name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, Image.Image):
        return "<Pillow image>"
    if isinstance(source, np.ndarray):
        return "<numpy array>"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    return str(getattr(source, "name", "<stream>"))


def _open(source: Any) -> BinaryIO:
    if isinstance(source, (str, os.PathLike)):
        try:
            return open(source, "rb")
        except IsADirectoryError:
            raise InputError("is a directory, not a picture") from None
        except OSError as error:
            raise InputError(f"cannot open ({error.strerror})") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        seekable = getattr(source, "seekable", lambda: False)()
        if seekable:
            return source  # type: ignore[no-any-return]
        return io.BytesIO(source.read())
    raise DicomifyError(
        f"cannot read a picture from {type(source).__name__}; give a path, bytes, a binary "
        "file object, a Pillow image or a numpy array"
    )


_E = TypeVar("_E", bound=BaseException)


def _unwrapped(error: _E) -> _E:
    """The error as raised, not pydicom's copy of it: pydicom re-raises what fails inside
    an element as the same type, its message holding the tag and a whole traceback."""
    while type(error.__cause__) is type(error) and str(error).startswith("With tag "):
        error = error.__cause__  # type: ignore[assignment]
    return error


def _streamed(dataset: Dataset) -> bool:
    """Whether the pixels are produced from the source while the file is written."""
    return "PixelData" in dataset and isinstance(dataset["PixelData"].value, FrameStream)


class DicomImage:
    """A picture turned into a DICOM dataset, ready to save.

    Parameters
    ----------
    source : str, os.PathLike, bytes, binary file object, PIL.Image.Image or numpy.ndarray
        The picture: a file path, its bytes, a seekable or unseekable binary stream, a
        Pillow image, or a numpy array (H×W, H×W×C, or N frames as N×H×W[×C]).
    options : ConvertOptions, optional
        How to convert (IOD, compression, page, ...); default ``ConvertOptions()``.
    metadata : Mapping[str, Any] or pydicom.Dataset, optional
        Patient, study and series values. A mapping holds metadata fields by DICOM
        keyword (``{"PatientName": "Doe^Jane", "StudyDate": "2026-12-01"}``), each
        checked against its VR. A Dataset (a worklist item, say) gives its metadata
        fields the same way, and every other element, sequences included, is checked
        against its VR and copied into the object.
    **kwargs
        Shortcuts: an option by its ``ConvertOptions`` name (``compression="rle"``)
        changes ``options``; a metadata field by its DICOM keyword
        (``PatientName="Doe^Jane"``) overrides ``metadata``.

    Attributes
    ----------
    dataset : pydicom.Dataset
        The DICOM object, ready to save.
    picture : Picture or None
        What the reader made of the source (None for a document).
    document : Document or None
        A PDF kept byte-identical (``picture`` is None then).
    video : Video or None
        A video stream kept as encoded (``picture`` is None then).
    options : ConvertOptions
        The options used.
    metadata : dict
        The validated metadata fields.
    source_name : str
        The source's name in error messages (``"<bytes>"`` for in-memory sources).

    Raises
    ------
    MetadataError
        A keyword is neither an option nor a metadata field (the message names the
        closest valid one), or a metadata value does not fit its VR.
    InputError
        The source cannot be read as a picture (``UnsupportedFormatError``,
        ``CorruptImageError``, ``ImageTooLargeError``).
    DicomifyError
        An option is not valid, or the chosen IOD cannot hold the picture. Every error
        but a keyword typo names the source in ``error.source``.
    """

    def __init__(
        self,
        source: Source,
        *,
        options: ConvertOptions | None = None,
        metadata: Mapping[str, Any] | Dataset | None = None,
        **kwargs: Any,
    ) -> None:
        self._stream: BinaryIO | None = None  # set first: __del__ relies on it
        self.source_name = _source_name(source)
        self.options, keywords = split_keywords(kwargs, options)
        try:
            self.metadata, elements = gather(metadata, keywords)
            content = self._read(source)
            self.datasets: list[Dataset] = []
            self.document: Document | None = None
            self.video: Video | None = None
            self.picture: Picture | None = None
            if isinstance(content, Document):
                # A PDF kept as it is: an Encapsulated PDF object, no pixels.
                self.document = content
                self.datasets.append(build_document_dataset(content, self.metadata, elements=elements))
            elif isinstance(content, Video):
                # A video stream kept as it was encoded, in one fragment.
                self.video = content
                self.datasets.append(build_video_dataset(content, self.metadata, self.options.video, elements=elements))
            else:
                self.picture = content
                for part, part_metadata in zip(content.parts, _part_metadata(content, self.metadata), strict=True):
                    dataset = build_dataset(part, part_metadata, self.options, elements=elements)
                    # Many parts (a 1000-page document) are produced page by page as written.
                    set_pixel_data(dataset, part, self.options.compression, stream=bool(content.more))
                    self.datasets.append(dataset)
            self.dataset: Dataset = self.datasets[0]
        except DicomifyError as error:
            self.close()
            raise error.with_source(self.source_name) from None
        except BaseException:
            self.close()
            raise
        if not any(_streamed(dataset) for dataset in self.datasets):
            # Every pixel is in the dataset now; only streamed frames need the source.
            self.close()
        for dataset in self.datasets:
            if _streamed(dataset):
                # The source stays open while a dataset is in use, even without this object.
                dataset["PixelData"].value.owner = self

    def _read(self, source: Source) -> Picture | Document | Video:
        # The decoder safety net covers reading only (read_picture has its own).
        if isinstance(source, Image.Image):
            with decoding():
                return picture_from_pil(source, self.options)
        if isinstance(source, np.ndarray):
            with decoding():
                return picture_from_array(source, self.options)
        stream = _open(source)
        # A caller's own stream stays theirs to close.
        self._stream = None if stream is source else stream
        return read_picture(stream, self.options)

    def update(self, **metadata: Any) -> DicomImage:
        """Set metadata fields after construction, checked like the constructor's.

        Parameters
        ----------
        **metadata
            Metadata fields by DICOM keyword (``StudyDescription="Consent form"``).

        Returns
        -------
        DicomImage
            This object, for chaining.

        Raises
        ------
        MetadataError
            A name is not a metadata field, or a value does not fit its VR; nothing is
            changed then.
        """
        checked = validate(metadata)
        if self.picture is not None:  # a picture's IOD (a document's Modality is free)
            check_modality(checked, self.options.iod)
        self.metadata.update(checked)
        for dataset in self.datasets:
            for keyword, value in checked.items():
                setattr(dataset, keyword, value)
            if needs_unicode(self.metadata.values()):
                dataset.SpecificCharacterSet = "ISO_IR 192"
        if len(self.datasets) > 1 and "InstanceNumber" in checked:
            for index, dataset in enumerate(self.datasets):
                dataset.InstanceNumber = int(checked["InstanceNumber"]) + index
        return self

    @property
    def notes(self) -> list[str]:
        """What the reader did to the source (e.g. "CMYK converted to RGB"), for reports."""
        return self.picture.notes if self.picture is not None else []

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.SOPInstanceUID)

    def save(self, target: Target) -> None:
        """Write the DICOM file to a path (atomically) or to a binary stream.

        Parameters
        ----------
        target
            A path, or a binary file object open for writing. How a path is written
            (temporary file, fsync, rename; links, devices and read-only files) is
            described in ``docs/limits.md``.

        Raises
        ------
        OutputError
            The target cannot be written, the stream accepts fewer bytes than the
            whole object, or ``target`` is not a path or a binary stream.
        """
        if isinstance(target, (str, os.PathLike)):
            written: list[str] = []
            for path, dataset in zip(part_targets(target, len(self.datasets)), self.datasets, strict=True):
                try:
                    with atomic_output(path) as file:
                        self._write(file, dataset)
                except BaseException as error:
                    # All objects or none: the parts written so far go too.
                    for done in written:
                        with contextlib.suppress(OSError):
                            os.remove(done)
                    if isinstance(error, OSError):
                        raise OutputError(f"cannot write ({os_reason(error)})", source=path) from None
                    raise
                written.append(path)
            return
        if len(self.datasets) > 1:
            raise OutputError(
                f"this picture makes {len(self.datasets)} DICOM objects (pages that differ in size "
                "or kind); give a file path (the objects are numbered) or a folder, not a stream",
                source=self.source_name,
            )
        if not hasattr(target, "write") or isinstance(target, io.TextIOBase):
            raise OutputError(
                f"cannot write a DICOM file to {type(target).__name__}; give a path or a binary "
                "file object (open(..., 'wb'), sys.stdout.buffer)"
            )
        # A stream gets the bytes only once the whole object has been encoded.
        buffer = io.BytesIO()
        self._write(buffer)
        write_all(target, buffer.getbuffer())

    def outputs(self, target: str | os.PathLike[str]) -> list[str]:
        """The paths :meth:`save` writes for ``target``: one per object (see :func:`part_targets`)."""
        return part_targets(target, len(self.datasets))

    def _write(self, file: BinaryIO, dataset: Dataset | None = None) -> None:
        try:
            pydicom.dcmwrite(file, self.dataset if dataset is None else dataset, enforce_file_format=True)
        except DicomifyError as error:
            raise _unwrapped(error).with_source(self.source_name) from None
        except (ValueError, TypeError) as error:
            reason = _unwrapped(error)
            raise OutputError(f"the DICOM object cannot be encoded ({reason})", source=self.source_name) from None

    def close(self) -> None:
        """Release the source file (kept open for lazily decoded multi-page sources)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> DicomImage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def part_targets(target: str | os.PathLike[str], count: int) -> list[str]:
    """Where the objects of a source that makes ``count`` of them are written.

    The first goes to ``target`` itself; object n (n ≥ 2, its Instance Number order) to
    the same name with ``-n`` before the suffix, n zero-padded to the digits of
    ``count``: ``scan.dcm``, ``scan-2.dcm`` ... or, for 12, ``scan.dcm``, ``scan-02.dcm``
    ... ``scan-12.dcm``.

    Parameters
    ----------
    target
        The path given for the output.
    count
        How many objects the source makes.

    Returns
    -------
    list of str
        One path per object, in order.
    """
    path = os.fspath(target)
    stem, suffix = os.path.splitext(path)
    width = len(str(count))
    return [path] + [f"{stem}-{number:0{width}d}{suffix}" for number in range(2, count + 1)]


def _part_metadata(picture: Picture, metadata: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The metadata of each object: one series for all parts, Instance Number in order."""
    if not picture.more:
        return [metadata]
    from .iod.uids import new_uid

    shared = dict(metadata)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
        shared[keyword] = shared.get(keyword) or new_uid()
    first = int(metadata.get("InstanceNumber", 1))
    return [{**shared, "InstanceNumber": first + index} for index in range(len(picture.parts))]


def convert(
    source: Source,
    target: Target,
    *,
    options: ConvertOptions | None = None,
    metadata: Mapping[str, Any] | Dataset | None = None,
    **kwargs: Any,
) -> Dataset:
    """Convert one picture to one DICOM file.

    Parameters
    ----------
    source : str, os.PathLike, bytes, binary file object, PIL.Image.Image or numpy.ndarray
        The picture, as for :class:`DicomImage`.
    target : str, os.PathLike or binary file object
        A path (written atomically: complete or not at all) or a binary stream.
    options : ConvertOptions, optional
        How to convert; default ``ConvertOptions()``.
    metadata : Mapping[str, Any] or pydicom.Dataset, optional
        Patient, study and series values, as for :class:`DicomImage`.
    **kwargs
        Options by name and metadata fields by DICOM keyword, as for :class:`DicomImage`.

    Returns
    -------
    pydicom.Dataset
        The dataset that was written.

    Raises
    ------
    MetadataError, InputError, DicomifyError
        As for :class:`DicomImage`.
    OutputError
        The target cannot be written; nothing is left at a target path.
    """
    with DicomImage(source, options=options, metadata=metadata, **kwargs) as image:
        image.save(target)
        dataset = image.dataset
        if _streamed(dataset):
            # Streamed pixels are produced from the source, which closes here: hand back
            # the written file instead, its pixel data read from disk only when used.
            if isinstance(target, (str, os.PathLike)):
                return pydicom.dcmread(target, defer_size="1 MB")
            pixels = dataset["PixelData"].value
            pixels.seek(0)
            dataset.PixelData = pixels.read()
        return dataset
