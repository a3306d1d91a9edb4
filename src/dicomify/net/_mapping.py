"""Metadata for a new object from an order or from a study the PACS already holds.

:func:`order_metadata` follows IHE RAD TF-2 Appendix A, Table A.1-1 (Scheduled Workflow:
which worklist attribute goes where in the image); :func:`study_metadata` copies the
patient and study of an existing study so a new series joins it. Both return the
metadata mapping ``dicomify.convert`` takes (DICOM keywords), already validated.
"""

from __future__ import annotations

from typing import Any

from pydicom import Dataset

from ..iod.metadata import PATIENT_FIELDS, STUDY_FIELDS, Metadata, validate
from ._study import StudyMatch
from ._worklist import WorklistItem

__all__ = ["ORDER_ATTRIBUTES", "order_metadata", "study_metadata"]

# Table A.1-1: (attribute of the image, where its value comes from in the worklist answer).
# "step." is the Scheduled Procedure Step's sequence item; a tuple builds a sequence item.
ORDER_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    # Patient module
    ("PatientName", "PatientName"),
    ("PatientID", "PatientID"),
    ("IssuerOfPatientID", "IssuerOfPatientID"),
    ("OtherPatientIDsSequence", "OtherPatientIDsSequence"),
    ("PatientBirthDate", "PatientBirthDate"),
    ("PatientSex", "PatientSex"),
    # General Study module
    ("StudyInstanceUID", "StudyInstanceUID"),
    ("AccessionNumber", "AccessionNumber"),
    ("IssuerOfAccessionNumberSequence", "IssuerOfAccessionNumberSequence"),
    ("ReferringPhysicianName", "ReferringPhysicianName"),
    ("ReferencedStudySequence", "ReferencedStudySequence"),
    ("StudyID", "RequestedProcedureID"),  # Table A.1-1 recommends the Requested Procedure ID
    ("StudyDescription", "RequestedProcedureDescription"),
    ("ProcedureCodeSequence", "RequestedProcedureCodeSequence"),
    # General Series module
    ("PerformedProtocolCodeSequence", "step.ScheduledProtocolCodeSequence"),
)
# Request Attributes Sequence (0040,0275), one item (PS3.3 Table 10-9): the request and the step.
REQUEST_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("RequestedProcedureID", "RequestedProcedureID"),
    ("AccessionNumber", "AccessionNumber"),
    ("IssuerOfAccessionNumberSequence", "IssuerOfAccessionNumberSequence"),
    ("StudyInstanceUID", "StudyInstanceUID"),
    ("RequestedProcedureDescription", "RequestedProcedureDescription"),
    ("RequestedProcedureCodeSequence", "RequestedProcedureCodeSequence"),
    ("ScheduledProcedureStepID", "step.ScheduledProcedureStepID"),
    ("ScheduledProcedureStepDescription", "step.ScheduledProcedureStepDescription"),
    ("ScheduledProtocolCodeSequence", "step.ScheduledProtocolCodeSequence"),
)
# What a study already in the PACS gives the new series: its patient and study fields.
STUDY_ATTRIBUTES = PATIENT_FIELDS + STUDY_FIELDS


def _value(answer: Dataset, step: Dataset, source: str) -> Any:
    """The source attribute's value; text decoded, empty values and sequences as None."""
    dataset, keyword = (step, source[5:]) if source.startswith("step.") else (answer, source)
    value = dataset.get(keyword)
    if value is None or value == "":
        return None
    if keyword.endswith("Sequence"):
        return [_item(one) for one in value] or None
    return str(value)  # a PersonName decodes to text in the peer's character set


def _item(dataset: Dataset) -> dict[str, Any]:
    """A sequence item without its empty elements: a server answers every key it was asked
    for, empty when unknown, and an empty Type 1C element (Coding Scheme Version) is an error."""
    item: dict[str, Any] = {}
    for element in dataset:
        if element.value is None or element.value == "" or not element.keyword:
            continue
        if element.VR == "SQ":
            if len(element.value):
                item[element.keyword] = [_item(one) for one in element.value]
        elif element.VM > 1:
            item[element.keyword] = [str(part) for part in element.value]
        else:
            item[element.keyword] = str(element.value) if element.VR in ("PN", "DA", "TM", "UI") else element.value
    return item


def order_metadata(item: WorklistItem | Dataset) -> Metadata:
    """The metadata of an image acquired for this worklist item (IHE RAD TF-2 Table A.1-1).

    Parameters
    ----------
    item : WorklistItem or pydicom.Dataset
        A :func:`find_worklist` item, or a worklist answer with one Scheduled
        Procedure Step.

    Returns
    -------
    dict
        DICOM keywords to values (sequences as pydicom Sequences), validated:
        give it to ``dicomify.convert`` as metadata; explicit values given after it win.

    Raises
    ------
    MetadataError
        A value of the order does not fit its attribute (wrong VR, too long).
    """
    answer = item.dataset if isinstance(item, WorklistItem) else item
    steps = answer.get("ScheduledProcedureStepSequence") or [Dataset()]
    step = steps[0]
    metadata: dict[str, Any] = {}
    for target, source in ORDER_ATTRIBUTES:
        value = _value(answer, step, source)
        if value is not None:
            metadata[target] = value
    request: dict[str, Any] = {}
    for target, source in REQUEST_ATTRIBUTES:
        value = _value(answer, step, source)
        if value is not None:
            request[target] = value
    if request:
        metadata["RequestAttributesSequence"] = [request]
    return validate(metadata)


def study_metadata(study: StudyMatch | Dataset) -> Metadata:
    """Patient and study attributes of a study in the PACS, so a new series joins it.

    The Series Number continues after the study's series when the PACS says how
    many it has (Number of Study Related Series).

    Raises
    ------
    MetadataError
        A value of the answer does not fit its attribute.
    """
    answer = study.dataset if isinstance(study, StudyMatch) else study
    metadata: dict[str, Any] = {}
    for keyword in STUDY_ATTRIBUTES:
        value = answer.get(keyword)
        if value is not None and value != "":
            metadata[keyword] = str(value)
    count = str(answer.get("NumberOfStudyRelatedSeries", "") or "").strip()
    if count.isdigit():
        metadata["SeriesNumber"] = int(count) + 1
    return validate(metadata)
