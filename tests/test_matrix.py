"""Every input format × colour mode × bit depth: convert, read back, compare, validate.

Each case is made by the test itself. The DICOM written is read back with pydicom
and compared with the pixels a viewer shows for the source, then checked by the real
dciodvfy (zero "Error" lines) and decoded by dcmtk.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import tifffile
from helpers.pictures import (
    RNG,
    Case,
    H,
    W,
    bmp_bytes,
    composite,
    gray8,
    gray16,
    gray_png_low_bits,
    photo,
    pil_bytes,
    rgb16,
    rle4,
    rle8,
)
from helpers.validators import dciodvfy_errors, dcmtk_decodes, decoded_pixels, gdcm_decodes, require_tool
from PIL import Image

import dicomify

WHITE = (255, 255, 255)
EXPLICIT = "1.2.840.10008.1.2.1"
BASELINE = "1.2.840.10008.1.2.4.50"


# ---------------------------------------------------------------- PNG / APNG


def png_gray1() -> tuple[bytes, np.ndarray]:
    bits = RNG.random((H, W)) > 0.5
    return pil_bytes(Image.fromarray(bits), "PNG"), np.where(bits, 255, 0).astype(np.uint8)


def png_gray_low(bits: int):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        values = RNG.integers(0, 2**bits, (H, W), dtype=np.uint8)
        return gray_png_low_bits(values, bits), (values * (255 // (2**bits - 1))).astype(np.uint8)

    return make


def png_gray8() -> tuple[bytes, np.ndarray]:
    values = gray8()
    return pil_bytes(Image.fromarray(values), "PNG"), values


def png_gray16() -> tuple[bytes, np.ndarray]:
    values = gray16()
    return pil_bytes(Image.fromarray(values), "PNG"), values


def png_gray_alpha8() -> tuple[bytes, np.ndarray]:
    values, alpha = gray8(), gray8()
    data = pil_bytes(Image.fromarray(np.dstack([values, alpha]), "LA"), "PNG")
    return data, composite(values, alpha, WHITE)


def png_16bit(channels: int):  # type: ignore[no-untyped-def]
    import imagecodecs

    def make() -> tuple[bytes, np.ndarray]:
        values = RNG.integers(0, 65536, (H, W, channels), dtype=np.uint16)
        data = imagecodecs.png_encode(values)
        if channels in (2, 4):
            expected = composite(values[..., :-1].squeeze(), values[..., -1], WHITE)
        else:
            expected = values
        return data, expected

    return make


def png_rgb8() -> tuple[bytes, np.ndarray]:
    values = photo()
    return pil_bytes(Image.fromarray(values), "PNG"), values


def png_rgba8() -> tuple[bytes, np.ndarray]:
    values, alpha = photo(), gray8()
    data = pil_bytes(Image.fromarray(np.dstack([values, alpha]), "RGBA"), "PNG")
    return data, composite(values, alpha, WHITE)


def _palette_image(gray: bool = False) -> tuple[Image.Image, np.ndarray]:
    indices = RNG.integers(0, 16, (H, W), dtype=np.uint8)
    if gray:
        levels = np.arange(16, dtype=np.uint8) * 17
        palette = np.stack([levels] * 3, axis=1)
    else:
        palette = RNG.integers(0, 256, (16, 3), dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(palette.flatten().tolist())
    return image, palette[indices]


def png_palette() -> tuple[bytes, np.ndarray]:
    image, rgb = _palette_image()
    return pil_bytes(image, "PNG"), rgb


def png_palette_gray() -> tuple[bytes, np.ndarray]:
    image, rgb = _palette_image(gray=True)
    return pil_bytes(image, "PNG"), rgb[..., 0]


def png_palette_transparent() -> tuple[bytes, np.ndarray]:
    image, rgb = _palette_image()
    indices = np.asarray(image)
    data = pil_bytes(image, "PNG", transparency=3)
    alpha = np.where(indices == 3, 0, 255).astype(np.uint8)
    return data, composite(rgb, alpha, WHITE)


def _frames(count: int = 3) -> list[np.ndarray]:
    return [photo() for _ in range(count)]


def apng() -> tuple[bytes, np.ndarray]:
    frames = _frames()
    images = [Image.fromarray(f) for f in frames]
    data = pil_bytes(images[0], "PNG", save_all=True, append_images=images[1:], duration=[40, 80, 120])
    return data, np.stack(frames)


# ---------------------------------------------------------------- BMP


def bmp_pil(mode: str):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        if mode == "1":
            bits = RNG.random((H, W)) > 0.5
            return pil_bytes(Image.fromarray(bits), "BMP"), np.where(bits, 255, 0).astype(np.uint8)
        if mode == "P":
            image, rgb = _palette_image()
            return pil_bytes(image, "BMP"), rgb
        if mode == "L":
            values = gray8()
            return pil_bytes(Image.fromarray(values), "BMP"), values
        values = photo()
        return pil_bytes(Image.fromarray(values), "BMP"), values

    return make


def bmp_4bit() -> tuple[bytes, np.ndarray]:
    indices = RNG.integers(0, 16, (H, W), dtype=np.uint8)
    palette = RNG.integers(0, 256, (16, 3), dtype=np.uint8)
    return bmp_bytes(indices, bpp=4, palette=palette), palette[indices]


def bmp_top_down() -> tuple[bytes, np.ndarray]:
    values = photo()
    return bmp_bytes(values, bpp=24, top_down=True), values


def bmp_565_v5() -> tuple[bytes, np.ndarray]:
    values = photo()
    data = bmp_bytes(values, bpp=16, header=124, compression=3, masks=(0xF800, 0x07E0, 0x001F, 0))
    # What a viewer shows: 5/6/5-bit fields scaled to 8 bits as Pillow does.
    with Image.open(io.BytesIO(data)) as image:
        shown = np.asarray(image.convert("RGB"))
    r5 = (values[..., 0] >> 3).astype(np.int32)
    assert np.abs(shown[..., 0].astype(np.int32) - (r5 * 255 // 31)).max() <= 8
    return data, shown


def bmp_32_v4_alpha() -> tuple[bytes, np.ndarray]:
    values, alpha = photo(), gray8()
    rgba = np.dstack([values, alpha])
    data = bmp_bytes(rgba, bpp=32, header=108, compression=3, masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000))
    return data, composite(values, alpha, WHITE)


def bmp_32_rgb() -> tuple[bytes, np.ndarray]:
    values = photo()
    return bmp_bytes(values, bpp=32), values


def bmp_rle(bits: int):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        # Runs of equal indices, so the RLE stream really compresses.
        indices = np.repeat(RNG.integers(0, 16, (H, 6), dtype=np.uint8), 9, axis=1)[:, :W]
        palette = RNG.integers(0, 256, (16, 3), dtype=np.uint8)
        stream = rle8(indices) if bits == 8 else rle4(indices)
        data = bmp_bytes(indices, bpp=bits, compression=1 if bits == 8 else 2, palette=palette, data=stream)
        return data, palette[indices]

    return make


# ---------------------------------------------------------------- TIFF


def tiff_pil(mode: str, compression: str | None = None):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        params = {"compression": compression} if compression else {}
        if mode == "1":
            bits = RNG.random((H, W)) > 0.5
            return pil_bytes(Image.fromarray(bits), "TIFF", **params), np.where(bits, 255, 0).astype(np.uint8)
        if mode == "L":
            values = gray8()
            return pil_bytes(Image.fromarray(values), "TIFF", **params), values
        if mode == "I;16":
            values = gray16()
            return pil_bytes(Image.fromarray(values), "TIFF", **params), values
        if mode == "P":
            image, rgb = _palette_image()
            return pil_bytes(image, "TIFF", **params), rgb
        if mode == "CMYK":
            cmyk = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
            image = Image.fromarray(cmyk, "CMYK")
            return pil_bytes(image, "TIFF", **params), np.asarray(image.convert("RGB"))
        values = photo()
        data = pil_bytes(Image.fromarray(values), "TIFF", **params)
        if compression == "jpeg":
            with Image.open(io.BytesIO(data)) as image:
                return data, np.asarray(image.convert("RGB"))
        return data, values

    return make


def _tifffile_bytes(data: np.ndarray, **params: object) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, data, **params)
    return buffer.getvalue()


def tiff_rgb16() -> tuple[bytes, np.ndarray]:
    values = rgb16()
    return _tifffile_bytes(values, photometric="rgb", compression="zlib"), values


def tiff_multipage(kind: str):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        if kind == "gray8":
            pages = np.stack([gray8() for _ in range(4)])
            return _tifffile_bytes(pages, photometric="minisblack", compression="lzw"), pages
        if kind == "gray16":
            pages = np.stack([gray16() for _ in range(3)])
            return _tifffile_bytes(pages, photometric="minisblack"), pages
        pages = np.stack(_frames(3))
        images = [Image.fromarray(p) for p in pages]
        return pil_bytes(images[0], "TIFF", save_all=True, append_images=images[1:]), pages

    return make


def tiff_float32() -> tuple[bytes, np.ndarray]:
    values = (RNG.random((H, W)) * 2000 - 1000).astype(np.float32)
    return _tifffile_bytes(values, photometric="minisblack"), values


def tiff_int32() -> tuple[bytes, np.ndarray]:
    values = RNG.integers(-30000, 30000, (H, W), dtype=np.int32)
    return _tifffile_bytes(values, photometric="minisblack"), values


# ---------------------------------------------------------------- GIF / WebP


def gif_single() -> tuple[bytes, np.ndarray]:
    image, rgb = _palette_image()
    return pil_bytes(image, "GIF"), rgb


def gif_animated() -> tuple[bytes, np.ndarray]:
    """Three frames; the second is partly transparent and disposed to background."""
    first, rgb = _palette_image()
    second = first.copy()
    indices = np.asarray(second).copy()
    indices[: H // 2] = 3  # transparent top half shows the previous frame
    second = Image.fromarray(indices, "P")
    second.putpalette(first.getpalette())
    third, rgb3 = _palette_image()
    data = pil_bytes(
        first,
        "GIF",
        save_all=True,
        append_images=[second, third],
        duration=[100, 200, 300],
        transparency=3,
        disposal=1,
        optimize=False,
    )
    with Image.open(io.BytesIO(data)) as image:
        shown = []
        for n in range(image.n_frames):
            image.seek(n)
            rgba = np.asarray(image.convert("RGBA"))
            shown.append(composite(rgba[..., :3], rgba[..., 3], WHITE))
    return data, np.stack(shown)


def webp(kind: str):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        if kind == "rgb":
            values = photo()
            return pil_bytes(Image.fromarray(values), "WEBP", lossless=True), values
        if kind == "rgba":
            values, alpha = photo(), gray8()
            data = pil_bytes(Image.fromarray(np.dstack([values, alpha]), "RGBA"), "WEBP", lossless=True, exact=True)
            return data, composite(values, alpha, WHITE)
        frames = _frames()
        images = [Image.fromarray(f) for f in frames]
        data = pil_bytes(images[0], "WEBP", save_all=True, append_images=images[1:], lossless=True, duration=50)
        return data, np.stack(frames)

    return make


# ---------------------------------------------------------------- JPEG


def _pillow_decode(data: bytes, mode: str = "RGB") -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert(mode))


def jpeg(kind: str):  # type: ignore[no-untyped-def]
    def make() -> tuple[bytes, np.ndarray]:
        if kind == "gray":
            data = pil_bytes(Image.fromarray(gray8()), "JPEG", quality=90)
            return data, _pillow_decode(data, "L")
        params: dict[str, object] = {"quality": 90}
        if kind == "444":
            params["subsampling"] = 0
        if kind == "rgb":
            params["keep_rgb"] = True
            params["subsampling"] = 0
        if kind == "progressive":
            params["progressive"] = True
        if kind == "cmyk":
            cmyk = Image.fromarray(RNG.integers(0, 256, (H, W, 4), dtype=np.uint8), "CMYK")
            data = pil_bytes(cmyk, "JPEG", quality=90)
            return data, _pillow_decode(data)
        if kind == "rotated":
            exif = Image.Exif()
            exif[0x0112] = 6  # rotate 90° clockwise to show
            params["exif"] = exif
        data = pil_bytes(Image.fromarray(photo()), "JPEG", **params)
        expected = _pillow_decode(data)
        if kind == "rotated":
            expected = np.ascontiguousarray(np.rot90(expected, -1))
        return data, expected

    return make


def jpeg_from_dcmtk(bits: int, flag: str):  # type: ignore[no-untyped-def]
    """12-bit extended and lossless JPEG, which only dcmtk's encoder writes here."""

    def make() -> tuple[bytes, np.ndarray]:
        import tempfile

        from pydicom.encaps import generate_fragmented_frames
        from pydicom.pixels import pixel_array

        dtype = np.uint16 if bits > 8 else np.uint8
        values = RNG.integers(0, 2**bits, (H, W), dtype=dtype)
        with tempfile.TemporaryDirectory() as folder:
            raw, compressed = Path(folder) / "raw.dcm", Path(folder) / "jpeg.dcm"
            ds = dicomify.DicomImage(values).dataset
            ds.BitsStored, ds.HighBit = bits, bits - 1
            ds.save_as(raw, enforce_file_format=True)
            subprocess.run([require_tool("dcmcjpeg"), flag, str(raw), str(compressed)], check=True)
            encoded = pydicom.dcmread(compressed)
            data = b"".join(next(generate_fragmented_frames(encoded.PixelData)))
            expected = pixel_array(encoded)
        if flag != "+ee":
            assert np.array_equal(expected, values)  # lossless really is
        return data, expected

    return make


