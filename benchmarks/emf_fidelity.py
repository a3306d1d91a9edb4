"""Fidelity and speed of dicomify's EMF renderer against LibreOffice, with emf2svg as yardstick.

For every EMF in the corpus this renders the picture three ways:

* ours: ``dicomify.emf.render`` at the default resolution (timed);
* LibreOffice: ``soffice --headless --convert-to png`` (Debian ``libreoffice-draw``), which
  places the picture on a page, so the margins are trimmed away;
* emf2svg: ``emf2svg-conv -p`` (Debian ``emf2svg``) then ``rsvg-convert`` (``librsvg2-bin``).

Each rendering is flattened onto white, trimmed to its drawn content, resized to a common
size (LibreOffice's aspect, longest side ``--size``) and compared in grey by SSIM (Wang et
al. 2004: 7x7 box window, K1=0.01, K2=0.03). The score of ours and of emf2svg against
LibreOffice is reported as median and worst tenth (10th percentile), with render times.

Run from the repository root (reference renderings are cached under benchmarks/_work/):

    python benchmarks/emf_fidelity.py [--corpus ../shared/corpus/emf/good] [--side 20]

``--side N`` writes side-by-side PNGs (ours | LibreOffice | emf2svg) of the N files where
ours agrees least with LibreOffice into benchmarks/_work/side/.

``--wmf`` measures the WMF player the same way on a WMF corpus made from the EMF one:
LibreOffice converts each EMF to WMF (``--convert-to wmf``, its WMF writer, as office
documents carry them; cached in benchmarks/_work/wmf/), and ours and LibreOffice render
those WMFs (emf2svg reads no WMF, so it has no column there).

``--office`` scores the real Office WMF and EMF files of tests/emf/test_office_corpus.py
(fetched from pinned PyPI sdists by tests/helpers/office_corpus.py, written to
benchmarks/_work/office/) and prints every file's score (emf2svg only for the EMFs).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dicomify.emf import render  # noqa: E402 - after the sys.path line above

Image.MAX_IMAGE_PIXELS = None  # reference renderings of poster-sized frames are large
WORK = ROOT / "benchmarks" / "_work"


def flatten(image: Image.Image) -> np.ndarray:
    """Grey values 0..255 of an image composited over white."""
    rgba = image.convert("RGBA")
    if max(rgba.size) > 4096:  # keep memory modest: scores are taken at --size pixels anyway
        rgba.thumbnail((4096, 4096), Image.Resampling.BOX)
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float32)


def trim(grey: np.ndarray) -> np.ndarray | None:
    """The drawn part: the bounding box of pixels darker than near-white; None if blank."""
    ink = grey < 250
    if not ink.any():
        return None
    rows = np.nonzero(ink.any(axis=1))[0]
    cols = np.nonzero(ink.any(axis=0))[0]
    return grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def resize(grey: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(grey.astype(np.uint8), "L")
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two equally sized grey images (7x7 box window)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = uniform_filter(a, 7), uniform_filter(b, 7)
    var_a = uniform_filter(a * a, 7) - mu_a**2
    var_b = uniform_filter(b * b, 7) - mu_b**2
    cov = uniform_filter(a * b, 7) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s[3:-3, 3:-3].mean()) if min(s.shape) > 6 else float(s.mean())


def score(candidate: np.ndarray | None, reference: np.ndarray | None, longest: int) -> float:
    if reference is None and candidate is None:
        return 1.0
    if reference is None or candidate is None:
        return 0.0
    h, w = reference.shape
    k = longest / max(h, w)
    size = (max(8, round(w * k)), max(8, round(h * k)))
    return ssim(resize(candidate, size), resize(reference, size))


def libreoffice_convert(files: list[Path], kind: str, folder: str) -> dict[str, Path]:
    """LibreOffice's ``--convert-to kind`` of each file, cached in benchmarks/_work/<folder>/."""
    out = WORK / folder
    out.mkdir(parents=True, exist_ok=True)
    missing = [f for f in files if not (out / f"{f.stem}.{kind}").exists()]
    if missing:
        soffice = shutil.which("soffice")
        if soffice is None:
            sys.exit("soffice not found: apt-get install -y libreoffice-draw")
        subprocess.run(
            [
                soffice,
                "--headless",
                "--convert-to",
                kind,
                "--outdir",
                str(out),
                *map(str, missing),
            ],
            check=False,
            capture_output=True,
            timeout=3600,
        )
    return {f.name: out / f"{f.stem}.{kind}" for f in files}


