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
    "SEQUENCE_FIELDS",
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
# Sequences an order (Modality Worklist) or a PACS study fills, IHE RAD TF-2 Table A.1-1:
# each a list of items (pydicom Datasets or mappings of DICOM keywords), checked element by
# element. Not command-line flags: they come from --order / --study-in-pacs or the library.
SEQUENCE_FIELDS = (
    "OtherPatientIDsSequence",  # Patient (C.7.1.1)
    "IssuerOfAccessionNumberSequence",  # General Study (C.7.2.1)
    "ReferencedStudySequence",
    "ProcedureCodeSequence",
    "RequestAttributesSequence",  # General Series (C.7.3.1)
    "PerformedProtocolCodeSequence",
)

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
        if keyword in SEQUENCE_FIELDS:
            if raw is not None:
                checked[keyword] = _check_sequence(keyword, raw)
            continue
        if keyword not in FIELDS:
            raise MetadataError(
                f"{keyword!r} is not a metadata field dicomify sets; valid fields are: "
                f"{', '.join(FIELDS + SEQUENCE_FIELDS)}"
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


def _check_sequence(keyword: str, value: Any) -> Any:
    """A new pydicom Sequence of new items, every element checked against its VR (recursively)."""
    from pydicom import Dataset
    from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
    from pydicom.sequence import Sequence

    if isinstance(value, (str, bytes, Mapping, Dataset)) or not isinstance(value, Iterable):
        raise MetadataError(f"{keyword} must be a list of items (datasets or mappings of DICOM keywords)")
    items = []
    for index, item in enumerate(value, 1):
        where = f"{keyword} item {index}"
        if isinstance(item, Dataset):
            pairs = [(element.keyword or keyword_for_tag(element.tag), element.value) for element in item]
        elif isinstance(item, Mapping):
            pairs = list(item.items())
        else:
            raise MetadataError(f"{where} must be a dataset or a mapping of DICOM keywords, not {type(item).__name__}")
        checked = Dataset()
        for name, element_value in pairs:
            if not name or not isinstance(name, str) or tag_for_keyword(name) is None:
                raise MetadataError(f"{where}: {name!r} is not a DICOM keyword")
            vr = dictionary_VR(name)
            if vr == "SQ":
                setattr(checked, name, _check_sequence(f"{where} {name}", element_value or []))
                continue
            text = _item_value(f"{where} {name}", vr, element_value)
            setattr(checked, name, text)
        items.append(checked)
    return Sequence(items)


def _item_value(where: str, vr: str, value: Any) -> Any:
    """One element of a sequence item as text (or a number for the numeric VRs), VR-checked."""
    from pydicom import config as pydicom_config
    from pydicom.multival import MultiValue
    from pydicom.valuerep import validate_value

    if value is None:
        return ""
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "IS", "DS") and not isinstance(value, (str, list, MultiValue)):
        return value
    values = list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]
    texts = []
    for one in values:
        text = str(one)  # a PersonName, UID or decoded text of the peer's character set
        if text:
            try:
                validate_value(vr, text, pydicom_config.RAISE)
            except (ValueError, KeyError) as error:
                raise MetadataError(f"{where} {text!r}: {_first_line(error)}") from None
        texts.append(text)
    return texts if len(texts) > 1 else texts[0] if texts else ""


def _check_person_name(keyword: str, value: str) -> None:
    # PS3.5 6.2: at most 64 characters per component group, at most five components.
    for group in value.split("="):
        if len(group) > 64:
            raise MetadataError(f"{keyword} {value!r}: a name group is longer than 64 characters")
        if group.count("^") > 4:
            raise MetadataError(f"{keyword} {value!r}: a name has at most five ^-separated components")


def needs_unicode(values: Iterable[Any]) -> bool:
    """True when any text value, also inside sequence items, is not plain ASCII (then ISO_IR 192 is needed)."""
    for value in values:
        if isinstance(value, str):
            if not value.isascii():
                return True
        elif isinstance(value, (list, tuple)):  # a pydicom Sequence or a multi-value
            if needs_unicode(value):
                return True
        elif hasattr(value, "values") and hasattr(value, "keys"):  # a Dataset or a mapping
            texts = [getattr(element, "value", element) for element in value.values()]
            if needs_unicode(str(text) if hasattr(text, "original_string") else text for text in texts):
                return True
    return False


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
