"""Outcomes of delivery, as data: one :class:`SendResult` per object."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["EchoResult", "SendResult", "SendStatus"]


class SendStatus(str, Enum):
    """What happened to one object."""

    STORED = "stored"
    #: the peer refused the object's compressed transfer syntax, so it was
    #: decoded and sent as Explicit VR Little Endian
    STORED_DECODED = "stored-decoded"
    FAILED = "failed"
    #: sent, but the server's answer did not confirm it was stored (a STOW-RS 2xx
    #: without a Store Instances Response listing it); ``--skip-sent`` sends it again
    UNCONFIRMED = "unconfirmed"
    #: not sent because an earlier run stored it (``--skip-sent``)
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SendResult:
    """The delivery outcome of one object.

    ``source`` is the file path ("" for an in-memory dataset). ``transfer_syntax``
    is the object's own, ``sent_transfer_syntax`` the one it travelled in ("" if
    it did not travel). ``status_code`` is the DIMSE status (C-STORE) or the HTTP
    status (STOW-RS) when the peer answered. A warning status still counts as
    stored; its text is in ``message``.
    """

    source: str
    status: SendStatus
    sop_instance_uid: str = ""
    sop_class_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    transfer_syntax: str = ""
    sent_transfer_syntax: str = ""
    status_code: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the peer has the object (stored, stored-decoded or skipped as already stored)."""
        return self.status not in (SendStatus.FAILED, SendStatus.UNCONFIRMED)

    def report_row(self) -> dict[str, Any]:
        """The row for :class:`dicomify.report.ReportWriter`."""
        return {
            "source": self.source,
            "status": "stored" if self.status is SendStatus.STORED_DECODED else self.status.value,
            "sop_instance_uid": self.sop_instance_uid,
            "study_instance_uid": self.study_instance_uid,
            "series_instance_uid": self.series_instance_uid,
            "sop_class_uid": self.sop_class_uid,
            "transfer_syntax": self.transfer_syntax,
            "send_status": self.status.value,
            "send_transfer_syntax": self.sent_transfer_syntax,
            "message": self.message,
        }


@dataclass(frozen=True)
class EchoResult:
    """The outcome of a verification (C-ECHO, or an HTTP request for a DICOMweb server)."""

    ok: bool
    message: str
    status_code: int | None = None
