"""One function per DICOM module: each fills its module's elements into a dataset.

The IODs in :mod:`dicomify.iod.sop` are compositions of these, in the standard's
order. Each function takes only what its module needs: the validated metadata
(DICOM keyword -> value), the picture, or a few facts about the object. Type 2
elements (PS3.5 7.4) are always written, empty when there is no value.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset

from .._version import __version__
from ..errors import DicomifyError
from ..picture import Encapsulated, FrameLayout, Picture
from ._elements import da, decimal, put, tm
from .uids import new_uid

__all__ = [
    "MANUFACTURER",
    "acquisition_context",
    "cine",
    "general_equipment",
    "general_image",
    "general_series",
    "general_study",
    "icc_profile",
    "image_pixel",
    "modality_lut",
    "multi_frame",
    "patient",
    "sc_equipment",
    "sc_image",
    "sc_multi_frame_image",
    "sop_common",
    "voi_lut",
]

MANUFACTURER = "dicomify"

Values = Mapping[str, Any]  # validated metadata: DICOM keyword -> value

# Frame Increment Pointer values: the attribute that says how frames follow each other.
_FRAME_TIME = 0x00181063
_FRAME_TIME_VECTOR = 0x00181065
_PAGE_NUMBER_VECTOR = 0x00182001


def _optional(ds: Dataset, metadata: Values, *keywords: str) -> None:
    """Type 3 elements: written only when the metadata has a non-empty value."""
    for keyword in keywords:
        if metadata.get(keyword):
            put(ds, keyword, metadata[keyword])


def _sequences(ds: Dataset, metadata: Values, *keywords: str) -> None:
    """An order's sequences (IHE RAD TF-2 Table A.1-1), copied so objects never share items."""
    for keyword in keywords:
        if metadata.get(keyword):
            setattr(ds, keyword, copy.deepcopy(metadata[keyword]))


def sop_common(ds: Dataset, sop_class: str, now: dt.datetime, unicode: bool) -> None:
    """SOP Common (C.12.1); Specific Character Set first, so text values encode right.

    ``unicode``: some text value is not ASCII, so the object is UTF-8 (ISO_IR 192,
    PS3.5 6.1.2.5.3).
    """
    if unicode:
        put(ds, "SpecificCharacterSet", "ISO_IR 192")
    put(ds, "SOPClassUID", sop_class)
    put(ds, "SOPInstanceUID", new_uid())
    put(ds, "InstanceCreationDate", da(now))
    put(ds, "InstanceCreationTime", tm(now))


def patient(ds: Dataset, metadata: Values) -> None:
    """Patient (C.7.1.1): name, ID, birth date and sex are type 2, present even when empty."""
    put(ds, "PatientName", metadata.get("PatientName", ""))
    put(ds, "PatientID", metadata.get("PatientID", ""))
    if "IssuerOfPatientID" in metadata:
        put(ds, "IssuerOfPatientID", metadata["IssuerOfPatientID"])
    put(ds, "PatientBirthDate", metadata.get("PatientBirthDate", ""))
    put(ds, "PatientSex", metadata.get("PatientSex", ""))
    _sequences(ds, metadata, "OtherPatientIDsSequence")


def general_study(ds: Dataset, metadata: Values, content_time: dt.datetime) -> None:
    """General Study (C.7.2.1): a new Study Instance UID unless one is given.

    Study Date and Time default to when the picture was made (``content_time``).
    """
    put(ds, "StudyInstanceUID", metadata.get("StudyInstanceUID") or new_uid())
    put(ds, "StudyDate", metadata.get("StudyDate", da(content_time)))
    put(ds, "StudyTime", metadata.get("StudyTime", tm(content_time)))
    put(ds, "ReferringPhysicianName", metadata.get("ReferringPhysicianName", ""))
    put(ds, "StudyID", metadata.get("StudyID", ""))
    put(ds, "AccessionNumber", metadata.get("AccessionNumber", ""))
    _optional(ds, metadata, "StudyDescription")
    _sequences(ds, metadata, "IssuerOfAccessionNumberSequence", "ReferencedStudySequence", "ProcedureCodeSequence")


