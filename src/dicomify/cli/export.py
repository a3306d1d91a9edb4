"""`dicomify export`: DICOM back to pictures, documents and video."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="DICOM back to pictures (PNG, JPEG, TIFF), PDF and video",
        description="Export DICOM images as a viewer shows them (or their stored values with --values), "
        "and encapsulated PDF/CDA documents and MPEG video byte-identical. One file: SRC -o FILE; "
        "files and folders (recursive): SRC... -o OUTDIR.",
        epilog="Exit codes: 0 every file exported; 1 nothing exported; 2 bad command line; 3 some files failed.",
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", help="DICOM file or folder (recursive)")
    parser.add_argument("-o", "--output", required=True, metavar="DST", help="output file, or folder for several")
    parser.add_argument(
        "--format", choices=["png", "jpeg", "tiff"], help="picture format (default: from -o FILE's suffix, else png)"
    )
    parser.add_argument(
        "--window", nargs=2, type=float, metavar=("CENTER", "WIDTH"), help="grayscale window instead of the stored one"
    )
    parser.add_argument(
        "--bits", type=int, choices=[8, 16], default=8, help="output depth (default 8; JPEG is always 8)"
    )
    parser.add_argument(
        "--values", action="store_true", help="write the stored values unchanged (lossless round trip; png or tiff)"
    )
    parser.add_argument(
        "--frames",
        choices=["pages", "files"],
        default="pages",
        help="multi-frame: one multi-page TIFF / animated PNG (default), or numbered files",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._text import printable
    from ..export import ExportOptions, export, export_file
    from .exitcodes import ExitCode, for_counts

    options = ExportOptions(
        format=args.format,
        window=tuple(args.window) if args.window else None,
        bits=args.bits,
        values=args.values,
        frames=args.frames,
    )
    output = args.output
    single = len(args.sources) == 1 and not os.path.isdir(args.sources[0])
    if single and not (os.path.isdir(output) or output.endswith(os.sep)):
        for path in export_file(args.sources[0], output, options):
            print(path)
        return ExitCode.OK
    done = failed = 0
    for result in export(args.sources, output, options):
        if result.error is None:
            done += 1
            for path in result.outputs:
                print(path)
        else:
            failed += 1
            print(f"dicomify: error: {result.error}", file=sys.stderr)
    if not done and not failed:
        print(printable(f"dicomify: error: no DICOM files found in {', '.join(args.sources)}"), file=sys.stderr)
    return for_counts(done + failed, failed)
