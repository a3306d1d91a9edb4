"""One Study Date per study, no series across studies, no repeated numbers: in a batch."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.batch_tree import picture
from PIL import Image

import dicomify
from dicomify.batch import convert_many
from dicomify.batch.grouping import Grouping, assign_groups
from dicomify.cli import EXIT_FAILED, EXIT_OK, main
from dicomify.errors import DicomifyError


def _dated(path: Path, when: str | None, seed: int = 0) -> Path:
    """A JPEG whose EXIF says it was taken at ``when`` ("YYYY:MM:DD HH:MM:SS")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if when is not None:
        exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    pixels = np.random.default_rng(seed).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", exif=exif.tobytes())
    return path


def _headers(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.rglob("*.dcm"))]


def test_a_study_has_one_date_the_earliest_picture_date(tmp_path: Path) -> None:
    _dated(tmp_path / "in" / "a.jpg", "2024:05:03 14:10:00", 1)
    _dated(tmp_path / "in" / "b.jpg", "2024:05:02 09:30:15", 2)
    _dated(tmp_path / "in" / "c.jpg", None, 3)
    assert main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q", "-j", "1"]) == EXIT_OK
    headers = _headers(tmp_path / "out")
    assert {(h.StudyDate, h.StudyTime) for h in headers} == {("20240502", "093015")}
    assert {h.StudyInstanceUID for h in headers} == {headers[0].StudyInstanceUID}
    # Each picture keeps its own content date.
    assert sorted(h.ContentDate for h in headers)[:2] == ["20240502", "20240503"]


def test_given_study_date_wins_and_undated_studies_share_the_planning_time(tmp_path: Path) -> None:
    _dated(tmp_path / "in" / "a.jpg", "2024:05:03 14:10:00", 1)
    _dated(tmp_path / "in" / "b.jpg", "2024:05:02 09:30:15", 2)
    code = main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "given"), "-q", "--study-date", "20200101"])
    assert code == EXIT_OK
    assert {h.StudyDate for h in _headers(tmp_path / "given")} == {"20200101"}
    assert {h.StudyTime for h in _headers(tmp_path / "given")} == {"093015"}  # the time is still the earliest
    for index in range(3):
        picture(tmp_path / "plain" / f"p{index}.png", "png", seed=index)
    now = dt.datetime(2025, 1, 2, 3, 4, 5)
    groups = assign_groups([("/a", {}), ("/b", {})], Grouping.FOLDER, [None, None], now)
    assert {(g["StudyDate"], g["StudyTime"]) for g in groups} == {("20250102", "030405")}
    results = list(convert_many([tmp_path / "plain"], tmp_path / "plain-out", jobs=1))
    assert len({(pydicom.dcmread(r.output).StudyDate, pydicom.dcmread(r.output).StudyTime) for r in results}) == 1


def test_a_resumed_batch_keeps_the_study_date(tmp_path: Path) -> None:
    for index in range(3):
        picture(tmp_path / "in" / f"p{index}.png", "png", seed=index)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "in"), "-o", str(out), "-q"]) == EXIT_OK
    first = {(h.StudyDate, h.StudyTime) for h in _headers(out)}
    (out / "p1.dcm").unlink()
    import time

    time.sleep(1.1)  # the planning time of the second run differs
    assert main(["convert", str(tmp_path / "in"), "-o", str(out), "-q", "--skip-existing"]) == EXIT_OK
    assert {(h.StudyDate, h.StudyTime) for h in _headers(out)} == first


def test_group_file_with_one_series_uid_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for index in range(2):
        picture(tmp_path / "in" / f"p{index}.jpg", seed=index)
    code = main(
        ["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--group", "file", "--series-uid", "1.2.3.4"]
    )
    assert code == EXIT_FAILED
    (line,) = capsys.readouterr().err.splitlines()
    assert "SeriesInstanceUID 1.2.3.4 is given for several files" in line and "--group file" in line
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.dcm"))
    with pytest.raises(DicomifyError, match="its own study and series"):
        assign_groups([("/a", {"SeriesInstanceUID": "1.2"}), ("/a", {"SeriesInstanceUID": "1.2"})], Grouping.FILE)


def test_instance_number_for_a_run_counts_on(tmp_path: Path) -> None:
    for index in range(3):
        picture(tmp_path / "in" / f"p{index}.jpg", seed=index)
    code = main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q", "--instance-number", "5"])
    assert code == EXIT_OK
    assert sorted(int(h.InstanceNumber) for h in _headers(tmp_path / "out")) == [5, 6, 7]


def test_series_number_per_folder_counts_on(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        picture(tmp_path / "in" / folder / "p.jpg")
    code = main(
        [
            "convert",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "-q",
            "--group",
            "folder",
            "--series-number",
            "3",
        ]
    )
    assert code == EXIT_OK
    assert sorted(int(h.SeriesNumber) for h in _headers(tmp_path / "out")) == [3, 4]


def test_series_from_and_study_from_number_after_the_reference(tmp_path: Path) -> None:
    reference = tmp_path / "ref.dcm"
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(buffer, "PNG")
    dicomify.convert(buffer.getvalue(), reference, SeriesNumber=2, InstanceNumber=4, PatientID="P1")
    for index in range(2):
        picture(tmp_path / "in" / f"p{index}.jpg", seed=index)
    assert (
        main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "series"), "-q", "--series-from", str(reference)])
        == EXIT_OK
    )
    headers = _headers(tmp_path / "series")
    assert {h.SeriesInstanceUID for h in headers} == {pydicom.dcmread(reference).SeriesInstanceUID}
    assert sorted(int(h.InstanceNumber) for h in headers) == [5, 6]
    assert (
        main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "study"), "-q", "--study-from", str(reference)])
        == EXIT_OK
    )
    headers = _headers(tmp_path / "study")
    assert {int(h.SeriesNumber) for h in headers} == {3}
    assert sorted(int(h.InstanceNumber) for h in headers) == [1, 2]
