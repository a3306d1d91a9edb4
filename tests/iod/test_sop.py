"""Each IOD is its modules: the elements a module writes are there exactly when it applies."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pydicom.dataset import Dataset

from dicomify.errors import MetadataError
from dicomify.iod.sop import build_dataset
from dicomify.options import ConvertOptions
from dicomify.picture import Encapsulated, FrameLayout, Picture, frames_of

NOW = dt.datetime(2026, 12, 1, 16, 0, 0)


def picture(frames: int = 1, samples: int = 1, bits: int = 8, **facts: object) -> Picture:
    layout = FrameLayout(4, 6, samples, bits, bits, "RGB" if samples == 3 else "MONOCHROME2")
    shape = (4, 6, 3) if samples == 3 else (4, 6)
    arrays = [np.zeros(shape, np.uint8 if bits == 8 else np.uint16)] * frames
    return Picture("test", layout, frames, frames_of(arrays), **facts)  # type: ignore[arg-type]


SC_EQUIPMENT = {"ConversionType", "SecondaryCaptureDeviceManufacturer", "SecondaryCaptureDeviceSoftwareVersions"}
SC_IMAGE = {"DateOfSecondaryCapture", "TimeOfSecondaryCapture"}
MULTI_FRAME = {"NumberOfFrames", "FrameIncrementPointer"}


def keywords(ds: Dataset) -> set[str]:
    return {element.keyword for element in ds}


def test_secondary_capture() -> None:
    ds = build_dataset(picture(), {}, ConvertOptions(), now=NOW)
    assert SC_EQUIPMENT | SC_IMAGE <= keywords(ds)
    assert not (MULTI_FRAME | {"AcquisitionContextSequence", "RescaleSlope"}) & keywords(ds)
    assert (ds.Modality, list(ds.ImageType), ds.BurnedInAnnotation) == ("OT", ["DERIVED", "SECONDARY"], "YES")
    assert (ds.DateOfSecondaryCapture, ds.TimeOfSecondaryCapture) == ("20261201", "160000")


def test_vl_photographic() -> None:
    ds = build_dataset(picture(samples=3), {}, ConvertOptions(iod="photo"), now=NOW)
    assert "AcquisitionContextSequence" in ds and len(ds.AcquisitionContextSequence) == 0
    assert not (SC_EQUIPMENT | SC_IMAGE) & keywords(ds)
    assert (ds.Modality, list(ds.ImageType), ds.BurnedInAnnotation) == ("XC", ["ORIGINAL", "PRIMARY"], "NO")


@pytest.mark.parametrize(
    "times, pointer, vector",
    [
        (None, 0x00182001, ("PageNumberVector", [1, 2, 3])),
        ((40.0, 40.0, 40.0), 0x00181063, ("FrameTime", 40.0)),
        ((10.0, 20.0, 30.0), 0x00181065, ("FrameTimeVector", [0.0, 10.0, 20.0])),
    ],
)
def test_multi_frame_cine_and_sc_multi_frame(times: tuple[float, ...] | None, pointer: int, vector: tuple) -> None:
    ds = build_dataset(picture(frames=3, frame_times_ms=times), {}, ConvertOptions(), now=NOW)
    assert ds.NumberOfFrames == 3 and ds.FrameIncrementPointer == pointer
    name, value = vector
    assert ds[name].value == value
    # Gray multi-frame SC says its Presentation LUT Shape and an identity rescale (C.8.6.3.1).
    assert (ds.PresentationLUTShape, ds.RescaleSlope, ds.RescaleIntercept) == ("IDENTITY", 1, 0)


def test_colour_multi_frame_has_no_gray_value_mapping() -> None:
    ds = build_dataset(picture(frames=2, samples=3), {}, ConvertOptions(), now=NOW)
    assert not {"PresentationLUTShape", "RescaleSlope"} & keywords(ds)
    assert "PlanarConfiguration" in ds


def test_single_frame_modality_lut_voi_window_and_icc() -> None:
    ds = build_dataset(picture(bits=16, rescale=(0.5, -100.0), window=(2000.0, 1000.0)), {}, ConvertOptions(), now=NOW)
    assert (ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType) == (0.5, -100, "US")
    assert (ds.WindowCenter, ds.WindowWidth) == (900, 500)  # the window mapped like the pixels
    gray = build_dataset(picture(icc_profile=b"profile"), {}, ConvertOptions(), now=NOW)
    colour = build_dataset(picture(samples=3, icc_profile=b"profile"), {}, ConvertOptions(), now=NOW)
    assert "ICCProfile" not in gray and colour.ICCProfile == b"profile"


def test_lossy_passthrough_is_labelled() -> None:
    jpeg = Encapsulated("1.2.840.10008.1.2.4.50", (b"\xff\xd8\xff\xd9",), lossy=True, lossy_method="ISO_10918_1")
    ds = build_dataset(picture(samples=3, encapsulated=jpeg), {}, ConvertOptions(), now=NOW)
    assert (ds.LossyImageCompression, ds.LossyImageCompressionMethod) == ("01", "ISO_10918_1")


def test_metadata_fills_its_modules_and_defaults_stay_type_2() -> None:
    empty = build_dataset(picture(content_datetime=dt.datetime(2020, 1, 2, 3, 4, 5)), {}, ConvertOptions(), now=NOW)
    assert (empty.PatientName, empty.PatientID, empty.AccessionNumber, empty.Laterality) == ("", "", "", "")
    assert (empty.StudyDate, empty.StudyTime, empty.ContentDate) == ("20200102", "030405", "20200102")
    assert "IssuerOfPatientID" not in empty and "StudyDescription" not in empty
    given = {"PatientName": "Doe^Jane", "StudyDescription": "x", "Modality": "XC", "InstitutionName": "Here"}
    ds = build_dataset(picture(), given, ConvertOptions(), now=NOW)
    assert (ds.PatientName, ds.StudyDescription, ds.Modality, ds.InstitutionName) == ("Doe^Jane", "x", "XC", "Here")


def test_extra_elements_are_copied_unless_dicomify_sets_them() -> None:
    extra = Dataset()
    extra.RequestedProcedureID = "R1"
    ds = build_dataset(picture(), {}, ConvertOptions(), now=NOW, elements=extra)
    assert ds.RequestedProcedureID == "R1"
    ds.RequestedProcedureID = "changed"
    assert extra.RequestedProcedureID == "R1"  # a copy, so one dataset serves many objects
    extra.Manufacturer = "Scanner Co"
    with pytest.raises(MetadataError, match="dicomify sets itself for this object: Manufacturer"):
        build_dataset(picture(), {}, ConvertOptions(), now=NOW, elements=extra)


def test_non_ascii_in_extra_elements_makes_the_object_utf8() -> None:
    item = Dataset()
    item.ScheduledProcedureStepDescription = "Größe"
    extra = Dataset()
    extra.ScheduledProcedureStepSequence = [item]
    ds = build_dataset(picture(), {}, ConvertOptions(), now=NOW, elements=extra)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert "SpecificCharacterSet" not in build_dataset(picture(), {}, ConvertOptions(), now=NOW)
