"""TIFF kinds whose pixels need more than a copy: L*a*b*, YCbCr, CMYK 16-bit, extra
samples (associated, unassociated, unspecified), signed integers, deep gray, palette
with alpha, old-style JPEG and subsampled YCbCr.

Every input is made here (tifffile, Pillow, or tag by tag); every output is compared
with a reference decoder or a formula, validated by dciodvfy and decoded by GDCM and
dcmtk.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import tifffile
from helpers.pictures import RNG, composite, photo
from helpers.roundtrip import convert_and_check, dcmtk_default, dcmtk_windowed
from helpers.tiff_build import LONG, RATIONAL, SHORT, tiff_bytes, ycbcr_subsampled, ycbcr_tiled
from PIL import Image

import dicomify

WHITE = (255, 255, 255)
H, W = 24, 32  # multiples of the YCbCr subsampling blocks


def _tiff(data: np.ndarray, **params: object) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, data, **params)
    return buffer.getvalue()


# ---------------------------------------------------------------- L*a*b*

_M_RGB_TO_XYZ65 = np.linalg.inv(
    np.array(
        [
            [3.2404542, -1.5371385, -0.4985314],
            [-0.9692660, 1.8760108, 0.0415560],
            [0.0556434, -0.2040259, 1.0572252],
        ]
    )
)
_D65_TO_D50 = np.array(
    [[1.0478112, 0.0228866, -0.0501270], [0.0295424, 0.9904844, -0.0170491], [-0.0092345, 0.0150436, 0.7521316]]
)
_D50 = np.array([0.9642, 1.0, 0.8249])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1) to CIE L*a*b* relative to D50 (Bradford), the inverse of what a reader shows."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _M_RGB_TO_XYZ65.T @ _D65_TO_D50.T / _D50
    e = 216 / 24389
    f = np.where(xyz > e, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _lab_samples(lab: np.ndarray, photometric: int, bits: int) -> np.ndarray:
    full = 2**bits - 1
    if photometric == 8:  # CIELab: a*, b* signed
        scale = 1 if bits == 8 else 256
        chroma = np.rint(lab[..., 1:] * scale).astype(np.int8 if bits == 8 else np.int16)
        lightness = np.rint(lab[..., 0] * full / 100)
        out = np.empty(lab.shape, np.uint8 if bits == 8 else np.uint16)
        out[..., 0] = lightness
        out[..., 1:] = chroma.view(out.dtype)
        return out
    if photometric == 9:  # ICCLab: a*, b* offset by 128
        values = np.concatenate([lab[..., :1] * full / 100, (lab[..., 1:] + 128) * full / 255], -1)
    else:  # ITULab, default Decode ranges
        low, high = np.array([0, -85, -75]), np.array([100, 85, 125])
        values = (lab - low) * full / (high - low)
    assert values.min() >= 0 and values.max() <= full, "colour outside the encoding's range"
    return np.rint(values).astype(np.uint8 if bits == 8 else np.uint16)


@pytest.mark.parametrize("photometric", [8, 9, 10], ids=["cielab", "icclab", "itulab"])
@pytest.mark.parametrize("bits", [8, 16])
def test_lab_tiff_is_converted_to_the_colours_it_encodes(photometric: int, bits: int, tmp_path: Path) -> None:
    # A fixed picture: how far 8-bit Lab steps move its darkest saturated colours depends on
    # the noise (up to 19 levels over 30 pictures), and the shared RNG depends on test order.
    rgb = photo(H, W, seed=1)
    if photometric == 10:
        # ITULab's default ranges (a* -85..85, b* -75..125) hold less than sRGB's gamut.
        rgb = (rgb // 2 + 64).astype(np.uint8)
    lab = srgb_to_lab(rgb / 255.0)
    data = _tiff(_lab_samples(lab, photometric, bits), photometric=photometric)
    # The colours the samples were made from. 16-bit Lab is precise: within a level.
    # 8-bit Lab steps (0.4 L*, 1 a*/b*) move dark saturated sRGB colours by up to a
    # dozen levels, most colours by one.
    expected = rgb if bits == 8 else (rgb.astype(np.uint16) * 257)
    ds = convert_and_check(data, expected, tmp_path, tolerance=16 if bits == 8 else 257, name="lab.tif")
    assert ds.PhotometricInterpretation == "RGB" and ds.BitsStored == bits
    difference = np.abs(ds.pixel_array / (1.0 if bits == 8 else 257.0) - rgb)
    assert np.percentile(difference, 90) <= (2 if bits == 8 else 0.5)


def srgb_to_lab_d65(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1) to CIE L*a*b* relative to D65 itself (no adaptation), as ImageMagick writes it."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _M_RGB_TO_XYZ65.T / np.array([0.95047, 1.0, 1.08883])
    e = 216 / 24389
    f = np.where(xyz > e, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


@pytest.mark.parametrize("bits", [8, 16])
def test_cielab_tiff_uses_its_white_point(bits: int, tmp_path: Path) -> None:
    # ImageMagick writes CIELab relative to D65 with WhitePoint (0.3127, 0.329); libtiff reads
    # the tag. Taken as D50, greens and blues shifted by up to 68 levels. A fixed picture,
    # as above.
    rgb = photo(H, W, seed=1)
    samples = _lab_samples(srgb_to_lab_d65(rgb / 255.0), 8, bits)
    data = _tiff(samples, photometric="cielab", extratags=[(318, 5, 2, (3127, 10000, 329, 1000), True)])
    assert tifffile.TiffFile(io.BytesIO(data)).pages[0].tags["WhitePoint"].value is not None
    expected = rgb if bits == 8 else (rgb.astype(np.uint16) * 257)
    ds = convert_and_check(data, expected, tmp_path, tolerance=16 if bits == 8 else 257, name="lab65.tif")
    difference = np.abs(ds.pixel_array / (1.0 if bits == 8 else 257.0) - rgb)
    assert np.percentile(difference, 90) <= (2 if bits == 8 else 0.5)


def test_lab_tiff_matches_pillows_rendering(tmp_path: Path) -> None:
    # Pillow (lcms) is a reference decoder for 8-bit CIELab; its 8-bit lookup tables
    # are coarse in dark saturated colours, so compare the bulk of the picture.
    rgb = photo(H, W)
    data = _tiff(_lab_samples(srgb_to_lab(rgb / 255.0), 8, 8), photometric="cielab")
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "LAB"
        pillow = np.asarray(image.convert("RGB"))
    ds = convert_and_check(data, pillow, tmp_path, tolerance=40, name="lab.tif")
    difference = np.abs(ds.pixel_array.astype(int) - pillow)
    assert np.percentile(difference, 90) <= 4 and difference.mean() <= 2


# ---------------------------------------------------------------- extra samples


def _premultiply(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    full = np.iinfo(color.dtype).max
    a = alpha if color.ndim == 2 else alpha[..., None]
    return np.rint(color.astype(np.float64) * a / full).astype(color.dtype)


def _associated_reference(pre: np.ndarray, alpha: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    full = float(np.iinfo(pre.dtype).max)
    if pre.ndim == 2:
        r, g, b = background
        bg = np.array((r * 299 + g * 587 + b * 114) / 1000 * full / 255)
        a = alpha / full
    else:
        bg = np.array(background) * full / 255
        a = (alpha / full)[..., None]
    return np.rint(pre + bg * (1 - a)).astype(pre.dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize("background", [WHITE, (0, 0, 0), (16, 128, 200)], ids=["white", "black", "colour"])
def test_associated_alpha_composites_premultiplied_colour(
    dtype: type, channels: int, background: tuple[int, int, int], tmp_path: Path
) -> None:
    full = np.iinfo(dtype).max
    color = RNG.integers(0, full + 1, (H, W, channels), dtype=dtype).squeeze()
    alpha = RNG.integers(0, full + 1, (H, W), dtype=dtype)
    pre = _premultiply(color, alpha)
    data = _tiff(
        np.dstack([pre, alpha]), photometric="rgb" if channels == 3 else "minisblack", extrasamples=["assocalpha"]
    )
    expected = _associated_reference(pre, alpha, background)
    convert_and_check(data, expected, tmp_path, tolerance=1, name="assoc.tif", background=background)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_unassociated_alpha_still_composites_straight_colour(dtype: type, tmp_path: Path) -> None:
    full = np.iinfo(dtype).max
    color = RNG.integers(0, full + 1, (H, W, 3), dtype=dtype)
    alpha = RNG.integers(0, full + 1, (H, W), dtype=dtype)
    data = _tiff(np.dstack([color, alpha]), photometric="rgb", extrasamples=["unassalpha"])
    convert_and_check(data, composite(color, alpha, WHITE), tmp_path, tolerance=1, name="unassoc.tif")


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize("planar", [False, True], ids=["contig", "planar"])
def test_unspecified_extra_samples_are_dropped(channels: int, planar: bool, tmp_path: Path) -> None:
    color = RNG.integers(0, 256, (H, W, channels), dtype=np.uint8)
    extra = RNG.integers(0, 256, (H, W, 2), dtype=np.uint8)
    samples = np.dstack([color, extra])
    if planar:
        samples = np.moveaxis(samples, -1, 0)
    data = _tiff(
        samples,
        photometric="rgb" if channels == 3 else "minisblack",
        extrasamples=["unspecified", "unspecified"],
        planarconfig="separate" if planar else "contig",
    )
    convert_and_check(data, color.squeeze(), tmp_path, name="extra.tif")


def test_alpha_after_an_unspecified_sample_is_found(tmp_path: Path) -> None:
    color = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    junk = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    alpha = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    data = _tiff(np.dstack([color, junk, alpha]), photometric="rgb", extrasamples=["unspecified", "unassalpha"])
    convert_and_check(data, composite(color, alpha, WHITE), tmp_path, tolerance=1, name="extra.tif")


# ---------------------------------------------------------------- signed integers


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("layout", ["plain", "extra", "planar-extra"])
def test_signed_integer_tiff_keeps_its_values(dtype: type, layout: str, tmp_path: Path) -> None:
    info = np.iinfo(dtype)
    values = RNG.integers(info.min // 2, info.max // 2, (H, W), dtype=dtype)
    values[0, 0], values[0, 1] = info.min // 2, info.max // 2 - 1
    if layout == "plain":
        data = _tiff(values, photometric="minisblack")
    else:
        extra = RNG.integers(info.min, info.max, (H, W), dtype=dtype)
        stacked = np.stack([values, extra]) if layout.startswith("planar") else np.dstack([values, extra])
        data = _tiff(
            stacked,
            photometric="minisblack",
            extrasamples=["unspecified"],
            planarconfig="separate" if layout.startswith("planar") else "contig",
        )
    ds = convert_and_check(data, values, tmp_path, name="signed.tif")
    assert ds.PixelRepresentation == 1 and ds.BitsStored == 8 * np.dtype(dtype).itemsize
    low, high = int(values.min()), int(values.max())
    assert float(ds.WindowCenter) == pytest.approx((low + high + 1) / 2)
    assert float(ds.WindowWidth) == pytest.approx(high - low + 1)
    # dcmtk shows the window: lowest value black, highest white.
    shown = dcmtk_windowed(tmp_path / "out.dcm", tmp_path)
    expected = np.rint((values.astype(np.float64) - low) * 255 / (high - low))
    assert np.abs(shown.astype(int) - expected).max() <= 2


def test_signed_multipage_tiff(tmp_path: Path) -> None:
    pages = RNG.integers(-1000, 1000, (3, H, W), dtype=np.int16)
    data = _tiff(pages, photometric="minisblack")
    # The multi-frame grayscale SC IODs are unsigned: stored offset, restored by the
    # Modality LUT.
    ds = convert_and_check(data, pages - int(pages.min()), tmp_path, name="signed.tif")
    assert ds.NumberOfFrames == 3 and ds.PixelRepresentation == 0
    assert float(ds.RescaleIntercept) == pages.min() and float(ds.RescaleSlope) == 1
    from pydicom.pixels import apply_rescale

    assert np.array_equal(apply_rescale(ds.pixel_array, ds), pages)


def test_signed_colour_tiff_is_refused_with_the_reason(tmp_path: Path) -> None:
    import dicomify

    data = _tiff(RNG.integers(-5, 5, (H, W, 3), dtype=np.int16), photometric="rgb")
    with pytest.raises(dicomify.UnsupportedFormatError, match="signed integer colour"):
        dicomify.DicomImage(data)


# ---------------------------------------------------------------- CMYK 16-bit


@pytest.mark.parametrize("planar", [False, True], ids=["contig", "planar"])
def test_cmyk16_becomes_rgb16(planar: bool, tmp_path: Path) -> None:
    cmyk = RNG.integers(0, 65536, (H, W, 4), dtype=np.uint16)
    data = _tiff(
        np.moveaxis(cmyk, -1, 0) if planar else cmyk,
        photometric="separated",
        planarconfig="separate" if planar else "contig",
    )
    c = cmyk.astype(np.float64) / 65535
    expected = np.rint((1 - c[..., :3]) * (1 - c[..., 3:]) * 65535).astype(np.uint16)
    ds = convert_and_check(data, expected, tmp_path, tolerance=1, name="cmyk16.tif")
    assert ds.BitsStored == 16 and ds.PhotometricInterpretation == "RGB"


def test_cmyk8_still_matches_pillow(tmp_path: Path) -> None:
    cmyk = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
    data = _tiff(cmyk, photometric="separated")
    expected = np.asarray(Image.fromarray(cmyk, "CMYK").convert("RGB"))
    convert_and_check(data, expected, tmp_path, name="cmyk8.tif")


# ---------------------------------------------------------------- YCbCr


def _pillow_ycbcr(ycc: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(ycc, "YCbCr").convert("RGB"))


def test_uncompressed_ycbcr_is_converted_to_rgb(tmp_path: Path) -> None:
    ycc = RNG.integers(16, 240, (H, W, 3), dtype=np.uint8)
    data = tiff_bytes(
        W,
        H,
        {258: (SHORT, [8, 8, 8]), 259: (SHORT, [1]), 262: (SHORT, [6]), 277: (SHORT, [3]), 530: (SHORT, [1, 1])},
        ycc.tobytes(),
    )
    convert_and_check(data, _pillow_ycbcr(ycc), tmp_path, tolerance=1, name="ycc.tif")


@pytest.mark.parametrize("subsampling", [(2, 2), (2, 1), (4, 1), (4, 2)])
def test_subsampled_ycbcr_without_jpeg(subsampling: tuple[int, int], tmp_path: Path) -> None:
    h, v = subsampling
    units, ycc = ycbcr_subsampled(photo(H, W), h, v)
    data = tiff_bytes(
        W,
        H,
        {258: (SHORT, [8, 8, 8]), 259: (SHORT, [1]), 262: (SHORT, [6]), 277: (SHORT, [3]), 530: (SHORT, [h, v])},
        units,
    )
    convert_and_check(data, _pillow_ycbcr(ycc), tmp_path, tolerance=1, name="ycc.tif")


def test_subsampled_ycbcr_lzw(tmp_path: Path) -> None:
    import imagecodecs

    units, ycc = ycbcr_subsampled(photo(H, W), 2, 2)
    data = tiff_bytes(
        W,
        H,
        {258: (SHORT, [8, 8, 8]), 259: (SHORT, [5]), 262: (SHORT, [6]), 277: (SHORT, [3]), 530: (SHORT, [2, 2])},
        bytes(imagecodecs.lzw_encode(units)),
    )
    convert_and_check(data, _pillow_ycbcr(ycc), tmp_path, tolerance=1, name="ycc.tif")


@pytest.mark.parametrize("subsampling", [(2, 2), (2, 1), (4, 2)])
@pytest.mark.parametrize("lzw", [False, True], ids=["raw", "lzw"])
def test_tiled_subsampled_ycbcr(subsampling: tuple[int, int], lzw: bool, tmp_path: Path) -> None:
    import subprocess

    import tifffile
    from helpers.validators import require_tool

    h, v = subsampling
    data, ycc = ycbcr_tiled(photo(H, W), h, v, (16, 32), lzw)  # tiles past the right and bottom edges
    source, decoded = tmp_path / "tiled.tif", tmp_path / "libtiff.tif"
    source.write_bytes(data)
    # libtiff's RGBA interface, as libtiff-based viewers show the page.
    result = subprocess.run([require_tool("tiff2rgba"), str(source), str(decoded)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    by_libtiff = tifffile.imread(decoded)[..., :3]
    assert np.abs(by_libtiff.astype(int) - _pillow_ycbcr(ycc)).max() <= 1
    # libtiff converts with integer tables, dicomify in floating point: within 1.
    convert_and_check(data, by_libtiff, tmp_path, tolerance=1, name="ycc-tiled.tif")


def test_truncated_ycbcr_tile_is_a_clear_error() -> None:
    import dicomify

    data, _ = ycbcr_tiled(photo(32, 32), 2, 2, (16, 16))
    with pytest.raises(dicomify.CorruptImageError, match="tile 4 is truncated"):
        dicomify.DicomImage(data[:-100])


def test_truncated_subsampled_ycbcr_is_a_clear_error(tmp_path: Path) -> None:
    import dicomify

    units, _ = ycbcr_subsampled(photo(H, W), 2, 2)
    tags = {258: (SHORT, [8, 8, 8]), 259: (SHORT, [1]), 262: (SHORT, [6]), 277: (SHORT, [3]), 530: (SHORT, [2, 2])}
    with pytest.raises(dicomify.CorruptImageError, match="truncated"):
        dicomify.DicomImage(tiff_bytes(W, H, tags, units[: len(units) // 2]))


def test_ycbcr_page_of_one_sample_is_a_clear_error() -> None:
    import dicomify

    # Found by mutating test files: a YCbCr page declaring 1 sample per pixel reached
    # the read stage's safety net as an IndexError.
    tags = {258: (SHORT, [8]), 259: (SHORT, [1]), 262: (SHORT, [6]), 277: (SHORT, [1]), 530: (SHORT, [1, 1])}
    with pytest.raises(dicomify.CorruptImageError, match="YCbCr TIFF page has 1 sample"):
        dicomify.DicomImage(tiff_bytes(W, H, tags, bytes(W * H)))


# ---------------------------------------------------------------- old-style JPEG


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("strips", ["whole-stream", "scan-only"])
def test_old_style_jpeg_tiff(strips: str, tmp_path: Path) -> None:
    import struct

    rgb = photo(H, W)
    jpeg = _jpeg(rgb)
    tags = {
        258: (SHORT, [8, 8, 8]),
        259: (SHORT, [6]),
        262: (SHORT, [6]),
        277: (SHORT, [3]),
        513: (LONG, [-1]),
        514: (LONG, [len(jpeg)]),
    }
    data = bytearray(tiff_bytes(W, H, tags, jpeg))
    if strips == "scan-only":
        # libtiff's layout: the strips point at the entropy-coded data after SOS.
        sos = jpeg.find(b"\xff\xda")
        scan = sos + 2 + int.from_bytes(jpeg[sos + 2 : sos + 4], "big")
        count = struct.unpack("<H", data[8:10])[0]
        for i in range(count):
            entry = 10 + 12 * i
            tag = struct.unpack("<H", data[entry : entry + 2])[0]
            if tag == 273:
                data[entry + 8 : entry + 12] = struct.pack(
                    "<I", struct.unpack("<I", data[entry + 8 : entry + 12])[0] + scan
                )
            elif tag == 279:
                data[entry + 8 : entry + 12] = struct.pack("<I", len(jpeg) - scan)
    expected = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    convert_and_check(bytes(data), expected, tmp_path, name="ojpeg.tif")


def test_old_style_jpeg_without_interchange_stream_or_tables_is_a_clear_error(tmp_path: Path) -> None:
    import dicomify

    # No JPEGInterchangeFormat, no table tags, a strip of scan data: nothing to decode it
    # with (tables-in-tags files: tests/readers/test_tiff_old_jpeg.py).
    jpeg = _jpeg(photo(H, W))
    tags = {258: (SHORT, [8, 8, 8]), 259: (SHORT, [6]), 262: (SHORT, [6]), 277: (SHORT, [3])}
    scan = jpeg[jpeg.find(b"\xff\xda") + 14 :]
    with pytest.raises(dicomify.CorruptImageError, match="neither a JPEGInterchangeFormat stream nor JPEGQTables"):
        dicomify.DicomImage(tiff_bytes(W, H, tags, scan))


# ---------------------------------------------------------------- palette with alpha


def test_palette_tiff_with_alpha(tmp_path: Path) -> None:
    indices = RNG.integers(0, 16, (H, W), dtype=np.uint8)
    alpha = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    palette = RNG.integers(0, 256, (256, 3), dtype=np.uint16)
    colormap = (palette * 257).T.reshape(-1).tolist()
    tags = {
        258: (SHORT, [8, 8]),
        259: (SHORT, [1]),
        262: (SHORT, [3]),
        277: (SHORT, [2]),
        320: (SHORT, colormap),
        338: (SHORT, [2]),
    }
    data = tiff_bytes(W, H, tags, np.dstack([indices, alpha]).tobytes())
    rgb = palette[indices].astype(np.uint8)
    convert_and_check(data, composite(rgb, alpha, WHITE), tmp_path, tolerance=1, name="palette-alpha.tif")


# ---------------------------------------------------------------- deep gray


@pytest.mark.parametrize("bits", [10, 12, 14])
def test_deep_gray_in_16_bits_gets_bits_stored_and_window(bits: int, tmp_path: Path) -> None:
    values = RNG.integers(0, 2**bits, (H, W), dtype=np.uint16)
    values[0, :2] = (0, 2**bits - 1)
    data = _tiff(values, photometric="minisblack", bitspersample=bits)
    ds = convert_and_check(data, values, tmp_path, name="deep.tif")
    assert ds.BitsStored == bits and ds.HighBit == bits - 1
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (2 ** (bits - 1), 2**bits)
    expected = values * 255.0 / (2**bits - 1)
    for shown in (dcmtk_windowed(tmp_path / "out.dcm", tmp_path), dcmtk_default(tmp_path / "out.dcm", tmp_path)):
        assert np.abs(shown - expected).max() <= 1.0


def test_max_sample_value_gives_the_depth(tmp_path: Path) -> None:
    values = RNG.integers(0, 4096, (H, W), dtype=np.uint16)
    data = _tiff(values, photometric="minisblack", extratags=[(281, "H", 1, 4095, True)])
    ds = convert_and_check(data, values, tmp_path, name="deep.tif")
    assert ds.BitsStored == 12


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 6, 7])
def test_low_bit_gray_gets_bits_stored_and_window(bits: int, tmp_path: Path) -> None:
    values = RNG.integers(0, 2**bits, (H, W), dtype=np.uint8)
    values[0, :2] = (0, 2**bits - 1)
    data = _tiff(values, photometric="minisblack", bitspersample=bits)
    ds = convert_and_check(data, values, tmp_path, name="low.tif")
    assert ds.BitsStored == bits
    # dcmj2pnm applies the window only when asked (a viewer applies it by default);
    # without it dcmtk shifts the stored bits up, dark by at most one step.
    expected = values * 255.0 / (2**bits - 1)
    assert np.abs(dcmtk_windowed(tmp_path / "out.dcm", tmp_path) - expected).max() <= 1.0
    assert np.abs(dcmtk_default(tmp_path / "out.dcm", tmp_path) - expected).max() <= 256 / 2**bits


def test_low_bit_white_is_zero_is_inverted_within_its_depth(tmp_path: Path) -> None:
    values = RNG.integers(0, 16, (H, W), dtype=np.uint8)
    data = _tiff(values, photometric="miniswhite", bitspersample=4)
    ds = convert_and_check(data, 15 - values, tmp_path, name="low.tif")
    assert ds.BitsStored == 4


def test_deep_gray_multipage(tmp_path: Path) -> None:
    pages = RNG.integers(0, 4096, (3, H, W), dtype=np.uint16)
    data = _tiff(pages, photometric="minisblack", bitspersample=12)
    ds = convert_and_check(data, pages, tmp_path, name="deep.tif")
    assert ds.BitsStored == 12 and ds.NumberOfFrames == 3


def test_low_bit_multipage_keeps_values_with_a_window(tmp_path: Path) -> None:
    pages = RNG.integers(0, 16, (3, H, W), dtype=np.uint8)
    data = _tiff(pages, photometric="minisblack", bitspersample=4)
    ds = convert_and_check(data, pages, tmp_path, name="low.tif")
    # Multi-frame Grayscale Byte SC holds Bits Stored 8; the window shows the depth.
    assert ds.BitsStored == 8 and (float(ds.WindowCenter), float(ds.WindowWidth)) == (8, 16)


@pytest.mark.parametrize("extrasample", ["unassalpha", "assocalpha"])
def test_deep_gray_with_alpha_composites_at_its_depth(extrasample: str, tmp_path: Path) -> None:
    full = 4095
    values = RNG.integers(0, full + 1, (H, W), dtype=np.uint16)
    alpha = RNG.integers(0, full + 1, (H, W), dtype=np.uint16)
    if extrasample == "assocalpha":
        values = np.rint(values * (alpha / full)).astype(np.uint16)
    data = _tiff(np.dstack([values, alpha]), photometric="minisblack", bitspersample=12, extrasamples=[extrasample])
    a = alpha / full
    expected = values * (1 if extrasample == "assocalpha" else a) + full * (1 - a)
    ds = convert_and_check(data, np.rint(expected).astype(np.uint16), tmp_path, tolerance=1, name="deep-alpha.tif")
    assert ds.BitsStored == 12


def test_ycbcr_with_studio_range_reference_black_white(tmp_path: Path) -> None:
    # ReferenceBlackWhite 16..235 (Y) and 16..240 around 128 (Cb, Cr): TIFF 6.0 section 21.
    ycc = RNG.integers(16, 236, (H, W, 3), dtype=np.uint8)
    ycc[..., 1:] = RNG.integers(16, 241, (H, W, 2), dtype=np.uint8)
    reference = [16, 1, 235, 1, 128, 1, 240, 1, 128, 1, 240, 1]
    tags = {
        258: (SHORT, [8, 8, 8]),
        259: (SHORT, [1]),
        262: (SHORT, [6]),
        277: (SHORT, [3]),
        530: (SHORT, [1, 1]),
        532: (RATIONAL, reference),
    }
    data = tiff_bytes(W, H, tags, ycc.tobytes())
    y = (ycc[..., 0] - 16.0) * 255 / (235 - 16)
    cb = (ycc[..., 1] - 128.0) * 127 / (240 - 128)
    cr = (ycc[..., 2] - 128.0) * 127 / (240 - 128)
    r, b = y + 1.402 * cr, y + 1.772 * cb
    g = (y - 0.114 * b - 0.299 * r) / 0.587
    expected = np.clip(np.rint(np.dstack([r, g, b])), 0, 255).astype(np.uint8)
    convert_and_check(data, expected, tmp_path, tolerance=1, name="studio.tif")


def test_itulab_decode_ranges_are_used() -> None:
    from dicomify.readers.colour import ITULAB, lab_values

    samples = np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)
    values = lab_values(samples, ITULAB, (0, 100, -100, 100, -50, 150))
    assert np.allclose(values, [[[0, -100, -50], [100, 100, 150]]])
    assert np.allclose(lab_values(samples, ITULAB), [[[0, -85, -75], [100, 85, 125]]])


def test_rational_tags_from_tifffile_pairs() -> None:
    from dicomify.readers.colour import rationals

    assert rationals((299, 1000, 587, 1000, 114, 1000), 3) == (0.299, 0.587, 0.114)
    assert rationals((0.299, 0.587, 0.114), 3) == (0.299, 0.587, 0.114)
    assert rationals((1, 0, 1, 1, 1, 1), 3) is None  # a zero denominator: the default is used
    assert rationals((1, 2), 3) is None and rationals(None, 3) is None


@pytest.mark.parametrize(
    ("values", "params", "reason"),
    [
        (RNG.integers(-100, 100, (H, W), dtype=np.int8), {}, "unsigned"),
        (RNG.integers(0, 16, (H, W), dtype=np.uint8), {"bitspersample": 4}, "8-bit samples"),
    ],
    ids=["signed", "4-bit"],
)
def test_photographic_iod_refuses_what_it_cannot_hold(values: np.ndarray, params: dict, reason: str) -> None:
    import dicomify

    data = _tiff(values, photometric="minisblack", **params)
    with pytest.raises(dicomify.DicomifyError, match=f"VL Photographic Image holds {reason}"):
        dicomify.DicomImage(data, iod="photo")


# ---------------------------------------------------------------- float and 32-bit colour


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("planar", [False, True], ids=["contig", "planar"])
def test_float_rgb_tiff_is_shown_0_to_1_as_16_bits(dtype: type, planar: bool, tmp_path: Path) -> None:
    # What GIMP and ImageMagick show (0 black, 1 white); refused before.
    values = RNG.random((H, W, 3)).astype(dtype)
    values[0, :3] = (0.0, 1.0, 0.5)
    written = np.moveaxis(values, -1, 0) if planar else values
    data = _tiff(written, photometric="rgb", planarconfig="separate" if planar else "contig")
    expected = np.rint(values.astype(np.float64) * 65535).astype(np.uint16)
    ds = convert_and_check(data, expected, tmp_path, name="float.tif")
    assert ds.BitsStored == 16 and ds.PhotometricInterpretation == "RGB"
    notes = dicomify.DicomImage(data).notes
    assert f"{np.dtype(dtype)} colour samples 0..1 stored as 16 bits" in notes


def test_float_rgb_beyond_1_is_clipped_with_a_warning(tmp_path: Path) -> None:
    values = (RNG.random((H, W, 3)) * 2 - 0.5).astype(np.float32)
    data = _tiff(values, photometric="rgb")
    expected = np.rint(np.clip(values.astype(np.float64), 0, 1) * 65535).astype(np.uint16)
    convert_and_check(data, expected, tmp_path, name="hdr.tif")
    share = 100 * np.count_nonzero((values < 0) | (values > 1)) / values.size
    (warning,) = [n for n in dicomify.DicomImage(data).notes if n.startswith("warning: ")]
    assert f"{share:.1f}% of them lie outside 0..1 and are shown clipped" in warning


def test_float_rgba_tiff_composites_its_alpha(tmp_path: Path) -> None:
    values = RNG.random((H, W, 4)).astype(np.float32)
    data = _tiff(values, photometric="rgb", extrasamples=[2])
    sixteen = np.rint(values.astype(np.float64) * 65535).astype(np.uint16)
    expected = composite(sixteen[..., :3], sixteen[..., 3], (255, 255, 255))
    convert_and_check(data, expected, tmp_path, name="floata.tif")


def test_uint32_rgb_tiff_is_scaled_to_16_bits(tmp_path: Path) -> None:
    values = RNG.integers(0, 2**32, (H, W, 3), dtype=np.uint64).astype(np.uint32)
    data = _tiff(values, photometric="rgb")
    expected = np.rint(values.astype(np.float64) * 65535 / (2**32 - 1)).astype(np.uint16)
    convert_and_check(data, expected, tmp_path, name="u32.tif")


def test_float_rgb_with_nan_is_refused_with_the_reason() -> None:
    values = RNG.random((H, W, 3)).astype(np.float32)
    values[3, 4, 1] = np.nan
    with pytest.raises(dicomify.UnsupportedFormatError, match="NaN or infinite"):
        dicomify.DicomImage(_tiff(values, photometric="rgb")).save(io.BytesIO())
