"""The newer inputs in a real PACS: Orthanc stores them and gives them back unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pydicom
from helpers.video import clip
from PIL import Image

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


def test_orthanc_keeps_a_pdf_and_a_heic_photo(orthanc: Orthanc, tmp_path: Path) -> None:
    page = Image.new("RGB", (300, 400), "white")
    pdf = io.BytesIO()
    page.save(pdf, format="PDF", resolution=72, title="Consent")
    (tmp_path / "consent.pdf").write_bytes(pdf.getvalue())
    rgb = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    heic = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(rgb)).save(heic, quality=90)
    (tmp_path / "photo.heic").write_bytes(heic.getvalue())
    document = dicomify.convert(tmp_path / "consent.pdf", tmp_path / "consent.dcm", PatientID="NEW1")
    photo = dicomify.convert(tmp_path / "photo.heic", tmp_path / "photo.dcm", PatientID="NEW1")
    results = list(send_files([tmp_path / "consent.dcm", tmp_path / "photo.dcm"], destination(orthanc)))
    assert [r.status for r in results] == [SendStatus.STORED, SendStatus.STORED], [r.message for r in results]
    pdf_id = orthanc.instance_id(str(document.SOPInstanceUID))
    photo_id = orthanc.instance_id(str(photo.SOPInstanceUID))
    assert pdf_id is not None and photo_id is not None
    # Orthanc serves the encapsulated document back as the PDF it is.
    served = orthanc.get(f"/instances/{pdf_id}/pdf")
    assert served.content.rstrip(b"\0") == pdf.getvalue().rstrip(b"\0")
    stored = pydicom.dcmread(io.BytesIO(orthanc.get(f"/instances/{photo_id}/file").content))
    assert np.array_equal(stored.pixel_array, photo.pixel_array)
