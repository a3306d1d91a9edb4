"""Peak memory of converting one large picture (max RSS of a fresh process).

    python benchmarks/memory.py [--pages 50,400] [--side 20000]

* multi-page TIFF, 8-bit gray 1024x1024 pages (1 MiB each): peak should not grow with
  the page count (frames are decoded and written one at a time);
* one SIDExSIDE RGB picture (20000x20000 = 1.2 GB of pixels) as uncompressed TIFF and as
  PNG: peak compared with the raw pixel size.

The baseline (a 16x16 picture) is the interpreter with dicomify loaded; "over baseline"
is what the picture itself costs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "memory"
ROOT = HERE.parent


def peak_of(source: Path, *extra: str) -> tuple[float, float]:
    """(max RSS in MiB, seconds) of `python -m dicomify convert source -o out.dcm`."""
    out = WORK / (source.name + ".dcm")
    code = (
        "import resource, sys, time; from dicomify.cli import main; t = time.perf_counter(); "
        f"rc = main(['convert', {str(source)!r}, '-o', {str(out)!r}, *{list(extra)!r}]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - t); sys.exit(rc)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    out.unlink()
    rss, seconds = done.stdout.split()
    return float(rss), float(seconds)


def make_tiff(path: Path, pages: int) -> None:
    import tifffile

    if path.exists():
        return
    rng = np.random.default_rng(pages)
    page = rng.integers(0, 255, (1024, 1024), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tif:
        for _ in range(pages):
            tif.write(page, contiguous=False, photometric="minisblack")


def make_big(side: int, kind: str) -> Path:
    path = WORK / f"big{side}.{kind}"
    if path.exists():
        return path
    rows = np.linspace(0, 255, side, dtype=np.float32)
    if kind == "tif":
        import tifffile

        # Written strip by strip so that making it needs little memory.
        def strips():  # type: ignore[no-untyped-def]
            for start in range(0, side, 1000):
                block = np.empty((min(1000, side - start), side, 3), np.uint8)
                block[..., 0] = rows[None, :]
                block[..., 1] = rows[start : start + len(block), None]
                block[..., 2] = 128
                yield block

        tifffile.imwrite(path, strips(), shape=(side, side, 3), dtype=np.uint8, photometric="rgb", rowsperstrip=1000)
    else:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = None
        image = Image.new("RGB", (side, side), (10, 200, 30))
        image.save(path, compress_level=1)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="50,400")
    parser.add_argument("--side", type=int, default=20000)
    parser.add_argument("--skip-png", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    tiny = WORK / "tiny.png"
    Image.new("RGB", (16, 16)).save(tiny)
    baseline, _ = peak_of(tiny)
    print("| picture | raw pixels | peak RSS | over baseline | over / raw | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| 16x16 PNG (baseline) | 0 MiB | {baseline:.0f} MiB | - | - | - |")
    for pages in [int(p) for p in args.pages.split(",")]:
        path = WORK / f"pages{pages}.tif"
        make_tiff(path, pages)
        rss, seconds = peak_of(path)
        raw = pages  # MiB
        print(f"| TIFF, {pages} pages of 1024x1024 gray | {raw} MiB | {rss:.0f} MiB | {rss - baseline:.0f} MiB | {(rss - baseline) / raw:.2f} | {seconds:.1f} |", flush=True)
    kinds = ["tif"] + ([] if args.skip_png else ["png"])
    for kind in kinds:
        path = make_big(args.side, kind)
        raw = args.side * args.side * 3 / 2**20
        rss, seconds = peak_of(path, "--max-pixels", str(args.side * args.side))
        print(f"| {args.side}x{args.side} RGB {kind.upper()} | {raw:.0f} MiB | {rss:.0f} MiB | {rss - baseline:.0f} MiB | {(rss - baseline) / raw:.2f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
