"""STOW-RS with httpx (PS3.18 10.5): POST a multipart/related body of DICOM files.

The server answers with a Store Instances Response (PS3.18 10.5.3): the
Referenced SOP Sequence (0008,1199) lists what it stored, the Failed SOP Sequence
(0008,1198) what it did not, each with a Failure Reason (0008,1197). Those give
the status per instance; a transport failure or an HTTP error fails every
instance of the request.
"""

from __future__ import annotations

import io
import os
import secrets
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from pydicom import Dataset, dcmread

from ._config import StowDestination
from ._items import Item, SendItem
from ._result import EchoResult, SendResult, SendStatus

__all__ = ["StowSender", "stow_echo"]

_REFERENCED = "00081199"  # Referenced SOP Sequence
_FAILED = "00081198"  # Failed SOP Sequence
_SOP_INSTANCE = "00081155"  # Referenced SOP Instance UID
_FAILURE_REASON = "00081197"
_WARNING_REASON = "00081196"
_MAX_REQUEST_BYTES = 64 * 1024 * 1024
# Worth trying again: the server is busy or briefly broken (RFC 9110 15.6).
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass
class _Part:
    item: Item
    payload: bytes


def _client(destination: StowDestination) -> httpx.Client:
    verify: ssl.SSLContext | bool = destination.verify
    if destination.ca is not None and destination.verify:
        verify = ssl.create_default_context(cafile=str(destination.ca))
    auth: httpx.Auth | None = None
    headers = {"User-Agent": "dicomify"}
    if destination.username is not None and destination.password is not None:
        auth = httpx.BasicAuth(destination.username, destination.password)
    if destination.token is not None:
        headers["Authorization"] = f"Bearer {destination.token}"
    return httpx.Client(timeout=destination.timeout, verify=verify, auth=auth, headers=headers)


def _part(source: SendItem) -> _Part | SendResult:
    """The instance's Part 10 bytes and its facts, or a failed result."""
    try:
        if isinstance(source, Dataset):
            buffer = io.BytesIO()
            source.save_as(buffer, enforce_file_format=True)
            payload = buffer.getvalue()
            name = ""
        else:
            name = os.fspath(source)
            with open(name, "rb") as file:
                payload = file.read()
        dataset = dcmread(io.BytesIO(payload), stop_before_pixels=True)
        syntax = dataset.file_meta.TransferSyntaxUID
        item = Item(
            source=name,
            dataset=dataset,
            sop_class_uid=dataset.SOPClassUID,
            sop_instance_uid=dataset.SOPInstanceUID,
            transfer_syntax=syntax,
            study_instance_uid=str(dataset.get("StudyInstanceUID", "")),
            series_instance_uid=str(dataset.get("SeriesInstanceUID", "")),
        )
    except OSError as error:
        name = "" if isinstance(source, Dataset) else os.fspath(source)
        return SendResult(
            source=name, status=SendStatus.FAILED, message=f"Not sent: cannot read {name!r}: {error.strerror or error}."
        )
    except Exception as error:  # pydicom raises many kinds on damaged data
        name = "" if isinstance(source, Dataset) else os.fspath(source)
        return SendResult(
            source=name, status=SendStatus.FAILED, message=f"Not sent: not a readable DICOM object: {error}."
        )
    return _Part(item, payload)


def _body(parts: list[_Part], boundary: str) -> bytes:
    chunks: list[bytes] = []
    for part in parts:
        chunks.append(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode("ascii"))
        chunks.append(part.payload)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(chunks)


def _uid_of(entry: dict[str, Any]) -> str:
    values = entry.get(_SOP_INSTANCE, {}).get("Value") or [""]
    return str(values[0])


def _reason_of(entry: dict[str, Any], tag: str) -> int | None:
    values = entry.get(tag, {}).get("Value") or [None]
    return None if values[0] is None else int(values[0])


