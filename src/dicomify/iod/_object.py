"""What every IOD's dataset ends with: the caller's extra elements and the file meta.

Shared by the picture IODs (:mod:`.sop`), Encapsulated PDF (:mod:`.document`) and the
video IODs (:mod:`.video`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from ..errors import MetadataError
from ._elements import put
from .metadata import needs_unicode, needs_unicode_in
from .uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME

__all__ = ["finish", "needs_unicode_for"]


def needs_unicode_for(metadata: Mapping[str, Any], elements: Dataset | None, texts: Iterable[str] = ()) -> bool:
    """Whether the object's text (metadata, extra elements, ``texts``) needs UTF-8 (ISO_IR 192)."""
    return (
        needs_unicode(metadata.values())
        or needs_unicode(texts)
        or (elements is not None and needs_unicode_in(elements))
    )


def finish(ds: Dataset, elements: Dataset | None) -> Dataset:
    """``ds`` with the caller's extra ``elements`` copied in and its file meta information."""
    if elements is not None:
        _copy_elements(ds, elements)
    ds.file_meta = _file_meta(ds)
    return ds


def _copy_elements(ds: Dataset, elements: Dataset) -> None:
    clashes = [element.keyword or str(element.tag) for element in elements if element.tag in ds]
    if clashes:
        raise MetadataError(
            "the metadata dataset holds elements dicomify sets itself for this object: "
            f"{', '.join(clashes)}; leave them out (patient, study and series values go in "
            "as metadata fields)"
        )
    for element in elements:
        ds.add(copy.deepcopy(element))  # the caller's dataset may serve many objects


def _file_meta(ds: Dataset) -> FileMetaDataset:
    """File Meta Information (PS3.10 7.1); the encoder sets the final transfer syntax."""
    meta = FileMetaDataset()
    put(meta, "MediaStorageSOPClassUID", ds.SOPClassUID)
    put(meta, "MediaStorageSOPInstanceUID", ds.SOPInstanceUID)
    put(meta, "TransferSyntaxUID", ExplicitVRLittleEndian)
    put(meta, "ImplementationClassUID", UID(IMPLEMENTATION_CLASS_UID))
    put(meta, "ImplementationVersionName", IMPLEMENTATION_VERSION_NAME)
    return meta
