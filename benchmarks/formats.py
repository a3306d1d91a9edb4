"""Speed of the newer inputs and of export, against the peers that do the same job.

    python benchmarks/formats.py [--runs 5] [--markdown FILE]

Every input is made here (pillow-heif, Pillow, PyAV), then converted in this process
(imports done, so the figure is the conversion itself) and, where a peer exists, by the
peer as a fresh process on the same file:

* HEIC 12 MP photo, AVIF 12 MP photo   -> SC (decoded)              peer: none in DCMTK
* PDF, 10 pages                        -> Encapsulated PDF          peer: DCMTK pdf2dcm
* PDF, 10 pages at 150 dpi             -> multi-frame SC rendered   peer: none
* MP4 H.264 1080p, 10 s                -> Video Photographic        peer: none in DCMTK
* MP4 H.264 1080p level 5.1, 2 s       -> --transcode to High 4.1   peer: none
* export of a 512x512 16-bit CT-like object to PNG                  peer: DCMTK dcmj2pnm
* export of a 100-frame 640x480 RGB object to multi-page TIFF       peer: DCMTK dcmj2pnm --all-frames (one frame per file)

Median and best of ``--runs`` wall times, seconds.
"""

from __future__ import annotations

import argparse
import io
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import dicomify  # noqa: E402
from dicomify.export import ExportOptions, export_file  # noqa: E402


def _photo(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(1)
    base = np.stack([x / (width / 255), y / (height / 255), (x + y) / ((width + height) / 255)], axis=-1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def _inputs(folder: Path) -> dict[str, Path]:
    import av
    import pillow_heif
    from PIL import Image, ImageDraw

    made: dict[str, Path] = {}
    photo = Image.fromarray(_photo(4032, 3024))
    buffer = io.BytesIO()
    pillow_heif.from_pillow(photo).save(buffer, quality=85)
    made["heic"] = folder / "photo.heic"
    made["heic"].write_bytes(buffer.getvalue())
    made["avif"] = folder / "photo.avif"
    photo.save(made["avif"], quality=80)

    pages = []
    for index in range(10):
        page = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(page)
        for line in range(40):
            draw.text(
                (100, 100 + 40 * line), f"Page {index + 1}, line {line + 1}: consent and referral text", fill="black"
            )
        pages.append(page)
    made["pdf"] = folder / "letter.pdf"
    pages[0].save(made["pdf"], save_all=True, append_images=pages[1:], resolution=150)

    for name, seconds, level in (("mp4", 10, "4.1"), ("mp4-51", 2, "5.1")):
        path = folder / f"{name}.mp4"
        with av.open(str(path), "w") as output:
            stream = output.add_stream("libx264", rate=Fraction(25))
            stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
            stream.options = {"profile": "high", "level": level, "preset": "veryfast"}
            frame = _photo(1920, 1080)
            for index in range(25 * seconds):
                shifted = np.roll(frame, index * 8, axis=1)
                for packet in stream.encode(av.VideoFrame.from_ndarray(shifted, format="rgb24")):
                    output.mux(packet)
            for packet in stream.encode():
                output.mux(packet)
        made[name] = path

    ct = (np.random.default_rng(2).normal(1000, 300, (512, 512))).clip(0, 4095).astype(np.uint16)
    made["ct"] = folder / "ct.dcm"
    dicomify.convert(ct, made["ct"])
    cine = np.stack([_photo(640, 480)] * 100)
    made["cine"] = folder / "cine.dcm"
    dicomify.convert(cine, made["cine"])
    return made


def _time(action: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def _peer(command: list[str]) -> Callable[[], object] | None:
    if shutil.which(command[0]) is None:
        return None
    return lambda: subprocess.run(command, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="append the table to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        made = _inputs(folder)
        out = folder / "out"
        out.mkdir()
        cases: list[tuple[str, Callable[[], object], Callable[[], object] | None, str]] = [
            ("HEIC 4032x3024 -> SC", lambda: dicomify.convert(made["heic"], out / "h.dcm"), None, ""),
            ("AVIF 4032x3024 -> SC", lambda: dicomify.convert(made["avif"], out / "a.dcm"), None, ""),
            (
                "PDF 10 pages -> Encapsulated PDF",
                lambda: dicomify.convert(made["pdf"], out / "p.dcm"),
                _peer(["pdf2dcm", str(made["pdf"]), str(out / "peer.dcm")]),
                "pdf2dcm",
            ),
            (
                "PDF 10 pages -> SC at 150 dpi",
                lambda: dicomify.convert(made["pdf"], out / "pi.dcm", pdf_as_images=True),
                None,
                "",
            ),
            ("MP4 1080p 10 s -> Video Photographic", lambda: dicomify.convert(made["mp4"], out / "v.dcm"), None, ""),
            (
                "MP4 1080p L5.1 2 s -> --transcode",
                lambda: dicomify.convert(made["mp4-51"], out / "t.dcm", transcode=True),
                None,
                "",
            ),
            (
                "export 512x512 16-bit -> PNG",
                lambda: export_file(made["ct"], out / "ct.png"),
                _peer(["dcmj2pnm", "+on", "+Wm", str(made["ct"]), str(out / "peer.png")]),
                "dcmj2pnm +on +Wm",
            ),
            (
                "export 100 x 640x480 RGB -> TIFF",
                lambda: export_file(made["cine"], out / "cine.tif", ExportOptions(format="tiff")),
                _peer(["dcmj2pnm", "+ot", "+Fa", str(made["cine"]), str(out / "peer")]),
                "dcmj2pnm +ot +Fa (100 files)",
            ),
        ]
        lines = [
            f"`python benchmarks/formats.py --runs {args.runs}` on {platform.machine()}, "
            f"Python {platform.python_version()}, dicomify {dicomify.__version__}; seconds, median (best):",
            "",
            "| case | dicomify (in process) | peer (fresh process) |",
            "|---|---:|---:|",
        ]
        for name, ours, peer, peer_name in cases:
            median, best = _time(ours, args.runs)
            peer_text = "—"
            if peer is not None:
                peer_median, peer_best = _time(peer, args.runs)
                peer_text = f"{peer_median:.3f} ({peer_best:.3f}) {peer_name}"
            lines.append(f"| {name} | {median:.3f} ({best:.3f}) | {peer_text} |")
            print(lines[-1], flush=True)
    if args.markdown:
        with args.markdown.open("a") as file:
            file.write("\n## Newer inputs and export (benchmarks/formats.py)\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
