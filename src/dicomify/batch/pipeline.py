"""Convert, then send each output as it is converted: :func:`convert_and_send`, :func:`deliver`.

This is the pipeline behind ``dicomify convert --send``, and what a server calls: the
conversions run as any batch does (workers, an executor), each output is sent in this
process as soon as it is written, over one association (or HTTP connection pool)
held for the whole run, and every outcome carries both the conversion's and the
delivery's fields.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DicomifyError
from ..outcome import Outcome, SendStatus
from ..report import delivered_objects, is_delivered
from .run import BatchRun, convert_many

if TYPE_CHECKING:
    from ..net import CommitOptions, Destination

__all__ = ["convert_and_send", "deliver", "read_delivered"]


def read_delivered(report: str | os.PathLike[str], committed_only: bool = False) -> set[tuple[str, str]]:
    """The objects an earlier report says were delivered (:func:`dicomify.report.delivered_objects`).

    Raises
    ------
    DicomifyError
        When the report does not exist or cannot be read.
    """
    name = os.fspath(report)
    if not os.path.isfile(name):
        raise DicomifyError(f"{name}: no such report to skip sent files from")
    try:
        return delivered_objects(name, committed_only)
    except (ValueError, OSError) as error:
        raise DicomifyError(f"{name}: cannot read the report ({error})") from None


class _Delivery:
    """The delivery step: a sender open for the run, and what earlier runs delivered."""

    def __init__(self, destination: Destination, delivered: set[tuple[str, str]], committing: bool = False) -> None:
        self.destination = destination
        self.delivered = delivered
        self.committing = committing
        self.sender: Any = None

    @contextlib.contextmanager
    def opened(self) -> Iterator[None]:
        from ..net import open_sender

        with open_sender(self.destination) as sender:
            self.sender = sender
            try:
                yield
            finally:
                self.sender = None

    def send(self, outcome: Outcome) -> Outcome:
        if is_delivered(self.delivered, outcome.output, outcome.sop_instance_uid):
            # With storage commitment only committed objects were skipped: they stay committed.
            status = SendStatus.COMMITTED if self.committing else SendStatus.SKIPPED
            return outcome.with_delivery(Outcome(outcome.output, status))
        result = outcome.with_delivery(self.sender.send(outcome.output))
        if not outcome.more_outputs or not result.delivered:
            return result
        # The further objects of the same source go too: delivered means all of them.
        delivered = []
        for path in outcome.more_outputs:
            sent = self.sender.send(path)
            if not sent.delivered:
                message = "; ".join(text for text in (result.message, f"{path}: {sent.message}") if text)
                return dataclasses.replace(result, send_status=sent.send_status, message=message)
            delivered.append((sent.sop_class_uid, sent.sop_instance_uid))
        return dataclasses.replace(result, more_delivered=tuple(delivered))


def deliver(
    run: BatchRun,
    destination: Destination,
    *,
    skip_sent: str | os.PathLike[str] | None = None,
    commit: CommitOptions | None = None,
) -> BatchRun:
    """Send every output of ``run`` to ``destination`` as it is converted (or kept).

    Parameters
    ----------
    run
        A batch from :func:`convert_many` or :func:`convert_file`, not started yet.
    destination
        A :class:`~dicomify.net.DicomDestination` (C-STORE) or
        :class:`~dicomify.net.StowDestination` (STOW-RS).
    skip_sent
        A report of an earlier run, read now (so it may be the file this run's report
        will overwrite): outputs it says were delivered are not sent again; their
        ``send_status`` is ``skipped``.
    commit
        Ask for storage commitment (C-STORE only) once every output is sent; the
        outcomes then come at the end, ``committed`` or ``uncommitted``, and
        ``skip_sent`` skips only outputs an earlier run saw committed.

    Returns
    -------
    BatchRun
        ``run``, whose outcomes now carry ``send_status`` (``failed`` when the peer
        did not take the object: ``Tally.not_sent`` counts those).

    Raises
    ------
    DicomifyError
        When ``skip_sent`` cannot be read.
    NetworkError
        When ``destination`` is not a destination.
    """
    delivered = _check(destination, skip_sent, commit)
    return _attach(run, destination, delivered, commit)


def _check(
    destination: Destination, skip_sent: str | os.PathLike[str] | None, commit: CommitOptions | None = None
) -> set[tuple[str, str]]:
    from ..errors import NetworkError
    from ..net import DicomDestination, StowDestination

    if not isinstance(destination, (DicomDestination, StowDestination)):
        raise NetworkError(f"Cannot send to {destination!r}: give a DicomDestination or a StowDestination.")
    if commit is not None and not isinstance(destination, DicomDestination):
        raise NetworkError("Storage commitment needs a DICOM destination (--host), not STOW-RS.")
    return read_delivered(skip_sent, commit is not None) if skip_sent is not None else set()


def _attach(
    run: BatchRun, destination: Destination, delivered: set[tuple[str, str]], commit: CommitOptions | None = None
) -> BatchRun:
    delivery = _Delivery(destination, delivered, committing=commit is not None)
    run = run.then(delivery.send, within=delivery.opened())
    if commit is not None:
        from ..net import DicomDestination
        from ..net._commit import commit_outcomes

        assert isinstance(destination, DicomDestination)  # _check refused STOW-RS
        archive, options = destination, commit
        run = run.finally_(lambda outcomes: commit_outcomes(archive, outcomes, options))
    return run


def convert_and_send(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    destination: Destination,
    *,
    skip_sent: str | os.PathLike[str] | None = None,
    commit: CommitOptions | None = None,
    **kwargs: Any,
) -> BatchRun:
    """:func:`convert_many` into ``output_dir``, each output sent to ``destination`` as it is written.

    >>> run = convert_and_send(["photos/"], "out/", DicomDestination("pacs", 104))  # doctest: +SKIP
    >>> for outcome in run:  # doctest: +SKIP
    ...     print(outcome.source, outcome.status.value, outcome.send_status)

    Parameters
    ----------
    sources, output_dir
        As for :func:`convert_many`.
    destination, skip_sent, commit
        As for :func:`deliver`.
    **kwargs
        Everything else :func:`convert_many` takes (options, metadata, jobs, executor ...).

    Returns
    -------
    BatchRun
        Iterate it to run the batch; the connection is closed when it ends.

    Raises
    ------
    DicomifyError
        As :func:`convert_many` and :func:`deliver` do, before anything is written.
    """
    delivered = _check(destination, skip_sent, commit)  # before convert_many creates the output folder
    return _attach(convert_many(sources, output_dir, **kwargs), destination, delivered, commit)
