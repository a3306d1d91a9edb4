"""Start-up cost: `dicomify --version`, `--help` and one conversion, against DCMTK's img2dcm.

    python benchmarks/startup.py [--runs 20] [--before REV] [--markdown FILE]

Each command is run ``--runs`` times as a fresh process; the median and the best wall
time are reported. dicomify runs from this checkout (PYTHONPATH=src); with ``--before
REV`` the same commands also run from ``git archive REV src`` (e.g. the commit before
the lazy imports), so both columns come from one run on one machine. The conversion
is one 1024x768 JPEG photo (Secondary Capture, JPEG kept byte-exact), the same file
img2dcm converts. ``python -c pass`` is the floor: the interpreter's own start.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


def _photo(path: Path) -> None:
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:768, 0:1024]
    rng = np.random.default_rng(1)
    base = np.stack([x / 4, y / 3, (x + y) / 7], axis=-1) + rng.normal(0, 6, (768, 1024, 3))
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path, quality=90)


def _source_tree(rev: str, into: Path) -> Path:
    """``src/`` of git revision ``rev``, unpacked into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _time(command: list[str], env: dict[str, str], runs: int, work: Path) -> tuple[float, float]:
    times = []
    for number in range(runs):
        # A fresh output name each run: nothing is overwritten, nothing is skipped.
        argv = [part.replace("{out}", str(work / f"out{number}.dcm")) for part in command]
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
        (work / f"out{number}.dcm").unlink(missing_ok=True)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--before", metavar="REV", help="also time dicomify from this git revision")
    parser.add_argument("--markdown", type=Path, help="append the table to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        photo = work / "photo.jpg"
        _photo(photo)
        trees = {"now": ROOT / "src"}
        if args.before:
            trees["before"] = _source_tree(args.before, work / "before")
        dicomify = {
            "dicomify --version": ["--version"],
            "dicomify --help": ["--help"],
            "dicomify convert --help": ["convert", "--help"],
            "dicomify convert photo.jpg": ["convert", str(photo), "-o", "{out}", "-q"],
        }
        rows: list[tuple[str, dict[str, tuple[float, float]]]] = []
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        rows.append(("python -c pass (floor)", {"now": _time([PY, "-c", "pass"], base_env, args.runs, work)}))
        for name, argv in dicomify.items():
            figures = {}
            for label, tree in trees.items():
                env = {**base_env, "PYTHONPATH": str(tree)}
                figures[label] = _time([PY, "-m", "dicomify", *argv], env, args.runs, work)
            rows.append((name, figures))
        img2dcm = ["img2dcm", "-q", str(photo), "{out}"]
        rows.append(("DCMTK img2dcm photo.jpg", {"now": _time(img2dcm, base_env, args.runs, work)}))

    labels = list(trees)
    command = "python benchmarks/startup.py " + " ".join(sys.argv[1:])
    version = subprocess.run(["img2dcm", "--version"], capture_output=True, text=True).stdout.splitlines()
    lines = [
        f"`{command.strip()}` — {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
        f"{version[0].strip(' $') if version else 'img2dcm'}; {args.runs} runs each, "
        "median (best) wall seconds of a fresh process",
        "",
        "| command | " + " | ".join(f"{label} median (best)" for label in labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for name, figures in rows:
        cells = [f"{figures[label][0]:.3f} ({figures[label][1]:.3f})" if label in figures else "" for label in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as file:
            file.write("\n" + text)


if __name__ == "__main__":
    main()
