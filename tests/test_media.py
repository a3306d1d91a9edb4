"""`dicomify media`: a media folder whose DICOMDIR dciodvfy and dcmtk accept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from helpers.pictures import gray8, photo
from helpers.validators import dciodvfy_errors, require_tool

import dicomify
from dicomify.errors import InputError, OutputError
from dicomify.media import write_media


def _objects(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [folder / "a.dcm", folder / "b.dcm", folder / "c.dcm"]
    dicomify.convert(photo(), paths[0], PatientID="P1", PatientName="Doe^Jane", StudyID="S1")
    dicomify.convert(gray8(), paths[1], PatientID="P1", PatientName="Doe^Jane")
    dicomify.convert(photo(), paths[2], PatientID="P2", PatientName="Roe^Rick")
    return paths


def test_media_folder_with_a_valid_dicomdir(tmp_path: Path) -> None:
    sources = _objects(tmp_path / "in")
    dicomdir = write_media(tmp_path / "usb", [tmp_path / "in"])
    assert dciodvfy_errors(dicomdir) == []
    dump = subprocess.run([require_tool("dcmdump"), str(dicomdir)], capture_output=True, text=True)
    assert dump.returncode == 0, dump.stderr
    assert dump.stdout.count("[PATIENT]") == 2 and dump.stdout.count("[IMAGE]") == 3
    records = [r for r in pydicom.dcmread(dicomdir).DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    uids = {str(pydicom.dcmread(path).SOPInstanceUID) for path in sources}
    assert {str(r.ReferencedSOPInstanceUIDInFile) for r in records} == uids
    for record in records:
        # Every referenced file exists, is valid and is the instance the record names.
        path = dicomdir.parent.joinpath(*record.ReferencedFileID)
        assert dciodvfy_errors(path) == []
        assert pydicom.dcmread(path).SOPInstanceUID == record.ReferencedSOPInstanceUIDInFile


def test_refuses_what_a_dicomdir_cannot_hold(tmp_path: Path) -> None:
    dicomify.convert(gray8(), tmp_path / "anonymous.dcm")  # no Patient ID
    with pytest.raises(InputError, match="has no Patient ID"):
        write_media(tmp_path / "usb", [tmp_path / "anonymous.dcm"])
    (tmp_path / "text.txt").write_text("x")
    with pytest.raises(InputError, match="not a DICOM file"):
        write_media(tmp_path / "usb", [tmp_path / "text.txt"])
    _objects(tmp_path / "in")
    write_media(tmp_path / "usb", [tmp_path / "in"])
    with pytest.raises(OutputError, match="already holds a DICOMDIR"):
        write_media(tmp_path / "usb", [tmp_path / "in"])


def test_cli_media(tmp_path: Path) -> None:
    _objects(tmp_path / "in")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomify",
            "media",
            str(tmp_path / "cd"),
            str(tmp_path / "in"),
            "--label",
            "PATIENT CD",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert pydicom.dcmread(tmp_path / "cd" / "DICOMDIR").FileSetID == "PATIENT CD"
