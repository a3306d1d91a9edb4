"""Command-line interface: presentation only.

Each subcommand lives in its own module exposing ``register(subparsers)``; the
parser it adds sets ``func`` to a ``run(args) -> int``. ``main`` maps the library's
root error onto one line on stderr and a non-zero exit code, never a traceback.

Only the module of the command being run is imported: ``dicomify --help`` lists the
commands from :data:`COMMANDS` alone (a test keeps its help lines equal to the
modules' own).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from .._text import printable
from .._version import __version__
from .._warnings import owned_process
from ..errors import DicomifyError, OptionError
from .exitcodes import ExitCode, UsageError

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "build_parser", "entry_point", "main"]

# The exit codes (see .exitcodes, the one place they are decided).
EXIT_OK = ExitCode.OK
EXIT_FAILED = ExitCode.FAILED
EXIT_USAGE = ExitCode.USAGE
EXIT_PARTIAL = ExitCode.PARTIAL


# command -> (module of dicomify.cli that registers it, its line in ``dicomify --help``)
COMMANDS = {
    "convert": ("convert", "convert pictures to DICOM"),
    "send": ("send", "send DICOM files to a PACS (C-STORE or STOW-RS)"),
    "echo": ("send", "check the connection to a PACS (C-ECHO, or a QIDO-RS request for --stow)"),
    "serve": ("serve", "start the capture page and HTTP API"),
    "watch": ("watch", "convert and send the pictures that appear in a folder"),
    "worklist": ("worklist", "list the scheduled procedures of a Modality Worklist"),
    "export": ("export", "DICOM back to pictures (PNG, JPEG, TIFF), PDF and video"),
    "media": ("media", "write a DICOM media folder with a DICOMDIR (CD/USB for the patient)"),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for the command line ``argv``; for every command when ``argv`` is None.

    Only the command named in ``argv`` gets its full parser; the others get one with
    their help line only, so ``--help`` lists them and a mistyped command is refused
    with the valid names, without importing their modules.
    """
    parser = argparse.ArgumentParser(
        prog="dicomify",
        description="Turn ordinary pictures into conformant DICOM and deliver them to a PACS.",
    )
    parser.add_argument("--version", action="version", version=f"dicomify {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The top-level options take no value, so the first other word is the command.
    chosen = next((word for word in argv or () if not word.startswith("-")), None)
    modules = {module for module, _ in COMMANDS.values()} if argv is None else set()
    if chosen in COMMANDS:
        modules.add(COMMANDS[chosen][0])
    for module in dict.fromkeys(module for module, _ in COMMANDS.values()):  # in COMMANDS' order
        if module in modules:
            import_module(f".{module}", __name__).register(subparsers)
    for name, (_, help_line) in COMMANDS.items():
        if name not in subparsers.choices:
            subparsers.add_parser(name, help=help_line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        with owned_process():  # libraries' warnings become notes naming the file
            return int(args.func(args))
    except (UsageError, OptionError) as error:  # a bad flag value is a bad command line
        print(printable(f"dicomify: error: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except DicomifyError as error:
        print(printable(f"dicomify: error: {error}"), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("dicomify: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    sys.exit(main())
