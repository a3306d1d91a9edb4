"""Where the time of a JPEG passthrough conversion goes (why the byte-copy floor is far).

    python benchmarks/profile_passthrough.py [CORPUS/photos]

Prints (1) the start-up cost: a bare interpreter, and importing what a conversion
needs; (2) the per-file cost of each step, averaged over the photos, in this process;
(3) a cProfile of the same loop, top functions by own time.
"""

from __future__ import annotations

import cProfile
import glob
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def wall(argv: list[str], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    folder = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "benchmarks" / "_work" / "corpus" / "photos")
    files = sorted(glob.glob(os.path.join(folder, "*.jpg")))[:200]
    py = sys.executable
    print("start-up (best of 5, wall):")
    print(f"  python -c pass                     {wall([py, '-c', 'pass']) * 1000:6.0f} ms")
    print(f"  python -c 'import numpy'           {wall([py, '-c', 'import numpy']) * 1000:6.0f} ms")
    print(f"  python -c 'import pydicom'         {wall([py, '-c', 'import pydicom']) * 1000:6.0f} ms")
    print(f"  python -m dicomify --version       {wall([py, '-m', 'dicomify', '--version']) * 1000:6.0f} ms")

    import pydicom
    from dicomify.build.metadata import validate
    from dicomify.build.sop import build_dataset

    from dicomify._files import atomic_output
    from dicomify.encode.pixel_data import set_pixel_data
    from dicomify.options import ConvertOptions
    from dicomify.readers import read_picture

    options = ConvertOptions()
    metadata = {"StudyInstanceUID": "2.25.1", "SeriesInstanceUID": "2.25.2", "SeriesNumber": 1, "InstanceNumber": 1}
    out = tempfile.mkdtemp()
    steps = {"read file": 0.0, "parse + EXIF (reader)": 0.0, "validate metadata": 0.0, "build dataset": 0.0,
             "encapsulate pixels": 0.0, "dcmwrite to memory": 0.0, "write file atomically": 0.0, "plain copy (floor)": 0.0}  # fmt: skip
    for number, path in enumerate(files):
        t0 = time.perf_counter()
        data = open(path, "rb").read()
        t1 = time.perf_counter()
        picture = read_picture(io.BytesIO(data), options)
        t2 = time.perf_counter()
        checked = validate(metadata)
        t3 = time.perf_counter()
        ds = build_dataset(picture, checked, options)
        t4 = time.perf_counter()
        set_pixel_data(ds, picture, options.compression)
        t5 = time.perf_counter()
        buffer = io.BytesIO()
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
        t6 = time.perf_counter()
        with atomic_output(os.path.join(out, f"{number}.dcm")) as file:
            file.write(buffer.getbuffer())
        t7 = time.perf_counter()
        with open(os.path.join(out, f"{number}.copy"), "wb") as file:
            file.write(data)
        t8 = time.perf_counter()
        for name, spent in zip(
            steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7), strict=True
        ):
            steps[name] += spent
    print(f"\nper file, mean of {len(files)} photos (in one process, imports done):")
    for name, spent in steps.items():
        print(f"  {name:28s} {spent / len(files) * 1000:6.2f} ms")
    total = sum(v for k, v in steps.items() if k not in ("plain copy (floor)", "read file"))
    print(f"  {'dicomify beyond the copy':28s} {total / len(files) * 1000:6.2f} ms")

    from dicomify.batch import Task, convert_task

    profile = cProfile.Profile()
    profile.enable()
    for number, path in enumerate(files):
        convert_task(Task(path, os.path.join(out, f"p{number}.dcm"), metadata), options)
    profile.disable()
    print("\ncProfile of convert_task over the same photos, top 15 by own time:")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
