"""STOW-RS with httpx (PS3.18 10.5): POST a multipart/related body of DICOM files.

The server answers with a Store Instances Response (PS3.18 10.5.3), read with
pydicom's DICOM JSON model: the Referenced SOP Sequence (0008,1199) lists what it
stored, the Failed SOP Sequence (0008,1198) what it did not, each with a Failure
Reason (0008,1197). Only an instance the response lists as referenced is
``stored``: a 2xx without such a response (an HTML page, an empty or malformed
body) leaves every instance ``unconfirmed``, and ``--skip-sent`` sends it again.

Each request (connecting, sending, the whole answer) must be over within the
destination's timeout, however slowly the server trickles its bytes; a 503/429
``Retry-After`` is honoured up to :data:`~._assoc.MAX_RETRY_AFTER` seconds.
"""

from __future__ import annotations

import email.utils
import io
import json
import os
import secrets
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType

import httpx
from pydicom import Dataset, dcmread

from ._assoc import Attempts, Deadline
from ._config import StowDestination
from ._http import Clock, deadline_client
from ._items import Item, SendItem
from ._result import EchoResult, SendResult, SendStatus

__all__ = ["MAX_RESPONSE_BYTES", "StowSender", "stow_echo"]

_MAX_REQUEST_BYTES = 64 * 1024 * 1024
#: a Store Instances Response lists a few hundred bytes per instance: a longer body is not one
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# Worth trying again: the server is busy or briefly broken (RFC 9110 15.6).
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds a 503/429 asks us to wait (RFC 9110 10.2.3: seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


@dataclass
class _Part:
    item: Item
    payload: bytes


def _client(destination: StowDestination, clock: Clock) -> httpx.Client:
    verify: ssl.SSLContext | bool = destination.verify
    if destination.ca is not None and destination.verify:
        verify = ssl.create_default_context(cafile=str(destination.ca))
    auth: httpx.Auth | None = None
    headers = {"User-Agent": "dicomify"}
    if destination.username is not None and destination.password is not None:
        auth = httpx.BasicAuth(destination.username, destination.password)
    if destination.token is not None:
        headers["Authorization"] = f"Bearer {destination.token}"
    return deadline_client(verify, clock, timeout=destination.timeout, auth=auth, headers=headers)


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


@dataclass
class _Answer:
    """What came back for one request: the status, and the parsed response or why there is none."""

    status_code: int
    reason: str
    response: Dataset | None
    problem: str  # why ``response`` is None ("" when parsed)

    @property
    def success(self) -> bool:
        return 200 <= self.status_code < 300


def _read_capped(response: httpx.Response) -> bytes | None:
    """The body, or None when it is longer than :data:`MAX_RESPONSE_BYTES` (not read further)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes | None, content_type: str) -> tuple[Dataset | None, str]:
    """The Store Instances Response in ``body`` (DICOM JSON, PS3.18 F.2), or why it is not one."""
    if body is None:
        return None, f"a response body longer than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB (not read)"
    kind = content_type.split(";")[0].strip() or "no content type"
    if not body.strip():
        return None, "an empty response body"
    try:
        data = json.loads(body)
    except ValueError:
        return None, f"a response that is not JSON ({kind})"
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        return None, "a JSON response that is not a DICOM JSON object"
    try:
        response = Dataset.from_json(data)
        for keyword in ("ReferencedSOPSequence", "FailedSOPSequence"):
            for item in response.get(keyword) or []:
                str(item.get("ReferencedSOPInstanceUID", ""))
    except Exception as error:  # pydicom raises many kinds on malformed DICOM JSON
        return None, f"a malformed Store Instances Response ({type(error).__name__}: {error})"
    if "ReferencedSOPSequence" not in response and "FailedSOPSequence" not in response:
        return None, "a JSON response without Referenced or Failed SOP Sequence"
    return response, ""


def _code(item: Dataset, keyword: str) -> str:
    """``failure reason 0x0110``, or a note that the value is missing or malformed."""
    words = "failure reason" if keyword == "FailureReason" else "warning reason"
    try:
        value = item.get(keyword)
        if value is None or value == "":
            return ""
        return f"{words} 0x{int(value):04X}"
    except (TypeError, ValueError):
        return f"{words} {str(item[keyword].value)[:40]!r} (not a number)"


def _listed(response: Dataset, keyword: str) -> dict[str, Dataset]:
    listed: dict[str, Dataset] = {}
    for item in response.get(keyword) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", "") or "")
        if uid:
            listed[uid] = item
    return listed


def _outcomes(answer: _Answer, parts: list[_Part]) -> list[SendResult]:
    """One result per part: stored only when the parsed response lists it as referenced."""
    code = answer.status_code
    http = f"HTTP {code} {answer.reason}".strip()
    if answer.response is None:
        if answer.success:
            message = (
                f"Not confirmed: the server answered {http} with {answer.problem}, not a Store Instances Response."
            )
            return [part.item.result(SendStatus.UNCONFIRMED, message, code=code) for part in parts]
        return [part.item.result(SendStatus.FAILED, f"Not stored: {http}.", code=code) for part in parts]
    stored = _listed(answer.response, "ReferencedSOPSequence")
    failed = _listed(answer.response, "FailedSOPSequence")
    results = []
    for part in parts:
        uid = str(part.item.sop_instance_uid)
        if uid in failed:
            reason = _code(failed[uid], "FailureReason") or "no failure reason given"
            results.append(
                part.item.result(SendStatus.FAILED, f"Not stored: the server refused it ({reason}, {http}).", code=code)
            )
        elif uid in stored:
            note = _code(stored[uid], "WarningReason")
            results.append(part.item.result(SendStatus.STORED, note, sent=str(part.item.transfer_syntax), code=code))
        elif answer.success:
            results.append(
                part.item.result(
                    SendStatus.UNCONFIRMED,
                    f"Not confirmed: the server's response ({http}) does not list it.",
                    code=code,
                )
            )
        else:
            results.append(
                part.item.result(SendStatus.FAILED, f"Not stored: {http}; the response does not list it.", code=code)
            )
    return results


class StowSender:
    """Sends objects by STOW-RS; :meth:`send` for one, :meth:`send_many` batches requests."""

    def __init__(self, destination: StowDestination) -> None:
        self.destination = destination
        self._clock = Clock()
        self._client = _client(destination, self._clock)
        self.requests = 0

    def _post(self, parts: list[_Part]) -> list[SendResult]:
        boundary = f"dicomify-{secrets.token_hex(16)}"
        headers = {
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
            "Accept": "application/dicom+json",
        }
        body = _body(parts, boundary)
        problem = ""
        destination = self.destination
        attempts = Attempts(destination.retries, destination.backoff)
        for _ in attempts:
            self._clock.deadline = Deadline(destination.timeout, upload=len(body))
            self.requests += 1
            try:
                request = self._client.build_request(
                    "POST",
                    destination.studies_url,
                    content=body,
                    headers=headers,
                )
                response = self._client.send(request, stream=True)
                try:
                    if response.status_code in _RETRY_STATUS:
                        problem = f"HTTP {response.status_code} {response.reason_phrase} from {destination}"
                        wait = _retry_after(response) if response.status_code in (429, 503) else None
                        if wait is not None and not attempts.wait_at_least(wait):
                            problem += f", which asked to retry after {wait:.0f} s (more than we wait)"
                        continue
                    content = _read_capped(response)
                    parsed, why = _parse(content, response.headers.get("Content-Type", ""))
                    answer = _Answer(response.status_code, response.reason_phrase, parsed, why)
                finally:
                    response.close()
            except httpx.TimeoutException:
                problem = f"no complete answer from {destination} within {destination.timeout:g} s"
                continue
            except httpx.HTTPError as error:
                problem = f"cannot reach {destination}: {destination.redact(str(error)) or type(error).__name__}"
                continue
            return _outcomes(answer, parts)
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
    """A QIDO-RS search for one study (PS3.18 10.6): does the server answer and let us in?

    The whole request is bounded by the destination's timeout; the answer's body is not read.
    """
    clock = Clock()
    clock.deadline = Deadline(destination.timeout)
    with _client(destination, clock) as client:
        try:
            request = client.build_request(
                "GET",
                destination.studies_url,
                params={"limit": "1"},
                headers={"Accept": "application/dicom+json"},
            )
            response = client.send(request, stream=True)
            code, reason = response.status_code, response.reason_phrase
            response.close()
        except httpx.TimeoutException:
            return EchoResult(False, f"No answer from {destination} within {destination.timeout:g} s.")
        except httpx.HTTPError as error:
            detail = destination.redact(str(error)) or type(error).__name__
            return EchoResult(False, f"Cannot reach {destination}: {detail}.")
    if 200 <= code < 300:
        return EchoResult(True, f"{destination} answered HTTP {code}.", code)
    return EchoResult(False, f"{destination} answered HTTP {code} {reason}.", code)
