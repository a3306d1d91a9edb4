"""Real WMF and EMF files written by Microsoft Office and LibreOffice (OLE object icons, a
logo, charts, PowerPoint's slide thumbnails), taken from the test documents of public Office libraries on PyPI at test
time (tests/helpers/office_corpus.py: pinned sdists, checked by SHA-256, cached, never
copied into the repository).

Every file renders without error to a picture that is not blank, with no black box where
an icon's mask or alpha says transparent, and converts to DICOM that dciodvfy passes. The
download needs PyPI: without it the tests skip, except in CI (env CI set), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers.office_corpus import FetchError, corpus, kind
from helpers.validators import dciodvfy_errors

import dicomify
from dicomify.emf import render

GDIPLUS = "metafile-render/tests/fixtures/gdiplus"
NAMES = (
    *(
        f"{GDIPLUS}/{scene}-{kind}.emf"
        for scene in ("fallback", "geometry", "images", "mixed", "state", "text")
        for kind in ("dual", "only")
    ),
    "python-docx/tests/test_files/CVS_LOGO.WMF",
    "python-pptx/features/steps/test_files/act-props.pptm!ppt/media/image1.emf",
    "python-pptx/features/steps/test_files/pic.emf",
    "python-pptx/features/steps/test_files/shp-access-ole-object.pptx!ppt/media/image1.emf",
    "python-pptx/src/pptx/templates/docx-icon.emf",
    "python-pptx/src/pptx/templates/generic-icon.emf",
    "python-pptx/src/pptx/templates/pptx-icon.emf",
    "python-pptx/src/pptx/templates/xlsx-icon.emf",
    "oletools/tests/test-data/oleobj/embedded-simple-2007.docm!word/media/image1.emf",
    "oletools/tests/test-data/oleobj/embedded-simple-2007.odp!ObjectReplacements/Object 1",
    "oletools/tests/test-data/oleobj/embedded-simple-2007.ods!ObjectReplacements/Object 1",
    "oletools/tests/test-data/oleobj/embedded-simple-2007.pptm!ppt/media/image1.wmf",
    "oletools/tests/test-data/oleobj/embedded-unicode-2007.docx!word/media/image1.emf",
    "oletools/tests/test-data/oleobj/external_link/sample_with_external_link_to_doc.pptm!ppt/media/image1.emf",
    "oletools/tests/test-data/oleobj/external_link/sample_with_external_link_to_doc.pptx!ppt/media/image1.emf",
    "oletools/tests/test-data/oleobj/external_link/sample_with_external_link_to_doc.xlsm!xl/media/image1.emf",
    "oletools/tests/test-data/oleobj/embedded-simple-2007.pot!thumbnail.wmf",
    "oletools/tests/test-data/oleobj/sample_with_lnk_file.pps!thumbnail.wmf",
    "oletools/tests/test-data/oleobj/sample_with_lnk_file.ppt!thumbnail.wmf",
    "oletools/tests/test-data/olevba/sample_with_vba.ppt!thumbnail.wmf",
)
# A black logo is meant to be black; everything else is an icon or a drawing on white.
MOSTLY_BLACK = {"python-docx/tests/test_files/CVS_LOGO.WMF"}


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    try:
        return corpus()
    except FetchError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the Office metafile corpus could not be fetched in CI: {exc}")
        pytest.skip(f"the Office metafile corpus could not be fetched: {exc}")


def test_corpus_holds_real_wmf_and_emf_files(files: dict[str, bytes]) -> None:
    assert sorted(files) == sorted(NAMES)
    kinds = [kind(data) for data in files.values()]
    assert kinds.count("wmf") >= 7 and kinds.count("emf") >= 22


@pytest.mark.parametrize("name", NAMES)
def test_office_metafile_renders_and_converts(name: str, files: dict[str, bytes], tmp_path: Path) -> None:
    data = files[name]
    pixels = np.asarray(render(data)).astype(int)
    assert (pixels < 200).any(axis=-1).mean() > 0.005, "the rendered picture is (nearly) blank"
    black = (pixels < 40).all(axis=-1).mean()
    if name not in MOSTLY_BLACK:
        # An icon whose AND mask was taken from the wrong half, or whose alpha was dropped,
        # comes out as a black box: 4.5-8 % of these pictures (at most 2.4 % when right).
        assert black < 0.035, f"{black:.1%} of the picture is black"
    source = tmp_path / f"picture.{kind(data)}"
    source.write_bytes(data)
    target = tmp_path / "picture.dcm"
    dicomify.convert(source, target)
    errors = dciodvfy_errors(target)
    assert not errors, "\n".join(errors)


# metafile-render's own checks of its GDI+-written EMF+-only samples (tests/test_emfplus.py,
# at 256 x 256): a point inside each shape and its colour. Its "fallback" sample is left
# out: its expected colours are that renderer's approximations of unsupported brushes.
GDIPLUS_POINTS = {
    "geometry": [((140, 35), (255, 0, 0)), ((30, 110), (0, 128, 0)), ((65, 190), (128, 0, 128))],
    "state": [((70, 65), (255, 105, 105)), ((195, 40), (0, 0, 255)), ((145, 150), (0, 128, 0))],
    "images": [((40, 40), (255, 0, 0)), ((40, 100), (255, 255, 255)), ((100, 80), (127, 217, 127))],
    "mixed": [((40, 40), (255, 0, 0)), ((200, 40), (0, 0, 255))],
}


@pytest.mark.parametrize("scene", sorted(GDIPLUS_POINTS))
def test_gdiplus_sample_colours(scene: str, files: dict[str, bytes]) -> None:
    image = render(files[f"{GDIPLUS}/{scene}-only.emf"]).resize((256, 256))
    for point, expected in GDIPLUS_POINTS[scene]:
        actual = image.getpixel(point)
        assert max(abs(a - e) for a, e in zip(actual, expected, strict=True)) <= 3, (point, actual, expected)
