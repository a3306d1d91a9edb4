"""Start-up: what the command line imports for --version, --help and one conversion.

Each case runs ``python -m dicomify`` in a fresh interpreter (the only way to see
``sys.modules`` as a user's shell does) and lists the heavy top-level packages it
imported. Timings are not asserted here; they are in benchmarks/startup.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.pictures import photo
from PIL import Image

SRC = str(Path(__file__).resolve().parents[2] / "src")

HEAVY = ("pydicom", "numpy", "PIL", "pynetdicom", "httpx", "dask", "distributed", "skia", "tifffile", "requests")

# Runs dicomify's __main__ as `python -m dicomify ARGS` would, then prints which of
# HEAVY were imported (on stderr's last line, after whatever dicomify printed).
_PROBE = """
import runpy, sys
heavy = sys.argv[1].split(",")
sys.argv = ["dicomify", *sys.argv[2:]]
try:
    runpy.run_module("dicomify", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code or 0
else:
    code = 0
print("exit", code, "imported", *sorted({m.split(".")[0] for m in sys.modules} & set(heavy)), file=sys.stderr)
"""


def imported_by(*argv: str) -> tuple[int, set[str]]:
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(HEAVY), *argv], capture_output=True, text=True, env=env, check=True
    )
    word, code, imported, *names = done.stderr.strip().splitlines()[-1].split()
    assert (word, imported) == ("exit", "imported"), done.stderr
    return int(code), set(names)


@pytest.mark.parametrize(
    "argv",
    [("--version",), ("--help",), ("convert", "--help"), ("send", "--help"), ("echo", "--help")],
    ids=" ".join,
)
def test_version_and_help_import_no_heavy_package(argv: tuple[str, ...]) -> None:
    code, names = imported_by(*argv)
    assert code == 0
    assert names == set()


def test_import_dicomify_is_light_until_a_name_is_used() -> None:
    code = (
        "import sys, dicomify; print(sorted({m.split('.')[0] for m in sys.modules} & {'pydicom', 'numpy', 'PIL'})); "
        "dicomify.ConvertOptions; print('pydicom' in sys.modules); "
        "dicomify.DicomImage; print('pydicom' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "False", "True"]


def test_jpeg_conversion_imports_only_what_it_uses(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    Image.fromarray(photo()).save(source, quality=90)
    code, names = imported_by("convert", str(source), "-o", str(tmp_path / "photo.dcm"))
    assert code == 0
    assert (tmp_path / "photo.dcm").is_file()
    assert {"pydicom", "numpy", "PIL"} <= names  # the probe does see imports
    assert not names & {"pynetdicom", "httpx", "dask", "distributed", "skia", "tifffile", "requests"}
