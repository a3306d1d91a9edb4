"""What the server does with pictures: convert them into one series, describe, publish.

Functions here are blocking and run in the worker pool (:mod:`.work`); the web
layer (:mod:`.app`) only parses requests and shapes answers.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID

from ..api import DicomImage
from ..errors import DicomifyError, ImageTooLargeError, MetadataError, UnsupportedFormatError
from ..iod.regions import LATERALITIES, anatomic_region_item, region
from ..iod.uids import new_uid
from ..options import ConvertOptions, Iod
from .preview import render_preview

__all__ = [
    "Converted",
    "PictureChoice",
    "attributes_of",
    "convert_picture",
    "error_status",
    "picture_choices",
    "series_metadata",
]


@dataclass(frozen=True)
class PictureChoice:
    """What the person chose for one picture: body part (Annex L term) and laterality."""

    body_part: str = ""
    laterality: str = ""


@dataclass
class Converted:
    """One uploaded picture after conversion: the DICOM file, or why there is none."""

    name: str  # the client's file name, for display
    #: the .dcm files in the private area: one, or one per part of a source whose pages
    #: differ in size or kind (the library makes several objects then)
    paths: list[Path] = field(default_factory=list)
    sop_instance_uid: str = ""  # of the first object
    sop_instance_uids: list[str] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    status: int = 200  # the HTTP status the error maps to (415 format, 413 too large, 422 other)
    preview_png: bytes | None = None

    @property
    def path(self) -> Path | None:
        """The first object, or None when the picture could not be converted."""
        return self.paths[0] if self.paths else None

    def as_json(self, with_preview: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "ok": not self.error,
            "sop_instance_uid": self.sop_instance_uid,
            "sop_instance_uids": self.sop_instance_uids,
            "attributes": [{"name": name, "value": value} for name, value in self.attributes],
            "warnings": self.warnings,
            "error": self.error,
        }
        if with_preview and self.preview_png is not None:
            data["preview"] = "data:image/png;base64," + base64.b64encode(self.preview_png).decode("ascii")
        return data


def error_status(error: DicomifyError) -> int:
    """The HTTP status of a library error: the client's picture or values are at fault."""
    if isinstance(error, UnsupportedFormatError):
        return 415
    if isinstance(error, ImageTooLargeError):
        return 413
    return 422


def picture_choices(raw: Any, count: int) -> list[PictureChoice]:
    """The ``pictures`` part: a JSON list of {"body_part", "laterality"} objects, one per file.

    Raises
    ------
    MetadataError
        Not a list of objects, an unknown body part or laterality.
    """
    if raw is None:
        return [PictureChoice()] * count
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise MetadataError('pictures must be a JSON list of objects like {"body_part": "HAND", "laterality": "L"}')
    if len(raw) > count:
        raise MetadataError(f"pictures lists {len(raw)} entries for {count} files")
    choices = []
    for index, item in enumerate(raw):
        unknown = set(item) - {"body_part", "laterality"}
        if unknown:
            raise MetadataError(f"pictures[{index}]: {sorted(unknown)[0]!r} is not body_part or laterality")
        body_part = item.get("body_part") or ""
        laterality = item.get("laterality") or ""
        if not isinstance(body_part, str) or not isinstance(laterality, str):
            raise MetadataError(f"pictures[{index}]: body_part and laterality must be text")
        if body_part and region(body_part) is None:
            raise MetadataError(f"pictures[{index}]: body part {body_part!r} is not in the table (GET /api/regions)")
        laterality = laterality.strip().upper()
        if laterality and laterality not in LATERALITIES:
            raise MetadataError(f"pictures[{index}]: laterality {laterality!r} is not one of {', '.join(LATERALITIES)}")
        choices.append(PictureChoice(body_part.strip().upper(), laterality))
    return choices + [PictureChoice()] * (count - len(choices))