CASES = [
    Case("png-gray1", png_gray1, ".png", "MONOCHROME2"),
    Case("png-gray2", png_gray_low(2), ".png", "MONOCHROME2"),
    Case("png-gray4", png_gray_low(4), ".png", "MONOCHROME2"),
    Case("png-gray8", png_gray8, ".png", "MONOCHROME2"),
    Case("png-gray16", png_gray16, ".png", "MONOCHROME2", bits=16),
    Case("png-gray-alpha8", png_gray_alpha8, ".png", "MONOCHROME2", tolerance=1),
    Case("png-gray-alpha16", png_16bit(2), ".png", "MONOCHROME2", bits=16, tolerance=1),
    Case("png-rgb8", png_rgb8, ".png", "RGB"),
    Case("png-rgb16", png_16bit(3), ".png", "RGB", bits=16),
    Case("png-rgba8", png_rgba8, ".png", "RGB", tolerance=1),
    Case("png-rgba16", png_16bit(4), ".png", "RGB", bits=16, tolerance=1),
    Case("png-palette", png_palette, ".png", "RGB"),
    Case("png-palette-gray", png_palette_gray, ".png", "MONOCHROME2"),
    Case("png-palette-transparent", png_palette_transparent, ".png", "RGB", tolerance=1),
    Case("apng", apng, ".png", "RGB", frames=3),
    Case("bmp-1bit", bmp_pil("1"), ".bmp", "MONOCHROME2"),
    Case("bmp-4bit", bmp_4bit, ".bmp", "RGB"),
    Case("bmp-8bit-palette", bmp_pil("P"), ".bmp", "RGB"),
    Case("bmp-8bit-gray", bmp_pil("L"), ".bmp", "MONOCHROME2"),
    Case("bmp-16bit-565-v5", bmp_565_v5, ".bmp", "RGB"),
    Case("bmp-24bit", bmp_pil("RGB"), ".bmp", "RGB"),
    Case("bmp-24bit-top-down", bmp_top_down, ".bmp", "RGB"),
    Case("bmp-32bit", bmp_32_rgb, ".bmp", "RGB"),
    Case("bmp-32bit-v4-alpha", bmp_32_v4_alpha, ".bmp", "RGB", tolerance=1),
    Case("bmp-rle8", bmp_rle(8), ".bmp", "RGB"),
    Case("bmp-rle4", bmp_rle(4), ".bmp", "RGB"),
    Case("tiff-1bit-g4", tiff_pil("1", "group4"), ".tif", "MONOCHROME2"),
    Case("tiff-gray8-lzw", tiff_pil("L", "tiff_lzw"), ".tif", "MONOCHROME2"),
    Case("tiff-gray16", tiff_pil("I;16"), ".tif", "MONOCHROME2", bits=16),
    Case("tiff-rgb8", tiff_pil("RGB"), ".tif", "RGB"),
    Case("tiff-rgb8-deflate", tiff_pil("RGB", "tiff_adobe_deflate"), ".tif", "RGB"),
    Case("tiff-rgb8-packbits", tiff_pil("RGB", "packbits"), ".tif", "RGB"),
    Case("tiff-rgb8-jpeg", tiff_pil("RGB", "jpeg"), ".tif", "RGB", tolerance=2),
    Case("tiff-rgb16", tiff_rgb16, ".tif", "RGB", bits=16),
    Case("tiff-palette", tiff_pil("P"), ".tif", "RGB"),
    Case("tiff-cmyk", tiff_pil("CMYK", "tiff_lzw"), ".tif", "RGB"),
    Case("tiff-multipage-gray8", tiff_multipage("gray8"), ".tif", "MONOCHROME2", frames=4),
    Case("tiff-multipage-gray16", tiff_multipage("gray16"), ".tif", "MONOCHROME2", frames=3, bits=16),
    Case("tiff-multipage-rgb", tiff_multipage("rgb"), ".tif", "RGB", frames=3),
    Case("gif", gif_single, ".gif", "RGB"),
    Case("gif-animated", gif_animated, ".gif", "RGB", frames=3),
    Case("webp-lossless", webp("rgb"), ".webp", "RGB"),
    Case("webp-alpha", webp("rgba"), ".webp", "RGB", tolerance=1),
    Case("webp-animated", webp("animated"), ".webp", "RGB", frames=3),
    Case("jpeg-gray", jpeg("gray"), ".jpg", "MONOCHROME2", transfer_syntax=BASELINE),
    Case("jpeg-ycbcr-420", jpeg("420"), ".jpg", "YBR_FULL_422", transfer_syntax=BASELINE),
    Case("jpeg-ycbcr-444", jpeg("444"), ".jpg", "YBR_FULL_422", transfer_syntax=BASELINE),
    Case("jpeg-rgb", jpeg("rgb"), ".jpg", "RGB", transfer_syntax=BASELINE),
    Case("jpeg-progressive", jpeg("progressive"), ".jpg", "RGB"),
    Case("jpeg-cmyk", jpeg("cmyk"), ".jpg", "RGB"),
    Case("jpeg-exif-rotated", jpeg("rotated"), ".jpg", "RGB"),
    Case("jpeg-decoded", jpeg("420"), ".jpg", "RGB", options={"decode_jpeg": True}),
    Case(
        "jpeg-extended-12bit",
        jpeg_from_dcmtk(12, "+ee"),
        ".jpg",
        "MONOCHROME2",
        bits=12,
        transfer_syntax="1.2.840.10008.1.2.4.51",
    ),
    Case(
        "jpeg-lossless-sv1",
        jpeg_from_dcmtk(16, "+e1"),
        ".jpg",
        "MONOCHROME2",
        bits=16,
        transfer_syntax="1.2.840.10008.1.2.4.70",
    ),
    Case(
        "jpeg-lossless-p14",
        jpeg_from_dcmtk(8, "+el"),
        ".jpg",
        "MONOCHROME2",
        transfer_syntax="1.2.840.10008.1.2.4.57",
    ),
    Case(
        "png-rgb8-rle", png_rgb8, ".png", "RGB", transfer_syntax="1.2.840.10008.1.2.5", options={"compression": "rle"}
    ),
    Case(
        "png-gray16-jpeg-ls",
        png_gray16,
        ".png",
        "MONOCHROME2",
        bits=16,
        transfer_syntax="1.2.840.10008.1.2.4.80",
        options={"compression": "jpeg-ls"},
    ),
    Case(
        "png-rgb8-jpeg2000",
        png_rgb8,
        ".png",
        "RGB",  # encoded without the multi-component transform (pydicom's choice for RGB)
        transfer_syntax="1.2.840.10008.1.2.4.90",
        options={"compression": "jpeg2000"},
    ),
    Case(
        "tiff-multipage-rle",
        tiff_multipage("gray8"),
        ".tif",
        "MONOCHROME2",
        frames=4,
        transfer_syntax="1.2.840.10008.1.2.5",
        options={"compression": "rle"},
    ),
    Case("photo-jpeg", jpeg("420"), ".jpg", "YBR_FULL_422", transfer_syntax=BASELINE, options={"iod": "photo"}),
    Case("photo-png", png_rgb8, ".png", "RGB", options={"iod": "photo"}),
]

