"""The WMF corpus: real WMF files (LibreOffice-written, and Pillow's with Windows renderings,
tests/emf/data) and WMFs in the shapes Office documents and clip-art take (helpers/wmf_samples.py).

Every good file renders to a picture that is not blank and converts to DICOM that dciodvfy
passes without errors; every damaged one is refused with a DicomifyError naming the
problem, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.validators import dciodvfy_errors
from helpers.wmf_samples import DAMAGED, GOOD

import dicomify
from dicomify.emf import render
from dicomify.errors import DicomifyError

DATA = Path(__file__).with_name("data")
FILES = sorted((DATA / "wmf").glob("*.wmf")) + [DATA / "drawing.wmf"]


def _samples() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in FILES] + [(f"{name}.wmf", make()) for name, make in GOOD.items()]


def test_corpus_has_real_and_generated_files() -> None:
    assert len(FILES) >= 6 and len(GOOD) >= 5


@pytest.mark.parametrize(("name", "data"), _samples(), ids=[n for n, _ in _samples()])
def test_wmf_renders_and_converts_to_valid_dicom(name: str, data: bytes, tmp_path: Path) -> None:
    pixels = np.asarray(render(data))
    assert pixels.ndim == 3 and pixels.shape[2] == 3
    assert (pixels < 200).any(axis=-1).mean() > 0.01, "the rendered picture is (nearly) blank"
    source = tmp_path / name
    source.write_bytes(data)
    target = tmp_path / "x.dcm"
    dicomify.convert(source, target)
    errors = dciodvfy_errors(target)  # a missing dciodvfy fails, never skips
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_wmf_is_refused_with_a_reason(name: str, tmp_path: Path) -> None:
    source = tmp_path / f"{name}.wmf"
    source.write_bytes(DAMAGED[name])
    target = tmp_path / "x.dcm"
    with pytest.raises(DicomifyError) as caught:
        dicomify.convert(source, target)
    message = str(caught.value)
    assert "\n" not in message and len(message) > 20
    assert not target.exists()
