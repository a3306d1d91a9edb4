"""One record of what happened to one object: converted, sent, or both.

Batch conversion (:mod:`dicomify.batch`), delivery (:mod:`dicomify.net`) and the
report (:mod:`dicomify.report`) share :class:`Outcome`, and an object's UIDs are
read from its dataset in one place (:func:`uids_of`). Statuses are ``str`` Enums,
so they compare equal to the words the report holds (``"converted"``, ``"stored"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = ["ConvertStatus", "Outcome", "SendStatus", "Uids", "uids_in_file", "uids_of"]


class ConvertStatus(str, Enum):
    """What happened to one input of a conversion."""

    CONVERTED = "converted"
    FAILED = "failed"
    #: the output already existed and was left alone (``skip_existing``)
    SKIPPED = "skipped"


class SendStatus(str, Enum):
    """What happened to one object sent to a PACS."""

    STORED = "stored"
    #: the peer refused the object's compressed transfer syntax, so it was
    #: decoded and sent as Explicit VR Little Endian
    STORED_DECODED = "stored-decoded"
    FAILED = "failed"
    #: sent, but the server's answer did not confirm it was stored (a STOW-RS 2xx
    #: without a Store Instances Response listing it); ``skip_sent`` sends it again
    UNCONFIRMED = "unconfirmed"
    #: not sent because an earlier run stored it (``skip_sent``)
    SKIPPED = "skipped"
    #: stored, and the archive committed to keep it (Storage Commitment, PS3.4 J)
    COMMITTED = "committed"
    #: stored, but storage commitment was asked for and the archive did not commit
    #: (it refused, or did not answer in time): ``skip_sent`` sends it again
    UNCOMMITTED = "uncommitted"

    @property
    def delivered(self) -> bool:
        """True when the peer has the object (a later run need not send it again)."""
        return self not in (SendStatus.FAILED, SendStatus.UNCONFIRMED, SendStatus.UNCOMMITTED)


class Uids(TypedDict):
    """The :class:`Outcome` fields that name the object, as :func:`uids_of` returns them."""

    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    transfer_syntax: str


UID_FIELDS = tuple(Uids.__annotations__)


def uids_of(dataset: Dataset) -> Uids:
    """The object's UIDs and transfer syntax, keyed by :class:`Outcome` field ("" when absent)."""
    meta = getattr(dataset, "file_meta", None)
    return {
        "sop_instance_uid": str(dataset.get("SOPInstanceUID", "")),
        "study_instance_uid": str(dataset.get("StudyInstanceUID", "")),
        "series_instance_uid": str(dataset.get("SeriesInstanceUID", "")),
        "sop_class_uid": str(dataset.get("SOPClassUID", "")),
        "transfer_syntax": str(meta.get("TransferSyntaxUID", "")) if meta is not None else "",
    }


def uids_in_file(path: str) -> Uids:
    """:func:`uids_of` a DICOM file, read without its pixel data.

    Raises
    ------
    Exception
        Whatever pydicom raises for a file that is missing or not DICOM.
    """
    import pydicom

    return uids_of(pydicom.dcmread(path, stop_before_pixels=True))


