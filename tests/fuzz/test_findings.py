"""Every fuzzing finding stays fixed: the inputs libFuzzer found, with what they must give now.

Add a file to ``findings/`` and a line to FINDINGS for each new one (docs/limits.md
lists how they were found).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import dicomify
from dicomify.batch.manifest import read_manifest
from dicomify.iod.metadata import load_json

FINDINGS_DIR = Path(__file__).parent / "findings"

# file -> (error it must raise, words its message must hold); None: it must convert.
FINDINGS: dict[str, tuple[type[dicomify.DicomifyError], str] | None] = {
    # SOF declaring 0-bit samples: reached pydicom's writer as struct.error (High Bit -1).
    "jpeg-0-bit-precision.jpg": (dicomify.CorruptImageError, "0-bit samples"),
    # A frame header of no pixels: ZeroDivisionError measuring how much data is missing.
    "jpeg-empty-frame.jpg": (dicomify.CorruptImageError, "truncated"),
    # A page tifffile decodes to an empty 1-D array: IndexError taking its samples.
    "tiff-page-not-2d.tif": (dicomify.CorruptImageError, "decodes to samples of shape"),
    # A Compression tag with three values: TypeError inside the TIFF reader.
    "tiff-multi-valued-compression.tif": (dicomify.UnsupportedFormatError, "Compression"),
    # PlanarConfiguration read as text: ValueError from int() while decoding the page.
    "tiff-text-planar-configuration.tif": (dicomify.UnsupportedFormatError, "Planarconfig"),
    # BitsPerSample/SampleFormat tifffile has no numpy type for: TypeError building the picture.
    "tiff-no-sample-type.tif": (dicomify.UnsupportedFormatError, "sample format"),
    # An Orientation tag with several values: TypeError; now ignored, as a damaged EXIF one is.
    "tiff-multi-valued-orientation.tif": None,
    # A palette page without a ColorMap: TypeError expanding the palette (fuzz run 8).
    "tiff-palette-without-colormap.tif": (dicomify.CorruptImageError, "no ColorMap"),
    # Found by mutating old-style JPEG TIFFs (tests/readers/test_tiff_old_jpeg.py's), not libFuzzer:
    # a TileWidth of several values broke tifffile's is_tiled (TypeError) ...
    "tiff-old-jpeg-multi-valued-tile-width.tif": (dicomify.UnsupportedFormatError, "tiled old-style JPEG"),
    # ... and an uncompressed YCbCr page of one sample reached the colour conversion (IndexError).
    "tiff-ycbcr-one-sample.tif": (dicomify.CorruptImageError, "1 sample(s) per pixel"),
}
# Metadata files (--metadata FILE.json): what load_json must raise.
JSON_FINDINGS: dict[str, str] = {
    # Not UTF-8: UnicodeDecodeError escaped load_json (a traceback from --metadata).
    "metadata-not-utf8.json": "not UTF-8",
}


# Batch manifests (--manifest FILE.csv): rows, each good or with its error; never an exception.
MANIFEST_FINDINGS: dict[str, str] = {
    # A path cell holding a NUL byte: ValueError from os.path.expanduser.
    "manifest-nul-in-path.csv": "NUL character",
}


def test_every_finding_is_listed() -> None:
    listed = [*FINDINGS, *JSON_FINDINGS, *MANIFEST_FINDINGS]
    assert sorted(p.name for p in FINDINGS_DIR.iterdir()) == sorted(listed)


@pytest.mark.parametrize("name", sorted(MANIFEST_FINDINGS))
def test_manifest_finding_is_a_row_error(name: str) -> None:
    rows = read_manifest(FINDINGS_DIR / name)
    assert any(row.error and MANIFEST_FINDINGS[name] in row.error for row in rows)


@pytest.mark.parametrize("name", sorted(JSON_FINDINGS))
def test_metadata_finding_is_a_metadata_error(name: str) -> None:
    with pytest.raises(dicomify.MetadataError, match=JSON_FINDINGS[name]):
        load_json(FINDINGS_DIR / name)


def test_deeply_nested_metadata_is_a_metadata_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(dicomify.MetadataError):
        load_json(path)


@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_finding_is_a_clean_outcome(name: str) -> None:
    data = (FINDINGS_DIR / name).read_bytes()
    expected = FINDINGS[name]
    if expected is None:
        dicomify.convert(data, io.BytesIO())
        return
    error_type, words = expected
    with pytest.raises(error_type) as raised:
        dicomify.convert(data, io.BytesIO())
    assert words in str(raised.value)
    assert "does not recognise" not in str(raised.value) and "\n" not in str(raised.value)
