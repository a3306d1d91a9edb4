"""Building the DICOM dataset for a picture, module by module in the standard's order.

Secondary Capture Image (PS3.3 A.8.1) for single frames; the multi-frame SC IODs
(A.8.3 Grayscale Byte, A.8.4 Grayscale Word, A.8.5 True Color) for several frames;
VL Photographic Image (A.32.4) on request for clinical photos.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import BaseTag, Tag
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    VLPhotographicImageStorage,
)
from pydicom.valuerep import IS, DSfloat

from .._version import __version__
from ..errors import DicomifyError
from ..options import ConvertOptions, Iod
from ..picture import Picture
from .metadata import needs_unicode
from .uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, new_uid

__all__ = ["build_dataset", "sop_class_for"]

_MANUFACTURER = "dicomify"


# Most elements carry the same value in every file of a batch (patient, study, equipment,
# geometry). pydicom converts and validates each value as it is set (~15 us an element);
# a value already converted once is reused, in a fresh element, so a file pays that only
# for what differs (UIDs, times). Only immutable converted values (str, int, float and
# their pydicom subclasses) are reused; the first occurrence is validated as always.
_KEYWORD_TAGS: dict[str, tuple[BaseTag, str]] = {}
_CONVERTED: dict[tuple[int, type, Any], Any] = {}
_CONVERTED_MAX = 2048
_IMMUTABLE = frozenset({str, int, float, UID, IS, DSfloat, BaseTag})


def _put(ds: Dataset, keyword: str, value: Any) -> None:
    """``setattr(ds, keyword, value)`` for a new element, reusing a converted value."""
    entry = _KEYWORD_TAGS.get(keyword)
    if entry is None:
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"{keyword} is not a DICOM keyword")
        entry = _KEYWORD_TAGS[keyword] = (Tag(tag), dictionary_VR(tag))
    tag, vr = entry
    if not isinstance(value, (str, int, float)) or tag in ds:
        setattr(ds, keyword, value)
        return
    key = (tag, type(value), value)
    converted = _CONVERTED.get(key, _CONVERTED)
    if converted is not _CONVERTED:
        ds[tag] = DataElement(tag, vr, converted, already_converted=True)
        return
    element = DataElement(tag, vr, value)
    ds[tag] = element
    if type(element.value) in _IMMUTABLE:
        if len(_CONVERTED) >= _CONVERTED_MAX:
            _CONVERTED.clear()
        _CONVERTED[key] = element.value


def _put_sequences(ds: Dataset, metadata: Mapping[str, Any], keywords: tuple[str, ...]) -> None:
    """The order's sequences (IHE RAD TF-2 Table A.1-1), copied so objects never share items."""
    for keyword in keywords:
        if metadata.get(keyword):
            setattr(ds, keyword, copy.deepcopy(metadata[keyword]))


def sop_class_for(picture: Picture, iod: Iod) -> str:
    """The SOP Class that can hold this picture, or a DicomifyError saying why none can."""
    layout = picture.layout
    if iod is Iod.PHOTOGRAPHIC:
        if picture.number_of_frames > 1:
            raise DicomifyError(
                f"a VL Photographic Image holds one frame; this {picture.source_format} has "
                f"{picture.number_of_frames} (use the default Secondary Capture)"
            )
        if layout.bits_allocated != 8:
            raise DicomifyError(
                "a VL Photographic Image holds 8-bit samples; this picture has "
                f"{layout.bits_stored}-bit samples (use the default Secondary Capture)"
            )
        return VLPhotographicImageStorage
    if picture.number_of_frames == 1:
        return SecondaryCaptureImageStorage
    if layout.samples_per_pixel == 3:
        if layout.bits_allocated != 8:
            raise DicomifyError(
                "multi-frame True Color Secondary Capture holds 8-bit colour only; this "
                f"{picture.source_format} has {picture.number_of_frames} frames of "
                f"{layout.bits_stored}-bit colour (convert one page with --page N)"
            )
        return MultiFrameTrueColorSecondaryCaptureImageStorage
    if layout.bits_allocated == 8:
        return MultiFrameGrayscaleByteSecondaryCaptureImageStorage
    return MultiFrameGrayscaleWordSecondaryCaptureImageStorage


