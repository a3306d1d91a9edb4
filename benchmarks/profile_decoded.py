# ruff: noqa: B023  (the closures run at once, inside their loop iteration)
"""Where the time of a small decoded conversion goes (the CT set: 16-bit gray PNG 512x512).

    python benchmarks/profile_decoded.py [CORPUS/ct]

Per file, averaged over the first 200 files, in this process (imports done, the
allocator tuned as in a batch): each step of dicomify's path, then the floor's
(Pillow decode + tobytes, a plain write) for comparison. Best of three passes.
"""

from __future__ import annotations

import glob
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    import pydicom
    from dicomify.build.metadata import validate
    from dicomify.build.sop import build_dataset
    from PIL import Image

    from dicomify._files import atomic_output
    from dicomify.batch import tune_allocator
    from dicomify.encode.pixel_data import set_pixel_data
    from dicomify.options import ConvertOptions
    from dicomify.readers import read_picture

    tune_allocator()
    folder = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "benchmarks" / "_work" / "corpus" / "ct")
    files = sorted(glob.glob(os.path.join(folder, "*.png")))[:200]
    options = ConvertOptions()
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(3):
            spent: dict[str, float] = {}

            def step(name: str, work: Callable[[], Any]) -> Any:
                start = time.perf_counter()
                result = work()
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
                return result

            for path in files:
                name = os.path.basename(path)
                metadata = step("validate metadata", lambda: validate({}))
                with open(path, "rb") as stream:
                    picture = step("read + decode (reader)", lambda: read_picture(stream, options))
                ds = step("build dataset", lambda: build_dataset(picture, metadata, options))
                step("set pixel data", lambda: set_pixel_data(ds, picture, options.compression))
                buffer = io.BytesIO()
                step("dcmwrite to memory", lambda: pydicom.dcmwrite(buffer, ds, enforce_file_format=True))

                def atomic() -> None:
                    with atomic_output(os.path.join(out, name + ".dcm")) as file:
                        file.write(buffer.getbuffer())

                step("write file atomically", atomic)
                ds.pop(0x7FE00010)
                step(
                    "  of which dcmwrite without pixels",
                    lambda: pydicom.dcmwrite(io.BytesIO(), ds, enforce_file_format=True),
                )

                def floor() -> None:
                    with Image.open(path) as image, open(os.path.join(out, name + ".raw"), "wb") as file:
                        file.write(image.tobytes())

                step("floor: Pillow decode + tobytes + write", floor)
            for key, value in spent.items():
                best[key] = min(best.get(key, float("inf")), value)
    print(f"per file, best of 3 passes over {len(files)} files ({folder}):")
    total = 0.0
    for key, value in best.items():
        ms = value / len(files) * 1000
        if not key.startswith(" ") and not key.startswith("floor"):
            total += ms
        print(f"  {key:40s} {ms:6.2f} ms")
    print(f"  {'dicomify steps, total':40s} {total:6.2f} ms")


if __name__ == "__main__":
    main()
