"""Storage Commitment Push Model (PS3.4 Annex J): has the archive taken charge of what we sent?

We ask with an N-ACTION (Request Storage Commitment, Action Type ID 1) listing the
instances; the archive answers later with an N-EVENT-REPORT listing the committed
ones (Referenced SOP Sequence) and the others (Failed SOP Sequence, with a Failure
Reason). The report comes on the same association if we keep it open, or on an
association the archive opens back to us (``port``: we listen there under our
calling AE title, which the archive must know as a modality).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydicom import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid
from pynetdicom import AE, build_context, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StorageCommitmentPushModel,
    StorageCommitmentPushModelInstance,
)

from ..errors import NetworkError
from ..outcome import Outcome, SendStatus
from ._assoc import Deadline, associate, finish, make_ae, watchdog
from ._config import CommitOptions, DicomDestination

__all__ = ["Commitment", "commit_outcomes", "request_commitment"]

_REQUEST_COMMITMENT = 1  # Action Type ID, PS3.4 J.3.2.1
_GRACE = 2.0  # seconds to let our answer to the report reach the archive before we stop listening


@dataclass(frozen=True)
class Commitment:
    """The archive's word on one instance: ``committed``, or why not in ``message``."""

    sop_instance_uid: str
    committed: bool
    message: str = ""


class _Reports:
    """N-EVENT-REPORTs of one transaction, from whichever association they arrive on."""

    def __init__(self, transaction: str) -> None:
        self.transaction = transaction
        self.committed: set[str] = set()
        self.failed: dict[str, str] = {}
        self.arrived = threading.Event()
        self.answered = threading.Event()

    def on_report(self, event: Any) -> tuple[int, None]:
        """The N-EVENT-REPORT handler: (status, no Event Reply) for pynetdicom."""
        info = event.event_information
        if info is None or str(info.get("TransactionUID", "")) != self.transaction:
            return 0x0000, None  # another transaction's report: acknowledged, not ours
        for item in info.get("ReferencedSOPSequence") or []:
            self.committed.add(str(item.get("ReferencedSOPInstanceUID", "")))
        for item in info.get("FailedSOPSequence") or []:
            self.failed[str(item.get("ReferencedSOPInstanceUID", ""))] = _reason(item)
        self.arrived.set()
        return 0x0000, None

    def on_released(self, event: Any) -> None:
        if self.arrived.is_set():
            self.answered.set()


def _reason(item: Dataset) -> str:
    """The Failure Reason of PS3.4 J.3.2.1.1.1, in words."""
    words = {
        0x0110: "processing failure",
        0x0112: "no such object instance",
        0x0119: "class-instance conflict",
        0x0131: "duplicate transaction UID",
        0x0122: "SOP class not supported",
        0xA770: "resource limitation",
    }
    try:
        code = int(item.get("FailureReason"))
    except (TypeError, ValueError):
        return "no failure reason given"
    return f"failure reason 0x{code:04X}" + (f", {words[code]}" if code in words else "")


def _listener(destination: DicomDestination, port: int, reports: _Reports) -> Any:
    ae = AE(ae_title=destination.calling_aet)
    # The archive opens the association as the Storage Commitment SCP (SCP/SCU role
    # selection, PS3.4 J.3.3): accept whichever roles it proposes.
    ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    ae.require_called_aet = True
    ae.network_timeout = destination.timeout
    ae.acse_timeout = destination.timeout
    handlers: list[Any] = [(evt.EVT_N_EVENT_REPORT, reports.on_report), (evt.EVT_RELEASED, reports.on_released)]
    try:
        return ae.start_server(("", port), block=False, evt_handlers=handlers)
    except OSError as error:
        raise NetworkError(
            f"Cannot listen for the storage commitment report on port {port}: {error.strerror}."
        ) from None


