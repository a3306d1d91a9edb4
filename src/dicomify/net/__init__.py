"""Deliver DICOM objects to a PACS: C-STORE / C-ECHO (pynetdicom) or STOW-RS (httpx).

Outcomes are data: every object gets a :class:`SendResult` whose ``status`` is
stored, stored-decoded (sent as Explicit VR Little Endian after the peer refused
its compressed transfer syntax), failed or skipped. Exceptions
(:class:`dicomify.errors.NetworkError`) mean misuse: an invalid address, AE
title, URL or unreadable TLS file.

>>> destination = DicomDestination("pacs.example", 104, called_aet="PACS")
>>> for result in send_files(["out/"], destination):  # doctest: +SKIP
...     print(result.source, result.status.value, result.message)

To send as you convert, over one association::

    with open_sender(destination) as sender:
        for picture in pictures:
            result = sender.send(dicomify.convert(picture, path))
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._config import (
    CommitOptions,
    Destination,
    DicomDestination,
    StowDestination,
    TLSOptions,
    worklist_destination,
)
from ._result import EchoResult, SendResult, SendStatus

if _TYPE_CHECKING:
    from ._api import echo, open_sender, send_files, stored_in_report
    from ._mapping import order_metadata, study_metadata
    from ._query import QueryError
    from ._study import StudyError, StudyMatch, find_one_study, find_studies
    from ._worklist import OrderError, WorklistItem, find_order, find_worklist

_LAZY = {"echo", "open_sender", "send_files", "stored_in_report"}
_LAZY_QUERIES = {
    "OrderError": "_worklist",
    "QueryError": "_query",
    "StudyError": "_study",
    "StudyMatch": "_study",
    "WorklistItem": "_worklist",
    "find_one_study": "_study",
    "find_order": "_worklist",
    "find_studies": "_study",
    "find_worklist": "_worklist",
    "order_metadata": "_mapping",
    "study_metadata": "_mapping",
}


def __getattr__(name: str) -> _Any:
    # pynetdicom and httpx cost ~100 ms to import: only commands that send pay it.
    if name in _LAZY:
        from . import _api

        return getattr(_api, name)
    if name in _LAZY_QUERIES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY_QUERIES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CommitOptions",
    "Destination",
    "DicomDestination",
    "EchoResult",
    "OrderError",
    "QueryError",
    "SendResult",
    "SendStatus",
    "StowDestination",
    "StudyError",
    "StudyMatch",
    "TLSOptions",
    "WorklistItem",
    "echo",
    "find_one_study",
    "find_order",
    "find_studies",
    "find_worklist",
    "open_sender",
    "order_metadata",
    "send_files",
    "stored_in_report",
    "study_metadata",
    "worklist_destination",
]


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY | set(_LAZY_QUERIES))
