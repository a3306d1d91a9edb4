"""Time dicomify's batch mode against its peers and the floors, in one run.

    python benchmarks/corpus.py            # once: generate the corpora
    python benchmarks/run.py [--repeat 3] [--sets photos,screens,ct,tiff] [--markdown FILE]

Every measurement is the wall time of a fresh process (start-up included), writing
into an empty folder; with --repeat N the best of N is kept. dicomify runs from this
checkout (PYTHONPATH=src), as `python -m dicomify convert DIR -o OUT -q --jobs N`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"

# method -> (command, sets it applies to); {src} and {out} are filled in.
PY = sys.executable
METHODS = {
    "dicomify --jobs 1": ([PY, "-m", "dicomify", "convert", "{src}", "-o", "{out}", "-q", "--jobs", "1"], None),
    "dicomify --jobs 2": ([PY, "-m", "dicomify", "convert", "{src}", "-o", "{out}", "-q", "--jobs", "2"], None),
    "DCMTK img2dcm per file": ([PY, str(HERE / "peers.py"), "img2dcm", "{src}", "{out}"], {"photos"}),
    "Pillow+pydicom loop": ([PY, str(HERE / "peers.py"), "pydicom", "{src}", "{out}"], None),
    "floor: copy bytes": ([PY, str(HERE / "peers.py"), "copy", "{src}", "{out}"], {"photos"}),
    "floor: decode+write, 1 core": ([PY, str(HERE / "peers.py"), "decode", "{src}", "{out}", "--jobs", "1"], {"screens", "ct", "tiff"}),
    "floor: decode+write, 2 cores": ([PY, str(HERE / "peers.py"), "decode", "{src}", "{out}", "--jobs", "2"], {"screens", "ct", "tiff"}),
}


def drop_outputs() -> None:
    shutil.rmtree(WORK / "out", ignore_errors=True)


def time_once(command: list[str], src: Path, out: Path) -> float:
    drop_outputs()
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [part.format(src=src, out=out) for part in command]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    os.sync()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def describe(folder: Path) -> str:
    files = [f for f in folder.iterdir() if f.is_file()]
    return f"{len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.0f} MB"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in ("pydicom", "PIL", "numpy"):
        module = __import__(name)
        versions[name] = module.__version__
    img2dcm = subprocess.run(["img2dcm", "--version"], capture_output=True, text=True).stdout.splitlines()
    dcmtk = next((line.strip() for line in img2dcm if "DCMTK" in line), "DCMTK ?")
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.platform()}; Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f"; {dcmtk}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(WORK / "corpus"))
    parser.add_argument("--sets", default="photos,screens,ct,tiff")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    results: dict[str, dict[str, float]] = {}
    for name in args.sets.split(","):
        src = corpus / name
        results[name] = {}
        for method, (command, applies) in METHODS.items():
            if applies is not None and name not in applies:
                continue
            best = min(time_once(command, src, WORK / "out" / name) for _ in range(args.repeat))
            results[name][method] = best
            print(f"{name:8s} {method:30s} {best:8.2f} s", flush=True)
    drop_outputs()
    lines = [f"Machine: {machine()}", "", "| set | method | seconds | vs dicomify --jobs 1 | vs dicomify --jobs 2 |", "|---|---|---:|---:|---:|"]
    for name, timings in results.items():
        label = f"{name} ({describe(corpus / name)})"
        for method, seconds in timings.items():
            lines.append(
                f"| {label} | {method} | {seconds:.2f} | "
                f"{seconds / timings['dicomify --jobs 1']:.2f}x | {seconds / timings['dicomify --jobs 2']:.2f}x |"
            )
    checks = []
    p = results.get("photos")
    if p:
        checks.append(f"photos: img2dcm loop / dicomify -j2 = {p['DCMTK img2dcm per file'] / p['dicomify --jobs 2']:.1f}x (target >= 10)")
        checks.append(f"photos: dicomify -j2 / copy floor = {p['dicomify --jobs 2'] / p['floor: copy bytes']:.2f}x (target <= 2)")
        checks.append(f"photos: dicomify -j1 / copy floor = {p['dicomify --jobs 1'] / p['floor: copy bytes']:.2f}x")
    for name in ("screens", "ct", "tiff"):
        t = results.get(name)
        if t:
            checks.append(f"{name}: dicomify -j1 / decode floor 1 core = {t['dicomify --jobs 1'] / t['floor: decode+write, 1 core']:.2f}x (target <= 1.25)")
            checks.append(f"{name}: dicomify -j2 / decode floor 2 cores = {t['dicomify --jobs 2'] / t['floor: decode+write, 2 cores']:.2f}x (target <= 1.25)")
    for name, t in results.items():
        checks.append(f"{name}: speed-up -j1/-j2 = {t['dicomify --jobs 1'] / t['dicomify --jobs 2']:.2f}x (target >= 1.8 on the larger sets)")
    lines += ["", *[f"- {c}" for c in checks]]
    text = "\n".join(lines)
    print(text)
    (WORK).mkdir(exist_ok=True)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