def _da(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d")


def _tm(moment: dt.datetime) -> str:
    return moment.strftime("%H%M%S")


def build_dataset(
    picture: Picture,
    metadata: Mapping[str, Any],
    options: ConvertOptions,
    now: dt.datetime | None = None,
) -> Dataset:
    """A complete dataset without Pixel Data (the encoder adds it)."""
    sop_class = sop_class_for(picture, options.iod)
    now = now or dt.datetime.now()
    content_time = picture.content_datetime or now
    photo = options.iod is Iod.PHOTOGRAPHIC
    multi_frame = picture.number_of_frames > 1
    layout = picture.layout
    ds = Dataset()

    # SOP Common (C.12.1); Specific Character Set first so values encode correctly.
    if needs_unicode(metadata.values()):
        _put(ds, "SpecificCharacterSet", "ISO_IR 192")  # UTF-8, PS3.5 6.1.2.5.3
    _put(ds, "SOPClassUID", sop_class)
    _put(ds, "SOPInstanceUID", new_uid())
    _put(ds, "InstanceCreationDate", _da(now))
    _put(ds, "InstanceCreationTime", _tm(now))

    # Patient (C.7.1.1): type 2, present even when empty.
    _put(ds, "PatientName", metadata.get("PatientName", ""))
    _put(ds, "PatientID", metadata.get("PatientID", ""))
    if "IssuerOfPatientID" in metadata:
        _put(ds, "IssuerOfPatientID", metadata["IssuerOfPatientID"])
    _put(ds, "PatientBirthDate", metadata.get("PatientBirthDate", ""))
    _put(ds, "PatientSex", metadata.get("PatientSex", ""))
    _put_sequences(ds, metadata, ("OtherPatientIDsSequence",))

    # General Study (C.7.2.1).
    _put(ds, "StudyInstanceUID", metadata.get("StudyInstanceUID") or new_uid())
    _put(ds, "StudyDate", metadata.get("StudyDate", _da(content_time)))
    _put(ds, "StudyTime", metadata.get("StudyTime", _tm(content_time)))
    _put(ds, "ReferringPhysicianName", metadata.get("ReferringPhysicianName", ""))
    _put(ds, "StudyID", metadata.get("StudyID", ""))
    _put(ds, "AccessionNumber", metadata.get("AccessionNumber", ""))
    if metadata.get("StudyDescription"):
        _put(ds, "StudyDescription", metadata["StudyDescription"])
    _put_sequences(ds, metadata, ("IssuerOfAccessionNumberSequence", "ReferencedStudySequence", "ProcedureCodeSequence"))

    # General Series (C.7.3.1).
    _put(ds, "Modality", metadata.get("Modality") or ("XC" if photo else "OT"))
    _put(ds, "SeriesInstanceUID", metadata.get("SeriesInstanceUID") or new_uid())
    _put(ds, "SeriesNumber", metadata.get("SeriesNumber", 1))
    for keyword in ("SeriesDate", "SeriesTime", "SeriesDescription", "BodyPartExamined", "OperatorsName"):
        if metadata.get(keyword):
            _put(ds, keyword, metadata[keyword])
    # Laterality (2C) is required for paired body parts; dciodvfy wants it present for
    # SC, empty meaning "unknown" (a warning, not an error).
    _put(ds, "Laterality", metadata.get("Laterality", ""))
    _put_sequences(ds, metadata, ("RequestAttributesSequence", "PerformedProtocolCodeSequence"))

    # General Equipment (C.7.5.1) and, for SC, SC Equipment (C.8.6.1).
    _put(ds, "Manufacturer", _MANUFACTURER)
    for keyword in ("InstitutionName", "InstitutionalDepartmentName"):
        if metadata.get(keyword):
            _put(ds, keyword, metadata[keyword])
    _put(ds, "SoftwareVersions", __version__)
    if not photo:
        _put(ds, "ConversionType", metadata.get("ConversionType", "WSD"))
        _put(ds, "SecondaryCaptureDeviceManufacturer", _MANUFACTURER)
        _put(ds, "SecondaryCaptureDeviceManufacturerModelName", _MANUFACTURER)
        _put(ds, "SecondaryCaptureDeviceSoftwareVersions", __version__)

    # General Image (C.7.6.1) and VL Image (C.8.12.1) / SC Image (C.8.6.2).
    _put(ds, "InstanceNumber", metadata.get("InstanceNumber", 1))
    _put(ds, "PatientOrientation", "")
    _put(ds, "ContentDate", metadata.get("ContentDate", _da(content_time)))
    _put(ds, "ContentTime", metadata.get("ContentTime", _tm(content_time)))
    _put(ds, "ImageType", ["ORIGINAL", "PRIMARY"] if photo else ["DERIVED", "SECONDARY"])
    if metadata.get("ImageComments"):
        _put(ds, "ImageComments", metadata["ImageComments"])
    if photo:
        _put(ds, "AcquisitionContextSequence", [])  # Acquisition Context (C.7.6.14), type 2
    else:
        _put(ds, "DateOfSecondaryCapture", _da(now))
        _put(ds, "TimeOfSecondaryCapture", _tm(now))
    encapsulated = picture.encapsulated
    if encapsulated is not None and encapsulated.lossy:
        _put(ds, "LossyImageCompression", "01")
        _put(ds, "LossyImageCompressionMethod", encapsulated.lossy_method)
    else:
        _put(ds, "LossyImageCompression", "00")
    _put(ds, "BurnedInAnnotation", "NO" if photo else "YES")

    # Image Pixel (C.7.6.3); Pixel Data is added by the encoder.
    _put(ds, "SamplesPerPixel", layout.samples_per_pixel)
    _put(ds, "PhotometricInterpretation", layout.photometric)
    if layout.samples_per_pixel == 3:
        _put(ds, "PlanarConfiguration", 0)
    _put(ds, "Rows", layout.rows)
    _put(ds, "Columns", layout.columns)
    _put(ds, "BitsAllocated", layout.bits_allocated)
    _put(ds, "BitsStored", layout.bits_stored)
    _put(ds, "HighBit", layout.bits_stored - 1)
    _put(ds, "PixelRepresentation", 1 if layout.signed else 0)
    if picture.icc_profile and layout.samples_per_pixel == 3:
        _put(ds, "ICCProfile", picture.icc_profile)  # ICC Profile module (C.11.15)

    if multi_frame:
        _add_multi_frame(ds, picture)
    elif picture.rescale is not None:
        # Modality LUT (C.11.1): restores the source's sample values.
        _put(ds, "RescaleIntercept", _ds(picture.rescale[1]))
        _put(ds, "RescaleSlope", _ds(picture.rescale[0]))
        _put(ds, "RescaleType", "US")
    if picture.window is not None and layout.samples_per_pixel == 1:
        _add_voi_window(ds, picture)

    ds.file_meta = _file_meta(ds)
    return ds


def _ds(value: float) -> str:
    """A Decimal String of at most 16 characters (PS3.5 6.2)."""
    from pydicom.valuerep import format_number_as_ds

    return format_number_as_ds(float(value))


def _add_multi_frame(ds: Dataset, picture: Picture) -> None:
    """Multi-frame (C.7.6.6), Cine (C.7.6.5) and SC Multi-frame Image (C.8.6.3)."""
    _put(ds, "NumberOfFrames", picture.number_of_frames)
    times = picture.frame_times_ms
    if times is not None and len(set(times)) == 1:
        _put(ds, "FrameTime", _ds(times[0]))
        _put(ds, "FrameIncrementPointer", 0x00181063)  # Frame Time
    elif times is not None:
        # Increments between frames: the first frame has 0, then each frame's
        # predecessor's display time (PS3.3 C.7.6.5.1.2).
        _put(ds, "FrameTimeVector", [_ds(0)] + [_ds(t) for t in times[:-1]])
        _put(ds, "FrameIncrementPointer", 0x00181065)  # Frame Time Vector
    else:
        _put(ds, "PageNumberVector", list(range(1, picture.number_of_frames + 1)))
        _put(ds, "FrameIncrementPointer", 0x00182001)  # Page Number Vector
    if picture.layout.samples_per_pixel == 1:
        _put(ds, "PresentationLUTShape", "IDENTITY")
        slope, intercept = picture.rescale or (1.0, 0.0)
        _put(ds, "RescaleIntercept", _ds(intercept))
        _put(ds, "RescaleSlope", _ds(slope))
        _put(ds, "RescaleType", "US")


def _add_voi_window(ds: Dataset, picture: Picture) -> None:
    """VOI LUT (C.11.2): the window that shows the picture as its source displays.

    The window is given in stored values; a Modality LUT maps it like the pixels.
    """
    assert picture.window is not None
    center, width = picture.window
    slope, intercept = picture.rescale or (1.0, 0.0)
    _put(ds, "WindowCenter", _ds(center * slope + intercept))
    _put(ds, "WindowWidth", _ds(max(width * slope, 1.0)))
    _put(ds, "VOILUTFunction", "LINEAR")


def _file_meta(ds: Dataset) -> FileMetaDataset:
    meta = FileMetaDataset()
    _put(meta, "MediaStorageSOPClassUID", ds.SOPClassUID)
    _put(meta, "MediaStorageSOPInstanceUID", ds.SOPInstanceUID)
    _put(meta, "TransferSyntaxUID", ExplicitVRLittleEndian)
    _put(meta, "ImplementationClassUID", UID(IMPLEMENTATION_CLASS_UID))
    _put(meta, "ImplementationVersionName", IMPLEMENTATION_VERSION_NAME)
    return meta
