"""Worklist files written with pydicom, and DCMTK's wlmscpfs serving them on loopback.

Orthanc's ModalityWorklists plugin and wlmscpfs both serve a folder of ``*.wl``
files (DICOM files holding one worklist item each); the tests write the items they
query for, in the character set the test is about.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .orthanc_server import free_port

WLMSCPFS = shutil.which("wlmscpfs") or "/usr/bin/wlmscpfs"
WORKLIST_PLUGIN = Path("/usr/share/orthanc/plugins/libModalityWorklists.so")
START_TIMEOUT = 20.0


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def order(
    accession: str,
    *,
    patient_name: str = "DOE^JANE",
    patient_id: str = "PID-1",
    charset: str | list[str] | None = None,
    date: str = "20260315",
    modality: str = "XC",
    station_aet: str = "DICOMIFY",
    step_id: str | None = None,
    **extra: Any,
) -> Dataset:
    """One worklist item (a Requested Procedure with one Scheduled Procedure Step), every
    attribute of IHE RAD TF-2 Table A.1-1 filled; ``extra`` overrides by keyword."""
    item = Dataset()
    if charset is not None:
        item.SpecificCharacterSet = charset
    item.PatientName = patient_name
    item.PatientID = patient_id
    item.IssuerOfPatientID = "HOSPITAL-A"
    item.PatientBirthDate = "19800102"
    item.PatientSex = "F"
    other = Dataset()
    other.PatientID = f"{patient_id}-OLD"
    other.IssuerOfPatientID = "HOSPITAL-B"
    other.TypeOfPatientID = "TEXT"
    item.OtherPatientIDsSequence = Sequence([other])
    item.AccessionNumber = accession
    item.ReferringPhysicianName = "HOUSE^GREGORY"
    item.StudyInstanceUID = generate_uid()
    item.RequestedProcedureID = f"RP-{accession}"
    item.RequestedProcedureDescription = "Wound photography"
    item.RequestedProcedureCodeSequence = Sequence([code("WOUNDPH", "99DICOMIFY", "Wound photography")])
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = station_aet
    step.ScheduledProcedureStepStartDate = date
    step.ScheduledProcedureStepStartTime = "093000"
    step.ScheduledPerformingPhysicianName = "NURSE^NANCY"
    step.ScheduledProcedureStepDescription = "Photograph the left forearm"
    step.ScheduledProcedureStepID = step_id or f"SPS-{accession}"
    step.ScheduledProtocolCodeSequence = Sequence([code("PHOTO1", "99DICOMIFY", "Two views, ruler in frame")])
    item.ScheduledProcedureStepSequence = Sequence([step])
    for keyword, value in extra.items():
        setattr(item, keyword, value)
    return item


def write_item(folder: Path, name: str, item: Dataset) -> Path:
    """``folder/name.wl``: the item as a DICOM file both servers read."""
    folder.mkdir(parents=True, exist_ok=True)
    item = item.copy()
    item.file_meta = FileMetaDataset()
    item.file_meta.MediaStorageSOPClassUID = "1.2.276.0.7230010.3.1.0.1"  # DCMTK's worklist file class
    item.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    item.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = folder / f"{name}.wl"
    item.save_as(path, enforce_file_format=True)
    return path


class Wlmscpfs:
    """DCMTK's worklist SCP over a folder: ``folder/AET/*.wl`` answers queries to AE title AET."""

    def __init__(self, folder: Path, aet: str = "WLMSCPFS") -> None:
        self.folder = folder
        self.aet = aet
        self.items = folder / aet
        self.items.mkdir(parents=True, exist_ok=True)
        (self.items / "lockfile").touch()  # wlmscpfs wants it in every AE title's folder
        self.port = free_port()
        self.log = folder / "wlmscpfs.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Wlmscpfs:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [WLMSCPFS, "-csk", "-dfp", str(self.folder), str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wlmscpfs exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"wlmscpfs did not listen within {START_TIMEOUT} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
