"""`dicomify media`: a DICOM media folder with a DICOMDIR."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "media",
        help="write a DICOM media folder with a DICOMDIR (CD/USB for the patient)",
        description="Copy DICOM files into OUTDIR under PS3.10 file names and write its DICOMDIR.",
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="the media folder (created; must not hold a DICOMDIR)")
    parser.add_argument("sources", nargs="+", metavar="FILE", help="DICOM files or folders (recursive)")
    parser.add_argument("--label", default="DICOMIFY", help="File-set ID (up to 16 characters)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..media import write_media

    print(write_media(args.outdir, args.sources, label=args.label))
    return 0
