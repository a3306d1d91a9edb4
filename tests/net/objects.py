"""DICOM objects for the delivery tests, built from pictures the tests make.

Until ``dicomify.convert`` lands these are built with pydicom directly: a native
Secondary Capture, a JPEG-baseline one wrapping Pillow's JPEG bytes unchanged,
and a multi-frame True Color Secondary Capture.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)


def picture(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """A smooth RGB test picture (gradients compress well and render predictably)."""
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    green = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    blue = np.full((height, width), (seed * 53) % 256, dtype=np.uint8)
    return np.dstack([red, green, blue])


def _base(sop_class: UID, syntax: UID, study: str, series: str, number: int) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    # SOP Common, Patient, General Study, General Series, SC Equipment, General Image
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = "Doe^John"
    ds.PatientID = "DICOMIFY-NET"
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = study
    ds.StudyDate = "20260101"
    ds.StudyTime = "120000"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "dicomify network test"
    ds.SeriesInstanceUID = series
    ds.SeriesNumber = 1
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.InstanceNumber = number
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    return ds


def native(pixels: np.ndarray, study: str, series: str, number: int = 1, sop_class: UID = SecondaryCaptureImageStorage) -> Dataset:
    ds = _base(sop_class, ExplicitVRLittleEndian, study, series, number)
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.PixelData = pixels.tobytes()
    return ds


def jpeg_bytes(pixels: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()


def jpeg(pixels: np.ndarray, study: str, series: str, number: int = 1) -> Dataset:
    """The JPEG codestream unchanged in the DICOM (PS3.5 A.4.1), YBR_FULL_422 (PS3.5 8.2.1)."""
    ds = _base(SecondaryCaptureImageStorage, JPEGBaseline8Bit, study, series, number)
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.PixelData = encapsulate([jpeg_bytes(pixels)])
    return ds


def multiframe(frames: list[np.ndarray], study: str, series: str, number: int = 1) -> Dataset:
    ds = _base(MultiFrameTrueColorSecondaryCaptureImageStorage, ExplicitVRLittleEndian, study, series, number)
    ds.Rows, ds.Columns = frames[0].shape[:2]
    ds.NumberOfFrames = len(frames)
    ds.FrameIncrementPointer = 0x00181063  # Frame Time (PS3.3 C.8.6.3)
    ds.FrameTime = 100
    ds.PixelData = b"".join(frame.tobytes() for frame in frames)
    return ds


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def batch(folder: Path, count: int = 3) -> list[Path]:
    """One study: native, JPEG passthrough and multi-frame files (cycled), in ``folder``."""
    study, series = generate_uid(), generate_uid()
    paths = []
    for index in range(count):
        kind = index % 3
        pixels = picture(seed=index)
        if kind == 0:
            ds = native(pixels, study, series, index + 1)
        elif kind == 1:
            ds = jpeg(pixels, study, series, index + 1)
        else:
            ds = multiframe([picture(seed=index + k) for k in range(3)], study, series, index + 1)
        paths.append(write(ds, folder / f"{index:03d}.dcm"))
    return paths
