"""What is sent: DICOM files found in files and folders, loaded into datasets."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError
from pydicom.misc import is_dicom
from pydicom.uid import UID

from ..errors import NetworkError
from ._result import SendResult, SendStatus

__all__ = ["Header", "Item", "SendItem", "decoded_copy", "find_dicom_files", "header_of", "load", "uid_name"]

#: a file path or an in-memory dataset (with file meta information)
SendItem = str | os.PathLike[str] | Dataset


@dataclass
class Item:
    """One object ready to send, with the facts the report needs."""

    source: str
    dataset: Dataset
    sop_class_uid: UID
    sop_instance_uid: UID
    transfer_syntax: UID
    study_instance_uid: str = ""
    series_instance_uid: str = ""

    def result(self, status: SendStatus, message: str = "", sent: str = "", code: int | None = None) -> SendResult:
        return SendResult(
            source=self.source,
            status=status,
            sop_instance_uid=str(self.sop_instance_uid),
            sop_class_uid=str(self.sop_class_uid),
            study_instance_uid=self.study_instance_uid,
            series_instance_uid=self.series_instance_uid,
            transfer_syntax=str(self.transfer_syntax),
            sent_transfer_syntax=sent,
            status_code=code,
            message=message,
        )


def _is_dicom_file(path: Path) -> bool:
    """A DICOM file (PS3.10 7.1): 128-byte preamble then ``DICM`` (pydicom's check)."""
    try:
        return is_dicom(path)
    except OSError:
        return False


def find_dicom_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Every path as given; for a folder, the DICOM files under it (recursive, sorted).

    Inside folders only files with the PS3.10 ``DICM`` prefix count, and
    DICOMDIR (a media directory, not an object to store) is left out. A named
    file is always yielded, so a non-DICOM file named on purpose is reported.
    """
    for entry in paths:
        path = Path(entry)
        if not path.is_dir():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                candidate = Path(root, name)
                if name.upper() != "DICOMDIR" and _is_dicom_file(candidate):
                    yield candidate


def _facts(source: str, dataset: Dataset) -> Item | SendResult:
    meta = getattr(dataset, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    missing = [keyword for keyword in ("SOPClassUID", "SOPInstanceUID") if keyword not in dataset]
    if syntax is None:
        missing.append("TransferSyntaxUID (file meta)")
    if missing or syntax is None:
        message = f"Not sent: the object lacks {', '.join(missing)}."
        return SendResult(source=source, status=SendStatus.FAILED, message=message)
    return Item(
        source=source,
        dataset=dataset,
        sop_class_uid=UID(dataset.SOPClassUID),
        sop_instance_uid=UID(dataset.SOPInstanceUID),
        transfer_syntax=UID(syntax),
        study_instance_uid=str(dataset.get("StudyInstanceUID", "")),
        series_instance_uid=str(dataset.get("SeriesInstanceUID", "")),
    )


def load(item: SendItem) -> Item | SendResult:
    """Read a file (or take a dataset); a file that cannot be read is a failed result."""
    if isinstance(item, Dataset):
        return _facts("", item)
    if not isinstance(item, (str, os.PathLike)):
        raise NetworkError(f"Cannot send {item!r}: give a file path or a pydicom Dataset.")
    source = os.fspath(item)
    try:
        dataset = dcmread(source)
    except (OSError, InvalidDicomError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return SendResult(
            source=source, status=SendStatus.FAILED, message=f"Not sent: cannot read {source!r}: {reason}."
        )
    except Exception as error:  # pydicom raises many kinds on damaged files
        return SendResult(
            source=source,
            status=SendStatus.FAILED,
            message=f"Not sent: {source!r} is not a readable DICOM file: {error}.",
        )
    return _facts(source, dataset)


@dataclass(frozen=True)
class Header:
    """What the report and the presentation contexts need, read without the pixel data."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    study_instance_uid: str
    series_instance_uid: str


def uid_name(uid: str) -> str:
    """``Secondary Capture Image Storage (1.2.840...)``, or the bare UID when pydicom has no name."""
    name = UID(uid).name
    return f"{name} ({uid})" if name != uid else uid


def header_of(item: SendItem) -> Header | None:
    """The object's :class:`Header` without reading pixel data, or None if it cannot be read."""
    try:
        if isinstance(item, Dataset):
            dataset = item
        else:
            dataset = dcmread(os.fspath(item), stop_before_pixels=True)
        return Header(
            str(dataset.SOPClassUID),
            str(dataset.SOPInstanceUID),
            str(dataset.file_meta.TransferSyntaxUID),
            str(dataset.get("StudyInstanceUID", "")),
            str(dataset.get("SeriesInstanceUID", "")),
        )
    except Exception:  # anything unreadable is reported when it is sent
        return None


def decoded_copy(item: Item) -> Dataset:
    """The object decoded to Explicit VR Little Endian (PS3.5 A.2), the caller's dataset untouched.

    The SOP Instance UID stays: a change of transfer syntax is the same instance
    (PS3.5 10), and the report must name the UID the archive holds.
    """
    dataset = item.dataset if item.source else copy.deepcopy(item.dataset)
    dataset.decompress(generate_instance_uid=False)
    return dataset
