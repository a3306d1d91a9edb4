"""Patient, study, series and instance metadata: DICOM keywords, checked against their VR.

Metadata is a plain mapping from DICOM keyword (``PatientName``, ``StudyDate`` ...)
to value, so the same names work in Python, in a JSON file, on the command line and
in a batch manifest. :func:`validate` checks everything first and raises one
:class:`~dicomify.errors.MetadataError` naming the field, the value and the rule.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import _lazy
from ..errors import MetadataError

__all__ = [
    "FIELDS",
    "PATIENT_FIELDS",
    "SERIES_FIELDS",
    "STUDY_FIELDS",
    "Metadata",
    "from_reference",
    "load_json",
    "needs_unicode",
    "validate",
]

Metadata = dict[str, Any]

PATIENT_FIELDS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
)
STUDY_FIELDS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
)
SERIES_FIELDS = (
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDescription",
    "SeriesDate",
    "SeriesTime",
    "Modality",
    "BodyPartExamined",
    "Laterality",
)
INSTANCE_FIELDS = (
    "InstanceNumber",
    "ContentDate",
    "ContentTime",
    "InstitutionName",
    "InstitutionalDepartmentName",
    "OperatorsName",
    "ImageComments",
    "ConversionType",
)
FIELDS = PATIENT_FIELDS + STUDY_FIELDS + SERIES_FIELDS + INSTANCE_FIELDS

# Enumerated values we check beyond the VR (PS3.3 C.7.1.1, C.7.3.1, C.8.6.1).
_ENUMERATED = {
    "PatientSex": ("M", "F", "O"),
    "Laterality": ("R", "L"),
    "ConversionType": ("DV", "DI", "DF", "WSD", "SD", "SI", "DRW", "SYN"),
}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$")


def _first_line(error: Exception) -> str:
    # pydicom appends a link to the standard; one clear sentence is enough here.
    return str(error).split(" Please see")[0].strip()


def _normalise(keyword: str, vr: str, value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)) and vr == "DA":
        return value.strftime("%Y%m%d")
    if isinstance(value, (dt.time, dt.datetime)) and vr == "TM":
        return value.strftime("%H%M%S")
    if vr == "IS" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if not isinstance(value, str):
        return value
    value = value.strip()
    if vr == "DA" and (match := _ISO_DATE.match(value)):
        return "".join(match.groups())
    if vr == "TM" and (match := _ISO_TIME.match(value)):
        hours, minutes, seconds, fraction = match.groups()
        return hours + minutes + (seconds or "") + (fraction or "")
    if vr == "CS" and keyword in ("PatientSex", "Laterality", "Modality", "ConversionType"):
        return value.upper()
    return value


def _check_date(keyword: str, value: str) -> None:
    try:
        dt.datetime.strptime(value, "%Y%m%d")
    except ValueError:
        raise MetadataError(f"{keyword} {value!r} is not a valid date (YYYYMMDD or YYYY-MM-DD)") from None


def validate(metadata: Mapping[str, Any]) -> Metadata:
    """Normalise and check every value; return a new mapping or raise MetadataError."""
    # pydicom on first use: the CLI imports this module to build its --help.
    _lazy.import_pydicom()
    from pydicom import config as pydicom_config
    from pydicom.datadict import dictionary_VR
    from pydicom.valuerep import validate_value

    checked: Metadata = {}
    for keyword, raw in metadata.items():
        if keyword not in FIELDS:
            raise MetadataError(
                f"{keyword!r} is not a metadata field dicomify sets; valid fields are: {', '.join(FIELDS)}"
            )
        if raw is None:
            continue
        vr = dictionary_VR(keyword)
        value = _normalise(keyword, vr, raw)
        if vr in ("IS",) and isinstance(value, int):
            if not -(2**31) <= value < 2**31:
                raise MetadataError(f"{keyword} {value} is out of range for an integer string")
        else:
            if not isinstance(value, str):
                raise MetadataError(f"{keyword} must be text, not {type(raw).__name__}")
            if value:
                try:
                    validate_value(vr, value, pydicom_config.RAISE)
                except ValueError as error:
                    raise MetadataError(f"{keyword} {value!r}: {_first_line(error)}") from None
                if vr == "DA":
                    _check_date(keyword, value)
                if vr == "PN":
                    _check_person_name(keyword, value)
        allowed = _ENUMERATED.get(keyword)
        if allowed and value and value not in allowed:
            raise MetadataError(f"{keyword} {value!r} is not one of {', '.join(allowed)}")
        checked[keyword] = value
    return checked


def _check_person_name(keyword: str, value: str) -> None:
    # PS3.5 6.2: at most 64 characters per component group, at most five components.
    for group in value.split("="):
        if len(group) > 64:
            raise MetadataError(f"{keyword} {value!r}: a name group is longer than 64 characters")
        if group.count("^") > 4:
            raise MetadataError(f"{keyword} {value!r}: a name has at most five ^-separated components")


def needs_unicode(values: Iterable[Any]) -> bool:
    """True when any text value is not plain ASCII (then ISO_IR 192 is needed)."""
    return any(isinstance(v, str) and not v.isascii() for v in values)


def load_json(path: str | Path) -> Metadata:
    """Read metadata from a JSON object of DICOM keywords."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as error:
        raise MetadataError(f"cannot read metadata file {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise MetadataError(f"metadata file {path} is not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict):
        raise MetadataError(f"metadata file {path} must hold a JSON object of DICOM keywords")
    return validate(data)


def from_reference(path: str | Path, include_series: bool) -> Metadata:
    """Patient and study (and series) fields copied from an existing DICOM file.

    Never copies the SOP Instance UID: every converted object gets its own.
    """
    _lazy.import_pydicom()
    import pydicom
    from pydicom.datadict import dictionary_VR

    try:
        reference = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        raise MetadataError(f"cannot read reference DICOM {path}: {error}") from None
    fields = PATIENT_FIELDS + STUDY_FIELDS + (SERIES_FIELDS if include_series else ())
    copied: Metadata = {}
    for keyword in fields:
        value = reference.get(keyword)
        if value is None or value == "":
            continue
        copied[keyword] = str(value) if dictionary_VR(keyword) != "IS" else int(value)
    if "StudyInstanceUID" not in copied:
        raise MetadataError(f"reference DICOM {path} has no Study Instance UID")
    if include_series and "SeriesInstanceUID" not in copied:
        raise MetadataError(f"reference DICOM {path} has no Series Instance UID")
    return validate(copied)