def request_commitment(
    destination: DicomDestination,
    instances: Iterable[tuple[str, str]],
    *,
    port: int | None = None,
    wait: float = 60.0,
) -> dict[str, Commitment]:
    """Ask ``destination`` to commit ``instances`` ((SOP Class UID, SOP Instance UID) pairs).

    Parameters
    ----------
    destination : DicomDestination
        The archive (its Storage Commitment SCP, usually the Storage SCP's AE).
    instances : iterable of (str, str)
        What was stored: SOP Class UID and SOP Instance UID of each.
    port : int, optional
        Listen on this port (under ``destination.calling_aet``) for the archive's
        report on an association it opens; without it we keep our association open
        and wait for the report there.
    wait : float
        Seconds to wait for the report after the archive accepted the request.

    Returns
    -------
    dict
        SOP Instance UID to :class:`Commitment`, one per instance: committed, failed
        with the archive's reason, or not answered within ``wait``.

    Raises
    ------
    NetworkError
        ``port`` cannot be listened on.
    """
    pairs = list(dict.fromkeys(instances))
    if not pairs:
        return {}
    reports = _Reports(generate_uid())
    server = _listener(destination, port, reports) if port is not None else None
    try:
        problem = _ask(destination, pairs, reports, keep_open=port is None, wait=wait)
        if not problem:
            if not reports.arrived.wait(wait):
                problem = f"no storage commitment report within {wait:g} s"
            elif server is not None:
                reports.answered.wait(_GRACE)  # let our N-EVENT-REPORT response go out
    finally:
        if server is not None:
            server.shutdown()
    results = {}
    for _, uid in pairs:
        if uid in reports.committed:
            results[uid] = Commitment(uid, True)
        elif uid in reports.failed:
            results[uid] = Commitment(uid, False, f"Not committed: the archive refused ({reports.failed[uid]}).")
        elif problem:
            results[uid] = Commitment(uid, False, f"Not committed: {problem} at {destination}.")
        else:
            results[uid] = Commitment(uid, False, "Not committed: the archive's report does not list it.")
    return results


def _ask(
    destination: DicomDestination, pairs: list[tuple[str, str]], reports: _Reports, keep_open: bool, wait: float
) -> str:
    """Send the N-ACTION; with ``keep_open`` also wait for the report on this association. "" or why not."""
    action = Dataset()
    action.TransactionUID = reports.transaction
    items = []
    for sop_class, sop_instance in pairs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    action.ReferencedSOPSequence = Sequence(items)
    ae = make_ae(destination)
    ae.network_timeout = destination.timeout + wait  # idle while the archive works on the report
    deadline = Deadline(destination.timeout)
    handlers = [(evt.EVT_N_EVENT_REPORT, reports.on_report)]
    assoc, problem = associate(ae, destination, [build_context(StorageCommitmentPushModel)], deadline, handlers)
    if problem:
        if "accepted none" in problem:
            problem = "the archive does not offer storage commitment"
        return problem
    try:
        with watchdog(deadline, assoc=assoc):
            status, _ = assoc.send_n_action(
                action, _REQUEST_COMMITMENT, StorageCommitmentPushModel, StorageCommitmentPushModelInstance
            )
        if "Status" not in status:
            if deadline.expired:
                return f"no answer to the storage commitment request within {destination.timeout:g} s"
            return (
                "the archive dropped the association instead of answering the storage commitment request"
                f" (does it know our AE title {destination.calling_aet}?)"
            )
        code = int(status.Status)
        if code != 0x0000:
            comment = str(status.get("ErrorComment", "") or "")
            return f"the archive refused the storage commitment request (status 0x{code:04X}{': ' + comment if comment else ''})"
        if keep_open:
            end = time.monotonic() + wait
            while not reports.arrived.is_set() and assoc.is_established and time.monotonic() < end:
                reports.arrived.wait(0.05)
            if not reports.arrived.is_set():
                if not assoc.is_established:
                    return "the archive closed the association without a storage commitment report"
                return f"no storage commitment report within {wait:g} s"
        return ""
    finally:
        if assoc.is_established:
            assoc.release()
        finish(assoc, destination.timeout)


def commit_outcomes(destination: DicomDestination, outcomes: list[Outcome], options: CommitOptions) -> list[Outcome]:
    """``outcomes`` with every stored object's delivery ``committed`` or ``uncommitted`` (and why).

    The others (failed, skipped ...) come back unchanged; a send outcome's ``status``
    follows its ``send_status``.
    """
    stored = [
        outcome
        for outcome in outcomes
        if outcome.send_status in (SendStatus.STORED, SendStatus.STORED_DECODED) and outcome.sop_instance_uid
    ]
    references = [(outcome.sop_class_uid, outcome.sop_instance_uid) for outcome in stored]
    # A source that made several objects: each of them must be committed.
    references += [part for outcome in stored for part in outcome.more_delivered]
    answers = request_commitment(destination, references, port=options.port, wait=options.wait)
    asked = {id(outcome) for outcome in stored}
    updated = []
    for outcome in outcomes:
        answer = answers.get(outcome.sop_instance_uid) if id(outcome) in asked else None
        if answer is None:
            updated.append(outcome)
            continue
        for _, part_uid in outcome.more_delivered:  # every object of the source, or none
            part = answers.get(part_uid) or Commitment(part_uid, False, f"{part_uid}: no commitment answer")
            if not part.committed:
                answer = part
                break
        status = SendStatus.COMMITTED if answer.committed else SendStatus.UNCOMMITTED
        message = "; ".join(text for text in (outcome.message, answer.message) if text)
        changes: dict[str, Any] = {"send_status": status, "message": message}
        if isinstance(outcome.status, SendStatus):
            changes["status"] = status
        updated.append(dataclasses.replace(outcome, **changes))
    return updated
