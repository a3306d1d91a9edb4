"""The batch manifest: a CSV assigning patient, study and series metadata per file.

Columns: one path column (``path``, ``file`` or ``source``) and any metadata field by
its DICOM keyword (``PatientID``, ``PatientName``, ``AccessionNumber``,
``StudyDescription`` ...). Relative paths are relative to the manifest's folder. Empty
cells set nothing. A row whose values fail validation is kept as a :class:`ManifestRow`
with its ``error`` set, so the batch reports it instead of silently dropping it; a
manifest that cannot be read at all (no path column, an unknown column) is an error.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import DicomifyError, MetadataError
from ..iod.metadata import FIELDS, validate

__all__ = ["PATH_COLUMNS", "ManifestRow", "read_manifest"]

PATH_COLUMNS = ("path", "file", "source")


@dataclass(frozen=True)
class ManifestRow:
    line: int  # line number in the CSV file (the header is line 1)
    path: str  # as resolved against the manifest's folder ("" when the cell was empty)
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def read_manifest(path: str | os.PathLike[str]) -> list[ManifestRow]:
    """Read and check every row; raise DicomifyError only when the file itself is unusable."""
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            reader = csv.DictReader(file)
            header = [name.strip() for name in (reader.fieldnames or [])]
            rows = list(reader)
    except OSError as error:
        raise DicomifyError(f"cannot read manifest {path}: {error.strerror}") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise DicomifyError(f"manifest {path} is not a readable UTF-8 CSV file ({error})") from None
    path_column = next((name for name in header if name.lower() in PATH_COLUMNS), None)
    if path_column is None:
        raise DicomifyError(f"manifest {path} has no path column; name one of the columns {', '.join(PATH_COLUMNS)}")
    unknown = [name for name in header if name != path_column and name not in FIELDS]
    if unknown:
        raise DicomifyError(
            f"manifest {path}: column(s) {', '.join(repr(u) for u in unknown)} are not metadata "
            f"fields; valid fields are: {', '.join(FIELDS)}"
        )
    result = []
    for number, raw in enumerate(rows, start=2):
        row = {(key or "").strip(): value for key, value in raw.items()}
        if None in raw:  # more cells than header columns
            result.append(ManifestRow(number, "", error=f"manifest line {number} has more cells than columns"))
            continue
        cell = (row.get(path_column) or "").strip()
        if not cell:
            result.append(ManifestRow(number, "", error=f"manifest line {number} has no path"))
            continue
        if "\x00" in cell:  # no file name holds one; os.path raises ValueError (found by fuzzing)
            result.append(ManifestRow(number, "", error=f"manifest line {number}: the path holds a NUL character"))
            continue
        file_path = os.path.normpath(os.path.join(base, os.path.expanduser(cell)))
        values = {k: v for k, v in row.items() if k != path_column and v is not None and v.strip() != ""}
        try:
            metadata = validate(values)
        except MetadataError as error:
            result.append(ManifestRow(number, file_path, error=f"manifest line {number}: {error}"))
            continue
        result.append(ManifestRow(number, file_path, metadata))
    return result
