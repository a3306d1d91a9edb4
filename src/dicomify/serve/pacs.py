"""The PACS side of the server: publish, worklist and study lookup, all to configured peers.

Only destinations from the configuration are ever contacted; nothing a page or an
API client sends names a host. Worklist and study queries use the library's
``dicomify.net`` functions when this version of the library has them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from ..net import Destination, DicomDestination, SendResult

__all__ = ["NotAvailable", "find_studies", "find_worklist", "publish", "query_function"]

_WORKLIST_FUNCTIONS = ("find_worklist",)
_STUDY_FUNCTIONS = ("find_studies", "find_study", "query_studies")


class NotAvailable(Exception):
    """The library or the configuration does not offer this query."""


def query_function(names: Iterable[str]) -> Any:
    """The first of ``names`` that :mod:`dicomify.net` provides, or None."""
    from .. import net

    for name in names:
        function = getattr(net, name, None)
        if function is not None:
            return function
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Dataset):
        return _dataset_json(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _dataset_json(ds: Dataset) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element in ds:
        if not element.keyword or element.VR in ("OB", "OW", "OF", "OD", "OL", "UN"):
            continue
        if element.VR == "SQ":
            out[element.keyword] = [_dataset_json(item) for item in element.value]
        else:
            out[element.keyword] = "" if element.value is None else str(element.value)
    return out


def _query(
    names: tuple[str, ...], destination: DicomDestination | None, what: str, filters: Mapping[str, str]
) -> list[Any]:
    if destination is None:
        raise NotAvailable(f"no {what} is configured on this server")
    function = query_function(names)
    if function is None:
        raise NotAvailable(f"this version of dicomify cannot query a {what} yet")
    return [_jsonable(item) for item in function(destination, **{k: v for k, v in filters.items() if v})]


def find_worklist(destination: DicomDestination | None, filters: Mapping[str, str]) -> list[Any]:
    """Scheduled procedures from the configured worklist, as JSON-ready objects."""
    return _query(_WORKLIST_FUNCTIONS, destination, "worklist", filters)


def find_studies(destination: DicomDestination | None, filters: Mapping[str, str]) -> list[Any]:
    """Studies from the configured PACS (Study Root C-FIND), as JSON-ready objects."""
    return _query(_STUDY_FUNCTIONS, destination, "PACS study lookup", filters)


def publish(destination: Destination, paths: list[Path]) -> list[SendResult]:
    """Send the files over one association (or HTTP connection); one result per file."""
    from ..net import open_sender

    with open_sender(destination) as sender:
        return [sender.send(path) for path in paths]