@dataclass(frozen=True)
class Outcome:
    """What happened to one object; one :mod:`report <dicomify.report>` row.

    Parameters
    ----------
    source
        The input path: a picture for a conversion, a DICOM file for a send ("" for
        an in-memory dataset).
    status
        The outcome of the step the record is about: a :class:`ConvertStatus` for a
        conversion (also when it was then sent), a :class:`SendStatus` for a send.
    output
        The DICOM file written ("" when nothing was converted).
    sop_instance_uid, study_instance_uid, series_instance_uid, sop_class_uid, transfer_syntax
        The object's, from the written, existing or sent file (see :func:`uids_of`).
    send_status
        The delivery outcome; None when the object was not sent. For a send it is
        ``status`` itself.
    sent_transfer_syntax
        The transfer syntax the object travelled in ("" when it did not travel).
    status_code
        The DIMSE status (C-STORE) or HTTP status (STOW-RS) when the peer answered.
    message
        Why it failed, or what was noted along the way (a reader's note, a warning).
    """

    source: str
    status: ConvertStatus | SendStatus
    output: str = ""
    sop_instance_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_class_uid: str = ""
    transfer_syntax: str = ""
    send_status: SendStatus | None = None
    sent_transfer_syntax: str = ""
    status_code: int | None = None
    message: str = ""
    # A source that made several objects (pages of different sizes): the further files,
    # delivered with the first; and the (SOP Class, SOP Instance) UIDs of those delivered.
    more_outputs: tuple[str, ...] = ()
    more_delivered: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Accept the report's words too ("converted", "stored"), as dataclasses.replace callers do.
        status = self.status
        if not isinstance(status, (ConvertStatus, SendStatus)):
            status = ConvertStatus(status)
            object.__setattr__(self, "status", status)
        send = self.send_status
        if send is None and isinstance(status, SendStatus):
            object.__setattr__(self, "send_status", status)
        elif send is not None and not isinstance(send, SendStatus):
            object.__setattr__(self, "send_status", SendStatus(send) if send else None)

    @property
    def ok(self) -> bool:
        """True unless the conversion or the delivery failed."""
        send_ok = self.send_status is None or self.send_status.delivered
        return self.status.value not in ("failed", "unconfirmed", "uncommitted") and send_ok

    @property
    def delivered(self) -> bool:
        """True when the object was sent, or an earlier run had sent it."""
        return self.send_status is not None and self.send_status.delivered

    @property
    def sent_file(self) -> str:
        """The DICOM file the delivery step sends: the output of a conversion, else the source."""
        return self.output or self.source

    def with_delivery(self, sent: Outcome) -> Outcome:
        """This conversion's outcome with the delivery outcome ``sent`` of its output added."""
        message = "; ".join(text for text in (self.message, sent.message) if text)
        return dataclasses.replace(
            self,
            send_status=sent.send_status,
            sent_transfer_syntax=sent.sent_transfer_syntax,
            status_code=sent.status_code,
            message=message,
        )

    def report_row(self) -> dict[str, str]:
        """The row :class:`dicomify.report.ReportWriter` writes (columns as ``REPORT_COLUMNS``)."""
        status = self.status
        # A send report's status column says stored whatever the transfer syntax it took.
        shown = SendStatus.STORED if status is SendStatus.STORED_DECODED else status
        return {
            "source": self.source,
            "output": self.output,
            "status": shown.value,
            "sop_instance_uid": self.sop_instance_uid,
            "study_instance_uid": self.study_instance_uid,
            "series_instance_uid": self.series_instance_uid,
            "sop_class_uid": self.sop_class_uid,
            "transfer_syntax": self.transfer_syntax,
            "send_status": self.send_status.value if self.send_status is not None else "",
            "send_transfer_syntax": self.sent_transfer_syntax,
            "message": self.message,
        }

    #: the name this method had on batch results
    as_row = report_row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Outcome:
        """The outcome a report row records (rows of older versions too).

        Raises
        ------
        ValueError
            When the row's status or send status is not a known word.
        """
        text = str(row.get("status") or "")
        send = str(row.get("send_status") or "")
        status: ConvertStatus | SendStatus
        if row.get("output") or text == ConvertStatus.CONVERTED.value or not send:
            status = ConvertStatus(text)
        else:  # a `send` report: the status column is the delivery's
            status = SendStatus(send)
        return cls(
            source=str(row.get("source") or ""),
            status=status,
            output=str(row.get("output") or ""),
            send_status=SendStatus(send) if send else None,
            sent_transfer_syntax=str(row.get("send_transfer_syntax") or ""),
            message=str(row.get("message") or ""),
            sop_instance_uid=str(row.get("sop_instance_uid") or ""),
            study_instance_uid=str(row.get("study_instance_uid") or ""),
            series_instance_uid=str(row.get("series_instance_uid") or ""),
            sop_class_uid=str(row.get("sop_class_uid") or ""),
            transfer_syntax=str(row.get("transfer_syntax") or ""),
        )
