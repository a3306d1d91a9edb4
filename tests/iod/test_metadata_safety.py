"""Metadata that passes the VR check but would break the file is refused, naming the field.

A backslash in a single-valued string is read back as two values (PS3.5 6.2); control
characters are not in any string VR's repertoire but the text VRs' CR, LF and FF
(PS3.5 Table 6.2-1); a VL Photographic Image has Modality XC (PS3.3 A.32.4).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.validators import dciodvfy_errors

import dicomify
from dicomify.cli import main
from dicomify.iod.metadata import validate

PIXELS = np.zeros((4, 4, 3), np.uint8)


@pytest.mark.parametrize(
    ("keyword", "value", "words"),
    [
        ("PatientID", "12\\34", "backslash"),
        ("AccessionNumber", "A\\B", "backslash"),
        ("StudyID", "1\\2", "backslash"),
        ("PatientName", "Doe^Jane\\Roe^Ann", "backslash"),
        ("StudyDescription", "left\tarm", "U+0009"),
        ("PatientName", "Doe\tJane", "U+0009"),
        ("InstitutionName", "Clinic\x01", "U+0001"),
        ("SeriesDescription", "two\nlines", "U+000A"),
        ("ImageComments", "bell\x07", "U+0007"),
        ("ImageComments", "tab\there", "U+0009"),
        ("AccessionNumber", "del\x7f", "U+007F"),
    ],
)
def test_values_that_would_break_the_file_are_refused(keyword: str, value: str, words: str) -> None:
    with pytest.raises(dicomify.MetadataError) as raised:
        validate({keyword: value})
    assert keyword in str(raised.value) and words in str(raised.value)
    with pytest.raises(dicomify.MetadataError, match=keyword):
        dicomify.convert(PIXELS, io.BytesIO(), **{keyword: value})


def test_text_keeps_its_line_breaks_and_multi_valued_fields_their_separator(tmp_path: Path) -> None:
    target = tmp_path / "ok.dcm"
    dicomify.convert(
        PIXELS, target, ImageComments="first line\r\nsecond\\line\x0cnext page", OperatorsName="Doe^Jane\\Roe^Ann"
    )
    ds = pydicom.dcmread(target)
    assert ds.ImageComments == "first line\r\nsecond\\line\x0cnext page"
    assert [str(name) for name in ds.OperatorsName] == ["Doe^Jane", "Roe^Ann"]
    assert dciodvfy_errors(target) == []


def test_photographic_image_needs_modality_xc(tmp_path: Path) -> None:
    with pytest.raises(dicomify.MetadataError, match="Modality 'CT'.*requires XC"):
        dicomify.convert(PIXELS, io.BytesIO(), iod="photo", Modality="CT")
    target = tmp_path / "photo.dcm"
    assert dicomify.convert(PIXELS, target, iod="photo", Modality="xc").Modality == "XC"
    assert dciodvfy_errors(target) == []
    assert dicomify.convert(PIXELS, io.BytesIO(), Modality="CT").Modality == "CT"  # SC takes any
    image = dicomify.DicomImage(PIXELS, iod="photo")
    with pytest.raises(dicomify.MetadataError, match="requires XC"):
        image.update(Modality="OT")
    assert image.dataset.Modality == "XC"


def test_cli_names_the_field_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.png"
    from PIL import Image

    Image.fromarray(PIXELS).save(source)
    code = main(["convert", str(source), "-o", str(tmp_path / "out.dcm"), "--patient-id", "12\\34"])
    err = capsys.readouterr().err
    assert code != 0 and "PatientID" in err and err.count("\n") == 1
    assert not (tmp_path / "out.dcm").exists()


def test_frame_times_that_do_not_fit_their_element_are_refused() -> None:
    # 8000 frames of ~655 s each: a Frame Time Vector of ~72 KB, beyond DS's 16-bit length.
    # pydicom used to write it as UN (with a warning): a file whose frame times no one reads.
    from dicomify.iod.sop import build_dataset
    from dicomify.options import ConvertOptions
    from dicomify.picture import FrameLayout, Picture

    times = tuple(655000.0 + 10 * (i % 7) for i in range(8000))
    picture = Picture(
        source_format="GIF",
        layout=FrameLayout(2, 2, 3, 8, 8, "RGB"),
        number_of_frames=len(times),
        frames=None,
        frame_times_ms=times,
    )
    with pytest.raises(dicomify.DicomifyError, match="Frame Time Vector"):
        build_dataset(picture, {}, ConvertOptions())
    fits = Picture(
        source_format="GIF",
        layout=FrameLayout(2, 2, 3, 8, 8, "RGB"),
        number_of_frames=3,
        frames=None,
        frame_times_ms=(40.0, 50.0, 60.0),
    )
    assert [float(t) for t in build_dataset(fits, {}, ConvertOptions()).FrameTimeVector] == [0, 40, 50]


def test_sequence_items_are_checked_the_same_way() -> None:
    with pytest.raises(dicomify.MetadataError, match="OtherPatientIDsSequence item 1: PatientID .*backslash"):
        validate({"OtherPatientIDsSequence": [{"PatientID": "x\\y", "IssuerOfPatientID": "H"}]})
    with pytest.raises(dicomify.MetadataError, match="U\\+0009"):
        validate({"ProcedureCodeSequence": [{"CodeValue": "1", "CodeMeaning": "a\tb"}]})
