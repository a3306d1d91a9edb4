"""The PACS side of the server: publish, worklist and study lookup, all to configured peers.

Only destinations from the configuration are ever contacted; nothing a page or an
API client sends names a host. Queries use the library's ``dicomify.net``
functions (Modality Worklist and Study Root C-FIND); a chosen order or study is
looked up again here by its key, so its metadata comes from the peer, not from
the page.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..net import CommitOptions, Destination, DicomDestination, SendResult

__all__ = ["NotAvailable", "find_studies", "find_worklist", "order_and_study_metadata", "publish"]

WORKLIST_FILTERS = ("patient_name", "patient_id", "accession", "date", "modality", "station_aet")
STUDY_FILTERS = ("patient_id", "accession", "study_uid", "date")


class NotAvailable(Exception):
    """The configuration does not offer this (no worklist, no PACS ...)."""


def _text_fields(item: Any) -> dict[str, Any]:
    """A query answer's text fields for JSON (its ``dataset`` stays here)."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if f.name != "dataset"}


def _need(destination: DicomDestination | None, what: str) -> DicomDestination:
    if destination is None:
        raise NotAvailable(f"no {what} is configured on this server")
    return destination


def find_worklist(destination: DicomDestination | None, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    """Scheduled procedure steps from the configured worklist, as JSON-ready objects.

    Raises
    ------
    NotAvailable
        No ``[worklist]`` in the configuration.
    dicomify.errors.NetworkError
        A filter is not valid, or (``QueryError``) the worklist cannot be queried.
    """
    from .. import net

    worklist = _need(destination, "worklist")
    return [_text_fields(item) for item in net.find_worklist(worklist, **{k: v for k, v in filters.items() if v})]


def find_studies(destination: DicomDestination | None, filters: Mapping[str, str]) -> list[dict[str, Any]]:
    """Studies in the configured PACS (Study Root C-FIND), as JSON-ready objects.

    Raises
    ------
    NotAvailable
        No ``[studies]`` in the configuration.
    dicomify.errors.NetworkError
        No or an invalid key, or (``QueryError``) the PACS cannot be queried.
    """
    from .. import net

    studies = _need(destination, "PACS study lookup")
    return [_text_fields(item) for item in net.find_studies(studies, **{k: v for k, v in filters.items() if v})]


def order_and_study_metadata(
    worklist: DicomDestination | None, studies: DicomDestination | None, order: str, study: str
) -> dict[str, Any]:
    """Metadata from the order with accession number ``order`` and/or the PACS study ``study``.

    The order fills the objects as IHE Scheduled Workflow requires (``order_metadata``);
    the study makes the new series join an existing study (``study_metadata``).

    Raises
    ------
    NotAvailable
        The order or study was asked for but nothing is configured to look it up.
    dicomify.errors.NetworkError
        ``OrderError`` / ``StudyError``: none or several match; ``QueryError``: unreachable.
    """
    from .. import net

    metadata: dict[str, Any] = {}
    if study:
        metadata.update(net.study_metadata(net.find_one_study(_need(studies, "PACS study lookup"), study)))
    if order:
        metadata.update(net.order_metadata(net.find_order(_need(worklist, "worklist"), order)))
    return metadata


# One storage commitment at a time: the archive's report comes to one listening port.
_COMMIT_LOCK = threading.Lock()


def publish(destination: Destination, paths: list[Path], commit: CommitOptions | None = None) -> list[SendResult]:
    """Send the files over one association (or HTTP connection); one result per file, in order.

    With ``commit`` the archive is asked to commit them after storing (PS3.4 Annex J):
    the results are then ``committed`` or ``uncommitted`` with the reason.
    """
    from ..net import open_sender, send_files

    if commit is None:
        with open_sender(destination) as sender:
            return [sender.send(path) for path in paths]
    with _COMMIT_LOCK:
        results = {result.source: result for result in send_files(paths, destination, commit=commit)}
    return [results[str(path)] for path in paths]
