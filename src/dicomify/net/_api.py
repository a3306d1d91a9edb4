"""The delivery API: open a sender, send files, check a connection, resume from a report."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from pydicom import Dataset

from ..errors import NetworkError
from ..report import delivered_objects, is_delivered
from ._config import CommitOptions, Destination, DicomDestination, StowDestination
from ._dimse import DimseSender, dimse_echo
from ._items import SendItem, find_dicom_files, header_of
from ._result import EchoResult, SendResult, SendStatus
from ._stow import StowSender, stow_echo

__all__ = ["Sender", "echo", "open_sender", "send_files", "stored_in_report"]


class Sender(Protocol):
    """What :func:`open_sender` yields."""

    def send(self, source: SendItem) -> SendResult: ...

    def send_many(self, sources: Iterable[SendItem]) -> Iterator[SendResult]: ...


def _check(destination: object) -> Destination:
    if not isinstance(destination, (DicomDestination, StowDestination)):
        raise NetworkError(f"Cannot send to {destination!r}: give a DicomDestination or a StowDestination.")
    return destination


@contextmanager
def open_sender(destination: Destination, expected: Iterable[tuple[str, str]] | None = None) -> Iterator[Sender]:
    """A sender for ``destination``: ``.send(path_or_dataset) -> SendResult``.

    For C-STORE the association opens at the first send and is reused. The first
    association proposes the ``expected`` (SOP Class UID, Transfer Syntax UID)
    pairs, or by default every SOP class and transfer syntax ``dicomify.convert``
    makes, so converting and sending one by one needs one association; an object
    outside them makes the sender associate again with its contexts added.
    Closing releases the association (or the HTTP connection pool).
    """
    destination = _check(destination)
    sender: DimseSender | StowSender
    if isinstance(destination, DicomDestination):
        sender = DimseSender(destination, expected)
    else:
        sender = StowSender(destination)
    with sender:
        yield sender


def stored_in_report(report: str | os.PathLike[str], committed_only: bool = False) -> set[tuple[str, str]]:
    """(real path of the DICOM file, SOP Instance UID) of every object a previous run delivered.

    See :func:`dicomify.report.delivered_objects`: the file is the source of a ``send``
    report row and the output of a ``convert --send`` one.

    Raises
    ------
    NetworkError
        When the report does not exist or cannot be read.
    """
    path = Path(report)
    if not path.is_file():
        raise NetworkError(f"The report {str(path)!r} to resume from does not exist.")
    try:
        return delivered_objects(path, committed_only)
    except (ValueError, OSError) as error:
        raise NetworkError(f"Cannot read the report {str(path)!r}: {error}.") from error


def send_files(
    sources: Iterable[SendItem],
    destination: Destination,
    *,
    skip_sent: str | os.PathLike[str] | None = None,
    commit: CommitOptions | None = None,
) -> Generator[SendResult, None, None]:
    """Send files, folders (their DICOM files, recursively) and datasets; a result per object.

    With ``skip_sent`` (a report written by an earlier run, read now, before
    anything is sent, so it may be the file this run's report will overwrite),
    objects that run delivered are not sent again: their result is ``skipped``,
    yielded before the others. Results come as objects are sent, so a caller can
    write a report row by row; the connection closes when the iterator is
    exhausted or closed.

    With ``commit`` (C-STORE only) storage commitment is asked for every stored
    object once all are sent, and the results come after the archive's report:
    ``committed``, or ``uncommitted`` with the reason. ``skip_sent`` then skips only
    objects an earlier run saw committed (their result says ``committed`` again).

    Raises
    ------
    NetworkError
        A bad destination, an unreadable ``skip_sent`` report, ``commit`` with STOW-RS.
    """
    destination = _check(destination)
    if commit is not None and not isinstance(destination, DicomDestination):
        raise NetworkError("Storage commitment needs a DICOM destination (--host), not STOW-RS.")
    delivered = stored_in_report(skip_sent, committed_only=commit is not None) if skip_sent is not None else set()
    items: list[SendItem] = []
    for source in sources:
        if isinstance(source, Dataset):
            items.append(source)
        elif isinstance(source, (str, os.PathLike)):
            items.extend(find_dicom_files([source]))
        else:
            raise NetworkError(f"Cannot send {source!r}: give file or folder paths or pydicom Datasets.")
    report = "" if skip_sent is None else os.fspath(skip_sent)
    if commit is None:
        return _send_all(items, destination, delivered, report, False)
    assert isinstance(destination, DicomDestination)
    return _send_and_commit(items, destination, delivered, report, commit)


def _send_and_commit(
    items: list[SendItem],
    destination: DicomDestination,
    delivered: set[tuple[str, str]],
    report: str,
    commit: CommitOptions,
) -> Generator[SendResult, None, None]:
    from ._commit import commit_outcomes

    sent = list(_send_all(items, destination, delivered, report, True))
    yield from commit_outcomes(destination, sent, commit)


def _send_all(
    items: list[SendItem], destination: Destination, delivered: set[tuple[str, str]], report: str, committed: bool
) -> Generator[SendResult, None, None]:
    expected: list[tuple[str, str]] = []
    to_send: list[SendItem] = []
    for item in items:
        header = header_of(item)
        if header is not None:
            source = "" if isinstance(item, Dataset) else os.fspath(item)
            if is_delivered(delivered, source, header.sop_instance_uid):
                yield SendResult(
                    source=source,
                    status=SendStatus.COMMITTED if committed else SendStatus.SKIPPED,
                    sop_instance_uid=header.sop_instance_uid,
                    sop_class_uid=header.sop_class_uid,
                    study_instance_uid=header.study_instance_uid,
                    series_instance_uid=header.series_instance_uid,
                    transfer_syntax=header.transfer_syntax,
                    message=f"Not sent again: {'committed' if committed else 'stored'} according to {report}.",
                )
                continue
            expected.append((header.sop_class_uid, header.transfer_syntax))
        to_send.append(item)
    if not to_send:
        return
    with open_sender(destination, expected) as sender:
        yield from sender.send_many(to_send)


def echo(destination: Destination) -> EchoResult:
    """Check the connection: C-ECHO for DICOM, a one-study QIDO-RS search for DICOMweb."""
    destination = _check(destination)
    if isinstance(destination, DicomDestination):
        return dimse_echo(destination)
    return stow_echo(destination)
