"""`dicomify export`: pictures as dcmtk shows them, stored values back unchanged, documents byte-exact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
import tifffile
from helpers.pictures import gray8, gray16, photo, rgb16
from helpers.validators import require_tool
from PIL import Image
from pydicom.data import get_testdata_file

import dicomify
from dicomify.errors import InputError, UnsupportedFormatError
from dicomify.export import ExportOptions, FrameLayout, export, export_file


def _testdata(name: str) -> Path:
    # Only files bundled with pydicom: nothing is downloaded.
    path = get_testdata_file(name, download=False)
    assert path is not None, f"pydicom's bundled test file {name} is missing"
    return Path(path)


def _dcmtk_render(path: Path, tmp_path: Path, *args: str) -> np.ndarray:
    out = tmp_path / "dcmtk.pnm"
    result = subprocess.run(
        [require_tool("dcmj2pnm"), "--write-raw-pnm", *args, str(path), str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        return np.asarray(image)


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@pytest.mark.parametrize(
    ("name", "dcmtk_args", "window"),
    [
        ("MR_small.dcm", ["+Wi", "1"], None),  # the stored window
        ("CT_small.dcm", ["+Ww", "40", "400"], (40.0, 400.0)),  # a window given, after the rescale
        ("CT_small.dcm", ["+Wm"], None),  # no window: min-max, as dcmtk's +Wm
        ("examples_palette.dcm", [], None),  # palette to RGB
        ("SC_rgb_rle_16bit.dcm", [], None),  # 16-bit RGB scaled to 8 bits
        ("MR_small_RLE.dcm", ["+Wi", "1"], None),  # RLE, signed 16-bit
    ],
)
def test_display_matches_dcmtk(
    name: str, dcmtk_args: list[str], window: tuple[float, float] | None, tmp_path: Path
) -> None:
    source = _testdata(name)
    [png] = export_file(source, tmp_path / "out.png", ExportOptions(window=window))
    ours = _read_png(png).astype(int)
    theirs = _dcmtk_render(source, tmp_path, *dcmtk_args).astype(int)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1  # rounding of the last step only


def test_ybr_multiframe_to_animated_png_and_tiff(tmp_path: Path) -> None:
    source = _testdata("examples_ybr_color.dcm")
    [apng] = export_file(source, tmp_path / "cine.png")
    with Image.open(apng) as image:
        # Pillow merges a frame equal to the one before into it (adding its time).
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
        last = np.asarray(image.convert("RGB")).astype(int)
    assert sum(durations) == pytest.approx(30 * float(pydicom.dcmread(source).FrameTime), rel=1e-3)
    [tif] = export_file(source, tmp_path / "cine.tif")
    pages = tifffile.imread(tif)
    assert pages.shape == (30, 240, 320, 3)
    theirs = _dcmtk_render(source, tmp_path, "--frame", "30").astype(int)
    difference = np.abs(pages[29].astype(int) - theirs)
    # Two JPEG decoders (libjpeg-turbo here, IJG in dcmtk) and YBR→RGB roundings differ slightly.
    assert difference.max() <= 4 and difference.mean() < 0.5
    assert np.array_equal(last, pages[29])


def test_numbered_files_per_frame(tmp_path: Path) -> None:
    written = export_file(
        _testdata("examples_ybr_color.dcm"), tmp_path, ExportOptions(format="jpeg", frames=FrameLayout.FILES)
    )
    assert [p.name for p in written[:2]] == ["examples_ybr_color-0001.jpg", "examples_ybr_color-0002.jpg"]
    assert len(written) == 30


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    values = gray8()
    ds = dicomify.convert(values, tmp_path / "m2.dcm")
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "m1.dcm", enforce_file_format=True)
    [png] = export_file(tmp_path / "m1.dcm", tmp_path / "m1.png")
    assert np.array_equal(_read_png(png), 255 - values)
    theirs = _dcmtk_render(tmp_path / "m1.dcm", tmp_path).astype(int)
    assert np.abs(_read_png(png).astype(int) - theirs).max() <= 1


@pytest.mark.parametrize("compression", ["none", "rle", "jpeg-ls", "jpeg2000"])
@pytest.mark.parametrize(
    ("kind", "make", "suffix"),
    [("gray8", gray8, ".png"), ("gray16", gray16, ".png"), ("rgb8", photo, ".png"), ("rgb16", rgb16, ".tif")],
)
def test_round_trip_gives_back_the_source_pixels(
    kind: str, make: object, suffix: str, compression: str, tmp_path: Path
) -> None:
    pixels = make()  # type: ignore[operator]
    source = tmp_path / f"{kind}{suffix}"
    if suffix == ".png":
        Image.fromarray(pixels).save(source)  # Pillow writes 8-bit and 16-bit gray PNG
    else:
        tifffile.imwrite(source, pixels, photometric="rgb")
    dicomify.convert(source, tmp_path / "x.dcm", compression=compression)
    [out] = export_file(tmp_path / "x.dcm", tmp_path / f"back{suffix}", ExportOptions(values=True))
    back = tifffile.imread(out) if suffix == ".tif" else _read_png(out)
    assert back.dtype == pixels.dtype
    assert np.array_equal(back, pixels)


def test_round_trip_multipage_tiff(tmp_path: Path) -> None:
    pages = np.stack([gray16(), gray16(), gray16()])
    tifffile.imwrite(tmp_path / "pages.tif", pages, photometric="minisblack")
    dicomify.convert(tmp_path / "pages.tif", tmp_path / "pages.dcm")
    [out] = export_file(tmp_path / "pages.dcm", tmp_path / "back.tif", ExportOptions(values=True))
    assert np.array_equal(tifffile.imread(out), pages)


def test_signed_values_go_to_tiff_not_png(tmp_path: Path) -> None:
    source = _testdata("CT_small.dcm")
    [tif] = export_file(source, tmp_path / "ct.tif", ExportOptions(values=True))
    assert np.array_equal(tifffile.imread(tif), pydicom.dcmread(source).pixel_array)
    with pytest.raises(dicomify.DicomifyError, match="signed stored values do not fit PNG"):
        export_file(source, tmp_path / "ct.png", ExportOptions(values=True))


def test_encapsulated_pdf_is_extracted_byte_identical(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    document = b"%PDF-1.4\n% a document of odd length!\n%%EOF\n"
    assert len(document) % 2 == 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    ds.SOPInstanceUID = generate_uid()
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = document + b"\0"
    ds.EncapsulatedDocumentLength = len(document)
    ds.save_as(tmp_path / "doc.dcm", enforce_file_format=True)
    [out] = export_file(tmp_path / "doc.dcm", tmp_path)
    assert out.name == "doc.pdf"
    assert out.read_bytes() == document


def test_objects_that_are_not_images_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match=r"rtplan\.dcm: not an image or document \(RT Plan Storage\)"):
        export_file(_testdata("rtplan.dcm"), tmp_path / "x.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="not a DICOM file"):
        export_file(tmp_path / "notes.txt", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_folder_export_keeps_structure_and_reports_each_file(tmp_path: Path) -> None:
    tree = tmp_path / "in"
    (tree / "a" / "b").mkdir(parents=True)
    dicomify.convert(gray8(), tree / "a" / "one.dcm")
    dicomify.convert(photo(), tree / "a" / "b" / "two.dcm")
    (tree / "a" / "readme.txt").write_text("not DICOM, passed over")
    results = list(export([tree], tmp_path / "out"))
    assert [r.error for r in results] == [None, None]
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for r in results for p in r.outputs) == [
        "a/b/two.png",
        "a/one.png",
    ]


def test_cli_export_exit_codes(tmp_path: Path) -> None:
    dicomify.convert(gray8(), tmp_path / "one.dcm")
    (tmp_path / "bad.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 10)
    ok = subprocess.run(
        [sys.executable, "-m", "dicomify", "export", str(tmp_path / "one.dcm"), "-o", str(tmp_path / "one.png")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "one.png").exists()
    partial = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomify",
            "export",
            str(tmp_path / "one.dcm"),
            str(tmp_path / "bad.dcm"),
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert partial.returncode == 3
    assert partial.stderr.count("\n") == 1 and "bad.dcm" in partial.stderr and "Traceback" not in partial.stderr
