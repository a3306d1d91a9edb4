"""Start-up: what the command line imports for --version, --help and one conversion.

Each case runs ``python -m dicomify`` in a fresh interpreter (the only way to see
``sys.modules`` as a user's shell does) and lists the heavy top-level packages it
imported. Timings are not asserted here; they are in benchmarks/startup.py.
"""

from __future__ import annotations

import argparse
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
    [
        ("--version",),
        ("--help",),
        *(
            (command, "--help")
            for command in ("convert", "send", "echo", "serve", "watch", "worklist", "export", "media")
        ),
    ],
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


def test_the_command_list_matches_the_commands_own_help() -> None:
    # dicomify --help shows COMMANDS' lines without importing the modules: they must be
    # the lines the modules register themselves.
    from dicomify.cli import COMMANDS, build_parser

    lazy, full = build_parser([]).format_help(), build_parser(None).format_help()
    assert lazy == full
    assert all(name in full for name in COMMANDS)
    subparsers = next(a for a in build_parser(None)._actions if isinstance(a, argparse._SubParsersAction))
    assert list(subparsers.choices) == list(COMMANDS)  # every registered command is listed


@pytest.mark.parametrize("command", ["convert", "send", "echo", "serve", "watch", "worklist", "export", "media"])
def test_a_command_gets_its_full_parser(command: str) -> None:
    from dicomify.cli import build_parser

    lazy = build_parser([command, "--help"])
    subparsers = next(a for a in lazy._actions if isinstance(a, argparse._SubParsersAction))
    full = next(a for a in build_parser(None)._actions if isinstance(a, argparse._SubParsersAction))
    assert subparsers.choices[command].format_help() == full.choices[command].format_help()


@pytest.mark.parametrize(
    "argv, modules",
    [(["--help"], []), (["--version"], []), (["echo", "--help"], ["send"]), (["media", "--help"], ["media"])],
)
def test_only_the_chosen_command_module_is_imported(argv: list[str], modules: list[str]) -> None:
    code = (
        "import sys\nfrom dicomify.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "from dicomify.cli import COMMANDS\n"
        "commands = {f'dicomify.cli.{module}' for module, _ in COMMANDS.values()}\n"
        "print(sorted(m.rpartition('.')[2] for m in sys.modules if m in commands), file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=True)
    assert done.stderr.strip().splitlines()[-1] == str(modules)
