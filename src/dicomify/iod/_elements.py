"""Setting elements quickly, and the value formats the modules share (DA, TM, DS)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID
from pydicom.valuerep import IS, DSfloat, format_number_as_ds

__all__ = ["da", "decimal", "put", "tm"]

# Most elements carry the same value in every file of a batch (patient, study, equipment,
# geometry). pydicom converts and validates each value as it is set (~15 us an element);
# a value already converted once is reused, in a fresh element, so a file pays that only
# for what differs (UIDs, times). Only immutable converted values (str, int, float and
# their pydicom subclasses) are reused; the first occurrence is validated as always.
_KEYWORD_TAGS: dict[str, tuple[BaseTag, str]] = {}
_CONVERTED: dict[tuple[int, type, Any], Any] = {}
_CONVERTED_MAX = 2048
_IMMUTABLE = frozenset({str, int, float, UID, IS, DSfloat, BaseTag})


def put(ds: Dataset, keyword: str, value: Any) -> None:
    """``setattr(ds, keyword, value)`` for a new element, reusing a converted value."""
    entry = _KEYWORD_TAGS.get(keyword)
    if entry is None:
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"{keyword} is not a DICOM keyword")
        entry = _KEYWORD_TAGS[keyword] = (Tag(tag), dictionary_VR(tag))
    tag, vr = entry
    if not isinstance(value, (str, int, float)) or tag in ds:
        setattr(ds, keyword, value)
        return
    key = (tag, type(value), value)
    converted = _CONVERTED.get(key, _CONVERTED)
    if converted is not _CONVERTED:
        ds[tag] = DataElement(tag, vr, converted, already_converted=True)
        return
    element = DataElement(tag, vr, value)
    ds[tag] = element
    if type(element.value) in _IMMUTABLE:
        if len(_CONVERTED) >= _CONVERTED_MAX:
            _CONVERTED.clear()
        _CONVERTED[key] = element.value


def da(moment: dt.datetime) -> str:
    """A Date (DA) value, YYYYMMDD."""
    return moment.strftime("%Y%m%d")


def tm(moment: dt.datetime) -> str:
    """A Time (TM) value, HHMMSS."""
    return moment.strftime("%H%M%S")


def decimal(value: float) -> str:
    """A Decimal String of at most 16 characters (PS3.5 6.2)."""
    return format_number_as_ds(float(value))
