"""Bad input: a typed error naming the file, one line from the CLI, nothing written."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers.pictures import gray8, photo, pil_bytes, png_chunk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import dicomify
from dicomify.cli import main


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but holds (almost) no pixels: a bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


BAD_INPUTS = {
    "empty": (b"", dicomify.CorruptImageError, "empty"),
    "text": (b"hello, this is not a picture\n", dicomify.UnsupportedFormatError, "not a supported"),
    "truncated-pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", dicomify.CorruptImageError, "PDF"),
    "video-without-stream": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", dicomify.InputError, ""),
    "truncated-png": (pil_bytes(Image.fromarray(photo()), "PNG")[:300], dicomify.CorruptImageError, "truncated"),
    "truncated-jpeg": (pil_bytes(Image.fromarray(photo()), "JPEG")[:400], dicomify.CorruptImageError, "truncated"),
    "truncated-gif": (pil_bytes(Image.fromarray(gray8()), "GIF")[:100], dicomify.InputError, ""),
    "truncated-bmp": (pil_bytes(Image.fromarray(photo()), "BMP")[:200], dicomify.InputError, ""),
    "truncated-tiff": (pil_bytes(Image.fromarray(photo()), "TIFF")[:60], dicomify.InputError, ""),
    "jpeg-header-only": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", dicomify.CorruptImageError, ""),
    "bomb": (png_header_only(20000, 20000), dicomify.ImageTooLargeError, "decompression-bomb"),
    "beyond-dicom": (png_header_only(70000, 10), dicomify.ImageTooLargeError, "65535"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_library_raises_typed_error_naming_the_file(name: str, tmp_path: Path) -> None:
    data, error_type, words = BAD_INPUTS[name]
    source = tmp_path / f"{name}.bin"
    source.write_bytes(data)
    target = tmp_path / "out.dcm"
    with pytest.raises(error_type) as raised:
        dicomify.convert(source, target)
    assert str(source) in str(raised.value)
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)
    assert list(tmp_path.iterdir()) == [source]  # nothing written, no temporary left


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_cli_prints_one_line_and_writes_nothing(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _, _ = BAD_INPUTS[name]
    source = tmp_path / f"{name}.bin"
    source.write_bytes(data)
    target = tmp_path / "out.dcm"
    assert main(["convert", str(source), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dicomify: error: ") and str(source) in err
    assert "Traceback" not in err
    assert not target.exists()


def test_raised_limit_admits_a_large_picture(tmp_path: Path) -> None:
    # 10000 x 9000 = 90 million pixels: just above Pillow's default limit.
    source = tmp_path / "large.png"
    Image.new("L", (10000, 9000), 128).save(source)
    with pytest.raises(dicomify.ImageTooLargeError):
        dicomify.convert(source, tmp_path / "refused.dcm")
    ds = dicomify.convert(source, tmp_path / "ok.dcm", max_pixels=100_000_000)
    assert (ds.Rows, ds.Columns) == (9000, 10000)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(dicomify.InputError, match="cannot open"):
        dicomify.convert(tmp_path / "nope.png", tmp_path / "out.dcm")
    with pytest.raises(dicomify.InputError, match="directory"):
        dicomify.convert(tmp_path, tmp_path / "out.dcm")


def test_unwritable_target_is_an_output_error(tmp_path: Path) -> None:
    source = tmp_path / "ok.png"
    Image.fromarray(photo()).save(source)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(dicomify.OutputError):
        dicomify.convert(source, blocker / "out.dcm")


def test_cli_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "same.png"
    Image.fromarray(photo()).save(source)
    before = source.read_bytes()
    assert main(["convert", str(source), "-o", str(source)]) == 1
    assert "overwrite the input" in capsys.readouterr().err
    assert source.read_bytes() == before


def _seeds() -> list[bytes]:
    picture = Image.fromarray(photo(16, 16))
    seeds = [pil_bytes(picture, fmt) for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")]
    seeds.append(pil_bytes(picture, "JPEG", progressive=True))
    seeds.append(pil_bytes(picture, "TIFF", compression="tiff_lzw"))
    return seeds


SEEDS = _seeds()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.floats(0.05, 1.0),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
)
def test_damaged_files_never_crash(seed: bytes, cut: float, flips: list[tuple[float, int]]) -> None:
    """Truncated and bit-flipped files: a picture or an InputError its reader names, nothing else.

    Not any DicomifyError: a builder or encoder error (a bare DicomifyError) or the read
    stage's catch-all for failures no reader recognised would hide a bug.
    """
    data = bytearray(seed[: max(1, int(len(seed) * cut))])
    for where, value in flips:
        data[min(len(data) - 1, int(where * len(data)))] = value
    target = io.BytesIO()
    try:
        dicomify.convert(bytes(data), target)
    except dicomify.InputError as error:
        assert "\n" not in str(error)
        assert "does not recognise" not in str(error)


def test_subprocess_exit_code_and_no_traceback(tmp_path: Path) -> None:
    source = tmp_path / "broken.jpg"
    source.write_bytes(b"\xff\xd8\xff\xe0garbage")
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(source), "-o", str(tmp_path / "x.dcm")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"dicomify: error: {source}: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.dcm").exists()


def test_array_of_floats_is_refused() -> None:
    with pytest.raises(dicomify.UnsupportedFormatError):
        dicomify.DicomImage(np.zeros((4, 4), dtype=np.float32))