def _outcomes(response: httpx.Response, parts: list[_Part]) -> list[SendResult]:
    """One result per part from a Store Instances Response."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict) or (_REFERENCED not in body and _FAILED not in body):
        if response.is_success:
            return [
                part.item.result(SendStatus.STORED, sent=str(part.item.transfer_syntax), code=response.status_code)
                for part in parts
            ]
        return [
            part.item.result(
                SendStatus.FAILED,
                f"Not stored: HTTP {response.status_code} {response.reason_phrase}.",
                code=response.status_code,
            )
            for part in parts
        ]
    stored = {_uid_of(entry): entry for entry in body.get(_REFERENCED, {}).get("Value", [])}
    failed = {_uid_of(entry): entry for entry in body.get(_FAILED, {}).get("Value", [])}
    results = []
    for part in parts:
        uid = str(part.item.sop_instance_uid)
        if uid in failed:
            reason = _reason_of(failed[uid], _FAILURE_REASON)
            text = f"failure reason 0x{reason:04X}" if reason is not None else "no failure reason given"
            results.append(
                part.item.result(
                    SendStatus.FAILED,
                    f"Not stored: the server refused it ({text}, HTTP {response.status_code}).",
                    code=response.status_code,
                )
            )
        elif uid in stored:
            warning = _reason_of(stored[uid], _WARNING_REASON)
            note = f"warning reason 0x{warning:04X}" if warning is not None else ""
            results.append(
                part.item.result(
                    SendStatus.STORED, note, sent=str(part.item.transfer_syntax), code=response.status_code
                )
            )
        else:
            results.append(
                part.item.result(
                    SendStatus.FAILED,
                    f"Not stored: the server's response (HTTP {response.status_code}) does not list it.",
                    code=response.status_code,
                )
            )
    return results


class StowSender:
    """Sends objects by STOW-RS; :meth:`send` for one, :meth:`send_many` batches requests."""

    def __init__(self, destination: StowDestination) -> None:
        self.destination = destination
        self._client = _client(destination)
        self.requests = 0

    def _post(self, parts: list[_Part]) -> list[SendResult]:
        boundary = f"dicomify-{secrets.token_hex(16)}"
        headers = {
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
            "Accept": "application/dicom+json",
        }
        body = _body(parts, boundary)
        problem = ""
        for attempt in range(1 + self.destination.retries):
            if attempt:
                time.sleep(self.destination.backoff * 2 ** (attempt - 1))
            try:
                self.requests += 1
                response = self._client.post(self.destination.studies_url, content=body, headers=headers)
            except httpx.HTTPError as error:
                problem = f"cannot reach {self.destination}: {error or type(error).__name__}"
                continue
            if response.status_code in _RETRY_STATUS:
                problem = f"HTTP {response.status_code} {response.reason_phrase} from {self.destination}"
                continue
            return _outcomes(response, parts)
        return [part.item.result(SendStatus.FAILED, f"Not sent: {problem}.") for part in parts]

    def send(self, source: SendItem) -> SendResult:
        """Store one file or dataset in its own request."""
        part = _part(source)
        if isinstance(part, SendResult):
            return part
        return self._post([part])[0]

    def send_many(self, sources: Iterable[SendItem]) -> Iterator[SendResult]:
        """Store many, ``batch_size`` instances (at most 64 MB) per request, results in order."""
        batch: list[_Part] = []
        size = 0
        for source in sources:
            part = _part(source)
            if isinstance(part, SendResult):
                yield part
                continue
            if batch and (len(batch) >= self.destination.batch_size or size + len(part.payload) > _MAX_REQUEST_BYTES):
                yield from self._post(batch)
                batch, size = [], 0
            batch.append(part)
            size += len(part.payload)
        if batch:
            yield from self._post(batch)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> StowSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def stow_echo(destination: StowDestination) -> EchoResult:
    """A QIDO-RS search for one study (PS3.18 10.6): does the server answer and let us in?"""
    with _client(destination) as client:
        try:
            response = client.get(
                destination.studies_url, params={"limit": "1"}, headers={"Accept": "application/dicom+json"}
            )
        except httpx.HTTPError as error:
            return EchoResult(False, f"Cannot reach {destination}: {error or type(error).__name__}.")
    if response.is_success:
        return EchoResult(True, f"{destination} answered HTTP {response.status_code}.", response.status_code)
    return EchoResult(
        False, f"{destination} answered HTTP {response.status_code} {response.reason_phrase}.", response.status_code
    )
