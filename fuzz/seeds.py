"""Seed corpora for the harnesses, made with the test suite's own picture builders.

python fuzz/seeds.py OUT_DIR     # writes OUT_DIR/<target>/<name>
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import emf_build as E  # noqa: E402
from helpers.pictures import gray8, gray16, gray_png_low_bits, photo, pil_bytes, png_chunk  # noqa: E402
from helpers.tiff_build import old_jpeg_tiff, ycbcr_tiled  # noqa: E402

SIZE = (12, 9)


def _pillow() -> Iterator[tuple[str, bytes]]:
    rgb = Image.fromarray(photo(*SIZE))
    yield "rgb.png", pil_bytes(rgb, "PNG")
    yield "rgba.png", pil_bytes(rgb.convert("RGBA"), "PNG")
    yield "gray16.png", pil_bytes(Image.fromarray(gray16(*SIZE)), "PNG")
    yield "gray2.png", gray_png_low_bits(gray8(*SIZE) % 4, 2)
    deep = pil_bytes(Image.fromarray((gray16(*SIZE) >> 4) * 16), "PNG")  # 12 significant bits
    yield "gray12-sbit.png", deep[:33] + png_chunk(b"sBIT", b"\x0c") + deep[33:]
    yield "palette.png", pil_bytes(rgb.convert("P"), "PNG", transparency=0)
    frames = [rgb, rgb.rotate(90), rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    yield "anim.png", pil_bytes(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=[40, 50, 60])
    yield "rgb.bmp", pil_bytes(rgb, "BMP")
    yield "palette.bmp", pil_bytes(rgb.convert("P"), "BMP")
    yield "still.gif", pil_bytes(rgb.convert("P"), "GIF")
    gif_frames = [f.convert("P") for f in frames]
    yield (
        "anim.gif",
        pil_bytes(gif_frames[0], "GIF", save_all=True, append_images=gif_frames[1:], duration=70, disposal=2),
    )
    yield "lossless.webp", pil_bytes(rgb, "WEBP", lossless=True)
    yield "lossy.webp", pil_bytes(rgb.convert("RGBA"), "WEBP", quality=50)
    yield "anim.webp", pil_bytes(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=80, lossless=True)


def _jpeg() -> Iterator[tuple[str, bytes]]:
    rgb = Image.fromarray(photo(*SIZE))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0132] = "2026:01:02 03:04:05"
    yield "baseline.jpg", pil_bytes(rgb, "JPEG", quality=80)
    yield "progressive.jpg", pil_bytes(rgb, "JPEG", progressive=True)
    yield "exif.jpg", pil_bytes(rgb, "JPEG", exif=exif)
    yield "gray.jpg", pil_bytes(Image.fromarray(gray8(*SIZE)), "JPEG")
    yield "cmyk.jpg", pil_bytes(rgb.convert("CMYK"), "JPEG")


def _tiff() -> Iterator[tuple[str, bytes]]:
    import tifffile

    rgb = Image.fromarray(photo(*SIZE))
    yield "rgb.tif", pil_bytes(rgb, "TIFF")
    yield "lzw.tif", pil_bytes(rgb, "TIFF", compression="tiff_lzw")
    yield "pages.tif", pil_bytes(rgb, "TIFF", save_all=True, append_images=[rgb.rotate(180)])
    yield "palette.tif", pil_bytes(rgb.convert("P"), "TIFF")
    yield "cmyk.tif", pil_bytes(rgb.convert("CMYK"), "TIFF")
    for name, array, kwargs in [
        ("gray16-deflate.tif", gray16(*SIZE), {"compression": "zlib"}),
        ("float32.tif", np.linspace(-1, 1, 108, dtype=np.float32).reshape(SIZE), {}),
        ("big.tif", gray8(*SIZE), {"bigtiff": True}),
        ("tiled.tif", gray8(32, 32), {"tile": (16, 16)}),
    ]:
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, array, **kwargs)
        yield name, buffer.getvalue()
    # Old-style JPEG with its tables in tags (TIFF 6.0 section 22).
    yield "old-jpeg.tif", old_jpeg_tiff([photo(16, 16)], 16)[0]
    yield "old-jpeg-gray.tif", old_jpeg_tiff([gray8(16, 16)], 8)[0]
    yield "ycbcr-tiles.tif", ycbcr_tiled(photo(20, 40), 2, 2, (16, 32), lzw=True)[0]


def _metafile() -> Iterator[tuple[str, bytes]]:
    yield (
        "shapes.emf",
        E.emf(
            E.create_brush(1, (200, 30, 30)),
            E.select(1),
            E.rectangle(10, 10, 60, 40),
            E.ellipse(30, 30, 90, 90),
            E.polygon16([(5, 5), (50, 10), (20, 60)]),
        ),
    )
    yield "text.emf", E.emf(E.font(1, 20), E.select(1), E.ext_text_out_w(10, 10, "Hi"))
    yield "bitmap.emf", E.emf(E.stretch_dibits(0, 0, 40, 40, [[(255, 0, 0), (0, 255, 0)], [(0, 0, 255), (9, 9, 9)]]))
    yield "plus.emf", E.emf(E.plus_comment(E.plus_header()))
    yield "shapes.wmf", E.wmf(E.wrec(0x041B, 80, 80, 20, 20))
    yield "bitmap.wmf", E.wmf(E.wmf_dib_stretch(0, 0, 50, 50, 0x00CC0020, [[(1, 2, 3), (4, 5, 6)]]))


def _metadata() -> Iterator[tuple[str, bytes]]:
    samples = [
        {"PatientName": "Doe^Jane", "PatientID": "12345", "StudyDate": "2026-12-01", "Modality": "XC"},
        {"PatientName": "Müller^Jürgen", "PatientSex": "m", "StudyTime": "13:45", "InstanceNumber": "7"},
        {"AccessionNumber": "A-1", "ImageComments": "first\r\nsecond", "OperatorsName": "A^B\\C^D"},
        {"StudyInstanceUID": "2.25.1234", "SeriesNumber": 3, "Laterality": "L", "ConversionType": "SI"},
    ]
    for index, sample in enumerate(samples):
        yield f"{index}.json", json.dumps(sample, ensure_ascii=index % 2 == 0).encode()


def _manifest() -> Iterator[tuple[str, bytes]]:
    yield "basic.csv", b"path,PatientID,StudyDate\nphotos/a.jpg,123,20260101\nb.png,456,2026-02-03\n"
    yield "quoted.csv", '\ufeffPath,PatientName,ImageComments\n"x y.jpg","Doe^Jane","a, b"\n'.encode()
    yield "bad.csv", b"file,Nope\n,1\nz.jpg,2,3\n"


TARGETS = {
    "pillow": _pillow,
    "jpeg": _jpeg,
    "tiff": _tiff,
    "metafile": _metafile,
    "metadata": _metadata,
    "manifest": _manifest,
}


def write_seeds(out: Path) -> dict[str, Path]:
    """Write every target's seeds under ``out``; return the folder per target."""
    folders = {}
    for target, make in TARGETS.items():
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in make():
            (folder / name).write_bytes(data)
        folders[target] = folder
    return folders


if __name__ == "__main__":
    for target, folder in write_seeds(Path(sys.argv[1])).items():
        print(target, len(list(folder.iterdir())), folder)
