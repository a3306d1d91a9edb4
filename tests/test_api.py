"""The library API: every kind of source and target, metadata, the public names."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.pictures import gray16, photo
from helpers.validators import dciodvfy_errors
from PIL import Image

import dicomify


@pytest.fixture
def png(tmp_path: Path) -> tuple[Path, np.ndarray]:
    values = photo()
    path = tmp_path / "picture.png"
    Image.fromarray(values).save(path)
    return path, values


class NonSeekable(io.RawIOBase):
    """A pipe-like stream: readable, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _source(kind: str, path: Path, values: np.ndarray) -> object:
    data = path.read_bytes()
    makers = {
        "str": lambda: str(path),
        "path": lambda: path,
        "bytes": lambda: data,
        "bytearray": lambda: bytearray(data),
        "file": lambda: open(path, "rb"),
        "stream": lambda: io.BytesIO(data),
        "non-seekable": lambda: NonSeekable(data),
        "pillow": lambda: Image.open(path),
        "numpy": lambda: values,
    }
    return makers[kind]()


@pytest.mark.parametrize(
    "kind", ["str", "path", "bytes", "bytearray", "file", "stream", "non-seekable", "pillow", "numpy"]
)
def test_every_source_kind(kind: str, png: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, values = png
    source = _source(kind, path, values)
    image = dicomify.DicomImage(source, PatientID="P1")  # type: ignore[arg-type]
    out = tmp_path / "out.dcm"
    image.save(out)
    ds = pydicom.dcmread(out)
    assert np.array_equal(ds.pixel_array, values)
    assert ds.PatientID == "P1"
    if hasattr(source, "close"):
        source.close()  # type: ignore[union-attr]


def test_save_to_stream_and_dataset(png: tuple[Path, np.ndarray]) -> None:
    path, values = png
    image = dicomify.DicomImage(path)
    buffer = io.BytesIO()
    image.save(buffer)
    buffer.seek(0)
    ds = pydicom.dcmread(buffer)
    assert ds.SOPInstanceUID == image.dataset.SOPInstanceUID == image.sop_instance_uid
    assert np.array_equal(ds.pixel_array, values)


def test_metadata_set_after_construction(png: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, _ = png
    image = dicomify.DicomImage(path)
    image.update(PatientName="Ñúñez^José", StudyDescription="Wound photo, day 3")
    image.dataset.InstitutionName = "Set directly on the pydicom Dataset"
    image.save(tmp_path / "out.dcm")
    ds = pydicom.dcmread(tmp_path / "out.dcm")
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == "Ñúñez^José"
    assert ds.InstitutionName == "Set directly on the pydicom Dataset"
    with pytest.raises(dicomify.MetadataError):
        image.update(PatientSex="X")


def test_non_ascii_round_trip_through_dcmtk(tmp_path: Path) -> None:
    import subprocess

    name = "山田^太郎=やまだ^たろう"
    out = tmp_path / "jp.dcm"
    dicomify.convert(photo(), out, PatientName=name, StudyDescription="Ärztliche Aufnahme — ΑΒΓ")
    ds = pydicom.dcmread(out)
    assert str(ds.PatientName) == name
    assert ds.StudyDescription == "Ärztliche Aufnahme — ΑΒΓ"
    dump = subprocess.run(["dcmdump", "+U8", str(out)], capture_output=True, text=True, check=True).stdout
    assert "山田^太郎" in dump
    assert dciodvfy_errors(out) == []


def test_ascii_metadata_sets_no_character_set(tmp_path: Path) -> None:
    ds = dicomify.convert(photo(), tmp_path / "a.dcm", PatientName="Doe^Jane")
    assert "SpecificCharacterSet" not in ds


def test_uids_are_fresh_and_valid(tmp_path: Path) -> None:
    from pydicom.uid import UID

    first = dicomify.convert(photo(), tmp_path / "1.dcm")
    second = dicomify.convert(photo(), tmp_path / "2.dcm")
    for ds in (first, second):
        for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
            uid = UID(getattr(ds, keyword))
            assert uid.is_valid and uid.startswith("2.25.")
        assert ds.file_meta.ImplementationClassUID.is_valid
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert first.StudyInstanceUID != second.StudyInstanceUID


def test_sc_equipment_module(tmp_path: Path) -> None:
    ds = dicomify.convert(photo(), tmp_path / "a.dcm")
    assert ds.ConversionType == "WSD"
    assert ds.SecondaryCaptureDeviceManufacturer == "dicomify"
    assert ds.SecondaryCaptureDeviceSoftwareVersions == dicomify.__version__
    ds = dicomify.convert(photo(), tmp_path / "b.dcm", ConversionType="SD")
    assert ds.ConversionType == "SD"


def test_photographic_iod_refuses_what_it_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(dicomify.DicomifyError, match="8-bit"):
        dicomify.convert(gray16(), tmp_path / "a.dcm", iod="photo")
    frames = np.stack([photo(), photo()])
    with pytest.raises(dicomify.DicomifyError, match="one frame"):
        dicomify.convert(frames, tmp_path / "b.dcm", iod="photo")
    assert not any(tmp_path.iterdir())


def test_options_object_and_kwargs_combine(tmp_path: Path) -> None:
    options = dicomify.ConvertOptions(compression=dicomify.Compression.RLE)
    ds = dicomify.convert(photo(), tmp_path / "a.dcm", options=options, iod="photo")
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.4"


@pytest.mark.parametrize(
    "bad",
    [{"iod": "ct"}, {"compression": "zip"}, {"background": "not-a-colour"}, {"dpi": 0}, {"page": -1}],
)
def test_bad_options_are_typed_errors(bad: dict[str, object]) -> None:
    with pytest.raises(dicomify.DicomifyError):
        dicomify.DicomImage(photo(), **bad)  # type: ignore[arg-type]


def test_multi_frame_array_and_page_option(tmp_path: Path) -> None:
    frames = np.stack([photo() for _ in range(3)])
    ds = dicomify.convert(frames, tmp_path / "mf.dcm")
    assert ds.NumberOfFrames == 3
    tiff = tmp_path / "pages.tif"
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tiff, save_all=True, append_images=images[1:])
    one = dicomify.convert(tiff, tmp_path / "p1.dcm", page=1)
    assert "NumberOfFrames" not in one
    assert np.array_equal(pydicom.dcmread(tmp_path / "p1.dcm").pixel_array, frames[1])
    with pytest.raises(dicomify.InputError, match="no page 7"):
        dicomify.convert(tiff, tmp_path / "p7.dcm", page=7)


def test_exported_members() -> None:
    """__all__ lists exactly the public names (httpx's test_exported_members)."""
    public = {name for name in dir(dicomify) if not name.startswith("_")}
    modules = {
        "api",
        "iod",
        "cli",
        "encode",
        "errors",
        "export",
        "media",
        "picture",
        "options",
        "outcome",
        "readers",
        "report",
    }
    assert set(dicomify.__all__) - {"__version__"} == public - modules - {"emf", "net", "batch", "serve"}


def test_large_native_picture_is_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dicomify.encode import pixel_data

    monkeypatch.setattr(pixel_data, "STREAM_THRESHOLD", 1000)
    frames = np.stack([photo() for _ in range(3)])
    image = dicomify.DicomImage(frames)
    assert isinstance(image.dataset["PixelData"].value, pixel_data.FrameStream)
    image.save(tmp_path / "s.dcm")
    assert np.array_equal(pydicom.dcmread(tmp_path / "s.dcm").pixel_array, frames)
    odd = np.zeros((3, 5), np.uint8) + 7  # 15 bytes: needs the pad byte
    monkeypatch.setattr(pixel_data, "STREAM_THRESHOLD", 10)
    dicomify.convert(odd, tmp_path / "odd.dcm")
    assert np.array_equal(pydicom.dcmread(tmp_path / "odd.dcm").pixel_array, odd)
    assert dciodvfy_errors(tmp_path / "odd.dcm") == []


@pytest.mark.parametrize("kind", ["bytes", "path"])
def test_a_dataset_outlives_its_dicom_image(kind: str, tmp_path: Path) -> None:
    # Multi-page frames are read from the source while used: the source must stay open.
    import gc

    import tifffile

    pages = [np.full((20, 30), 50 * i, np.uint8) for i in range(4)]
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as writer:
        for page in pages:
            writer.write(page)
    source = path.read_bytes() if kind == "bytes" else path
    ds = dicomify.DicomImage(source).dataset
    gc.collect()
    assert np.array_equal(ds.pixel_array, np.stack(pages))
