"""Metafile limits: what a tiny EMF/WMF may ask for is checked before drawing."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from helpers.emf_build import emf, rec, wmf

import dicomify
from dicomify.emf._limits import MAX_RECORDS, check_record_count


def _wmf_8bit_dib_with_huge_palette() -> bytes:
    """META_STRETCHDIB of a 1x1 8-bit DIB whose header declares 2**28 palette entries."""
    bmi = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 8, 0, 4, 0, 0, 1 << 28, 0)
    params = struct.pack("<I9h", 0x00CC0020, 0, 1, 1, 0, 0, 10, 10, 0, 0)
    body = params + bmi + b"\x00\x00\x00\x00"
    return wmf(struct.pack("<IH", 3 + len(body) // 2, 0x0F43) + body, bbox=(0, 0, 10, 10))


def test_dib_palette_is_capped_at_its_bit_count() -> None:
    data = _wmf_8bit_dib_with_huge_palette()
    assert len(data) < 128
    tracemalloc.start()
    try:
        dicomify.convert(data, io.BytesIO())
    except dicomify.InputError:
        pass  # refusing is fine; allocating gigabytes is not
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50_000_000  # a 2**28-entry grey ramp was ~8 GB


def test_record_count_is_limited() -> None:
    many = emf(*[rec(18, struct.pack("<I", 1))] * 30)  # SetBkMode, 30 times
    assert check_record_count(many, emf=True, limit=40) == 32  # with the header and EOF records
    with pytest.raises(dicomify.ImageTooLargeError, match="more than 20 records"):
        check_record_count(many, emf=True, limit=20)


def test_a_metafile_of_a_million_records_is_refused_before_drawing() -> None:
    data = emf(*[rec(18, struct.pack("<I", 1))] * MAX_RECORDS)
    with pytest.raises(dicomify.ImageTooLargeError, match="records"):
        dicomify.convert(data, io.BytesIO())


def test_the_record_limit_is_an_option(tmp_path: Path) -> None:
    data = emf(*[rec(18, struct.pack("<I", 1))] * 30)
    dicomify.convert(data, io.BytesIO())
    with pytest.raises(dicomify.ImageTooLargeError, match="more than 20 records.*--max-records"):
        dicomify.convert(data, io.BytesIO(), options=dicomify.ConvertOptions(max_records=20))
    with pytest.raises(dicomify.OptionError, match="max_records"):
        dicomify.ConvertOptions(max_records=0)
    source = tmp_path / "many.emf"
    source.write_bytes(data)
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomify",
            "convert",
            str(source),
            "-o",
            str(tmp_path / "many.dcm"),
            "--max-records",
            "20",
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "more than 20 records" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "many.dcm").exists()


def test_wmf_records_are_counted() -> None:
    data = _wmf_8bit_dib_with_huge_palette()
    assert check_record_count(data, emf=False) == 2  # StretchDIB and the end record
