"""A video object goes into Orthanc and comes back as the same playable stream."""

from __future__ import annotations

from pathlib import Path

import pydicom
from helpers.video import clip

import dicomify
from dicomify.net import SendStatus, send_files

from .orthanc_server import Orthanc
from .test_dimse import destination

REGION = [{"CodeValue": "85050009", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Upper arm"}]


def test_orthanc_stores_and_serves_the_video(orthanc: Orthanc, tmp_path: Path) -> None:
    source = clip(tmp_path / "wound.mp4", options={"profile": "high", "level": "4.1"})
    dicomify.convert(source, tmp_path / "wound.dcm", PatientID="VID1", AnatomicRegionSequence=REGION)
    [result] = list(send_files([tmp_path / "wound.dcm"], destination(orthanc)))
    assert result.status is SendStatus.STORED, result.message
    uid = str(pydicom.dcmread(tmp_path / "wound.dcm").SOPInstanceUID)
    instance = orthanc.instance_id(uid)
    assert instance is not None
    tags = orthanc.json(f"/instances/{instance}/simplified-tags")
    assert tags["NumberOfFrames"] == "12" and tags["PatientID"] == "VID1"
    served = orthanc.get(f"/instances/{instance}/frames/0/raw")
    assert served.status_code == 200
    assert served.content.rstrip(b"\0") == source.read_bytes().rstrip(b"\0")
