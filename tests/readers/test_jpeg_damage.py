"""JPEGs damaged outside their scan data, which libjpeg decodes past: repaired for
passthrough (the damaged part dropped, the scan byte for byte) or refused when the
repair would not decode. Expected pixels: Pillow's decode of the undamaged file."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.pictures import photo
from helpers.roundtrip import convert_and_check
from helpers.validators import require_tool
from PIL import Image, UnidentifiedImageError
from pydicom.pixels import pixel_array

BASELINE = "1.2.840.10008.1.2.4.50"


def _clean(**params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(photo(40, 56)).save(buffer, "JPEG", quality=85, **params)
    return buffer.getvalue()


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def _after_app0(data: bytes, insert: bytes) -> bytes:
    end = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:end] + insert + data[end:]


def _scan(data: bytes) -> bytes:
    return data[data.find(b"\xff\xda") :]


DAMAGE = {
    "junk-after-soi": lambda d: d[:2] + b"\x00\x13\x37junk" + d[2:],
    "junk-between-segments": lambda d: _after_app0(d, b"garbage!"),
    "appn-length-below-2": lambda d: _after_app0(d, b"\xff\xe1\x00\x01"),
    "truncated-app14-adobe": lambda d: _after_app0(d, _segment(0xEE, b"Adobe\x00")),
    "truncated-app0-jfif": lambda d: _after_app0(d, _segment(0xE0, b"JFIF\x00\x01")),
    "truncated-app2-icc": lambda d: _after_app0(d, _segment(0xE2, b"ICC_PROF")),
    "broken-photoshop-app13": lambda d: _after_app0(
        d, _segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\xff\xff\xff\xff")
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_outside_the_scan_is_repaired_for_passthrough(damage: str, tmp_path: Path) -> None:
    clean = _clean()
    expected = np.asarray(Image.open(io.BytesIO(clean)).convert("RGB"))
    # pydicom's default JPEG plugin upsamples chroma a little differently from
    # Pillow's libjpeg-turbo; through the Pillow plugin the pixels are identical.
    ds = convert_and_check(DAMAGE[damage](clean), expected, tmp_path, tolerance=3, name="damaged.jpg")
    assert ds.file_meta.TransferSyntaxUID == BASELINE
    raw = pixel_array(ds, decoding_plugin="pillow", as_rgb=False)
    with Image.open(io.BytesIO(clean)) as image:
        image.draft("YCbCr", image.size)
        assert np.array_equal(raw, np.asarray(image))
    stored = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    scan = _scan(clean)
    # The scan data byte for byte (the fragment is padded to an even length).
    assert _scan(stored)[: len(scan)] == scan and set(_scan(stored)[len(scan) :]) <= {0}


@pytest.mark.parametrize("damage", ["junk-after-soi", "truncated-app14-adobe"])
def test_repaired_progressive_jpeg_is_decoded(damage: str, tmp_path: Path) -> None:
    clean = _clean(progressive=True)
    expected = np.asarray(Image.open(io.BytesIO(clean)).convert("RGB"))
    ds = convert_and_check(DAMAGE[damage](clean), expected, tmp_path, name="damaged.jpg")
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_repaired_jpeg_decoded_on_request(tmp_path: Path) -> None:
    clean = _clean()
    expected = np.asarray(Image.open(io.BytesIO(clean)).convert("RGB"))
    convert_and_check(DAMAGE["junk-between-segments"](clean), expected, tmp_path, name="d.jpg", decode_jpeg=True)


def test_segment_running_into_the_tables_is_refused_cleanly(tmp_path: Path) -> None:
    # An APP2 whose length swallows the start of the quantisation table: libjpeg
    # cannot decode it either, so nothing is written.
    damaged = _after_app0(_clean(), b"\xff\xe2\x00\x10ICC_PROFILE\x00")
    source, target = tmp_path / "bad.jpg", tmp_path / "bad.dcm"
    source.write_bytes(damaged)
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(source), "-o", str(target)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "bad.jpg" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()


def _chromium_shows(paths: list[Path]) -> list[bool]:
    """Whether Debian's chromium decodes each picture in an <img> (its natural width)."""
    chromium = "/usr/bin/chromium"
    assert Path(chromium).exists(), "chromium is missing: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    page_file = paths[0].parent / "page.html"
    page_file.write_text("".join(f'<img src="{path.name}">' for path in paths))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=60_000)
            widths = page.evaluate("() => Array.from(document.images).map(i => i.naturalWidth)")
        finally:
            browser.close()
    return [width > 0 for width in widths]


JUNK = [b"\x00" * 16, b"some junk text: ", b"\xff\x00\x12\x34", bytes(range(256)) * 4]


def test_viewers_refuse_bytes_before_soi(tmp_path: Path) -> None:
    # Why dicomify refuses them: libjpeg's djpeg, Pillow and Chromium decode the clean
    # file and refuse every damaged one. Should one of them ever show it, dicomify
    # must convert it.
    clean = _clean()
    (tmp_path / "clean.jpg").write_bytes(clean)
    damaged = []
    for index, junk in enumerate(JUNK):
        damaged.append(tmp_path / f"junk{index}.jpg")
        damaged[-1].write_bytes(junk + clean)
    djpeg = require_tool("djpeg")
    assert subprocess.run([djpeg, str(tmp_path / "clean.jpg")], capture_output=True).returncode == 0
    for source in damaged:
        refused = subprocess.run([djpeg, str(source)], capture_output=True, text=True)
        assert refused.returncode != 0 and "Not a JPEG file" in refused.stderr
        with pytest.raises(UnidentifiedImageError):
            Image.open(source)
    assert _chromium_shows([tmp_path / "clean.jpg", *damaged]) == [True] + [False] * len(damaged)


@pytest.mark.parametrize("junk", JUNK)
def test_bytes_before_soi_are_refused_saying_where_the_jpeg_starts(junk: bytes, tmp_path: Path) -> None:
    source, target = tmp_path / "junk.jpg", tmp_path / "junk.dcm"
    source.write_bytes(junk + _clean())
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(source), "-o", str(target)], capture_output=True, text=True
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "junk.jpg" in result.stderr
    assert f"a JPEG stream starts {len(junk)} bytes into the file" in result.stderr
    assert not target.exists()


def test_a_marker_pair_inside_other_data_is_not_called_a_jpeg(tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(b"not a picture \xff\xd8\xff\x00 \xff\xd8\xff\xff" + bytes(100))
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(source), "-o", str(tmp_path / "o.dcm")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "not a supported picture format" in result.stderr
