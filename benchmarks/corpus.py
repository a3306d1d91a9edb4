"""Generate the benchmark corpora (deterministic; seeded).

    python benchmarks/corpus.py [--out benchmarks/_work/corpus] [--photos 200] [--screens 200]
                                [--ct 400] [--tiffs 8] [--pages 60]

* photos/   photographic JPEG 1920x1080, quality 90: smooth gradients, soft shapes and
            sensor-like noise (about 300 KB each, like a phone photo scaled to HD)
* screens/  screenshot PNG 1920x1080 RGB: flat panels, lines and text
* ct/       16-bit grayscale PNG 512x512: a CT-like slice (body disc, organs, noise)
* tiff/     multi-page TIFF, 8-bit gray 1024x1024 pages, uncompressed (scanned forms)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def photo(rng: np.random.Generator, width: int = 1920, height: int = 1080) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.empty((height, width, 3), np.float32)
    angle = rng.uniform(0, np.pi)
    t = (x * np.cos(angle) + y * np.sin(angle)) / (width + height)
    for channel in range(3):
        a, b = rng.uniform(30, 220, 2)
        base[..., channel] = a + (b - a) * t
    # a few soft blobs (subjects), blurred edges
    blobs = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(blobs)
    for _ in range(8):
        cx, cy, r = rng.integers(0, width), rng.integers(0, height), rng.integers(60, 300)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    soft = np.asarray(blobs.filter(ImageFilter.GaussianBlur(25)), np.float32)
    mask = soft.sum(axis=2, keepdims=True) > 0
    mixed = np.where(mask, 0.45 * base + 0.55 * soft, base)
    mixed += rng.normal(0, 4.0, mixed.shape).astype(np.float32)  # sensor noise
    return Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8))


def screen(rng: np.random.Generator, width: int = 1920, height: int = 1080) -> Image.Image:
    image = Image.new("RGB", (width, height), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 40), fill=(45, 45, 48))
    draw.rectangle((0, 40, 280, height), fill=(250, 250, 252))
    for i in range(30):
        draw.text((20, 60 + i * 30), f"Item {i} - patient list entry", fill=(30, 30, 30))
    for _ in range(6):
        x0, y0 = int(rng.integers(300, width - 500)), int(rng.integers(60, height - 300))
        colour = tuple(int(v) for v in rng.integers(150, 255, 3))
        draw.rectangle((x0, y0, x0 + 480, y0 + 280), fill=colour, outline=(90, 90, 90))
        for line in range(12):
            draw.text(
                (x0 + 10, y0 + 10 + line * 20), "Lorem ipsum dolor sit amet, consectetur 0123456789", fill=(0, 0, 0)
            )
    # a chart with anti-aliased-ish lines
    points = [(300 + i * 12, 900 - int(60 * np.sin(i / 7) + rng.integers(0, 40))) for i in range(130)]
    draw.line(points, fill=(200, 40, 40), width=2)
    return image


def ct_slice(rng: np.random.Generator, size: int = 512) -> Image.Image:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) - size / 2
    air = 0.0
    body = (x / 200) ** 2 + (y / 170) ** 2 < 1
    values = np.full((size, size), air, np.float32)
    values[body] = 1000 + 40  # soft tissue (HU + 1024 offset, roughly)
    for _ in range(5):
        cx, cy, r = rng.uniform(-120, 120), rng.uniform(-100, 100), rng.uniform(15, 50)
        organ = (x - cx) ** 2 + (y - cy) ** 2 < r**2
        values[organ & body] = rng.uniform(900, 1100)
    spine = (x / 25) ** 2 + ((y - 110) / 25) ** 2 < 1
    values[spine] = 2200  # bone
    values += rng.normal(0, 12, values.shape).astype(np.float32) * body
    return Image.fromarray(np.clip(values, 0, 4095).astype(np.uint16))  # mode I;16


def tiff_pages(rng: np.random.Generator, pages: int, size: int = 1024) -> list[Image.Image]:
    result = []
    for page in range(pages):
        image = Image.new("L", (size, size), 255)
        draw = ImageDraw.Draw(image)
        for line in range(40):
            draw.text((40, 20 + line * 24), f"Form {page} line {line}: " + "x" * int(rng.integers(10, 60)), fill=0)
        noise = rng.integers(0, 12, (size, size), dtype=np.uint8)
        result.append(Image.fromarray(np.clip(np.asarray(image).astype(np.int16) - noise, 0, 255).astype(np.uint8)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "_work", "corpus"))
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--ct", type=int, default=400)
    parser.add_argument("--tiffs", type=int, default=8)
    parser.add_argument("--pages", type=int, default=60)
    args = parser.parse_args()
    out = Path(args.out)
    rng = np.random.default_rng(2026)
    sets = {
        "photos": (args.photos, lambda i: photo(rng).save(out / "photos" / f"photo{i:05d}.jpg", quality=90)),
        "screens": (args.screens, lambda i: screen(rng).save(out / "screens" / f"screen{i:05d}.png")),
        "ct": (args.ct, lambda i: ct_slice(rng).save(out / "ct" / f"slice{i:05d}.png")),
        "tiff": (
            args.tiffs,
            lambda i: (lambda p: p[0].save(out / "tiff" / f"forms{i:03d}.tif", save_all=True, append_images=p[1:]))(
                tiff_pages(rng, args.pages)
            ),
        ),
    }
    for name, (count, make) in sets.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        existing = len(list(folder.iterdir()))
        if existing == count:
            print(f"{name}: {count} files already there")
            continue
        for old in folder.iterdir():
            old.unlink()
        for i in range(count):
            make(i)
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{name}: {count} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
