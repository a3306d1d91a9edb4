"""The shortcuts taken for speed keep their results the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

import dicomify
from dicomify.batch.plan import Task
from dicomify.batch.schedule import chunks as _chunks

SRC = str(Path(dicomify.__file__).resolve().parents[1])


@pytest.mark.parametrize("count", [1, 5, 16, 17, 100, 401, 2000])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_chunks_send_every_task_once_in_order(count: int, workers: int) -> None:
    tasks = [Task(f"{i}.png", f"{i}.dcm", {}) for i in range(count)]
    chunks = _chunks(tasks, workers)
    assert all(chunks) and [t for chunk in chunks for t in chunk] == tasks
    assert max(len(c) for c in chunks) <= 8
    assert len(chunks[-1]) == 1


def test_pydicom_is_imported_without_requests_which_still_imports() -> None:
    code = (
        "import sys, dicomify; dicomify.DicomImage; print('pydicom' in sys.modules, 'requests' in sys.modules); "
        "import requests; print(callable(requests.get))"
    )
    import requests  # noqa: F401  (declared in the test extra: missing is a failure, not a skip)

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": SRC}
    ).stdout.split()
    assert out == ["True", "False", "True"]


def test_repeated_values_give_the_same_elements(tmp_path: Path) -> None:
    gray = np.arange(64 * 32, dtype=np.uint16).reshape(32, 64)
    Image.fromarray(gray).save(tmp_path / "a.png")
    meta = {"PatientName": "Doe^Jane", "PatientID": "ID7", "StudyDescription": "once", "SeriesNumber": 3}
    first = dicomify.convert(tmp_path / "a.png", tmp_path / "a.dcm", **meta)
    second = dicomify.convert(tmp_path / "a.png", tmp_path / "b.dcm", **meta)
    varying = {"SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"}
    for one, two in ((first, second), (pydicom.dcmread(tmp_path / "a.dcm"), pydicom.dcmread(tmp_path / "b.dcm"))):
        assert [e.tag for e in one] == [e.tag for e in two]
        for element in one:
            if element.keyword in varying or element.keyword.endswith(("Date", "Time")):
                continue
            other = two[element.tag]
            assert (element.VR, element.value) == (other.VR, other.value), element.keyword
            assert type(element.value) is type(other.value), element.keyword
    # The elements are the dataset's own: changing one file's leaves the next alone.
    second.SeriesNumber = 9
    third = dicomify.convert(tmp_path / "a.png", tmp_path / "c.dcm", **meta)
    assert third.SeriesNumber == 3
