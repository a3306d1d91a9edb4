"""Command-line interface: presentation only.

Each subcommand lives in its own module exposing ``register(subparsers)``; the
parser it adds sets ``func`` to a ``run(args) -> int``. ``main`` maps the library's
root error onto one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._text import printable
from .._version import __version__
from ..errors import DicomifyError
from . import convert, export, media, send, serve, watch, worklist

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "entry_point", "main"]

EXIT_OK = 0
EXIT_FAILED = 1  # nothing done: the (only) file failed, or every file failed
EXIT_USAGE = 2  # bad command line (argparse's own code)
EXIT_PARTIAL = 3  # a batch where some files failed and others succeeded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dicomify",
        description="Turn ordinary pictures into conformant DICOM and deliver them to a PACS.",
    )
    parser.add_argument("--version", action="version", version=f"dicomify {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (convert, send, serve, watch, worklist, export, media):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DicomifyError as error:
        print(printable(f"dicomify: error: {error}"), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("dicomify: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    sys.exit(main())
