"""Studies already in the PACS: Study Root C-FIND at the STUDY level (PS3.4 C.6.2.1).

:func:`find_studies` returns :class:`StudyMatch` data, so a new series can join an
existing study (``--study-in-pacs``) and the web server can list a patient's studies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pydicom import Dataset
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind  # type: ignore[attr-defined]

from ..errors import NetworkError
from ..iod.metadata import PATIENT_FIELDS, STUDY_FIELDS
from ._config import DicomDestination
from ._query import c_find
from ._worklist import checked_key, worklist_date

__all__ = ["StudyError", "StudyMatch", "find_one_study", "find_studies", "parse_study_query"]

_UID = re.compile(r"^[0-9]+(\.[0-9]+)+$")
# The C-FIND return keys: the study's patient and study fields, and two to choose by.
_RETURN_KEYS = (*PATIENT_FIELDS, *STUDY_FIELDS, "ModalitiesInStudy", "NumberOfStudyRelatedSeries")


class StudyError(NetworkError):
    """No study, or more than one, matches a ``--study-in-pacs`` query."""


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\\".join(str(part) for part in value)
    return str(value)


@dataclass(frozen=True)
class StudyMatch:
    """One study the PACS holds, as text, with the full answer in ``dataset``."""

    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    study_instance_uid: str
    study_date: str
    study_time: str
    study_id: str
    accession_number: str
    description: str
    referring_physician: str
    modalities: str
    series_count: int | None
    dataset: Dataset = field(repr=False, compare=False)

    @classmethod
    def from_answer(cls, answer: Dataset) -> StudyMatch:
        count = _text(answer, "NumberOfStudyRelatedSeries")
        return cls(
            patient_name=_text(answer, "PatientName"),
            patient_id=_text(answer, "PatientID"),
            birth_date=_text(answer, "PatientBirthDate"),
            sex=_text(answer, "PatientSex"),
            study_instance_uid=_text(answer, "StudyInstanceUID"),
            study_date=_text(answer, "StudyDate"),
            study_time=_text(answer, "StudyTime"),
            study_id=_text(answer, "StudyID"),
            accession_number=_text(answer, "AccessionNumber"),
            description=_text(answer, "StudyDescription"),
            referring_physician=_text(answer, "ReferringPhysicianName"),
            modalities=_text(answer, "ModalitiesInStudy"),
            series_count=int(count) if count.strip().isdigit() else None,
            dataset=answer,
        )

    def as_dict(self) -> dict[str, str | int | None]:
        """The text fields (for JSON); the dataset is left out."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "dataset"}


def find_studies(
    destination: DicomDestination,
    *,
    accession: str | None = None,
    study_uid: str | None = None,
    patient_id: str | None = None,
    date: str | dt.date | None = None,
) -> list[StudyMatch]:
    """The studies at ``destination`` matching every given key.

    Parameters
    ----------
    destination : DicomDestination
        The PACS (its Query/Retrieve SCP).
    accession, study_uid, patient_id : str, optional
        Accession Number, Study Instance UID, Patient ID.
    date : str or datetime.date, optional
        Study Date: ``today``, ``YYYYMMDD``, ``YYYY-MM-DD`` or ``YYYYMMDD-YYYYMMDD``.

    Returns
    -------
    list of StudyMatch

    Raises
    ------
    QueryError
        The PACS cannot be reached, rejects us or answers a failure.
    NetworkError
        No key was given, or a key is not valid for its attribute.
    """
    if not any((accession, study_uid, patient_id, date)):
        raise NetworkError("A study query needs an accession number, a study UID, or a patient ID (and date).")
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.SpecificCharacterSet = "" if all((v or "").isascii() for v in (accession, patient_id)) else "ISO_IR 192"
    for keyword in _RETURN_KEYS:
        setattr(identifier, keyword, "")
    identifier.AccessionNumber = checked_key("AccessionNumber", accession or "")
    identifier.StudyInstanceUID = checked_key("StudyInstanceUID", study_uid or "")
    identifier.PatientID = checked_key("PatientID", patient_id or "")
    identifier.StudyDate = "" if date is None else worklist_date(date)
    answers = c_find(destination, StudyRootQueryRetrieveInformationModelFind, identifier, "study query")
    return [StudyMatch.from_answer(answer) for answer in answers]


def parse_study_query(query: str) -> dict[str, str]:
    """``--study-in-pacs`` text as :func:`find_studies` keywords.

    ``1.2.840...`` (a UID) or ``study=UID``; ``accession=A1`` or a bare accession
    number; ``patient=ID,date=YYYYMMDD`` (a patient's studies of that day).
    """
    text = query.strip()
    if "=" not in text:
        return {"study_uid": text} if _UID.match(text) else {"accession": text}
    names = {
        "study": "study_uid",
        "uid": "study_uid",
        "accession": "accession",
        "patient": "patient_id",
        "date": "date",
    }
    keys: dict[str, str] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name not in names or not value.strip():
            raise StudyError(
                f"The study query {query!r} is not valid: use ACCESSION, STUDY_UID, accession=..., study=UID "
                "or patient=ID,date=YYYYMMDD."
            )
        keys[names[name]] = value.strip()
    return keys


def find_one_study(destination: DicomDestination, query: str) -> StudyMatch:
    """The one study ``query`` (see :func:`parse_study_query`) names at ``destination``.

    Raises
    ------
    StudyError
        The query is not valid, or no study or several match (the message lists them).
    QueryError
        The PACS cannot be queried.
    """
    keys = parse_study_query(query)
    matches = find_studies(destination, **keys)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise StudyError(f"No study matches {query!r} at {destination}.")
    listed = "; ".join(
        f"{match.study_instance_uid} ({match.patient_name}, {match.patient_id}, {match.study_date or '?'}"
        f"{', accession ' + match.accession_number if match.accession_number else ''})"
        for match in matches[:10]
    )
    more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
    raise StudyError(f"{len(matches)} studies match {query!r} at {destination}: {listed}{more}.")
