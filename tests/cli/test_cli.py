"""The command line: every option, metadata sources, stdin/stdout, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.pictures import photo
from helpers.validators import dciodvfy_errors
from PIL import Image

import dicomify
from dicomify.cli import main


@pytest.fixture
def jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo()).save(path, quality=92)
    return path


@pytest.fixture
def rgba(tmp_path: Path) -> Path:
    path = tmp_path / "alpha.png"
    Image.fromarray(np.dstack([photo(), np.zeros(photo().shape[:2], np.uint8)]), "RGBA").save(path)
    return path


def run(*argv: str) -> int:
    return main(list(argv))


def test_metadata_flags(jpeg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.dcm"
    code = run(
        "convert", str(jpeg), "-o", str(out),
        "--patient-name", "Doe^Jane", "--patient-id", "P-1", "--birth-date", "1980-02-29", "--sex", "f",
        "--study-uid", "1.2.3.4", "--study-date", "20240102", "--study-time", "10:11:12",
        "--study-description", "Dermatology", "--study-id", "S1", "--accession-number", "A-42",
        "--referring-physician", "Who^Doctor", "--series-uid", "1.2.3.4.5", "--series-number", "7",
        "--series-description", "Left arm", "--modality", "xc", "--instance-number", "3",
        "--institution", "St. Elsewhere", "--set", "BodyPartExamined=ARM", "--laterality", "L",
    )  # fmt: skip
    assert code == 0
    ds = pydicom.dcmread(out)
    assert str(ds.PatientName) == "Doe^Jane" and ds.PatientID == "P-1"
    assert ds.PatientBirthDate == "19800229" and ds.PatientSex == "F"
    assert ds.StudyInstanceUID == "1.2.3.4" and ds.StudyDate == "20240102" and ds.StudyTime == "101112"
    assert ds.StudyDescription == "Dermatology" and ds.StudyID == "S1" and ds.AccessionNumber == "A-42"
    assert str(ds.ReferringPhysicianName) == "Who^Doctor"
    assert ds.SeriesInstanceUID == "1.2.3.4.5" and ds.SeriesNumber == 7 and ds.SeriesDescription == "Left arm"
    assert ds.Modality == "XC" and ds.InstanceNumber == 3 and ds.InstitutionName == "St. Elsewhere"
    assert ds.BodyPartExamined == "ARM" and ds.Laterality == "L"
    assert dciodvfy_errors(out) == []


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--birth-date", "1980-02-30"], "PatientBirthDate"),
        (["--sex", "X"], "PatientSex"),
        (["--patient-id", "x" * 65], "64"),
        (["--study-uid", "1.2.abc"], "StudyInstanceUID"),
        (["--study-time", "25:00"], "StudyTime"),
        (["--series-number", "seven"], "SeriesNumber"),
        (["--accession-number", "A" * 17], "16"),
        (["--patient-name", "a^b^c^d^e^f"], "five"),
        (["--set", "Foo=bar"], "not a metadata field"),
        (["--set", "PatientName"], "KEYWORD=VALUE"),
    ],
)
def test_bad_metadata_is_refused(
    flags: list[str], words: str, jpeg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.dcm"
    assert run("convert", str(jpeg), "-o", str(out), *flags) == 2  # a bad flag value is a usage error
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not out.exists()


def test_metadata_json_file(jpeg: Path, tmp_path: Path) -> None:
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"PatientName": "Ōno^Yōko", "PatientID": "J-9", "AccessionNumber": "X1"}))
    out = tmp_path / "out.dcm"
    assert run("convert", str(jpeg), "-o", str(out), "--metadata", str(meta), "--patient-id", "FLAG") == 0
    ds = pydicom.dcmread(out)
    assert str(ds.PatientName) == "Ōno^Yōko" and ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.PatientID == "FLAG"  # flags win over the file
    assert ds.AccessionNumber == "X1"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"PatientSex": "Q"}'])
def test_bad_metadata_json(content: str, jpeg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = tmp_path / "meta.json"
    meta.write_text(content)
    assert run("convert", str(jpeg), "-o", str(tmp_path / "o.dcm"), "--metadata", str(meta)) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_study_from_and_series_from(jpeg: Path, tmp_path: Path) -> None:
    reference = tmp_path / "ref.dcm"
    dicomify.convert(
        photo(), reference, PatientName="Ref^Patient", PatientID="R1", StudyDescription="Ref study",
        SeriesDescription="Ref series", SeriesNumber=4, AccessionNumber="ACC",
    )  # fmt: skip
    ref = pydicom.dcmread(reference)

    study_out = tmp_path / "study.dcm"
    assert run("convert", str(jpeg), "-o", str(study_out), "--study-from", str(reference)) == 0
    ds = pydicom.dcmread(study_out)
    assert ds.StudyInstanceUID == ref.StudyInstanceUID and ds.PatientID == "R1"
    assert ds.AccessionNumber == "ACC" and ds.StudyDescription == "Ref study"
    assert ds.SeriesInstanceUID != ref.SeriesInstanceUID
    assert ds.SOPInstanceUID != ref.SOPInstanceUID

    series_out = tmp_path / "series.dcm"
    assert run("convert", str(jpeg), "-o", str(series_out), "--series-from", str(reference)) == 0
    ds = pydicom.dcmread(series_out)
    assert ds.SeriesInstanceUID == ref.SeriesInstanceUID and ds.SeriesNumber == 4
    assert ds.SOPInstanceUID != ref.SOPInstanceUID
    assert dciodvfy_errors(series_out) == []


def test_reference_that_is_not_dicom(jpeg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("convert", str(jpeg), "-o", str(tmp_path / "o.dcm"), "--study-from", str(jpeg)) == 1
    assert "reference DICOM" in capsys.readouterr().err


def test_conversion_options(jpeg: Path, rgba: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.dcm"
    assert run("convert", str(jpeg), "-o", str(out), "--decode-jpeg", "--compress", "rle", "--iod", "photo") == 0
    ds = pydicom.dcmread(out)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5" and ds.Modality == "XC"
    assert run("convert", str(rgba), "-o", str(out), "--background", "black") == 0
    assert pydicom.dcmread(out).pixel_array.max() == 0  # fully transparent over black
    assert run("convert", str(jpeg), "-o", str(out), "--keep-orientation") == 0
    assert run("convert", str(jpeg), "-o", str(out), "--max-pixels", "100", "--page", "0") == 1
    assert run("convert", str(jpeg), "-o", str(out), "--dpi", "150") == 0  # ignored for raster input


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("--version")
    assert exited.value.code == 0
    assert dicomify.__version__ in capsys.readouterr().out


def test_stdin_to_stdout_subprocess(jpeg: Path) -> None:
    """The console entry point in a real process: picture on stdin, DICOM on stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", "-", "-o", "-", "--patient-id", "PIPE"],
        input=jpeg.read_bytes(),
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr
    import io

    ds = pydicom.dcmread(io.BytesIO(result.stdout))
    assert ds.PatientID == "PIPE" and ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"


def test_stdin_garbage_writes_nothing_to_stdout() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", "-", "-o", "-"], input=b"nonsense", capture_output=True
    )
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode().startswith("dicomify: error: <stdin>: ")
