"""Outcomes of delivery, as data: one :class:`SendResult` (an Outcome) per object."""

from __future__ import annotations

from dataclasses import dataclass

from ..outcome import Outcome, SendStatus

__all__ = ["EchoResult", "SendResult", "SendStatus"]

#: The delivery outcome of one object: an :class:`~dicomify.outcome.Outcome` whose
#: ``status`` is a :class:`SendStatus`. ``transfer_syntax`` is the object's own,
#: ``sent_transfer_syntax`` the one it travelled in ("" if it did not travel);
#: ``status_code`` the DIMSE (C-STORE) or HTTP (STOW-RS) status when the peer
#: answered. A warning status still counts as stored; its text is in ``message``.
SendResult = Outcome


@dataclass(frozen=True)
class EchoResult:
    """The outcome of a verification (C-ECHO, or an HTTP request for a DICOMweb server)."""

    ok: bool
    message: str
    status_code: int | None = None