def general_series(ds: Dataset, metadata: Values, modality: str) -> None:
    """General Series (C.7.3.1); ``modality`` is the IOD's default Modality."""
    put(ds, "Modality", metadata.get("Modality") or modality)
    put(ds, "SeriesInstanceUID", metadata.get("SeriesInstanceUID") or new_uid())
    put(ds, "SeriesNumber", metadata.get("SeriesNumber", 1))
    _optional(ds, metadata, "SeriesDate", "SeriesTime", "SeriesDescription", "BodyPartExamined", "OperatorsName")
    # Laterality (2C) is required for paired body parts; dciodvfy wants it present for
    # SC, empty meaning "unknown" (a warning, not an error).
    put(ds, "Laterality", metadata.get("Laterality", ""))
    _sequences(ds, metadata, "RequestAttributesSequence", "PerformedProtocolCodeSequence")


def general_equipment(ds: Dataset, metadata: Values) -> None:
    """General Equipment (C.7.5.1): dicomify is the manufacturer of the object."""
    put(ds, "Manufacturer", MANUFACTURER)
    _optional(ds, metadata, "InstitutionName", "InstitutionalDepartmentName")
    put(ds, "SoftwareVersions", __version__)


def sc_equipment(ds: Dataset, metadata: Values) -> None:
    """SC Equipment (C.8.6.1): Conversion Type WSD (workstation) unless given."""
    put(ds, "ConversionType", metadata.get("ConversionType", "WSD"))
    put(ds, "SecondaryCaptureDeviceManufacturer", MANUFACTURER)
    put(ds, "SecondaryCaptureDeviceManufacturerModelName", MANUFACTURER)
    put(ds, "SecondaryCaptureDeviceSoftwareVersions", __version__)


def general_image(
    ds: Dataset,
    metadata: Values,
    content_time: dt.datetime,
    encapsulated: Encapsulated | None,
    image_type: tuple[str, str],
    burned_in_annotation: bool,
) -> None:
    """General Image (C.7.6.1), with the lossy compression history of passthrough JPEG.

    ``image_type`` is Image Type's first two values; ``burned_in_annotation`` whether
    the pixels may show identifying text (a screenshot may, a clinical photo not).
    """
    put(ds, "InstanceNumber", metadata.get("InstanceNumber", 1))
    put(ds, "PatientOrientation", "")
    put(ds, "ContentDate", metadata.get("ContentDate", da(content_time)))
    put(ds, "ContentTime", metadata.get("ContentTime", tm(content_time)))
    put(ds, "ImageType", list(image_type))
    _optional(ds, metadata, "ImageComments")
    if encapsulated is not None and encapsulated.lossy:
        # C.7.6.1.1.5: once lossy, always "01"; the ratio is added with the pixels.
        put(ds, "LossyImageCompression", "01")
        put(ds, "LossyImageCompressionMethod", encapsulated.lossy_method)
    else:
        put(ds, "LossyImageCompression", "00")
    put(ds, "BurnedInAnnotation", "YES" if burned_in_annotation else "NO")


def acquisition_context(ds: Dataset) -> None:
    """Acquisition Context (C.7.6.14): type 2, so an empty sequence (nothing is known)."""
    put(ds, "AcquisitionContextSequence", [])


def sc_image(ds: Dataset, now: dt.datetime) -> None:
    """SC Image (C.8.6.2): when the capture (this conversion) happened."""
    put(ds, "DateOfSecondaryCapture", da(now))
    put(ds, "TimeOfSecondaryCapture", tm(now))


def image_pixel(ds: Dataset, layout: FrameLayout) -> None:
    """Image Pixel (C.7.6.3) without Pixel Data, which the encoder adds.

    Colour is interleaved (Planar Configuration 0); samples are unsigned unless the
    layout says they are two's complement.
    """
    put(ds, "SamplesPerPixel", layout.samples_per_pixel)
    put(ds, "PhotometricInterpretation", layout.photometric)
    if layout.samples_per_pixel == 3:
        put(ds, "PlanarConfiguration", 0)
    put(ds, "Rows", layout.rows)
    put(ds, "Columns", layout.columns)
    put(ds, "BitsAllocated", layout.bits_allocated)
    put(ds, "BitsStored", layout.bits_stored)
    put(ds, "HighBit", layout.bits_stored - 1)
    put(ds, "PixelRepresentation", 1 if layout.signed else 0)