SOP_CLASSES = {
    (1, "any"): "1.2.840.10008.5.1.4.1.1.7",
    (3, 8): "1.2.840.10008.5.1.4.1.1.7.4",
    (1, 8): "1.2.840.10008.5.1.4.1.1.7.2",
    (1, 16): "1.2.840.10008.5.1.4.1.1.7.3",
}


def _expected_sop_class(case: Case, samples: int) -> str:
    if case.options and case.options.get("iod") == "photo":
        return "1.2.840.10008.5.1.4.1.1.77.1.4"
    if case.frames == 1:
        return "1.2.840.10008.5.1.4.1.1.7"
    return SOP_CLASSES[(samples, 16 if case.bits > 8 else 8)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_round_trip(case: Case, tmp_path: Path) -> None:
    data, expected = case.make()
    source = tmp_path / f"source{case.suffix}"
    source.write_bytes(data)
    target = tmp_path / "out.dcm"

    written = dicomify.convert(source, target, **(case.options or {}))

    ds = pydicom.dcmread(target)
    assert ds.SOPInstanceUID == written.SOPInstanceUID
    assert ds.file_meta.TransferSyntaxUID == case.transfer_syntax
    assert ds.PhotometricInterpretation == case.photometric
    assert int(ds.get("NumberOfFrames", 1) or 1) == case.frames
    samples = 1 if expected.ndim == (2 if case.frames == 1 else 3) else 3
    assert ds.SamplesPerPixel == samples
    assert ds.BitsStored == case.bits
    assert ds.SOPClassUID == _expected_sop_class(case, samples)
    if case.transfer_syntax == BASELINE:
        # The codestream went in byte-exact (plus the pad byte to an even length).
        from pydicom.encaps import generate_fragmented_frames

        fragment = b"".join(next(generate_fragmented_frames(ds.PixelData)))
        assert fragment in (data, data + b"\x00")

    # pydicom decodes exactly what a viewer shows for the source.
    plugin = "pillow" if case.transfer_syntax == BASELINE else ""
    pixels = decoded_pixels(target, plugin)
    assert pixels.shape == expected.shape
    difference = np.abs(pixels.astype(np.int64) - expected.astype(np.int64)).max()
    tolerance = case.tolerance
    if case.photometric == "YBR_FULL_422":
        # The decoded YCbCr samples are identical to the source's; pydicom's own
        # YCbCr->RGB step rounds differently from libjpeg's by at most one.
        from pydicom.pixels import pixel_array

        raw = pixel_array(ds, decoding_plugin="pillow", as_rgb=False)
        with Image.open(io.BytesIO(data)) as image:
            image.draft("YCbCr", image.size)
            assert np.array_equal(raw, np.asarray(image))
        tolerance = 1
    assert difference <= tolerance

    assert dciodvfy_errors(target) == []

    # GDCM decodes every transfer syntax we write; lossy JPEG within the IDCT differences
    # between its decoder and libjpeg-turbo.
    gdcm = gdcm_decodes(target, tmp_path)
    lossy = case.transfer_syntax in (BASELINE, "1.2.840.10008.1.2.4.51")
    gdcm_tolerance = max(case.tolerance, 4 if lossy else 0)
    assert np.abs(gdcm.astype(np.int64) - expected.astype(np.int64)).max() <= gdcm_tolerance

    rendered = dcmtk_decodes(target, tmp_path)
    if rendered is not None and case.bits == 8:
        last = expected[-1] if case.frames > 1 else expected
        # dcmtk's own JPEG decoder (IJG) upsamples chroma slightly differently.
        tolerance = max(case.tolerance, 4 if case.transfer_syntax == BASELINE else 0)
        assert np.abs(rendered.astype(np.int64) - last.astype(np.int64)).max() <= tolerance


def test_float_tiff_is_rescaled_to_restore_values(tmp_path: Path) -> None:
    data, values = tiff_float32()
    source = tmp_path / "f.tif"
    source.write_bytes(data)
    ds = dicomify.convert(source, tmp_path / "out.dcm")
    stored = pydicom.dcmread(tmp_path / "out.dcm")
    assert stored.BitsAllocated == 16
    restored = stored.pixel_array * float(stored.RescaleSlope) + float(stored.RescaleIntercept)
    step = float(stored.RescaleSlope)
    assert np.abs(restored - values).max() <= step / 2 + 1e-3
    assert ds.RescaleType == "US"
    assert dciodvfy_errors(tmp_path / "out.dcm") == []


def test_int32_tiff_within_16_bits_is_exact(tmp_path: Path) -> None:
    data, values = tiff_int32()
    source = tmp_path / "i.tif"
    source.write_bytes(data)
    dicomify.convert(source, tmp_path / "out.dcm")
    stored = pydicom.dcmread(tmp_path / "out.dcm")
    assert float(stored.RescaleSlope) == 1.0
    restored = stored.pixel_array.astype(np.int64) + int(float(stored.RescaleIntercept))
    assert np.array_equal(restored, values)


def test_animated_gif_keeps_frame_timing(tmp_path: Path) -> None:
    data, _ = gif_animated()
    source = tmp_path / "a.gif"
    source.write_bytes(data)
    ds = dicomify.convert(source, tmp_path / "out.dcm")
    assert [float(v) for v in ds.FrameTimeVector] == [0.0, 100.0, 200.0]
    assert ds.FrameIncrementPointer == 0x00181065


def test_constant_frame_time(tmp_path: Path) -> None:
    data, _ = webp("animated")()
    source = tmp_path / "a.webp"
    source.write_bytes(data)
    ds = dicomify.convert(source, tmp_path / "out.dcm")
    assert float(ds.FrameTime) == 50.0
    assert ds.FrameIncrementPointer == 0x00181063


def test_icc_profile_is_kept(tmp_path: Path) -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for fmt, suffix in (("JPEG", ".jpg"), ("PNG", ".png"), ("TIFF", ".tif")):
        source = tmp_path / f"icc{suffix}"
        Image.fromarray(photo()).save(source, fmt, icc_profile=profile)
        ds = dicomify.convert(source, tmp_path / "out.dcm")
        assert ds.ICCProfile == profile, fmt
        assert dciodvfy_errors(tmp_path / "out.dcm") == []


def test_exif_date_becomes_content_date(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2021:07:04 13:14:15"
    source = tmp_path / "dated.jpg"
    Image.fromarray(photo()).save(source, exif=exif)
    ds = dicomify.convert(source, tmp_path / "out.dcm")
    assert (ds.ContentDate, ds.ContentTime) == ("20210704", "131415")


def test_keep_orientation_keeps_bytes(tmp_path: Path) -> None:
    data, _ = jpeg("rotated")()
    source = tmp_path / "r.jpg"
    source.write_bytes(data)
    ds = dicomify.convert(source, tmp_path / "out.dcm", keep_orientation=True)
    assert ds.file_meta.TransferSyntaxUID == BASELINE
    assert (ds.Rows, ds.Columns) == (H, W)


def test_background_option(tmp_path: Path) -> None:
    values, alpha = photo(), gray8()
    source = tmp_path / "a.png"
    Image.fromarray(np.dstack([values, alpha]), "RGBA").save(source)
    dicomify.convert(source, tmp_path / "out.dcm", background="#102030")
    pixels = pydicom.dcmread(tmp_path / "out.dcm").pixel_array
    expected = composite(values, alpha, (16, 32, 48))
    assert np.abs(pixels.astype(int) - expected.astype(int)).max() <= 1


def test_pixels_do_not_depend_on_the_clock() -> None:
    # Guard against a content date taken from the wrong place: no EXIF means "now".
    ds = dicomify.DicomImage(photo()).dataset
    assert ds.ContentDate == dt.date.today().strftime("%Y%m%d")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_tiff_orientation_is_applied(orientation: int, tmp_path: Path) -> None:
    values = photo()
    source = tmp_path / "o.tif"
    tifffile.imwrite(source, values, photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
    dicomify.convert(source, tmp_path / "out.dcm")
    with Image.open(source) as image:
        from PIL import ImageOps

        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert np.array_equal(pydicom.dcmread(tmp_path / "out.dcm").pixel_array, expected)
    dicomify.convert(source, tmp_path / "kept.dcm", keep_orientation=True)
    assert np.array_equal(pydicom.dcmread(tmp_path / "kept.dcm").pixel_array, values)


def test_16bit_colour_png_orientation_is_applied(tmp_path: Path) -> None:
    import imagecodecs
    from helpers.pictures import png_chunk

    values = rgb16()
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° counter-clockwise to show
    data = imagecodecs.png_encode(values)
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")  # eXIf holds the bare TIFF structure
    data = data[:-12] + png_chunk(b"eXIf", payload) + data[-12:]  # before IEND
    source = tmp_path / "o16.png"
    source.write_bytes(data)
    dicomify.convert(source, tmp_path / "out.dcm")
    assert np.array_equal(pydicom.dcmread(tmp_path / "out.dcm").pixel_array, np.rot90(values, 1))
