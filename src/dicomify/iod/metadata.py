"""Patient, study, series and instance metadata: DICOM keywords, checked against their VR.

Metadata is a plain mapping from DICOM keyword (``PatientName``, ``StudyDate`` ...)
to value, so the same names work in Python, in a JSON file, on the command line and
in a batch manifest. :func:`validate` checks everything first and raises one
:class:`~dicomify.errors.MetadataError` naming the field, the value and the rule.

A pydicom ``Dataset`` (a worklist item, say) is metadata too: :func:`from_dataset`
takes its metadata fields as above and checks every other element, sequences
included, against its VR, to be copied into the object as it is.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _lazy
from ..errors import MetadataError
from ..options import ConvertOptions, split_options

if TYPE_CHECKING:
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset

__all__ = [
    "FIELDS",
    "PATIENT_FIELDS",
    "SEQUENCE_FIELDS",
    "SERIES_FIELDS",
    "STUDY_FIELDS",
    "Metadata",
    "from_dataset",
    "from_reference",
    "gather",
    "load_json",
    "needs_unicode",
    "needs_unicode_in",
    "split_keywords",
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
    "DocumentTitle",  # Encapsulated Document (C.24.2); pictures have none
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
    "ConceptNameCodeSequence",  # Encapsulated Document (C.24.2): what kind of document
    "AnatomicRegionSequence",  # VL Image (C.8.12.1): the body region of a video (CID 4031)
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


# Backslash separates values in every string VR but these, where it is a character
# (PS3.5 6.2); the text VRs also allow the controls CR, LF and FF (PS3.5 Table 6.2-1;
# ESC too, for ISO 2022 code extensions, which dicomify never writes).
_BACKSLASH_ALLOWED = ("LT", "ST", "UT", "UR")
_TEXT = ("LT", "ST", "UT")
_FORMAT_CONTROLS = "\r\n\f"


def _check_characters(keyword: str, vr: str, value: str) -> None:
    """Refuse what passes pydicom's VR check but breaks the file: a backslash in a
    single-valued string (read back as two values) and control characters outside text."""
    from pydicom.datadict import dictionary_VM

    if "\\" in value and vr not in _BACKSLASH_ALLOWED and dictionary_VM(keyword) == "1":
        raise MetadataError(
            f"{keyword} {value!r} contains a backslash, DICOM's value separator (PS3.5 6.2), "
            f"but {keyword} holds one value"
        )
    allowed = _FORMAT_CONTROLS if vr in _TEXT else ""
    bad = sorted({c for c in value if (ord(c) < 0x20 or ord(c) == 0x7F) and c not in allowed})
    if bad:
        named = ", ".join(f"U+{ord(c):04X}" for c in bad)
        where = "only CR, LF and FF are allowed in" if allowed else "no control characters are allowed in"
        raise MetadataError(f"{keyword} {value!r} contains control characters ({named}); {where} {vr} (PS3.5 6.2)")


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
                f"{keyword!r} is not a metadata field dicomify sets{_did_you_mean(keyword, FIELDS + SEQUENCE_FIELDS)}; "
                f"valid fields are: {', '.join(FIELDS + SEQUENCE_FIELDS)}"
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
                _check_characters(keyword, vr, value)
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
            for one in text if isinstance(text, list) else [text]:
                if isinstance(one, str) and one:
                    try:
                        _check_characters(name, vr, one)
                    except MetadataError as error:
                        raise MetadataError(f"{where}: {error}") from None
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


_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})


def needs_unicode_in(elements: Dataset) -> bool:
    """True when a text value anywhere in ``elements`` (sequences too) is not plain ASCII."""
    for element in elements:
        if element.VR == "SQ":
            if any(needs_unicode_in(item) for item in element.value):
                return True
        elif element.VR in _TEXT_VRS and element.value is not None:
            values = element.value if element.VM > 1 else [element.value]
            if needs_unicode(str(value) for value in values):
                return True
    return False


_OPTION_NAMES = tuple(field.name for field in dataclasses.fields(ConvertOptions))


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest candidate, or "" when none is close."""
    candidates = list(candidates)
    by_lower = {candidate.lower().replace("_", ""): candidate for candidate in candidates}
    close = by_lower.get(name.lower().replace("_", ""))
    if close is None:
        matches = difflib.get_close_matches(name, candidates, n=1)
        close = matches[0] if matches else None
    return f"; did you mean {close!r}?" if close else ""


def split_keywords(
    keywords: Mapping[str, Any], options: ConvertOptions | None = None
) -> tuple[ConvertOptions, Metadata]:
    """Keyword arguments of ``DicomImage``/``convert``: options by name, metadata by DICOM keyword.

    Parameters
    ----------
    keywords : Mapping[str, Any]
        ``ConvertOptions`` field names (snake_case) and metadata fields (DICOM keywords).
    options : ConvertOptions, optional
        The options the named ones change (default: ``ConvertOptions()``).

    Returns
    -------
    tuple of ConvertOptions and dict
        The options, and the metadata not yet validated.

    Raises
    ------
    MetadataError
        A keyword is neither an option nor a metadata field; the message names it and
        the closest valid name.
    DicomifyError
        An option's value is not valid.
    """
    for keyword in keywords:
        if keyword not in FIELDS and keyword not in SEQUENCE_FIELDS and keyword not in _OPTION_NAMES:
            raise MetadataError(_unknown_keyword(keyword))
    chosen, metadata = split_options(keywords, options)
    return chosen, dict(metadata)


