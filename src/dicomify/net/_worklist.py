"""Modality Worklist (PS3.4 K.6.1): the scheduled procedures an order system gives a modality.

:func:`find_worklist` queries a worklist SCP and returns one :class:`WorklistItem` per
Scheduled Procedure Step; :func:`find_order` finds the one step of an accession
number. Both are plain functions returning data, for the CLI and the web server alike.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydicom import Dataset, config
from pydicom.datadict import dictionary_VR
from pydicom.sequence import Sequence
from pydicom.valuerep import validate_value
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from ..errors import NetworkError
from ._config import DicomDestination
from ._query import c_find

__all__ = ["OrderError", "WorklistItem", "find_order", "find_worklist", "worklist_date"]

_DATE = re.compile(r"^\d{8}$")

# Return keys (PS3.4 Table K.6-1): patient, visit, imaging service request, requested
# procedure, and the scheduled procedure step's own attributes (in its sequence).
_PATIENT_KEYS = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex")
_REQUEST_KEYS = (
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyInstanceUID",
    "RequestedProcedureID",
    "RequestedProcedureDescription",
)
_REQUEST_SEQUENCES = (
    "OtherPatientIDsSequence",
    "IssuerOfAccessionNumberSequence",
    "ReferencedStudySequence",
    "RequestedProcedureCodeSequence",
)
_STEP_KEYS = (
    "Modality",
    "ScheduledStationAETitle",
    "ScheduledStationName",
    "ScheduledProcedureStepLocation",
    "ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepStartTime",
    "ScheduledPerformingPhysicianName",
    "ScheduledProcedureStepDescription",
    "ScheduledProcedureStepID",
)


class OrderError(NetworkError):
    """No scheduled procedure, or more than one, matches an order (accession number)."""


def worklist_date(value: str | dt.date) -> str:
    """A DICOM date or date range from ``today``, ``YYYYMMDD``, ``YYYY-MM-DD`` or ``FROM-TO``.

    Raises :class:`NetworkError` naming the value when it is none of these.
    """
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    text = value.strip().lower()
    if text == "today":
        return dt.date.today().strftime("%Y%m%d")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text = text.replace("-", "")
    ends = text.split("-")
    if 1 <= len(ends) <= 2 and any(ends) and all(_DATE.match(end) or (end == "" and len(ends) == 2) for end in ends):
        try:
            for end in filter(None, ends):
                dt.datetime.strptime(end, "%Y%m%d")
            return text
        except ValueError:
            pass
    raise NetworkError(
        f"The date {value!r} is not valid: use today, YYYYMMDD, YYYY-MM-DD or a range YYYYMMDD-YYYYMMDD."
    )


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class WorklistItem:
    """One Scheduled Procedure Step of the worklist, as text, with the full answer in ``dataset``.

    ``dataset`` is the peer's answer for this step (its other steps removed), decoded:
    its text values are Python strings whatever the character set the peer used.
    """

    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    accession_number: str
    requested_procedure_id: str
    requested_procedure: str
    study_instance_uid: str
    referring_physician: str
    step_id: str
    step_description: str
    modality: str
    station_aet: str
    start_date: str
    start_time: str
    dataset: Dataset = field(repr=False, compare=False)

    @classmethod
    def from_answer(cls, answer: Dataset, step: Dataset) -> WorklistItem:
        dataset = Dataset()
        for element in answer:
            if element.keyword != "ScheduledProcedureStepSequence":
                dataset.add(element)
        dataset.ScheduledProcedureStepSequence = Sequence([step])
        return cls(
            patient_name=_text(answer, "PatientName"),
            patient_id=_text(answer, "PatientID"),
            birth_date=_text(answer, "PatientBirthDate"),
            sex=_text(answer, "PatientSex"),
            accession_number=_text(answer, "AccessionNumber"),
            requested_procedure_id=_text(answer, "RequestedProcedureID"),
            requested_procedure=_text(answer, "RequestedProcedureDescription"),
            study_instance_uid=_text(answer, "StudyInstanceUID"),
            referring_physician=_text(answer, "ReferringPhysicianName"),
            step_id=_text(step, "ScheduledProcedureStepID"),
            step_description=_text(step, "ScheduledProcedureStepDescription"),
            modality=_text(step, "Modality"),
            station_aet=_text(step, "ScheduledStationAETitle"),
            start_date=_text(step, "ScheduledProcedureStepStartDate"),
            start_time=_text(step, "ScheduledProcedureStepStartTime"),
            dataset=dataset,
        )

    def as_dict(self) -> dict[str, str]:
        """The text fields (for JSON); the dataset is left out."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "dataset"}


