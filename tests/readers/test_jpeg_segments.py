"""JPEG passthrough without the camera's metadata: EXIF, XMP, IPTC, comments, previews."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.pictures import photo
from helpers.validators import dciodvfy_errors
from PIL import Image, ImageCms
from pydicom.encaps import generate_frames

import dicomify
from dicomify.cli import main
from dicomify.errors import CorruptImageError
from dicomify.readers.jpeg_segments import strip_metadata

SERIAL = b"SERIAL-0123456789"
GPS_NAME = "Dr. Private Person"


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def _camera_jpeg(path: Path, progressive: bool = False) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS, XMP, IPTC, a comment, ICC, a trailing preview."""
    image = Image.fromarray(photo())
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0xA431] = SERIAL.decode()  # BodySerialNumber
    exif[0x013B] = GPS_NAME  # Artist
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif.tobytes(),
        icc_profile=icc,
        comment=b"shot at home",
        progressive=progressive,
    )
    data = buffer.getvalue()
    xmp = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + SERIAL + b"</x:xmpmeta>")
    iptc = _segment(0xED, b"Photoshop 3.0\x00" + b"8BIM" + SERIAL)
    vendor = _segment(0xEA, b"VENDOR" + SERIAL)
    preview = b"\xff\xd8" + _segment(0xE1, b"Exif\x00\x00" + SERIAL) + b"\xff\xd9"
    data = data[:2] + xmp + iptc + vendor + data[2:] + preview
    path.write_bytes(data)
    return data


def _scan(data: bytes) -> bytes:
    """From the first SOS marker to the first End Of Image."""
    start = data.index(b"\xff\xda")
    return data[start : data.index(b"\xff\xd9", start) + 2]


def _stored(path: Path) -> bytes:
    ds = pydicom.dcmread(path)
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    return frame


def test_metadata_is_stripped_and_the_scan_kept_byte_exact(tmp_path: Path) -> None:
    source = tmp_path / "phone.jpg"
    original = _camera_jpeg(source)
    out = tmp_path / "out.dcm"
    dicomify.convert(source, out)
    ds = pydicom.dcmread(out)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit
    stored = _stored(out).rstrip(b"\x00")
    assert SERIAL not in stored and b"Exif" not in stored and b"shot at home" not in stored
    assert b"PhoneMaker" not in stored and GPS_NAME.encode() not in stored and b"8BIM" not in stored
    assert b"JFIF" in stored and b"ICC_PROFILE" in stored  # what decoding needs
    assert _scan(stored) == _scan(original)
    assert stored.endswith(b"\xff\xd9") and stored.count(b"\xff\xd8") == 1  # the preview is gone
    decoded_original = np.asarray(Image.open(io.BytesIO(original)))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(stored))), decoded_original)
    assert ds.ContentDate  # the EXIF date was read before the segments went
    assert dciodvfy_errors(out) == []


def test_keep_jpeg_metadata_keeps_every_byte(tmp_path: Path) -> None:
    source = tmp_path / "phone.jpg"
    original = _camera_jpeg(source)
    dicomify.convert(source, tmp_path / "lib.dcm", keep_jpeg_metadata=True)
    assert _stored(tmp_path / "lib.dcm").rstrip(b"\x00") == original.rstrip(b"\x00")
    assert main(["convert", str(source), "-o", str(tmp_path / "cli.dcm"), "--keep-jpeg-metadata"]) == 0
    assert SERIAL in _stored(tmp_path / "cli.dcm")
    assert main(["convert", str(source), "-o", str(tmp_path / "default.dcm")]) == 0
    assert SERIAL not in _stored(tmp_path / "default.dcm")


def test_adobe_and_restart_markers_survive() -> None:
    image = Image.fromarray(photo())
    buffer = io.BytesIO()
    image.convert("CMYK").save(buffer, "JPEG")  # Pillow writes an Adobe APP14 for CMYK
    cmyk = buffer.getvalue()
    assert b"Adobe" in strip_metadata(cmyk)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", restart_marker_blocks=1)
    with_restarts = buffer.getvalue()
    assert strip_metadata(with_restarts) == with_restarts  # nothing to remove: unchanged


@pytest.mark.parametrize("cut", [3, 30, 300])
def test_damaged_structure_is_an_error(cut: int) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo()).save(buffer, "JPEG")
    with pytest.raises(CorruptImageError):
        strip_metadata(buffer.getvalue()[:-cut])


def _jpeg(shape: tuple[int, ...], **save: object) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def test_a_jpeg_cut_short_and_closed_says_most_is_missing(tmp_path: Path) -> None:
    """693 bytes claiming 9000x9000 pixels must not become a 243 MB object."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((9000, 9000, 3), 128, np.uint8)).save(buffer, "JPEG", progressive=True, quality=50)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buffer.getvalue()[:691] + b"\xff\xd9")
    assert cut.stat().st_size == 693
    out = tmp_path / "cut.dcm"
    with pytest.raises(CorruptImageError, match="most of the picture is missing: .* 9000x9000 pixels"):
        dicomify.convert(cut, out)
    assert not out.exists()
    baseline = tmp_path / "base.jpg"
    baseline.write_bytes(buffer.getvalue()[:2000] + b"\xff\xd9")  # header, a little scan data, EOI
    with pytest.raises(CorruptImageError, match="most of the picture is missing"):
        dicomify.convert(baseline, out)


@pytest.mark.parametrize(
    "save",
    [{}, {"progressive": True}, {"subsampling": 0}, {"subsampling": 2, "quality": 1}, {"restart_marker_rows": 1}],
)
def test_complete_jpegs_always_pass_the_check(save: dict[str, object]) -> None:
    from dicomify.readers.jpeg_segments import check_picture_data

    for shape in ((64, 64, 3), (640, 480, 3), (33, 17), (1024, 1024)):
        check_picture_data(_jpeg(shape, **save))
    flat = io.BytesIO()  # the least data a picture can need: one colour, lowest quality
    Image.fromarray(np.zeros((2048, 2048, 3), np.uint8)).save(flat, "JPEG", **{**save, "quality": 1})
    check_picture_data(flat.getvalue())
