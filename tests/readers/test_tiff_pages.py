"""TIFF pages that cannot share one multi-frame object (different sizes or kinds, or
16-bit colour): one DICOM object per page, all in one series, Instance Number in
page order; the naming rule for a file target and a folder; the library's view."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
import tifffile
from helpers.pictures import RNG, gray8, photo
from helpers.validators import dciodvfy_errors, dcmtk_decodes, gdcm_decodes

import dicomify
from dicomify.api import part_targets


def mixed_tiff() -> tuple[bytes, list[np.ndarray]]:
    pages = [
        photo(30, 40),
        gray8(12, 17),
        RNG.integers(0, 65536, (9, 11), dtype=np.uint16),
    ]
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tiff:
        tiff.write(pages[0], photometric="rgb")
        tiff.write(pages[1], photometric="minisblack", compression="lzw")
        tiff.write(pages[2], photometric="minisblack")
    return buffer.getvalue(), pages


def _check_series(paths: list[Path], pages: list[np.ndarray], tmp_path: Path, first_number: int = 1) -> None:
    datasets = [pydicom.dcmread(path) for path in paths]
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(paths)
    assert [int(ds.InstanceNumber) for ds in datasets] == list(range(first_number, first_number + len(paths)))
    for path, ds, page in zip(paths, datasets, pages, strict=True):
        assert np.array_equal(ds.pixel_array, page)
        assert dciodvfy_errors(path) == []
        assert np.array_equal(gdcm_decodes(path, tmp_path), page)
        assert dcmtk_decodes(path, tmp_path) is not None


def test_pages_that_differ_become_one_object_each(tmp_path: Path) -> None:
    data, pages = mixed_tiff()
    target = tmp_path / "scan.dcm"
    dataset = dicomify.convert(data, target)
    paths = [tmp_path / "scan.dcm", tmp_path / "scan-2.dcm", tmp_path / "scan-3.dcm"]
    assert sorted(tmp_path.iterdir()) == sorted(paths)
    assert dataset.SOPInstanceUID == pydicom.dcmread(paths[0]).SOPInstanceUID
    _check_series(paths, pages, tmp_path)


def test_library_gives_every_object(tmp_path: Path) -> None:
    data, pages = mixed_tiff()
    with dicomify.DicomImage(data, SeriesInstanceUID="1.2.3.4", InstanceNumber=5) as image:
        assert len(image.datasets) == 3 and image.dataset is image.datasets[0]
        assert [int(ds.InstanceNumber) for ds in image.datasets] == [5, 6, 7]
        assert {ds.SeriesInstanceUID for ds in image.datasets} == {"1.2.3.4"}
        assert [p.layout.rows for p in image.picture.parts] == [30, 12, 9]
        image.update(PatientName="Doe^Jane")
        assert {str(ds.PatientName) for ds in image.datasets} == {"Doe^Jane"}
        assert image.outputs(tmp_path / "a.dcm") == [str(tmp_path / n) for n in ("a.dcm", "a-2.dcm", "a-3.dcm")]
        with pytest.raises(dicomify.OutputError, match="3 DICOM objects"):
            image.save(io.BytesIO())
        image.save(tmp_path / "a.dcm")
    _check_series([tmp_path / n for n in ("a.dcm", "a-2.dcm", "a-3.dcm")], pages, tmp_path, first_number=5)


def test_a_failed_part_leaves_nothing(tmp_path: Path) -> None:
    data, _ = mixed_tiff()
    (tmp_path / "a-3.dcm").mkdir()  # the third object cannot be written there
    with pytest.raises(dicomify.OutputError):
        dicomify.convert(data, tmp_path / "a.dcm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-3.dcm"]


def test_16bit_colour_pages_become_one_object_each(tmp_path: Path) -> None:
    pages = RNG.integers(0, 65536, (2, 10, 14, 3), dtype=np.uint16)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pages, photometric="rgb")
    dicomify.convert(buffer.getvalue(), tmp_path / "rgb16.dcm")
    paths = [tmp_path / "rgb16.dcm", tmp_path / "rgb16-2.dcm"]
    _check_series(paths, list(pages), tmp_path)
    assert pydicom.dcmread(paths[0]).BitsStored == 16


def test_page_option_still_gives_one_object(tmp_path: Path) -> None:
    data, pages = mixed_tiff()
    dicomify.convert(data, tmp_path / "one.dcm", page=1)
    assert [p.name for p in tmp_path.iterdir()] == ["one.dcm"]
    assert np.array_equal(pydicom.dcmread(tmp_path / "one.dcm").pixel_array, pages[1])


def test_naming_rule_pads_to_the_count() -> None:
    assert part_targets("scan.dcm", 1) == ["scan.dcm"]
    assert part_targets("out/scan.dcm", 12)[1:3] == ["out/scan-02.dcm", "out/scan-03.dcm"]
    assert part_targets("out/scan.dcm", 12)[-1] == "out/scan-12.dcm"
    assert part_targets("noext", 2) == ["noext", "noext-2"]


@pytest.mark.parametrize("folder", [False, True], ids=["file", "folder"])
def test_cli_writes_every_object(folder: bool, tmp_path: Path) -> None:
    data, pages = mixed_tiff()
    source = tmp_path / "doc.tif"
    source.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    target = f"{out}/" if folder else str(out / "doc.dcm")
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(source), "-o", target], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    paths = [out / "doc.dcm", out / "doc-2.dcm", out / "doc-3.dcm"]
    assert sorted(out.iterdir()) == sorted(paths)
    _check_series(paths, pages, tmp_path)


def test_a_page_beyond_dicoms_limit_refuses_the_whole_file(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tiff:
        tiff.write(gray8(10, 12), photometric="minisblack")
        tiff.write(np.zeros((1, 70000), np.uint8), photometric="minisblack", compression="zlib")
    with pytest.raises(dicomify.ImageTooLargeError, match="65535"):
        dicomify.convert(buffer.getvalue(), tmp_path / "wide.dcm")
    assert list(tmp_path.iterdir()) == []


def test_cli_to_stdout_refuses_several_objects(tmp_path: Path) -> None:
    data, _ = mixed_tiff()
    source = tmp_path / "doc.tif"
    source.write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "dicomify", "convert", str(source), "-o", "-"], capture_output=True)
    assert result.returncode == 1 and result.stdout == b""
    message = result.stderr.decode()
    assert message.count("\n") == 1 and "3 DICOM objects" in message and "Traceback" not in message