def checked_key(keyword: str, value: str) -> str:
    """``value`` if it fits the attribute's VR (length, characters), else a NetworkError naming it."""
    try:
        validate_value(dictionary_VR(keyword), value, config.RAISE)
    except ValueError as error:
        reason = str(error).split(" Please see")[0]
        raise NetworkError(f"The {keyword} filter {value!r} is not valid: {reason}") from None
    return value


def _identifier(
    date: str | dt.date | None,
    modality: str | None,
    station_aet: str | None,
    patient_id: str | None,
    patient_name: str | None,
    accession: str | None,
) -> Dataset:
    identifier = Dataset()
    texts = [value for value in (patient_name, patient_id, accession) if value]
    # A return key, so every answer says its character set (wlmscpfs omits it otherwise);
    # a non-ASCII key travels as UTF-8 (PS3.5 6.1.2.5.3).
    identifier.SpecificCharacterSet = "ISO_IR 192" if any(not text.isascii() for text in texts) else ""
    for keyword in _PATIENT_KEYS + _REQUEST_KEYS:
        setattr(identifier, keyword, "")
    for keyword in _REQUEST_SEQUENCES:
        setattr(identifier, keyword, Sequence())  # universal matching: return the whole sequence
    for keyword, value in (("PatientName", patient_name), ("PatientID", patient_id), ("AccessionNumber", accession)):
        setattr(identifier, keyword, checked_key(keyword, value or ""))
    step = Dataset()
    for keyword in _STEP_KEYS:
        setattr(step, keyword, "")
    step.ScheduledProtocolCodeSequence = Sequence()
    step.Modality = (modality or "").upper()
    step.Modality = checked_key("Modality", step.Modality)
    step.ScheduledStationAETitle = checked_key("ScheduledStationAETitle", station_aet or "")
    step.ScheduledProcedureStepStartDate = "" if date is None else worklist_date(date)
    identifier.ScheduledProcedureStepSequence = Sequence([step])
    return identifier


def find_worklist(
    destination: DicomDestination,
    *,
    date: str | dt.date | None = None,
    modality: str | None = None,
    station_aet: str | None = None,
    patient_id: str | None = None,
    patient_name: str | None = None,
    accession: str | None = None,
) -> list[WorklistItem]:
    """The scheduled procedure steps matching the filters, one item per step.

    Parameters
    ----------
    destination : DicomDestination
        The worklist SCP (host, port, its AE title, ours, timeout, TLS).
    date : str or datetime.date, optional
        ``today``, ``YYYYMMDD``, ``YYYY-MM-DD`` or a range ``YYYYMMDD-YYYYMMDD``
        (Scheduled Procedure Step Start Date).
    modality, station_aet : str, optional
        The step's Modality and Scheduled Station AE Title.
    patient_id, accession : str, optional
        Patient ID and Accession Number (exact; ``*`` and ``?`` are wildcards).
    patient_name : str, optional
        Patient's Name, with ``*`` and ``?`` wildcards (``DOE^*``).

    Returns
    -------
    list of WorklistItem
        In the order the peer answered; a request with several steps gives several items.

    Raises
    ------
    QueryError
        The peer cannot be reached, rejects the association or answers a failure.
    NetworkError
        A filter is not valid (a date that is not a date).
    """
    identifier = _identifier(date, modality, station_aet, patient_id, patient_name, accession)
    answers = c_find(destination, ModalityWorklistInformationFind, identifier, "worklist query")
    items: list[WorklistItem] = []
    for answer in answers:
        steps = answer.get("ScheduledProcedureStepSequence") or [Dataset()]
        items.extend(WorklistItem.from_answer(answer, step) for step in steps)
    return items


def find_order(destination: DicomDestination, accession: str, **filters: Any) -> WorklistItem:
    """The one scheduled procedure step of ``accession``.

    Raises
    ------
    OrderError
        No step has this accession number, or several do (the message lists them).
    QueryError
        The worklist cannot be queried.
    """
    if not accession or any(char in accession for char in "*?\\"):
        raise OrderError(f"The order {accession!r} is not an accession number (no wildcards).")
    items = find_worklist(destination, accession=accession, **filters)
    items = [item for item in items if item.accession_number == accession]  # a server may ignore the key
    if len(items) == 1:
        return items[0]
    if not items:
        raise OrderError(
            f"No scheduled procedure with accession number {accession!r} in the worklist at {destination}."
        )
    listed = "; ".join(
        f"{item.patient_name} ({item.patient_id}), step {item.step_id or '?'} {item.step_description}".strip()
        + f" on {item.start_date or '?'}"
        for item in items
    )
    raise OrderError(f"{len(items)} scheduled procedures have accession number {accession!r}: {listed}.")
