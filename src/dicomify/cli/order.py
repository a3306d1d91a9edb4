"""`dicomify convert --order ACCESSION` and `--study-in-pacs QUERY`: metadata from the RIS or the PACS.

The order's (or the study's) values come first; everything given explicitly
(``--study-from``, ``--metadata``, ``--set``, the metadata flags) is applied after
them and wins.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import DicomifyError

__all__ = ["add_order_arguments", "order_metadata_from_args"]


def add_order_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "order (patient and study from a Modality Worklist or from the PACS; explicit metadata flags still win)"
    )
    group.add_argument(
        "--order",
        metavar="ACCESSION",
        help="fill patient, study and request attributes from the one scheduled procedure with this accession number",
    )
    group.add_argument(
        "--worklist-host", metavar="HOST", help="the worklist server (default: DICOMIFY_WORKLIST_HOST or the config)"
    )
    group.add_argument("--worklist-port", type=int, metavar="PORT", help="its port (DICOMIFY_WORKLIST_PORT; 104)")
    group.add_argument("--worklist-aec", metavar="AETITLE", help="its AE title (DICOMIFY_WORKLIST_AEC; ANY-SCP)")
    group.add_argument(
        "--worklist-aet", metavar="AETITLE", help="our AE title for it (DICOMIFY_WORKLIST_AET; DICOMIFY)"
    )
    group.add_argument(
        "--worklist-config",
        metavar="FILE.json",
        help='a JSON file with a "worklist" object (host, port, called_aet ...)',
    )
    group.add_argument(
        "--study-in-pacs",
        metavar="QUERY",
        help="join the one study of the --send --host PACS matching QUERY: an accession number, a study UID, "
        "or patient=ID,date=YYYYMMDD",
    )


def order_metadata_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The metadata of ``--order`` or ``--study-in-pacs`` ({} when neither is given)."""
    order = getattr(args, "order", None)
    study = getattr(args, "study_in_pacs", None)
    worklist_flags = [
        flag
        for dest, flag in (
            ("worklist_host", "--worklist-host"),
            ("worklist_port", "--worklist-port"),
            ("worklist_aec", "--worklist-aec"),
            ("worklist_aet", "--worklist-aet"),
            ("worklist_config", "--worklist-config"),
        )
        if getattr(args, dest, None) is not None
    ]
    if order is None and worklist_flags:
        raise DicomifyError(f"{worklist_flags[0]} needs --order ACCESSION")
    if order is not None and study is not None:
        raise DicomifyError("give either --order or --study-in-pacs, not both")
    if order is not None:
        from ..net import find_order, order_metadata, worklist_destination

        # -to wins when given; otherwise the config file's timeout, else the default.
        timing = {"retries": args.retries, "backoff": args.backoff}
        if args.timeout is not None:
            timing["timeout"] = args.timeout
        destination = worklist_destination(
            host=args.worklist_host,
            port=args.worklist_port,
            called_aet=args.worklist_aec,
            calling_aet=args.worklist_aet,
            config=args.worklist_config,
            **timing,
        )
        return order_metadata(find_order(destination, order))
    if study is not None:
        from ..net import DicomDestination, find_one_study, study_metadata
        from .send import destination_from_args

        pacs = destination_from_args(args) if getattr(args, "send", False) else None
        if not isinstance(pacs, DicomDestination):
            raise DicomifyError("--study-in-pacs queries the PACS you send to: add --send --host HOST (-aec, --port)")
        return study_metadata(find_one_study(pacs, study))
    return {}
