"""PDF: Encapsulated PDF byte-identical (Pillow and pypdfium2 write the inputs), or pages rendered."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pypdfium2 as pdfium
import pytest
from helpers.validators import dciodvfy_errors, dcmtk_decodes, require_tool
from PIL import Image, ImageDraw

import dicomify
from dicomify.errors import CorruptImageError, UnsupportedFormatError
from dicomify.export import export_file


def _pdf(pages: int = 2, title: str = "Consent form", size: tuple[int, int] = (595, 842)) -> bytes:
    images = []
    for index in range(pages):
        image = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(image)
        draw.rectangle([40, 40 + 30 * index, 260, 110 + 30 * index], fill=(200, 30, 30))
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="PDF", save_all=True, append_images=images[1:], resolution=72, title=title,
        creationDate="D:20250304050607",
    )  # fmt: skip
    return buffer.getvalue()


def test_pdf_is_encapsulated_byte_identical(tmp_path: Path) -> None:
    data = _pdf(title="Consent form \\ surgery")
    (tmp_path / "letter.pdf").write_bytes(data)
    ds = dicomify.convert(tmp_path / "letter.pdf", tmp_path / "letter.dcm", PatientID="P1", PatientName="Doe^Jane")
    assert dciodvfy_errors(tmp_path / "letter.dcm") == []
    stored = pydicom.dcmread(tmp_path / "letter.dcm")
    assert stored.SOPClassUID == pydicom.uid.EncapsulatedPDFStorage
    assert stored.Modality == "DOC" and stored.BurnedInAnnotation == "YES"
    assert stored.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert stored.DocumentTitle == "Consent form / surgery"  # no backslash: DICOM's value separator
    assert (stored.ContentDate, stored.ContentTime) == ("20250304", "050607")
    assert "ConceptNameCodeSequence" in stored and "ConversionType" in stored
    assert stored.EncapsulatedDocument[: stored.EncapsulatedDocumentLength] == data
    assert ds.PatientName == "Doe^Jane"
    # dcmtk's own extractor gives the document back unchanged.
    out = tmp_path / "dcmtk.pdf"
    result = subprocess.run([require_tool("dcmdump"), str(tmp_path / "letter.dcm")], capture_output=True, text=True)
    assert result.returncode == 0 and "EncapsulatedPDFStorage" in result.stdout
    result = subprocess.run(["dcm2pdf", str(tmp_path / "letter.dcm"), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().rstrip(b"\0") == data.rstrip(b"\0")
    [ours] = export_file(tmp_path / "letter.dcm", tmp_path / "back.pdf")
    assert ours.read_bytes() == data


def test_document_title_and_concept_from_metadata(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(_pdf(pages=1))
    concept = [{"CodeValue": "11488-4", "CodingSchemeDesignator": "LN", "CodeMeaning": "Consult note"}]
    ds = dicomify.convert(
        tmp_path / "a.pdf", tmp_path / "a.dcm", DocumentTitle="Referral", ConceptNameCodeSequence=concept
    )
    assert ds.DocumentTitle == "Referral"
    assert ds.ConceptNameCodeSequence[0].CodeValue == "11488-4"
    assert dciodvfy_errors(tmp_path / "a.dcm") == []


def test_pdf_as_images_renders_every_page(tmp_path: Path) -> None:
    data = _pdf(pages=3)
    (tmp_path / "form.pdf").write_bytes(data)
    ds = dicomify.convert(tmp_path / "form.pdf", tmp_path / "form.dcm", pdf_as_images=True, dpi=72)
    assert ds.NumberOfFrames == 3 and (ds.Rows, ds.Columns) == (842, 595)
    assert dciodvfy_errors(tmp_path / "form.dcm") == []
    pixels = pydicom.dcmread(tmp_path / "form.dcm").pixel_array
    document = pdfium.PdfDocument(data)
    for index in range(3):
        expected = document[index].render(scale=1, rev_byteorder=True).to_numpy()[..., :3]
        assert np.array_equal(pixels[index], expected)
    document.close()
    # The red box moved down page by page, as drawn.
    assert pixels[0][45, 45, 0] > 150 and pixels[2][45, 45, 0] > 150 and pixels[2][45, 45, 1] > 200
    theirs = dcmtk_decodes(tmp_path / "form.dcm", tmp_path)  # dcmtk renders the last frame
    assert theirs is not None and np.array_equal(theirs, pixels[2])
    one = dicomify.convert(tmp_path / "form.pdf", tmp_path / "p1.dcm", pdf_as_images=True, page=1, dpi=36)
    assert "NumberOfFrames" not in one or one.NumberOfFrames == 1
    assert (one.Rows, one.Columns) == (421, 298)  # 297.5 rounds up, as PDFium renders it


def test_pages_of_different_sizes_become_one_object_each(tmp_path: Path) -> None:
    small, large = _pdf(pages=1, size=(300, 300)), _pdf(pages=1)
    merged = pdfium.PdfDocument(small)
    merged.import_pages(pdfium.PdfDocument(large))
    buffer = io.BytesIO()
    merged.save(buffer)
    (tmp_path / "mixed.pdf").write_bytes(buffer.getvalue())
    image = dicomify.DicomImage(tmp_path / "mixed.pdf", pdf_as_images=True, dpi=72)
    assert [(ds.Rows, ds.Columns) for ds in image.datasets] == [(300, 300), (842, 595)]
    assert [ds.InstanceNumber for ds in image.datasets] == [1, 2]
    assert len({ds.SeriesInstanceUID for ds in image.datasets}) == 1
    image.save(tmp_path / "m.dcm")
    written = sorted(tmp_path.glob("m*.dcm"))
    assert len(written) == 2 and all(dciodvfy_errors(path) == [] for path in written)
    dicomify.convert(tmp_path / "mixed.pdf", tmp_path / "kept.dcm")  # encapsulated as it is


def test_encrypted_and_broken_pdfs_are_one_line(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf())))
    writer.encrypt(user_password="secret", algorithm="AES-256")
    with open(tmp_path / "locked.pdf", "wb") as file:
        writer.write(file)
    (tmp_path / "broken.pdf").write_bytes(_pdf()[:200])
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(tmp_path / "broken.pdf"), "-o", str(tmp_path / "b.dcm")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "broken.pdf" in result.stderr and "PDF" in result.stderr
    assert not (tmp_path / "b.dcm").exists()
    with pytest.raises(CorruptImageError):
        dicomify.convert(tmp_path / "broken.pdf", tmp_path / "b.dcm")
    with pytest.raises(UnsupportedFormatError, match=r"locked\.pdf: the PDF is encrypted"):
        dicomify.convert(tmp_path / "locked.pdf", tmp_path / "e.dcm")


def test_pdf_in_a_batch_joins_the_pictures_study(tmp_path: Path) -> None:
    folder = tmp_path / "visit"
    folder.mkdir()
    (folder / "consent.pdf").write_bytes(_pdf(pages=1))
    Image.new("RGB", (32, 24), (10, 120, 200)).save(folder / "wound.png")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomify",
            "convert",
            str(folder),
            "-o",
            str(tmp_path / "out"),
            "--patient-id",
            "P7",
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    outputs = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(outputs) == 2
    objects = [pydicom.dcmread(path) for path in outputs]
    assert {str(ds.SOPClassUID) for ds in objects} == {
        pydicom.uid.EncapsulatedPDFStorage,
        pydicom.uid.SecondaryCaptureImageStorage,
    }
    assert len({ds.StudyInstanceUID for ds in objects}) == 1
    assert {ds.PatientID for ds in objects} == {"P7"}
    for path in outputs:
        assert dciodvfy_errors(path) == []