def series_metadata(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata for one request's pictures: one study and one series unless given."""
    metadata = {**defaults, **given}
    metadata.setdefault("StudyInstanceUID", new_uid())
    metadata.setdefault("SeriesInstanceUID", new_uid())
    return metadata


def _apply_choice(ds: Dataset, choice: PictureChoice, photo: bool) -> None:
    chosen = region(choice.body_part) if choice.body_part else None
    if chosen is not None:
        ds.BodyPartExamined = chosen.body_part
        if photo or "AnatomicRegionSequence" in ds:
            # PS3.3 C.8.12.1 (VL Image): Anatomic Region Sequence, CID 4031.
            ds.AnatomicRegionSequence = DicomSequence([anatomic_region_item(chosen)])
    if choice.laterality:
        if photo:
            # Image Laterality is per picture; then series Laterality must be absent (2C).
            ds.ImageLaterality = choice.laterality
            if "Laterality" in ds:
                del ds.Laterality
        elif choice.laterality in ("R", "L"):
            ds.Laterality = choice.laterality


def convert_picture(
    source: Path,
    name: str,
    output: Path,
    metadata: Mapping[str, Any],
    options: ConvertOptions,
    choice: PictureChoice,
    preview: bool = False,
) -> Converted:
    """Convert one uploaded file to ``output``; errors come back in ``Converted.error``.

    A picture a VL Photographic Image cannot hold (several frames, 16 bits) is made a
    Secondary Capture instead, with a warning, so a multi-page scan still goes in.
    """
    result = Converted(name)
    warnings: list[str] = []
    chosen = region(choice.body_part) if choice.body_part else None
    if chosen is not None:
        # Known before conversion: a video object takes its anatomic region from it.
        metadata = {**metadata, "BodyPartExamined": chosen.body_part}
    try:
        try:
            image = DicomImage(source, options=options, **metadata)
        except DicomifyError as error:
            if options.iod is not Iod.PHOTOGRAPHIC or "VL Photographic Image holds" not in str(error):
                raise
            options = dataclasses.replace(options, iod=Iod.SECONDARY_CAPTURE)
            image = DicomImage(source, options=options, **metadata)
            reason = str(error).split(": ", 1)[-1].split(" (use")[0]
            warnings.append(f"stored as Secondary Capture: {reason}")
        with image:
            for dataset in image.datasets:
                _apply_choice(dataset, choice, options.iod is Iod.PHOTOGRAPHIC)
            warnings.extend(image.notes)
            outputs = [Path(path) for path in image.outputs(output)]
            image.save(output)
    except DicomifyError as error:
        # The error names our private file: name the client's file instead.
        result.error = f"{name}: {error.reason}" if error.source is not None else f"{name}: {error}"
        result.status = error_status(error)
        return result
    headers = [dcmread(path, stop_before_pixels=True) for path in outputs]
    header = headers[0]
    if len(outputs) > 1:
        warnings.append(f"{len(outputs)} DICOM objects: its pages differ in size or kind (all are sent)")
    if header.get("LossyImageCompression") == "01":
        warnings.append("lossy source (JPEG): stored byte-exact, marked Lossy Image Compression 01")
    result.paths = outputs
    result.sop_instance_uid = str(header.SOPInstanceUID)
    result.sop_instance_uids = [str(h.SOPInstanceUID) for h in headers]
    result.attributes = attributes_of(header)
    result.warnings = warnings
    if preview:
        result.preview_png = render_preview(output)
    return result


_SHOWN = (
    ("Patient", "PatientName"),
    ("Patient ID", "PatientID"),
    ("Birth date", "PatientBirthDate"),
    ("Sex", "PatientSex"),
    ("Accession", "AccessionNumber"),
    ("Study date", "StudyDate"),
    ("Study", "StudyDescription"),
    ("Series", "SeriesDescription"),
    ("Modality", "Modality"),
    ("Body part", "BodyPartExamined"),
    ("Image laterality", "ImageLaterality"),
    ("Laterality", "Laterality"),
    ("Photometric", "PhotometricInterpretation"),
    ("Bits stored", "BitsStored"),
    ("Frames", "NumberOfFrames"),
)


def attributes_of(ds: Dataset) -> list[tuple[str, str]]:
    """The main attributes of a written object, as (label, text) rows for people."""
    rows: list[tuple[str, str]] = [("Object", UID(ds.SOPClassUID).name)]
    for label, keyword in _SHOWN:
        value = ds.get(keyword)
        if value is not None and str(value) != "":
            rows.append((label, str(value)))
    if "AnatomicRegionSequence" in ds and ds.AnatomicRegionSequence:
        item = ds.AnatomicRegionSequence[0]
        rows.append(("Anatomic region", f"{item.CodeMeaning} ({item.CodingSchemeDesignator} {item.CodeValue})"))
    if "Rows" in ds:  # an Encapsulated PDF has no pixels
        rows.append(("Size", f"{ds.Columns} x {ds.Rows}"))
    rows.append(("Transfer syntax", UID(ds.file_meta.TransferSyntaxUID).name))
    rows.append(("Study UID", str(ds.StudyInstanceUID)))
    rows.append(("Series UID", str(ds.SeriesInstanceUID)))
    return rows


def numbered(metadata: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The metadata of the request's ``index``-th picture (Instance Number counts from 1)."""
    result = dict(metadata)
    result.setdefault("InstanceNumber", index + 1)
    return result


def all_paths(converted: Sequence[Converted]) -> list[Path]:
    """Every object made, in order (a picture may have made several)."""
    return [path for item in converted for path in item.paths]
