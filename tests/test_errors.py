"""Errors name their source as an attribute; the message still reads "SOURCE: reason"."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.pictures import photo
from PIL import Image

import dicomify
from dicomify.errors import CorruptImageError, DicomifyError, InputError, MetadataError, OutputError


def test_source_is_an_attribute_and_prefixes_the_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(CorruptImageError) as caught:
        dicomify.DicomImage(empty)
    error = caught.value
    assert error.source == str(empty)
    assert error.reason == "the file is empty (0 bytes)"
    assert str(error) == f"{empty}: the file is empty (0 bytes)"


def test_in_memory_sources_are_named() -> None:
    with pytest.raises(InputError) as caught:
        dicomify.DicomImage(b"not a picture")
    assert caught.value.source == "<bytes>"
    assert str(caught.value).startswith("<bytes>: not a supported picture format")
    with pytest.raises(MetadataError) as bad_date:
        dicomify.DicomImage(np.zeros((4, 4), np.uint8), PatientBirthDate="1990-13-01")
    assert bad_date.value.source == "<numpy array>"
    assert bad_date.value.reason.startswith("PatientBirthDate '19901301'")


def test_output_error_names_the_target(tmp_path: Path) -> None:
    image = dicomify.DicomImage(Image.fromarray(photo()))
    (tmp_path / "a-file").write_bytes(b"")
    target = tmp_path / "a-file" / "out.dcm"  # a folder that is a file
    with pytest.raises(OutputError) as caught:
        image.save(target)
    assert caught.value.source == str(target)
    assert str(caught.value) == f"{target}: {caught.value.reason}"


def test_without_a_source_the_message_is_the_reason() -> None:
    error = DicomifyError("something is wrong")
    assert error.source is None and str(error) == "something is wrong"
    named = error.with_source("a.png")
    assert (type(named), named.source, str(named)) == (DicomifyError, "a.png", "a.png: something is wrong")
    assert error.source is None  # the original is unchanged
    assert named.with_source("b.png") is named  # the first source named stays


@pytest.mark.parametrize("kind", [CorruptImageError, MetadataError, OutputError])
def test_source_survives_pickling(kind: type[DicomifyError]) -> None:
    # Batch workers send errors across processes.
    error = pickle.loads(pickle.dumps(kind("bad data", source="x.tif")))
    assert (type(error), error.source, error.reason, str(error)) == (kind, "x.tif", "bad data", "x.tif: bad data")


def test_a_stream_is_named_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    with open(path, "rb") as stream, pytest.raises(InputError) as caught:
        dicomify.DicomImage(stream)
    assert caught.value.source == str(path)
    with pytest.raises(InputError) as anonymous:
        dicomify.DicomImage(io.BytesIO(path.read_bytes()))
    assert anonymous.value.source == "<stream>"


def test_with_source_copies_even_with_tblib_pickling_installed() -> None:
    # distributed installs tblib's pickling support for every exception class, process-wide:
    # checked in a fresh interpreter so this test leaves the hook out of the others.
    pytest.importorskip("tblib.pickling_support")
    code = """
import pickle
from tblib import pickling_support
from dicomify.errors import MetadataError
pickling_support.install()  # covers the exception classes defined by now
error = MetadataError("bad value")
named = error.with_source("a.png")
again = pickle.loads(pickle.dumps(named))
print(error.source, named.source, type(named).__name__, str(named), type(again).__name__, str(again), sep="|")
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip().split("|") == [
        "None",
        "a.png",
        "MetadataError",
        "a.png: bad value",
        "MetadataError",
        "a.png: bad value",
    ]
