"""Peak memory of converting one large picture (max RSS of a fresh process).

    python benchmarks/memory.py [--pages 50,400] [--side 20000]
    python benchmarks/memory.py --frames        # alpha, animations and hostile files

* multi-page TIFF, 8-bit gray 1024x1024 pages (1 MiB each): peak should not grow with
  the page count (frames are decoded and written one at a time);
* one SIDExSIDE RGB picture (20000x20000 = 1.2 GB of pixels) as uncompressed TIFF and as
  PNG: peak compared with the raw pixel size;
* with ``--frames``: peak against ONE output frame for an RGBA PNG (alpha compositing),
  animated GIF, WebP and APNG (frames decoded one at a time), and tiny hostile files that
  must be refused before anything large is allocated (docs/limits.md).

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


def peak_of(source: Path, *extra: str, refused: bool = False) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of `dicomify convert source -o out.dcm` in a fresh process.

    The peak is the process's VmHWM (ru_maxrss of a child can include its parent's pages).
    ``refused``: the conversion must fail (a hostile file), with exit status 1.
    """
    out = WORK / (source.name + ".dcm")
    code = (
        "import re, sys, time; from dicomify.cli import main; t = time.perf_counter(); "
        f"rc = main(['convert', {str(source)!r}, '-o', {str(out)!r}, '-q', *{list(extra)!r}]); "
        "hwm = int(re.search('VmHWM:[ \\t]+([0-9]+)', open('/proc/self/status').read()).group(1)); "
        "print(hwm / 1024, time.perf_counter() - t); sys.exit(rc)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != (1 if refused else 0):
        raise SystemExit(done.stderr)
    out.unlink(missing_ok=True)
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


def make_frames_inputs() -> list[tuple[str, Path, int, bool]]:
    """(description, file, bytes of one output frame, refused) for the --frames table."""
    from PIL import Image

    cases = []
    side = 6000
    path = WORK / f"rgba{side}.png"
    if not path.exists():
        ramp = np.linspace(0, 255, side, dtype=np.uint8)
        rgba = np.empty((side, side, 4), np.uint8)
        rgba[..., 0] = ramp[None, :]
        rgba[..., 1] = ramp[:, None]
        rgba[..., 2] = 90
        rgba[..., 3] = ramp[None, ::-1]
        Image.fromarray(rgba, "RGBA").save(path, compress_level=1)
        del rgba
    cases.append((f"{side}x{side} RGBA PNG (alpha composited)", path, side * side * 3, False))
    for kind, frame_side, count in (("gif", 3000, 12), ("webp", 2000, 12)):
        path = WORK / f"anim{frame_side}x{count}.{kind}"
        if not path.exists():
            frames = [
                Image.new("RGB", (frame_side, frame_side), (20 * i % 256, 100, 200 - 10 * i)) for i in range(count)
            ]
            extra = {"lossless": True, "method": 0} if kind == "webp" else {}
            frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, **extra)
        cases.append((f"{kind.upper()}, {count} frames of {frame_side}x{frame_side}", path, frame_side**2 * 3, False))
    path = WORK / "anim2000x12-rgba.apng"
    if not path.exists():
        ramp = np.linspace(0, 255, 2000, dtype=np.uint8)
        frames = []
        for i in range(12):
            rgba = np.empty((2000, 2000, 4), np.uint8)
            rgba[..., 0], rgba[..., 1], rgba[..., 2] = ramp[None, :], ramp[:, None], 20 * i
            rgba[..., 3] = ramp[None, ::-1] // 2 + 100
            frames.append(Image.fromarray(rgba, "RGBA"))
        frames[0].save(path, format="PNG", save_all=True, append_images=frames[1:], duration=50, compress_level=1)
    cases.append(("APNG (Pillow), 12 RGBA frames of 2000x2000", path, 2000 * 2000 * 3, False))
    sys.path.insert(0, str(ROOT / "tests"))
    from readers.test_hostile import _gif, _webp_animation

    hostile = {
        "GIF, 8 frames of 1x1 on a 9000x9000 canvas (250 bytes)": (
            "canvas.gif",
            _gif((9000, 9000), [(0, 0, 1, 1)] * 8),
        ),
        "WebP, 8 frames of 1x1 on a 9000x9000 canvas": ("canvas.webp", _webp_animation((9000, 9000), 8)),
    }
    for description, (name, data) in hostile.items():
        (WORK / name).write_bytes(data)
        cases.append((description + ", refused", WORK / name, 9000 * 9000 * 3, True))
    return cases


def frames_table() -> None:
    from PIL import Image

    tiny = WORK / "tiny.png"
    Image.new("RGB", (16, 16)).save(tiny)
    baseline, _ = peak_of(tiny)
    print(f"baseline (16x16 PNG): {baseline:.0f} MiB")
    print("| picture | one output frame | peak RSS | over baseline | over / one frame | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for description, path, frame_bytes, refused in make_frames_inputs():
        rss, seconds = peak_of(path, refused=refused)
        frame = frame_bytes / 2**20
        print(
            f"| {description} | {frame:.0f} MiB | {rss:.0f} MiB | {rss - baseline:.0f} MiB | "
            f"{(rss - baseline) / frame:.2f} | {seconds:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="50,400")
    parser.add_argument("--side", type=int, default=20000)
    parser.add_argument("--skip-png", action="store_true")
    parser.add_argument("--frames", action="store_true", help="only the alpha / animation / hostile table")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.frames:
        frames_table()
        return
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
        print(
            f"| TIFF, {pages} pages of 1024x1024 gray | {raw} MiB | {rss:.0f} MiB | {rss - baseline:.0f} MiB | {(rss - baseline) / raw:.2f} | {seconds:.1f} |",
            flush=True,
        )
    kinds = ["tif"] + ([] if args.skip_png else ["png"])
    for kind in kinds:
        path = make_big(args.side, kind)
        raw = args.side * args.side * 3 / 2**20
        rss, seconds = peak_of(path, "--max-pixels", str(args.side * args.side))
        print(
            f"| {args.side}x{args.side} RGB {kind.upper()} | {raw:.0f} MiB | {rss:.0f} MiB | {rss - baseline:.0f} MiB | {(rss - baseline) / raw:.2f} | {seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
