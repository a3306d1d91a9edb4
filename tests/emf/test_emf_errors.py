"""Damaged metafiles: a clean DicomifyError (or a picture), never another exception or a hang."""

from __future__ import annotations

import io
import random
import struct

import pytest
from helpers.emf_build import create_brush, emf, rec, rectangle, select, wmf, wrec

import dicomify.emf as emf_package
from dicomify.emf import is_emf, is_wmf, render
from dicomify.errors import CorruptImageError, ImageTooLargeError
from dicomify.options import ConvertOptions
from dicomify.readers import read_picture


def good() -> bytes:
    return emf(create_brush(1, (255, 0, 0)), select(1), rectangle(10, 10, 90, 90))


def test_truncated_header() -> None:
    with pytest.raises(CorruptImageError, match="truncated"):
        render(good()[:60])


def test_record_with_zero_size_cannot_loop() -> None:
    data = good()
    bad = data[:88] + struct.pack("<II", 43, 0) + data[96:]
    with pytest.raises(CorruptImageError, match="invalid size"):
        render(bad)


def test_record_claiming_more_points_than_it_holds() -> None:
    payload = struct.pack("<4iI", 0, 0, 0, 0, 1_000_000) + struct.pack("<4h", 0, 0, 10, 10)
    with pytest.raises(CorruptImageError, match="claims"):
        render(emf(rec(86, payload)))


def test_absurd_frame_is_refused() -> None:
    data = bytearray(good())
    struct.pack_into("<4i", data, 24, 0, 0, 2_000_000_000, 2_000_000_000)
    with pytest.raises(ImageTooLargeError):
        render(bytes(data))


def test_empty_frame_and_bounds() -> None:
    data = bytearray(good())
    struct.pack_into("<4i", data, 8, 0, 0, -1, -1)
    struct.pack_into("<4i", data, 24, 0, 0, 0, 0)
    with pytest.raises(CorruptImageError, match="no picture size"):
        render(bytes(data))


def test_explicit_dpi_beyond_the_canvas_cap() -> None:
    with pytest.raises(ImageTooLargeError, match="canvas cap"):
        render(good(), dpi=96 * 1000)


def test_max_pixels_cap_with_explicit_dpi() -> None:
    with pytest.raises(ImageTooLargeError):
        render(good(), dpi=96, max_pixels=5000)


def test_default_resolution_shrinks_to_fit_the_cap() -> None:
    assert render(good(), max_pixels=2500).size == (50, 50)


def test_invalid_dpi() -> None:
    with pytest.raises(ValueError):
        render(good(), dpi=0)


def test_not_a_metafile() -> None:
    with pytest.raises(CorruptImageError):
        render(b"GIF89a" + b"\x00" * 100)


def test_wmf_with_bad_record_size() -> None:
    data = wmf(struct.pack("<IH", 1, 0x041B))
    with pytest.raises(CorruptImageError):
        render(data)


def test_damaged_bitmap_is_a_clean_error() -> None:
    bmi = struct.pack("<IiiHHIIiiII", 40, 100000, 100000, 1, 24, 0, 0, 0, 0, 0, 0)
    payload = (
        struct.pack(
            "<4i6i6I2i",
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            10,
            10,
            80,
            len(bmi),
            80 + len(bmi),
            4,
            0,
            0x00CC0020,
            10,
            10,
        )
        + bmi
        + b"\x00" * 4
    )
    with pytest.raises(CorruptImageError, match="bitmap"):
        render(emf(rec(81, payload)))


@pytest.mark.parametrize("seed", range(40))
def test_random_damage_never_escapes(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Programming errors (TypeError, AttributeError, NameError) propagate instead of being
    # reported as damage, so a bug fails this test rather than passing as "damaged".
    monkeypatch.setattr(emf_package, "_DEBUG", True)
    rng = random.Random(seed)
    data = bytearray(good() if seed % 2 else wmf(wrec(0x041B, 80, 80, 20, 20)))
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if seed % 5 == 0:
        del data[rng.randrange(20, len(data)) :]
    try:
        render(bytes(data), max_pixels=4_000_000)
    except (CorruptImageError, ImageTooLargeError) as error:
        assert "\n" not in str(error)


def test_reader_sniffs_and_reads() -> None:
    data = good()
    # Through the registry (importing a reader module directly would register it alone).
    assert is_emf(data[:64]) and not is_wmf(data[:64])
    assert is_wmf(wmf()[:64]) and not is_emf(wmf()[:64])
    assert not is_emf(b"\x89PNG\r\n\x1a\n" + b"\x00" * 56) and not is_wmf(b"\x89PNG\r\n\x1a\n" + b"\x00" * 56)
    picture = read_picture(io.BytesIO(data), ConvertOptions(dpi=48))
    assert picture.source_format == "EMF"
    assert (
        picture.layout.rows,
        picture.layout.columns,
        picture.layout.samples_per_pixel,
    ) == (50, 50, 3)
    frame = next(picture.frames())
    assert frame.shape == (50, 50, 3) and frame.dtype.name == "uint8"
    assert tuple(frame[25, 25]) == (255, 0, 0)


def test_reader_reads_wmf() -> None:
    picture = read_picture(io.BytesIO(wmf(wrec(0x041B, 80, 80, 20, 20))), ConvertOptions())
    assert picture.source_format == "WMF"
    assert picture.number_of_frames == 1


def test_missing_renderer_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from dicomify.errors import UnsupportedFormatError

    monkeypatch.setitem(sys.modules, "dicomify.emf._emf", None)  # as if skia could not load
    with pytest.raises(UnsupportedFormatError, match="skia-python"):
        read_picture(io.BytesIO(good()), ConvertOptions())


def test_reader_module_does_not_load_skia() -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[2] / "src")
    code = f"import sys; sys.path.insert(0, {src!r}); import dicomify.readers.emf; print('skia' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