def icc_profile(ds: Dataset, picture: Picture) -> None:
    """ICC Profile (C.11.15): the source's colour profile, for colour pictures only."""
    if picture.icc_profile and picture.layout.samples_per_pixel == 3:
        put(ds, "ICCProfile", picture.icc_profile)


def modality_lut(ds: Dataset, rescale: tuple[float, float] | None) -> None:
    """Modality LUT (C.11.1): ``(slope, intercept)`` restoring the source's sample values."""
    if rescale is not None:
        put(ds, "RescaleIntercept", decimal(rescale[1]))
        put(ds, "RescaleSlope", decimal(rescale[0]))
        put(ds, "RescaleType", "US")


def voi_lut(ds: Dataset, picture: Picture) -> None:
    """VOI LUT (C.11.2): the window that shows a gray picture as its source displays.

    The window is given in stored values; a Modality LUT maps it like the pixels.
    """
    if picture.window is None or picture.layout.samples_per_pixel != 1:
        return
    center, width = picture.window
    slope, intercept = picture.rescale or (1.0, 0.0)
    put(ds, "WindowCenter", decimal(center * slope + intercept))
    put(ds, "WindowWidth", decimal(max(width * slope, 1.0)))
    put(ds, "VOILUTFunction", "LINEAR")


def multi_frame(ds: Dataset, number_of_frames: int) -> None:
    """Multi-frame (C.7.6.6); the Frame Increment Pointer is set by the IOD's own module."""
    put(ds, "NumberOfFrames", number_of_frames)


# The longest value a VR with a 16-bit length field can hold (PS3.5 7.1.2).
_MAX_SHORT_VALUE = 65534


def cine(ds: Dataset, frame_times_ms: tuple[float, ...] | None) -> None:
    """Cine (C.7.6.5), for animations: one Frame Time, or a vector when frames differ."""
    if frame_times_ms is None:
        return
    if len(set(frame_times_ms)) == 1:
        put(ds, "FrameTime", decimal(frame_times_ms[0]))
    else:
        # Increments between frames: the first frame has 0, then each frame's
        # predecessor's display time (PS3.3 C.7.6.5.1.2).
        vector = [decimal(0)] + [decimal(t) for t in frame_times_ms[:-1]]
        if sum(len(v) + 1 for v in vector) - 1 > _MAX_SHORT_VALUE:
            # DS has a 16-bit length in Explicit VR (PS3.5 7.1.2); pydicom would turn the
            # element into UN, which no viewer reads as frame times.
            raise DicomifyError(
                f"the display times of {len(vector)} frames do not fit DICOM's Frame Time Vector "
                f"({_MAX_SHORT_VALUE} bytes); convert fewer frames (--page N, --max-frames)"
            )
        put(ds, "FrameTimeVector", vector)


def sc_multi_frame_image(ds: Dataset, picture: Picture) -> None:
    """SC Multi-frame Image (C.8.6.3): how frames follow each other; gray's value mapping.

    Frames follow in time (the Cine module's Frame Time or Frame Time Vector) or, for
    pages, by Page Number Vector. Gray objects must say their Presentation LUT Shape and
    Rescale (C.8.6.3.1): identity unless the picture's values were rescaled.
    """
    times = picture.frame_times_ms
    if times is not None and len(set(times)) == 1:
        put(ds, "FrameIncrementPointer", _FRAME_TIME)
    elif times is not None:
        put(ds, "FrameIncrementPointer", _FRAME_TIME_VECTOR)
    else:
        put(ds, "PageNumberVector", list(range(1, picture.number_of_frames + 1)))
        put(ds, "FrameIncrementPointer", _PAGE_NUMBER_VECTOR)
    if picture.layout.samples_per_pixel == 1:
        put(ds, "PresentationLUTShape", "IDENTITY")
        modality_lut(ds, picture.rescale or (1.0, 0.0))
