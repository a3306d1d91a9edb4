"""DICOM files for the delivery tests, converted by ``dicomify.convert`` from pictures made here.

Kinds: ``native`` (PNG -> Explicit VR Little Endian), ``jpeg`` (JPEG bytes passed
through unchanged), ``multiframe`` (a 3-page TIFF -> one multi-frame object) and
``jpegls`` (PNG -> JPEG-LS lossless, a second compressed syntax).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import Dataset, dcmread
from pydicom.uid import generate_uid

import dicomify

KINDS = ("native", "jpeg", "multiframe", "jpegls")


def picture(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """A smooth RGB picture (gradients survive JPEG and render predictably)."""
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    green = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    blue = np.full((height, width), (seed * 53) % 256, dtype=np.uint8)
    return np.dstack([red, green, blue])


@dataclass
class Sample:
    path: Path
    kind: str
    frames: list[np.ndarray]  # the source picture(s), as a viewer shows them
    tolerance: float  # mean absolute difference allowed when comparing renderings
    dataset: Dataset = field(repr=False, default_factory=Dataset)


def make(folder: Path, kind: str, seed: int = 0, name: str | None = None, **metadata: str) -> Sample:
    """Make the picture for ``kind`` and convert it with dicomify into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"{kind}-{seed}"
    metadata = {"PatientName": "Doe^John", "PatientID": "DICOMIFY-NET", **metadata}
    target = folder / f"{stem}.dcm"
    if kind == "multiframe":
        frames = [picture(seed=seed + k) for k in range(3)]
        images = [Image.fromarray(frame) for frame in frames]
        source = folder / f"{stem}.tif"
        images[0].save(source, save_all=True, append_images=images[1:])
        dataset = dicomify.convert(source, target, **metadata)
        return Sample(target, kind, frames, 0.0, dataset)
    frames = [picture(seed=seed)]
    if kind == "jpeg":
        source = folder / f"{stem}.jpg"
        Image.fromarray(frames[0]).save(source, quality=92)
        dataset = dicomify.convert(source, target, **metadata)
        return Sample(target, kind, frames, 3.0, dataset)
    source = folder / f"{stem}.png"
    Image.fromarray(frames[0]).save(source)
    options = {"compression": "jpeg-ls"} if kind == "jpegls" else {}
    dataset = dicomify.convert(source, target, **options, **metadata)
    return Sample(target, kind, frames, 0.0, dataset)


def batch(folder: Path, kinds: tuple[str, ...] = ("native", "jpeg", "multiframe"), **metadata: str) -> list[Sample]:
    """One file of each kind, all in one study and series."""
    metadata = {"StudyInstanceUID": generate_uid(), "SeriesInstanceUID": generate_uid(), **metadata}
    return [make(folder, kind, seed=index, **metadata) for index, kind in enumerate(kinds)]


def with_sop_class(sample: Sample, sop_class: str, path: Path) -> Path:
    """A copy of ``sample`` claiming another SOP class (and a fresh SOP Instance UID)."""
    dataset = dcmread(sample.path)
    dataset = copy.deepcopy(dataset)
    dataset.SOPClassUID = sop_class
    dataset.file_meta.MediaStorageSOPClassUID = sop_class
    dataset.SOPInstanceUID = generate_uid()
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path, enforce_file_format=True)
    return path