def libreoffice_pngs(files: list[Path], folder: str = "lo") -> dict[str, Path]:
    return libreoffice_convert(files, "png", folder)


def emf2svg_pngs(files: list[Path]) -> dict[str, Path]:
    out = WORK / "e2s"
    out.mkdir(parents=True, exist_ok=True)
    conv, rsvg = shutil.which("emf2svg-conv"), shutil.which("rsvg-convert")
    if conv is None or rsvg is None:
        sys.exit("emf2svg-conv / rsvg-convert not found: apt-get install -y emf2svg librsvg2-bin")
    for f in files:
        png = out / f"{f.stem}.png"
        svg = out / f"{f.stem}.svg"
        if png.exists() or (out / f"{f.stem}.failed").exists():
            continue
        try:
            subprocess.run(
                [conv, "-p", "-i", str(f), "-o", str(svg)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            subprocess.run(
                [rsvg, "-b", "white", "-o", str(png), str(svg)],
                check=True,
                capture_output=True,
                timeout=120,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            (out / f"{f.stem}.failed").touch()
    return {f.name: out / f"{f.stem}.png" for f in files}


def load(path: Path) -> np.ndarray | None:
    if not path.exists():
        return None
    try:
        with Image.open(path) as image:
            return trim(flatten(image))
    except Exception:  # noqa: BLE001 - an unreadable reference counts as blank
        return None


def _thumb(grey: np.ndarray | None, height: int = 400) -> np.ndarray | None:
    if grey is None:
        return None
    k = height / grey.shape[0]
    size = (max(1, round(grey.shape[1] * k)), height)
    return np.asarray(Image.fromarray(grey.astype(np.uint8), "L").resize(size, Image.Resampling.LANCZOS))


def side_by_side(name: str, panels: list[np.ndarray | None], height: int = 400) -> None:
    tiles = []
    for grey in panels:
        if grey is None:
            grey = np.full((height, height), 200.0)
        k = height / grey.shape[0]
        tile = Image.fromarray(grey.astype(np.uint8), "L").resize((max(1, round(grey.shape[1] * k)), height))
        tiles.append(tile)
    width = sum(t.width for t in tiles) + 10 * (len(tiles) - 1)
    sheet = Image.new("L", (width, height), 128)
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width + 10
    (WORK / "side").mkdir(parents=True, exist_ok=True)
    sheet.save(WORK / "side" / f"{name}.png")


def validate(files: list[Path]) -> None:
    """Convert every file with dicomify and run dciodvfy on the result (dicom3tools)."""
    import tempfile

    import dicomify
    from dicomify.errors import DicomifyError

    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        sys.exit("dciodvfy not found: apt-get install -y dicom3tools")
    refused, invalid = [], []
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "x.dcm"
        for f in files:
            try:
                dicomify.convert(f, target)
            except DicomifyError as exc:
                refused.append(f"{f.name}: {exc}")
                continue
            done = subprocess.run([dciodvfy, str(target)], capture_output=True, text=True, check=False)
            if any(line.startswith("Error") for line in (done.stdout + done.stderr).splitlines()):
                invalid.append(f.name)
            target.unlink()
    print(
        f"DICOM: {len(files) - len(refused) - len(invalid)} valid, {len(invalid)} with dciodvfy errors, "
        f"{len(refused)} refused"
    )
    for line in refused + invalid:
        print(f"  {line}")


def office_files() -> list[Path]:
    """The real Office metafiles (tests/helpers/office_corpus.py), written under file names."""
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.office_corpus import corpus, kind

    out = WORK / "office"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, data in sorted(corpus().items()):
        suffix = f".{kind(data)}"
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        path = out / (stem if stem.lower().endswith(suffix) else stem + suffix)
        if not path.exists():
            path.write_bytes(data)
        files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=ROOT.parent / "shared" / "corpus" / "emf" / "good",
    )
    parser.add_argument("--size", type=int, default=512, help="longest side of the compared images")
    parser.add_argument("--side", type=int, default=0, help="side-by-side PNGs of the N worst files")
    parser.add_argument("--only", nargs="*", help="score only these file names")
    parser.add_argument("--wmf", action="store_true", help="score the WMF player on LibreOffice's WMFs of the corpus")
    parser.add_argument(
        "--validate", action="store_true", help="also convert every file to DICOM and count dciodvfy errors"
    )
    parser.add_argument("--office", action="store_true", help="score the real Office WMF/EMF files fetched from PyPI")
    args = parser.parse_args(argv)
    files = office_files() if args.office else sorted(args.corpus.glob("*.emf"))
    if args.only:
        files = [f for f in files if f.name in set(args.only)]
    if not files:
        sys.exit(f"no EMF files in {args.corpus}")
    if args.office:
        lo = libreoffice_pngs(files, "lo_office")
        e2s = emf2svg_pngs([f for f in files if f.suffix == ".emf"])
    elif args.wmf:
        made = libreoffice_convert(files, "wmf", "wmf")
        files = [made[f.name] for f in files if made[f.name].exists()]
        print(f"LibreOffice wrote {len(files)} WMF files")
        lo = libreoffice_pngs(files, "lo_wmf")
        e2s: dict[str, Path] = {}
    else:
        lo = libreoffice_pngs(files)
        e2s = emf2svg_pngs(files)
    rows = []
    for f in files:
        data = f.read_bytes()
        start = time.perf_counter()
        try:
            ours_image = render(data)
            ours = trim(flatten(ours_image))
        except Exception as exc:  # noqa: BLE001 - reported, scored as blank
            print(f"{f.name}: ours failed: {exc}", file=sys.stderr)
            ours = None
        elapsed = time.perf_counter() - start
        ref = load(lo[f.name])
        other = load(e2s[f.name]) if f.name in e2s else None
        rows.append(
            {
                "file": f.name,
                "ours": score(ours, ref, args.size),
                "emf2svg": score(other, ref, args.size),
                "seconds": elapsed,
            }
        )
        if args.side:  # small copies only: full-size renderings of 185 files would not fit in memory
            rows[-1]["_panels"] = tuple(_thumb(p) for p in (ours, ref, other))  # type: ignore[assignment]
    if args.office:
        for r in rows:
            other = f"{r['emf2svg']:.3f}" if r["file"].endswith(".emf") else "  -  "
            print(f"  ours {r['ours']:.3f}  emf2svg {other}  {r['file']}")
    name = "scores_office.csv" if args.office else "scores_wmf.csv" if args.wmf else "scores.csv"
    with open(WORK / name, "w", newline="") as out:
        writer = csv.DictWriter(
            out,
            fieldnames=["file", "ours", "emf2svg", "seconds"],
            extrasaction="ignore",
        )
        writer.writeheader()
        writer.writerows(rows)

    def tenth(values: list[float]) -> float:
        return float(np.percentile(values, 10))

    ours_scores = [r["ours"] for r in rows]
    # emf2svg reads only EMFs: the WMFs of --office have no emf2svg score.
    other_scores = [r["emf2svg"] for r in rows if not args.office or r["file"].endswith(".emf")]
    seconds = [r["seconds"] for r in rows]
    print(f"files: {len(rows)}")
    print("SSIM vs LibreOffice   median   worst tenth (10th pct)   mean")
    print(
        f"  dicomify            {statistics.median(ours_scores):.3f}    {tenth(ours_scores):.3f}"
        f"                   {statistics.fmean(ours_scores):.3f}"
    )
    if not args.wmf:
        print(
            f"  emf2svg + rsvg      {statistics.median(other_scores):.3f}    {tenth(other_scores):.3f}"
            f"                   {statistics.fmean(other_scores):.3f}"
        )
        pairs = [(r["ours"], r["emf2svg"]) for r in rows if not args.office or r["file"].endswith(".emf")]
        better = sum(o >= e for o, e in pairs)
        print(f"  ours >= emf2svg on {better} of {len(pairs)} files")
    print(
        f"render time per file: median {statistics.median(seconds) * 1000:.0f} ms, "
        f"worst {max(seconds) * 1000:.0f} ms ({rows[seconds.index(max(seconds))]['file']}), "
        f"total {sum(seconds):.1f} s"
    )
    worst = sorted(rows, key=lambda r: r["ours"])[:20]
    print(
        "worst 20 (ours, emf2svg):",
        ", ".join(f"{r['file']} {r['ours']:.2f}/{r['emf2svg']:.2f}" for r in worst),
    )
    if args.validate:
        validate(files)
    if args.side:
        for r in worst[: args.side]:
            side_by_side(f"{r['ours']:.2f}_{r['file']}", list(r["_panels"]))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
