"""Fuzz the metadata path: JSON text -> validate -> a written file that reads back the same.

Findings: an exception other than MetadataError, or metadata that passes validation but
does not survive the file (a value read back differently, a write that fails).
"""

from __future__ import annotations

import io
import json
import os
import tempfile

import atheris
from _common import Finding, run

with atheris.instrument_imports():
    import numpy as np
    import pydicom

    import dicomify
    from dicomify.iod.metadata import load_json

_PIXELS = np.zeros((2, 2), np.uint8)
_FD, _PATH = tempfile.mkstemp(suffix=".json")
os.close(_FD)


def test_one_input(data: bytes) -> None:
    with open(_PATH, "wb") as file:
        file.write(data)
    try:
        metadata = load_json(_PATH)
    except dicomify.MetadataError:
        return
    buffer = io.BytesIO()
    try:
        dicomify.convert(_PIXELS, buffer, **metadata)
    except dicomify.MetadataError:
        return  # e.g. a field that only conflicts with the IOD
    back = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    for keyword, value in metadata.items():
        if keyword.endswith("Sequence") or value in ("", None):
            continue
        stored = back[keyword].value if keyword in back else None
        if stored is None or _text(stored) != _text(value):
            raise Finding(f"{keyword} {value!r} read back as {stored!r}")


def _text(value: object) -> str:
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value).rstrip(" \x00")


if __name__ == "__main__":
    json.loads("{}")  # the stdlib parser is not instrumented; dicomify's checks are
    run(test_one_input)
