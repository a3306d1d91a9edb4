"""`dicomify worklist`: the scheduled procedures of a Modality Worklist, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import NetworkError

if TYPE_CHECKING:
    from ..net import WorklistItem

__all__ = ["add_filter_arguments", "filters_from_args", "register", "run_worklist", "table"]

_COLUMNS = (
    ("PATIENT", "patient_name"),
    ("ID", "patient_id"),
    ("BIRTH", "birth_date"),
    ("ACCESSION", "accession_number"),
    ("PROCEDURE", "requested_procedure"),
    ("DATE", "start_date"),
    ("TIME", "start_time"),
    ("MODALITY", "modality"),
    ("STATION", "station_aet"),
)


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (all must match; * and ? are wildcards in names and IDs)")
    group.add_argument("--date", metavar="WHEN", help="today, YYYYMMDD, YYYY-MM-DD or YYYYMMDD-YYYYMMDD")
    group.add_argument("--modality", metavar="CODE", help="scheduled modality (XC, OT, ...)")
    group.add_argument("--station-aet", metavar="AETITLE", help="scheduled station AE title")
    group.add_argument("--patient-id", metavar="ID")
    group.add_argument("--patient-name", metavar="NAME", help="e.g. 'DOE^*'")
    group.add_argument("--accession", metavar="NUMBER")


def filters_from_args(args: argparse.Namespace) -> dict[str, Any]:
    names = ("date", "modality", "station_aet", "patient_id", "patient_name", "accession")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def register(subparsers: Any) -> None:  # argparse's _SubParsersAction is private
    from .send import add_destination_arguments

    parser = subparsers.add_parser(
        "worklist",
        help="list the scheduled procedures of a Modality Worklist",
        description="Query a Modality Worklist SCP (C-FIND) and print its scheduled procedure steps. "
        "Exit code 0 with matches, 1 with none or when the query fails.",
    )
    add_destination_arguments(parser, required=True)
    add_filter_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    parser.set_defaults(func=run_worklist)


def table(items: list[WorklistItem]) -> str:
    """The items as a plain text table, one line per scheduled procedure step."""
    rows = [[title for title, _ in _COLUMNS]]
    rows += [[getattr(item, name) for _, name in _COLUMNS] for item in items]
    widths = [max(len(row[index]) for row in rows) for index in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def run_worklist(args: argparse.Namespace) -> int:
    from . import EXIT_FAILED, EXIT_OK
    from .send import destination_from_args

    destination = destination_from_args(args)
    from ..net import DicomDestination, find_worklist

    if not isinstance(destination, DicomDestination):
        raise NetworkError("A worklist is queried over DICOM: give --host HOST, not --stow.")
    items = find_worklist(destination, **filters_from_args(args))
    if args.json:
        json.dump([item.as_dict() for item in items], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif items:
        print(table(items))
    if not items:
        print(f"dicomify: no scheduled procedure matches at {destination}.", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
