"""Ask Orthanc's REST API what it stored, and compare with what we sent."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import Dataset, dcmread

from .net_samples import Sample
from .orthanc_server import Orthanc

TAGS = (
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "PatientName",
    "PatientID",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "NumberOfFrames",
)


def stored_dataset(orthanc: Orthanc, sop_instance_uid: str) -> tuple[str, Dataset]:
    """Orthanc's id and the file it stored for this SOP Instance UID."""
    instance = orthanc.instance_id(sop_instance_uid)
    assert instance is not None, f"Orthanc has no instance {sop_instance_uid}"
    return instance, dcmread(io.BytesIO(orthanc.get(f"/instances/{instance}/file").content))


def rendering(orthanc: Orthanc, instance: str, frame: int) -> np.ndarray:
    png = orthanc.get(f"/instances/{instance}/frames/{frame}/preview", headers={"Accept": "image/png"}).content
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def check_stored(orthanc: Orthanc, sample: Sample, decoded: bool = False) -> Dataset:
    """The instance exists, its tags and pixel data bytes are what we sent, Orthanc renders the source.

    ``decoded``: the object went as Explicit VR Little Endian after the peer refused
    its syntax, so the pixel data must equal pydicom's decoding of ours.
    """
    sent = dcmread(sample.path)
    instance, stored = stored_dataset(orthanc, sent.SOPInstanceUID)
    for keyword in TAGS:
        if keyword == "PhotometricInterpretation" and decoded:
            continue  # YBR_FULL_422 becomes RGB when pydicom decodes (PS3.5 8.2.1)
        assert stored.get(keyword) == sent.get(keyword), keyword
    if decoded:
        assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        sent.decompress(generate_instance_uid=False)
        assert stored.PhotometricInterpretation == sent.PhotometricInterpretation
    else:
        assert stored.file_meta.TransferSyntaxUID == sent.file_meta.TransferSyntaxUID
    # every data element, not just the ones above: the archive holds exactly what we sent
    differing = [elem.keyword or str(elem.tag) for elem in sent if stored.get(elem.tag) != elem]
    assert not differing, f"elements differ: {differing}"
    assert set(stored.keys()) == set(sent.keys())
    assert stored.PixelData == sent.PixelData, "pixel data bytes differ"
    for index, frame in enumerate(sample.frames):
        shown = rendering(orthanc, instance, index)
        assert shown.shape == frame.shape
        difference = np.abs(shown.astype(np.int16) - frame.astype(np.int16)).mean()
        assert difference <= sample.tolerance, f"frame {index}: mean difference {difference:.2f}"
    return stored


def source_unchanged(sample: Sample) -> None:
    """The file we sent is still on disk, as it was."""
    on_disk = dcmread(sample.path)
    assert on_disk.file_meta.TransferSyntaxUID == sample.dataset.file_meta.TransferSyntaxUID
    assert on_disk.PixelData == sample.dataset.PixelData


def paths(samples: list[Sample]) -> list[Path]:
    return [sample.path for sample in samples]
