"""Convert, then send each output as it is converted: :func:`convert_and_send`, :func:`deliver`.

This is the pipeline behind ``dicomify convert --send``, and what a server calls: the
conversions run as any batch does (workers, an executor), each output is sent in this
process as soon as it is written, over one association (or HTTP connection pool)
held for the whole run, and every outcome carries both the conversion's and the
delivery's fields.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DicomifyError
from ..outcome import Outcome, SendStatus
from ..report import delivered_objects, is_delivered
from .run import BatchRun, convert_many

if TYPE_CHECKING:
    from ..net import Destination

__all__ = ["convert_and_send", "deliver", "read_delivered"]


def read_delivered(report: str | os.PathLike[str]) -> set[tuple[str, str]]:
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
        return delivered_objects(name)
    except (ValueError, OSError) as error:
        raise DicomifyError(f"{name}: cannot read the report ({error})") from None


class _Delivery:
    """The delivery step: a sender open for the run, and what earlier runs delivered."""

    def __init__(self, destination: Destination, delivered: set[tuple[str, str]]) -> None:
        self.destination = destination
        self.delivered = delivered
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
            return outcome.with_delivery(Outcome(outcome.output, SendStatus.SKIPPED))
        return outcome.with_delivery(self.sender.send(outcome.output))


def deliver(
    run: BatchRun, destination: Destination, *, skip_sent: str | os.PathLike[str] | None = None
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
    delivered = _check(destination, skip_sent)
    return _attach(run, destination, delivered)


def _check(destination: Destination, skip_sent: str | os.PathLike[str] | None) -> set[tuple[str, str]]:
    from ..errors import NetworkError
    from ..net import DicomDestination, StowDestination

    if not isinstance(destination, (DicomDestination, StowDestination)):
        raise NetworkError(f"Cannot send to {destination!r}: give a DicomDestination or a StowDestination.")
    return read_delivered(skip_sent) if skip_sent is not None else set()


def _attach(run: BatchRun, destination: Destination, delivered: set[tuple[str, str]]) -> BatchRun:
    delivery = _Delivery(destination, delivered)
    return run.then(delivery.send, within=delivery.opened())


def convert_and_send(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    destination: Destination,
    *,
    skip_sent: str | os.PathLike[str] | None = None,
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
    destination, skip_sent
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
    delivered = _check(destination, skip_sent)  # before convert_many creates the output folder
    return _attach(convert_many(sources, output_dir, **kwargs), destination, delivered)
