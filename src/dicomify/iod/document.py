"""Encapsulated PDF (PS3.3 A.45.1): a document kept byte-identical in a DICOM object.

Modules in the standard's order: Patient, General Study, Encapsulated Document Series,
General Equipment, SC Equipment, Encapsulated Document, SOP Common. The patient, study
and equipment modules are the same functions the picture IODs use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import EncapsulatedPDFStorage

from ..picture import Document
from . import modules
from ._elements import da, put, tm
from ._object import finish, needs_unicode_for
from .uids import new_uid

__all__ = ["build_document_dataset"]


def encapsulated_document_series(ds: Dataset, metadata: Mapping[str, Any]) -> None:
    """Encapsulated Document Series (C.24.1): Modality DOC unless given."""
    put(ds, "Modality", metadata.get("Modality") or "DOC")
    put(ds, "SeriesInstanceUID", metadata.get("SeriesInstanceUID") or new_uid())
    put(ds, "SeriesNumber", metadata.get("SeriesNumber", 1))
    for keyword in ("SeriesDate", "SeriesTime", "SeriesDescription", "BodyPartExamined", "OperatorsName"):
        if metadata.get(keyword):
            put(ds, keyword, metadata[keyword])
    for keyword in ("RequestAttributesSequence", "PerformedProtocolCodeSequence"):
        if metadata.get(keyword):
            put(ds, keyword, metadata[keyword])


def encapsulated_document(
    ds: Dataset, document: Document, metadata: Mapping[str, Any], content_time: dt.datetime
) -> None:
    """Encapsulated Document (C.24.2): the bytes as they are, with what they are.

    Burned In Annotation is YES: a scanned or written document shows identifying text.
    Document Title is the option/metadata value, else the document's own title.
    """
    put(ds, "InstanceNumber", metadata.get("InstanceNumber", 1))
    put(ds, "ContentDate", metadata.get("ContentDate", da(content_time)))
    put(ds, "ContentTime", metadata.get("ContentTime", tm(content_time)))
    put(ds, "AcquisitionDateTime", "")
    put(ds, "BurnedInAnnotation", "YES")
    put(ds, "DocumentTitle", metadata.get("DocumentTitle") or document.title[:64].strip())
    put(ds, "ConceptNameCodeSequence", metadata.get("ConceptNameCodeSequence") or [])
    put(ds, "MIMETypeOfEncapsulatedDocument", document.mime_type)
    data = document.data
    # OB values have even length: pydicom pads with one NUL; the length says where the
    # document ends, so it comes back byte-identical.
    put(ds, "EncapsulatedDocumentLength", len(data))
    put(ds, "EncapsulatedDocument", data)
    if metadata.get("ImageComments"):
        put(ds, "ImageComments", metadata["ImageComments"])


def build_document_dataset(
    document: Document,
    metadata: Mapping[str, Any],
    now: dt.datetime | None = None,
    elements: Dataset | None = None,
) -> Dataset:
    """A complete Encapsulated PDF dataset for ``document``.

    Parameters
    ----------
    document : Document
        What the PDF reader made of the source.
    metadata : Mapping[str, Any]
        Validated metadata fields (:func:`dicomify.iod.metadata.validate`).
    now : datetime, optional
        The creation time (default: the current time).
    elements : Dataset, optional
        Further elements to copy into the object as they are.

    Returns
    -------
    Dataset
        The object, with its file meta information.

    Raises
    ------
    MetadataError
        ``elements`` holds an element dicomify sets itself.
    """
    now = now or dt.datetime.now()
    content_time = document.content_datetime or now
    unicode = needs_unicode_for(metadata, elements, [document.title])
    ds = Dataset()
    modules.sop_common(ds, EncapsulatedPDFStorage, now, unicode)
    modules.patient(ds, metadata)
    modules.general_study(ds, metadata, content_time)
    encapsulated_document_series(ds, metadata)
    modules.general_equipment(ds, metadata)
    modules.sc_equipment(ds, metadata)
    encapsulated_document(ds, document, metadata, content_time)
    return finish(ds, elements)