def _unknown_keyword(keyword: str) -> str:
    _lazy.import_pydicom()
    from pydicom.datadict import tag_for_keyword

    if tag_for_keyword(keyword) is not None:
        return (
            f"{keyword!r} is a DICOM keyword but not a metadata field dicomify takes by keyword; "
            "pass it in a pydicom Dataset as metadata= to copy it into the object"
        )
    hint = _did_you_mean(keyword, _OPTION_NAMES + FIELDS)
    if not hint:
        hint = f" (options: {', '.join(_OPTION_NAMES)}; metadata fields: {', '.join(FIELDS + SEQUENCE_FIELDS)})"
    return f"unknown keyword argument {keyword!r}: neither a conversion option nor a metadata field{hint}"


def gather(metadata: Mapping[str, Any] | Dataset | None, keywords: Mapping[str, Any]) -> tuple[Metadata, Dataset]:
    """The ``metadata=`` argument and metadata keywords, validated; keywords win.

    Parameters
    ----------
    metadata : Mapping[str, Any] or pydicom.Dataset or None
        Metadata fields by DICOM keyword, or a Dataset (see :func:`from_dataset`).
    keywords : Mapping[str, Any]
        Metadata fields given as keyword arguments.

    Returns
    -------
    tuple of dict and Dataset
        The validated metadata fields, and the other elements to copy (often empty).

    Raises
    ------
    MetadataError
        A value does not fit its VR, or a name is not a metadata field.
    """
    _lazy.import_pydicom()
    from pydicom.dataset import Dataset

    if isinstance(metadata, Dataset):
        fields, elements = from_dataset(metadata)
    elif metadata is None or isinstance(metadata, Mapping):
        fields, elements = validate(metadata or {}), Dataset()
    else:
        raise MetadataError(
            f"metadata must be a mapping of DICOM keywords or a pydicom Dataset, not {type(metadata).__name__}"
        )
    fields.update(validate(keywords))
    return fields, elements


def from_dataset(dataset: Dataset) -> tuple[Metadata, Dataset]:
    """A Dataset as metadata: its metadata fields, and its other elements checked for copying.

    The metadata fields (:data:`FIELDS`, :data:`SEQUENCE_FIELDS`) are validated as if
    given by keyword, and placed in their modules. Every
    other element, sequences and their items included, is checked against its VR and
    copied; empty top-level elements (a worklist's unanswered return keys) are left
    out, as are File Meta elements and the Specific Character Set (dicomify chooses
    the object's own).

    Parameters
    ----------
    dataset : pydicom.Dataset
        A worklist item, a study's reference dataset, or any patient/study/series values.

    Returns
    -------
    tuple of dict and Dataset
        The validated metadata fields, and fresh copies of the other elements.

    Raises
    ------
    MetadataError
        A value does not fit its VR, or the dataset describes pixels (Image Pixel and
        presentation elements, group 0028, or Pixel Data): those come from the picture.
    """
    _lazy.import_pydicom()
    from pydicom.dataset import Dataset

    fields: dict[str, Any] = {}
    elements = Dataset()
    pixel_elements = []
    for element in dataset:
        if element.tag.group == 0x0002 or element.tag == 0x00080005:
            continue
        name = element.keyword or str(element.tag)
        if element.tag.group in (0x0028, 0x7FE0):
            pixel_elements.append(name)
        elif element.is_empty:
            continue
        elif element.keyword in FIELDS:
            fields[element.keyword] = _plain_value(element)
        elif element.keyword in SEQUENCE_FIELDS:
            fields[element.keyword] = element.value  # its items are checked by validate()
        else:
            elements.add(_checked_copy(element, name))
    if pixel_elements:
        raise MetadataError(
            "the metadata dataset describes pixels, which come from the picture: "
            f"{', '.join(pixel_elements)}; leave these elements out"
        )
    return validate(fields), elements


def _plain_value(element: DataElement) -> Any:
    """A metadata field's value as :func:`validate` takes it: text, or an int for IS."""
    if element.VR == "IS" and element.VM == 1:
        return int(element.value)
    if element.VM > 1:
        return "\\".join(str(value) for value in element.value)
    return str(element.value)


def _checked_copy(element: DataElement, where: str) -> DataElement:
    """A copy of ``element`` whose value pydicom has checked against its VR."""
    from pydicom import config as pydicom_config
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset

    if element.VR == "SQ":
        items = []
        for index, item in enumerate(element.value):
            copied = Dataset()
            for inner in item:
                copied.add(_checked_copy(inner, f"{where}[{index}].{inner.keyword or inner.tag}"))
            items.append(copied)
        return DataElement(element.tag, "SQ", items)
    if element.tag.is_private or element.VR == "UN":
        return copy.deepcopy(element)  # no VR rules to check against
    try:
        return DataElement(element.tag, element.VR, copy.deepcopy(element.value), validation_mode=pydicom_config.RAISE)
    except ValueError as error:
        raise MetadataError(f"{where} {element.value!r}: {_first_line(error)}") from None


def load_json(path: str | Path) -> Metadata:
    """Read metadata from a JSON object of DICOM keywords."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as error:
        raise MetadataError(f"cannot read metadata file {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise MetadataError(f"metadata file {path} is not valid JSON ({error.msg} at line {error.lineno})") from None
    except UnicodeDecodeError as error:  # found by fuzzing (fuzz/fuzz_metadata.py)
        raise MetadataError(f"metadata file {path} is not UTF-8 text (byte {error.start})") from None
    except RecursionError:
        raise MetadataError(f"metadata file {path} is nested too deeply to be metadata") from None
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
