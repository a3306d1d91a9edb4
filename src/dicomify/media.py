"""DICOM media folders with a DICOMDIR: "burn to CD / USB for the patient".

A thin layer over pydicom's :class:`~pydicom.fileset.FileSet`, which names the files
(PS3.10 file IDs: up to eight components of eight upper-case characters) and writes the
DICOMDIR with its Patient / Study / Series / Image (or Encapsulated Document) records.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import InputError, OutputError

__all__ = ["write_media"]


def _dicom_files(sources: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    from pydicom.misc import is_dicom

    for given in map(Path, sources):
        if given.is_dir():
            for root, dirs, files in os.walk(given):
                dirs.sort()
                for name in sorted(files):
                    path = Path(root) / name
                    if name.upper() != "DICOMDIR" and is_dicom(path):
                        yield path
        elif not given.exists():
            raise InputError(f"{given}: no such file")
        elif not is_dicom(given):
            raise InputError(f"{given}: not a DICOM file (no DICM preamble)")
        else:
            yield given


def write_media(
    outdir: str | os.PathLike[str], sources: Iterable[str | os.PathLike[str]], *, label: str = "DICOMIFY"
) -> Path:
    """Write the DICOM files of ``sources`` into a media folder with a DICOMDIR.

    Parameters
    ----------
    outdir : str or PathLike
        The media folder (the root of the CD or USB stick); created when missing. It must
        not already hold a DICOMDIR.
    sources : iterable of str or PathLike
        DICOM files and folders (searched recursively; files that are not DICOM in a
        folder are passed over).
    label : str
        The File-set ID (up to 16 characters of A–Z, 0–9, space and underscore).

    Returns
    -------
    Path
        The DICOMDIR written.

    Notes
    -----
    The files are copied unchanged but for an empty Study ID, which the DICOMDIR's
    study record requires: it is set to ``1`` in the copy.

    Raises
    ------
    InputError
        A named source is missing or not DICOM, or a file lacks what a DICOMDIR record
        needs (e.g. its Patient ID).
    OutputError
        The folder already holds a DICOMDIR or cannot be written.
    """
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    root = Path(outdir)
    if (root / "DICOMDIR").exists():
        raise OutputError(f"{root}: already holds a DICOMDIR; choose an empty folder")
    files = list(_dicom_files(sources))
    if not files:
        raise InputError("no DICOM files to write")
    for path in files:
        header = dcmread(path, stop_before_pixels=True)
        if not str(header.get("PatientID", "")).strip():
            raise InputError(f"{path}: has no Patient ID, which a DICOMDIR's patient record needs")
    fileset = FileSet()
    fileset.ID = label[:16]
    try:
        for path in files:
            dataset = dcmread(path)
            if not str(dataset.get("StudyID", "")).strip():
                # Type 1 in the DICOMDIR's study record but type 2 in the images: invent one
                # (as dcmtk's dcmgpdir --invent does); it is not unique, nor does it need to be.
                dataset.StudyID = "1"
            try:
                fileset.add(dataset)
            except (ValueError, KeyError, AttributeError) as error:
                # pydicom names the missing element for the record it could not make.
                raise InputError(f"{path}: cannot be put on media ({error})") from None
        root.mkdir(parents=True, exist_ok=True)
        fileset.write(root)
    except OSError as error:
        raise OutputError(f"{root}: cannot write ({error.strerror})") from None
    except ValueError as error:
        raise OutputError(f"{root}: {error}") from None
    finally:
        # The staging folder pydicom made for the additions goes now, not at exit.
        fileset._stage["t"].cleanup()
    return root / "DICOMDIR"
