"""DicomImage / convert arguments: options= and metadata= (a mapping or a pydicom Dataset),
keyword shortcuts, and a clear error for a keyword that is neither."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.pictures import photo
from helpers.validators import dciodvfy_errors
from PIL import Image
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import dicomify
from dicomify import Compression, ConvertOptions, Iod, MetadataError


@pytest.fixture
def jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo()).save(path, quality=92)
    return path


def worklist_item() -> Dataset:
    """What a Modality Worklist answer holds for one Scheduled Procedure Step."""
    item = Dataset()
    item.SpecificCharacterSet = "ISO_IR 100"
    item.PatientName = "Müller^Jörg"
    item.PatientID = "P-7"
    item.PatientBirthDate = "19800102"
    item.PatientSex = "M"
    item.PatientWeight = None  # a return key the worklist left empty
    item.AccessionNumber = "ACC-1"
    item.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    item.ReferringPhysicianName = "Who^Doctor"
    item.RequestedProcedureID = "RP-9"
    item.RequestedProcedureDescription = "Wound photo"
    step = Dataset()
    step.Modality = "XC"
    step.ScheduledStationAETitle = "CAMERA"
    step.ScheduledProcedureStepStartDate = "20261201"
    step.ScheduledProcedureStepID = "SPS-3"
    step.ScheduledProcedureStepDescription = "Left hand, Größe"
    item.ScheduledProcedureStepSequence = Sequence([step])
    return item


def test_options_and_metadata_as_objects(jpeg: Path, tmp_path: Path) -> None:
    options = ConvertOptions(iod=Iod.PHOTOGRAPHIC, decode_jpeg=True, compression=Compression.RLE)
    dataset = dicomify.convert(
        jpeg, tmp_path / "out.dcm", options=options, metadata={"PatientName": "Doe^Jane", "StudyDate": "2026-12-01"}
    )
    assert dataset.SOPClassUID == pydicom.uid.VLPhotographicImageStorage
    assert dataset.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
    assert (dataset.PatientName, dataset.StudyDate) == ("Doe^Jane", "20261201")


def test_keywords_change_options_and_override_metadata(jpeg: Path, tmp_path: Path) -> None:
    image = dicomify.DicomImage(
        jpeg,
        options=ConvertOptions(iod="photo"),
        metadata={"PatientName": "Doe^Jane", "PatientID": "1"},
        decode_jpeg=True,
        PatientID="2",
    )
    assert image.options == ConvertOptions(iod="photo", decode_jpeg=True)
    assert image.metadata == {"PatientName": "Doe^Jane", "PatientID": "2"}
    assert image.dataset.PatientID == "2"


@pytest.mark.parametrize(
    "keyword, message",
    [
        (
            "compresion",
            "unknown keyword argument 'compresion': neither a conversion option nor a metadata "
            "field; did you mean 'compression'?",
        ),
        ("PatientNmae", "did you mean 'PatientName'?"),
        ("patient_name", "did you mean 'PatientName'?"),
        (
            "PatientAge",
            "'PatientAge' is a DICOM keyword but not a metadata field dicomify takes by keyword; "
            "pass it in a pydicom Dataset as metadata=",
        ),
        ("zzzz", "neither a conversion option nor a metadata field (options: iod, compression"),
    ],
)
def test_unknown_keyword_is_named_with_the_close_match(jpeg: Path, keyword: str, message: str) -> None:
    with pytest.raises(MetadataError) as caught:
        dicomify.DicomImage(jpeg, **{keyword: "x"})
    assert message in str(caught.value)
    assert caught.value.source is None  # a mistake in the call, not in the picture


def test_unknown_field_in_the_metadata_mapping(jpeg: Path, tmp_path: Path) -> None:
    with pytest.raises(
        MetadataError, match="'StudyDescripton' is not a metadata field dicomify sets; did you mean 'StudyDescription'"
    ):
        dicomify.convert(jpeg, tmp_path / "out.dcm", metadata={"StudyDescripton": "x"})
    assert not (tmp_path / "out.dcm").exists()


def test_metadata_of_the_wrong_type(jpeg: Path) -> None:
    with pytest.raises(
        MetadataError, match="metadata must be a mapping of DICOM keywords or a pydicom Dataset, not list"
    ):
        dicomify.DicomImage(jpeg, metadata=[("PatientName", "x")])  # type: ignore[arg-type]


def test_a_worklist_item_as_metadata(jpeg: Path, tmp_path: Path) -> None:
    item = worklist_item()
    dicomify.convert(jpeg, tmp_path / "out.dcm", metadata=item, SeriesDescription="wound")
    written = pydicom.dcmread(tmp_path / "out.dcm")
    # Metadata fields go where dicomify's modules put them ...
    assert (written.PatientName, written.PatientID, written.AccessionNumber) == ("Müller^Jörg", "P-7", "ACC-1")
    assert written.StudyInstanceUID == item.StudyInstanceUID
    assert written.SeriesDescription == "wound"
    # ... every other element is copied, sequences included; empty ones are left out.
    assert written.RequestedProcedureID == "RP-9"
    step = written.ScheduledProcedureStepSequence[0]
    assert (step.ScheduledStationAETitle, step.ScheduledProcedureStepDescription) == ("CAMERA", "Left hand, Größe")
    assert "PatientWeight" not in written
    # The object's own character set, not the worklist's: its values are not Latin-1 only.
    assert written.SpecificCharacterSet == "ISO_IR 192"
    assert written.SOPInstanceUID != item.get("SOPInstanceUID")
    assert dciodvfy_errors(tmp_path / "out.dcm") == []
    # The caller's dataset is not changed and can serve the next object.
    assert "SOPClassUID" not in item and item.PatientWeight is None
    again = dicomify.DicomImage(jpeg, metadata=item)
    again.dataset.ScheduledProcedureStepSequence[0].Modality = "OT"
    assert item.ScheduledProcedureStepSequence[0].Modality == "XC"


def test_a_worklist_value_that_breaks_its_vr_is_refused(jpeg: Path, tmp_path: Path) -> None:
    item = worklist_item()
    # As a peer might send it (pydicom only warns when reading): AE has at most 16 characters.
    too_long = DataElement(0x00400001, "AE", "A" * 20, validation_mode=pydicom.config.IGNORE)
    item.ScheduledProcedureStepSequence[0].add(too_long)
    with pytest.raises(MetadataError) as caught:
        dicomify.convert(jpeg, tmp_path / "out.dcm", metadata=item)
    assert "ScheduledProcedureStepSequence[0].ScheduledStationAETitle 'AAAAAAAAAAAAAAAAAAAA'" in str(caught.value)
    assert caught.value.source == str(jpeg)
    assert not (tmp_path / "out.dcm").exists()
    item = worklist_item()
    item.PatientSex = "X"  # a metadata field: dicomify's own check
    with pytest.raises(MetadataError, match="PatientSex 'X' is not one of M, F, O"):
        dicomify.DicomImage(jpeg, metadata=item)


def test_a_dataset_describing_pixels_is_refused() -> None:
    reference = Dataset()
    reference.PatientName = "Doe^Jane"
    reference.Rows = 10
    reference.WindowCenter = 40
    with pytest.raises(MetadataError, match="describes pixels, which come from the picture: Rows, WindowCenter"):
        dicomify.DicomImage(np.zeros((4, 4), np.uint8), metadata=reference)


def test_a_dataset_element_dicomify_sets_itself_is_refused() -> None:
    reference = Dataset()
    reference.SOPClassUID = pydicom.uid.CTImageStorage
    reference.Manufacturer = "Scanner Co"
    with pytest.raises(MetadataError, match="sets itself for this object: SOPClassUID, Manufacturer"):
        dicomify.DicomImage(np.zeros((4, 4), np.uint8), metadata=reference)


def test_dataset_metadata_in_the_photographic_iod(jpeg: Path, tmp_path: Path) -> None:
    item = worklist_item()
    dicomify.convert(jpeg, tmp_path / "out.dcm", options=ConvertOptions(iod="photo"), metadata=item)
    assert dciodvfy_errors(tmp_path / "out.dcm") == []
    assert pydicom.dcmread(tmp_path / "out.dcm").Modality == "XC"


def test_convert_many_names_an_unknown_keyword(tmp_path: Path, jpeg: Path) -> None:
    with pytest.raises(MetadataError, match="unknown keyword argument 'compresion'.*did you mean 'compression'"):
        dicomify.convert_many([jpeg], tmp_path / "out", compresion="rle")
    run = dicomify.convert_many(
        [jpeg], tmp_path / "out", jobs=1, metadata={"PatientID": "7"}, decode_jpeg=True, compression="rle"
    )
    [outcome] = list(run)
    written = pydicom.dcmread(outcome.output)
    assert (written.PatientID, written.file_meta.TransferSyntaxUID) == ("7", pydicom.uid.RLELossless)


def test_order_sequences_in_a_dataset_are_metadata_fields(jpeg: Path, tmp_path: Path) -> None:
    item = worklist_item()
    request = Dataset()
    request.RequestedProcedureID = "RP-9"
    request.ScheduledProcedureStepID = "SPS-3"
    item.RequestAttributesSequence = Sequence([request])
    image = dicomify.DicomImage(jpeg, metadata=item)
    assert [r.RequestedProcedureID for r in image.metadata["RequestAttributesSequence"]] == ["RP-9"]
    image.save(tmp_path / "out.dcm")
    written = pydicom.dcmread(tmp_path / "out.dcm")
    assert written.RequestAttributesSequence[0].ScheduledProcedureStepID == "SPS-3"
    assert dciodvfy_errors(tmp_path / "out.dcm") == []
    bad = Dataset()
    bad.add(DataElement(0x00401001, "SH", "R" * 20, validation_mode=pydicom.config.IGNORE))  # SH: at most 16
    item.RequestAttributesSequence = Sequence([bad])
    with pytest.raises(MetadataError, match="RequestAttributesSequence item 1 RequestedProcedureID"):
        dicomify.DicomImage(jpeg, metadata=item)
