"""Fuzz the batch manifest parser (CSV of paths and metadata by DICOM keyword).

Findings: anything but rows (each good or with its error) or a DicomifyError for an
unusable file.
"""

from __future__ import annotations

import os
import tempfile

import atheris
from _common import run

with atheris.instrument_imports():
    import dicomify
    from dicomify.batch.manifest import read_manifest

_DIR = tempfile.mkdtemp()
_PATH = os.path.join(_DIR, "manifest.csv")


def test_one_input(data: bytes) -> None:
    with open(_PATH, "wb") as file:
        file.write(data)
    try:
        rows = read_manifest(_PATH)
    except dicomify.DicomifyError:
        return
    for row in rows:
        assert row.error is None or isinstance(row.error, str)


if __name__ == "__main__":
    run(test_one_input)
