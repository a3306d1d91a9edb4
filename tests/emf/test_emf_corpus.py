"""The EMF corpus (../shared/corpus/emf, libemf2svg's test files, GPL-2.0, read in place).

Every good file renders to a non-blank picture and converts to DICOM that dciodvfy
(dicom3tools) passes without errors; every corrupted file is refused with a
DicomifyError or rendered, never another exception.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers.validators import dciodvfy_errors

import dicomify
from dicomify.emf import render
from dicomify.errors import DicomifyError

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "emf"
GOOD = sorted((CORPUS / "good").glob("*.emf"))
CORRUPTED = sorted((CORPUS / "corrupted").glob("*.emf"))

# Files without any drawing record: blank is the right picture (LibreOffice agrees).
EMPTY = {"test-030.emf"}


def _require_corpus() -> None:
    if not GOOD:
        if os.environ.get("CI"):
            pytest.fail(f"the EMF corpus is missing from {CORPUS}")
        pytest.skip(f"the EMF corpus is not at {CORPUS}")


def test_corpus_present() -> None:
    _require_corpus()
    assert len(GOOD) > 100


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_file_renders_and_converts_to_valid_dicom(path: Path, tmp_path: Path) -> None:
    pixels = np.asarray(render(path.read_bytes()))
    assert pixels.ndim == 3 and pixels.shape[2] == 3
    if path.name not in EMPTY:
        assert pixels.min() < 250, "the rendered picture is blank"
    target = tmp_path / "x.dcm"
    dicomify.convert(path, target)
    errors = dciodvfy_errors(target)  # a missing dciodvfy fails, never skips
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", CORRUPTED, ids=lambda p: p.name)
def test_corrupted_file_is_refused_cleanly_or_drawn(path: Path, tmp_path: Path) -> None:
    target = tmp_path / "x.dcm"
    try:
        pixels = np.asarray(render(path.read_bytes(), max_pixels=20_000_000))
    except DicomifyError:
        # Refused by the renderer: convert must refuse too, and write nothing.
        with pytest.raises(DicomifyError):
            dicomify.convert(path, target)
        assert not target.exists()
        return
    assert pixels.ndim == 3
    try:
        dicomify.convert(path, target)
    except DicomifyError:
        assert not target.exists()
