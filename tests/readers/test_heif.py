"""HEIF/HEIC (pillow-heif writes them) and AVIF (Pillow writes them): faithful to the decoder."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pydicom
import pytest
from helpers.pictures import photo
from helpers.validators import dciodvfy_errors, dcmtk_decodes, gdcm_decodes
from PIL import Image, ImageCms, ImageOps

import dicomify
from dicomify.errors import CorruptImageError

ORIENTATION, EXIF_IFD, DATETIME_ORIGINAL = 0x0112, 0x8769, 0x9003


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2024:05:06 07:08:09"
    return exif.tobytes()


def _heic(images: list[Image.Image], **params: object) -> bytes:
    heif = pillow_heif.from_pillow(images[0])
    for image in images[1:]:
        heif.add_from_pillow(image)
    buffer = io.BytesIO()
    heif.save(buffer, quality=90, **params)
    return buffer.getvalue()


def _decoded(data: bytes, index: int | None = None) -> np.ndarray:
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    image = heif[heif.primary_index if index is None else index]
    return np.asarray(image)


def _check_valid(path: Path, tmp_path: Path, expected: np.ndarray) -> None:
    assert dciodvfy_errors(path) == []
    assert np.array_equal(pydicom.dcmread(path).pixel_array, expected)
    assert np.array_equal(gdcm_decodes(path, tmp_path), expected)
    if expected.dtype == np.uint8:
        assert np.array_equal(dcmtk_decodes(path, tmp_path), expected)


def test_heic_8bit_with_exif_date_and_orientation(tmp_path: Path) -> None:
    data = _heic([Image.fromarray(photo(40, 64))], exif=_exif(orientation=6))
    (tmp_path / "phone.heic").write_bytes(data)
    ds = dicomify.convert(tmp_path / "phone.heic", tmp_path / "phone.dcm")
    expected = _decoded(data)
    assert expected.shape == (64, 40, 3)  # libheif applied the rotation pillow-heif stored as irot
    assert (ds.ContentDate, ds.ContentTime) == ("20240506", "070809")
    _check_valid(tmp_path / "phone.dcm", tmp_path, expected)


@pytest.mark.parametrize("depth", [10, 12])
def test_deep_heic_keeps_its_bits(depth: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The writer's depth is a pillow-heif option (the reader needs none).
    monkeypatch.setattr(pillow_heif.options, "SAVE_HDR_TO_12_BIT", depth == 12)
    rng = np.random.default_rng(depth)
    values = rng.integers(0, 1 << depth, (32, 48, 3), dtype=np.uint16)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(48, 32), data=(values << (16 - depth)).tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1)
    (tmp_path / "deep.heic").write_bytes(buffer.getvalue())
    ds = dicomify.convert(tmp_path / "deep.heic", tmp_path / "deep.dcm")
    heif_file = pillow_heif.open_heif(tmp_path / "deep.heic", convert_hdr_to_8bit=False)
    stored_depth = int(heif_file.info["bit_depth"])
    assert stored_depth == depth
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, depth, depth - 1)
    expected = np.asarray(heif_file) >> (16 - depth)
    assert expected.max() < (1 << depth)
    _check_valid(tmp_path / "deep.dcm", tmp_path, expected)


def test_heic_alpha_is_composited_and_icc_kept(tmp_path: Path) -> None:
    rgba = np.dstack([photo(30, 40), np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (30, 1))])
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _heic([Image.fromarray(rgba)], icc_profile=icc)
    (tmp_path / "a.heic").write_bytes(data)
    ds = dicomify.convert(tmp_path / "a.heic", tmp_path / "a.dcm", background="black")
    decoded = _decoded(data).astype(np.int64)
    expected = (decoded[..., :3] * decoded[..., 3:] + 127) // 255
    assert np.abs(ds.pixel_array.astype(np.int64) - expected).max() <= 1
    assert bytes(ds.ICCProfile) == icc
    assert dciodvfy_errors(tmp_path / "a.dcm") == []


def test_burst_primary_page_or_all_images(tmp_path: Path) -> None:
    first, second = photo(24, 32), photo(24, 32)[::-1].copy()
    data = _heic([Image.fromarray(first), Image.fromarray(second)])
    (tmp_path / "burst.heic").write_bytes(data)
    primary = dicomify.convert(tmp_path / "burst.heic", tmp_path / "p.dcm")
    assert np.array_equal(primary.pixel_array, _decoded(data))
    page = dicomify.convert(tmp_path / "burst.heic", tmp_path / "1.dcm", page=1)
    assert np.array_equal(page.pixel_array, _decoded(data, 1))
    both = dicomify.convert(tmp_path / "burst.heic", tmp_path / "all.dcm", all_images=True)
    assert both.NumberOfFrames == 2
    assert np.array_equal(both.pixel_array, np.stack([_decoded(data, 0), _decoded(data, 1)]))
    assert dciodvfy_errors(tmp_path / "all.dcm") == []
    with pytest.raises(CorruptImageError, match="there is no image 5"):
        dicomify.convert(tmp_path / "burst.heic", tmp_path / "x.dcm", page=5)


def test_avif_is_upright_like_pillow_shows_it(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo(40, 64)).save(buffer, format="AVIF", quality=90, exif=_exif(orientation=6))
    (tmp_path / "phone.avif").write_bytes(buffer.getvalue())
    ds = dicomify.convert(tmp_path / "phone.avif", tmp_path / "phone.avif.dcm")
    with Image.open(tmp_path / "phone.avif") as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert expected.shape == (64, 40, 3)
    assert ds.ContentDate == "20240506"
    _check_valid(tmp_path / "phone.avif.dcm", tmp_path, expected)


def test_damaged_heic_is_one_clear_error(tmp_path: Path) -> None:
    data = _heic([Image.fromarray(photo(24, 32))])
    (tmp_path / "cut.heic").write_bytes(data[: len(data) // 2])
    with pytest.raises(dicomify.InputError, match=r"cut\.heic: "):
        dicomify.convert(tmp_path / "cut.heic", tmp_path / "cut.dcm")
    assert not (tmp_path / "cut.dcm").exists()


@pytest.mark.parametrize("depth", [10, 12])
def test_deep_avif_keeps_its_bits(depth: int, tmp_path: Path) -> None:
    import imagecodecs

    rng = np.random.default_rng(depth)
    values = rng.integers(0, 1 << depth, (24, 40, 3), dtype=np.uint16)
    data = imagecodecs.avif_encode(values, level=100, bitspersample=depth)  # libavif, lossless
    (tmp_path / "deep.avif").write_bytes(data)
    ds = dicomify.convert(tmp_path / "deep.avif", tmp_path / "deep.dcm")
    assert (ds.BitsAllocated, ds.BitsStored) == (16, depth)
    expected = imagecodecs.avif_decode(data)
    assert expected.max() < (1 << depth)
    _check_valid(tmp_path / "deep.dcm", tmp_path, expected)
