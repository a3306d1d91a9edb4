"""Libraries' warnings: one line in our words naming the file, only where dicomify owns the process."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dicomify
from dicomify._warnings import library_notes, owned_process
from dicomify.report import read_report

SRC = Path(__file__).resolve().parents[1] / "src"
DAMAGED = "warning: the picture's EXIF data is damaged, what could not be read was ignored"


def _damaged_exif(path: Path) -> Path:
    """A JPEG whose EXIF points past its end: Pillow warns twice when reading it."""
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x0f\x00\x02\x00\x00\x00\x20\x00\x00\x10\x00"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path, "JPEG", exif=exif)
    return path


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dicomify", *argv],
        env=dict(os.environ, PYTHONPATH=str(SRC)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_one_file_one_line(tmp_path: Path) -> None:
    source = _damaged_exif(tmp_path / "cam.jpg")
    result = _cli("convert", str(source), "-o", str(tmp_path / "cam.dcm"))
    assert result.returncode == 0
    assert result.stderr.splitlines() == [f"dicomify: {source}: {DAMAGED}"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_batch_names_each_file_once_and_reports_it(tmp_path: Path, jobs: str) -> None:
    _damaged_exif(tmp_path / "in" / "a.jpg")
    _damaged_exif(tmp_path / "in" / "b.jpg")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "in" / "c.png")
    report = tmp_path / "r.jsonl"
    result = _cli(
        "convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", jobs, "-q", "--report", str(report)
    )
    assert result.returncode == 0
    assert sorted(result.stderr.splitlines()) == [
        f"dicomify: {tmp_path / 'in' / 'a.jpg'}: {DAMAGED}",
        f"dicomify: {tmp_path / 'in' / 'b.jpg'}: {DAMAGED}",
    ]
    messages = {Path(row["source"]).name: row["message"] for row in read_report(report)}
    assert messages == {"a.jpg": DAMAGED, "b.jpg": DAMAGED, "c.png": ""}


def test_the_library_leaves_warnings_to_its_caller(tmp_path: Path) -> None:
    source = _damaged_exif(tmp_path / "cam.jpg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dicomify.convert(source, io.BytesIO())
    assert any("Corrupt EXIF data" in str(w.message) for w in caught)
    filters = list(warnings.filters)
    with library_notes() as heard:  # not an owned process: nothing is collected
        pass
    assert heard == [] and warnings.filters == filters


def test_log_records_of_tifffile_become_notes() -> None:
    with owned_process(), library_notes() as heard:
        logging.getLogger("tifffile").warning("TiffTag 270: invalid value")
        warnings.warn("Invalid value for VR UI", UserWarning, stacklevel=1)
    assert heard == [
        "warning: a library says: Invalid value for VR UI",
        "warning: the TIFF reader says: TiffTag 270: invalid value",
    ]
