"""C-STORE and C-ECHO with pynetdicom: one association for many objects.

Presentation contexts (PS3.8 7.1.1.13, PS3.7 D.3.3.4): for every SOP class seen,
one context proposing the two uncompressed little-endian syntaxes (the fallback
every Storage SCP must accept, PS3.5 10.1), plus one context per other transfer
syntax seen with that class, alone, so the peer accepts or refuses exactly that
syntax instead of quietly picking the uncompressed one. When the peer refuses a
compressed syntax the object is decoded and sent as Explicit VR Little Endian.
An association carries at most 128 contexts (PS3.8 9.3.2.2): when a new object
needs a context the current association lacks, we release it and associate again.
"""

from __future__ import annotations

import gc
import logging
import socket
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from pydicom import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_context
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from pynetdicom.status import code_to_category

from ._config import DicomDestination
from ._items import Item, SendItem, decoded_copy, load, uid_name
from ._result import EchoResult, SendResult, SendStatus
from ._tls import client_context

__all__ = ["DimseSender", "dimse_echo"]

# What dicomify.convert makes (PS3.3 A.8, A.32.4; PS3.5 A.4): proposed up front when
# a sender is opened without knowing its objects (``convert --send``), so that
# converting and sending one by one still needs a single association.
DICOMIFY_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
    "1.2.840.10008.5.1.4.1.1.77.1.4",  # VL Photographic Image Storage
)
DICOMIFY_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian (and Implicit, in the same context)
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51",  # JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless (Process 14)
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.5",  # RLE Lossless
)
DICOMIFY_CONTEXTS = tuple((sop, ts) for sop in DICOMIFY_SOP_CLASSES for ts in DICOMIFY_TRANSFER_SYNTAXES)

MAX_CONTEXTS = 128  # PS3.8 9.3.2.2: presentation context IDs are odd numbers 1..255
NATIVE = "native"  # the key of the uncompressed-little-endian context of a SOP class
_UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)


class _ErrorLog(logging.Handler):
    """Collects pynetdicom's error lines while associating: they carry the reason."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info:
            self.lines.append(record.getMessage())


@contextmanager
def _pynetdicom_errors() -> Iterator[_ErrorLog]:
    handler = _ErrorLog()
    logger = logging.getLogger("pynetdicom")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@contextmanager
def _unclosed_sockets_ignored() -> Iterator[None]:
    """pynetdicom <= 3.0.4 can drop its socket unclosed when a connection fails or is
    aborted (pydicom/pynetdicom#979, fixed by #999 after 3.0.4). The ResourceWarning
    says nothing a caller can act on (the failure itself is in the result), so it
    is silenced here, around the calls that fail, and nowhere else."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def _finish(assoc: Association, timeout: float) -> None:
    """Wait for a failed association's thread to end and free its socket now, not later."""
    with _unclosed_sockets_ignored():
        if assoc.is_alive():
            assoc.join(timeout)
        try:
            sock = assoc.dul.socket.socket  # type: ignore[union-attr]
            if sock is not None:
                sock.close()  # pynetdicom <= 3.0.4 may leave it open after an abort (#979)
        except (AttributeError, OSError):
            pass
        gc.collect()  # a failed TLS handshake leaves the socket in a reference cycle


def _association_failure(assoc: Association, lines: list[str]) -> str:
    """One sentence on why an association did not happen, from pynetdicom's own log lines."""
    useful = [
        line
        for line in lines
        if line.startswith(("TCP Initialisation Error", "Result:", "Reason:", "ACSE timeout", "No accepted"))
    ]
    if not useful and any(line.startswith("Connection closed") for line in lines):
        useful = ["the peer closed the connection without answering"]
    if assoc.is_rejected:
        prefix = "the peer rejected the association"
    elif any(line.startswith("TCP Initialisation Error") for line in useful):
        prefix = "cannot connect"
    elif any(line.startswith("No accepted") for line in useful):
        prefix = "the peer accepted none of the proposed presentation contexts"
        useful = []
    else:
        prefix = "the association was aborted"
    detail = "; ".join(line.replace("TCP Initialisation Error: ", "") for line in useful)
    return f"{prefix} ({detail})" if detail else prefix


def _context_key(sop_class: str, syntax: str) -> tuple[str, str]:
    return (sop_class, NATIVE if syntax in _UNCOMPRESSED else syntax)


def _keys_for(sop_class: str, syntax: str) -> list[tuple[str, str]]:
    """The contexts one object needs: its own syntax, and the uncompressed fallback."""
    keys = [_context_key(sop_class, syntax)]
    if keys[0][1] != NATIVE:
        keys.append((sop_class, NATIVE))
    return keys


def _build(key: tuple[str, str]) -> PresentationContext:
    sop_class, syntax = key
    syntaxes: list[str | UID] = list(_UNCOMPRESSED) if syntax == NATIVE else [syntax]
    return build_context(sop_class, syntaxes)


def _make_ae(destination: DicomDestination) -> AE:
    ae = AE(ae_title=destination.calling_aet)
    ae.acse_timeout = destination.timeout
    ae.dimse_timeout = destination.timeout
    ae.network_timeout = destination.timeout
    ae.connection_timeout = destination.timeout
    ae.maximum_pdu_size = destination.max_pdu
    return ae


def _associate_once(
    ae: AE, destination: DicomDestination, contexts: list[PresentationContext]
) -> tuple[Association | None, str]:
    try:
        # pynetdicom resolves the name inside associate() and lets socket.gaierror escape.
        socket.getaddrinfo(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return None, f"cannot resolve the host name {destination.host!r} ({reason})"
    kwargs: dict[str, Any] = {"ae_title": destination.called_aet, "contexts": contexts, "max_pdu": destination.max_pdu}
    if destination.tls is not None:
        server_name = destination.host if destination.tls.check_hostname else None
        kwargs["tls_args"] = (client_context(destination.tls), server_name)
    with _pynetdicom_errors() as errors, _unclosed_sockets_ignored():
        assoc = ae.associate(destination.host, destination.port, **kwargs)
        if not assoc.is_established:
            _finish(assoc, destination.timeout)
    if assoc.is_established:
        _no_delay(assoc)
        return assoc, ""
    return assoc, _association_failure(assoc, errors.lines)


def _no_delay(assoc: Association) -> None:
    """Turn Nagle's algorithm off: a C-STORE is a small command PDU then the data set,
    and waiting to coalesce them costs a delayed-ACK round trip per object (measured:
    twice the time per object against Orthanc on loopback)."""
    try:
        assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[union-attr]
    except (AttributeError, OSError):  # pynetdicom's internals moved, or the socket is gone
        pass


def _is_permanent(assoc: Association | None, message: str) -> bool:
    """A permanent rejection (PS3.8 9.3.4, e.g. a wrong called AE title) will not change on retry."""
    return assoc is not None and assoc.is_rejected and "Rejected Permanent" in message


class DimseSender:
    """Sends objects by C-STORE over as few associations as the objects allow.

    Use as a context manager; :meth:`send` returns a :class:`SendResult` for
    every object and never raises for a network outcome. ``expected`` lists the
    (SOP Class UID, Transfer Syntax UID) pairs to come, so the first association
    proposes them all; None proposes what ``dicomify.convert`` makes. An object
    outside them is still sent, over a new association that adds its contexts.
    """

    def __init__(self, destination: DicomDestination, expected: Iterable[tuple[str, str]] | None = None) -> None:
        self.destination = destination
        self._ae = _make_ae(destination)
        self._wanted: dict[tuple[str, str], None] = {}  # an ordered set of context keys
        for sop_class, syntax in DICOMIFY_CONTEXTS if expected is None else expected:
            self._want(sop_class, syntax)
        self._assoc: Association | None = None
        self._proposed: set[tuple[str, str]] = set()
        self._used: set[tuple[str, str]] = set()  # keys an object has needed so far
        self._unreachable = ""  # set once every attempt to associate failed
        self._message_id = 0
        self.associations = 0  # how many associations were opened, for the curious and the tests

    def _want(self, sop_class: str, syntax: str) -> None:
        for key in _keys_for(sop_class, syntax):
            self._wanted.setdefault(key, None)

    # -- associations ---------------------------------------------------------

    def _contexts_for(self, item: Item) -> list[tuple[str, str]]:
        """The keys to propose, at most 128: this object's, then those no object has used yet, then the rest."""
        first = _keys_for(item.sop_class_uid, item.transfer_syntax)
        unused = [key for key in self._wanted if key not in first and key not in self._used]
        used = [key for key in self._wanted if key not in first and key in self._used]
        return (first + unused + used)[:MAX_CONTEXTS]

    def _release(self) -> None:
        if self._assoc is not None:
            if self._assoc.is_established:
                self._assoc.release()
            self._assoc = None
            self._proposed = set()

    def _abort(self) -> None:
        if self._assoc is not None:
            with _unclosed_sockets_ignored():
                if self._assoc.is_established:
                    self._assoc.abort()
                _finish(self._assoc, self.destination.timeout)
            self._assoc = None
            self._proposed = set()

    def _ensure_association(self, item: Item) -> str:
        """Associate so that ``item`` can travel; an error message, or "" when ready."""
        self._want(item.sop_class_uid, item.transfer_syntax)
        needed = set(_keys_for(item.sop_class_uid, item.transfer_syntax))
        self._used |= needed
        if self._assoc is not None and self._assoc.is_established and needed <= self._proposed:
            return ""
        self._release()
        keys = self._contexts_for(item)
        contexts = [_build(key) for key in keys]
        message = ""
        for attempt in range(1 + self.destination.retries):
            if attempt:
                time.sleep(self.destination.backoff * 2 ** (attempt - 1))
            assoc, message = _associate_once(self._ae, self.destination, contexts)
            if not message:
                self._assoc = assoc
                self._proposed = set(keys)
                self.associations += 1
                return ""
            if _is_permanent(assoc, message) or "accepted none" in message:
                break
        return f"{message} at {self.destination}"

    # -- sending --------------------------------------------------------------

    def _choose(self, item: Item) -> tuple[str, bool] | str:
        """(transfer syntax to send in, decode first?) or why the object cannot go."""
        assert self._assoc is not None
        accepted = {(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in self._assoc.accepted_contexts}
        sop_class, syntax = str(item.sop_class_uid), str(item.transfer_syntax)
        if (sop_class, syntax) in accepted:
            return syntax, False
        native = [ts for ts in _UNCOMPRESSED if (sop_class, str(ts)) in accepted]
        if not native:
            return f"Not stored: the peer refused SOP class {uid_name(sop_class)}."
        if item.transfer_syntax.is_compressed:
            return str(ExplicitVRLittleEndian if ExplicitVRLittleEndian in native else native[0]), True
        if item.transfer_syntax.is_little_endian:
            return str(native[0]), False  # pynetdicom re-encodes explicit <-> implicit, inflates deflate
        return f"Not stored: the peer refused transfer syntax {uid_name(syntax)}."

    def _store(self, dataset: Dataset) -> Dataset:
        assert self._assoc is not None
        self._message_id = self._message_id % 65535 + 1
        return self._assoc.send_c_store(dataset, msg_id=self._message_id)

    def send(self, source: SendItem) -> SendResult:
        """Store one file or dataset; the outcome as data."""
        loaded = load(source)
        if isinstance(loaded, SendResult):
            return loaded
        item = loaded
        if self._unreachable:
            return item.result(SendStatus.FAILED, f"Not sent: {self._unreachable}.")
        last = ""
        attempts = 1 + self.destination.retries
        attempt = 0
        while attempt < attempts:
            if attempt:
                time.sleep(self.destination.backoff * 2 ** (attempt - 1))
            attempt += 1
            opened = self.associations
            problem = self._ensure_association(item)
            if problem:
                if "accepted none" in problem:
                    return item.result(
                        SendStatus.FAILED,
                        f"Not stored: the peer refused SOP class {uid_name(item.sop_class_uid)}"
                        f" (it accepted no presentation context at {self.destination}).",
                    )
                if "rejected" not in problem:
                    self._unreachable = problem  # the rest of the batch fails fast; a rerun sends it
                return item.result(SendStatus.FAILED, f"Not sent: {problem}.")
            reused = opened == self.associations
            choice = self._choose(item)
            if isinstance(choice, str):
                return item.result(SendStatus.FAILED, choice)
            syntax, decode = choice
            dataset = item.dataset
            if decode:
                try:
                    dataset = decoded_copy(item)
                except Exception as error:  # a missing codec plugin names what to install
                    return item.result(
                        SendStatus.FAILED,
                        f"Not stored: the peer refused {item.transfer_syntax.name} and decoding failed: {error}",
                    )
            try:
                with _pynetdicom_errors() as errors:
                    status = self._store(dataset)
            except Exception as error:  # an object pydicom cannot encode: this file fails, not the batch
                return item.result(SendStatus.FAILED, f"Not stored: cannot encode the object: {error}")
            if "Status" in status:
                return self._outcome(item, status, syntax, decode)
            # No response: the association was aborted or timed out. One the peer
            # closed while idle (Orthanc's DicomScpTimeout) is not the object's
            # fault: that try does not count.
            last = "; ".join(errors.lines[-2:]) or "no response from the peer"
            self._abort()
            if reused and attempts == 1 + self.destination.retries:
                attempts += 1
        return item.result(SendStatus.FAILED, f"Not stored: {last} (after {attempts} attempts).")

    def send_many(self, sources: Iterable[SendItem]) -> Iterator[SendResult]:
        """Store many, in order, over as few associations as they allow."""
        for source in sources:
            yield self.send(source)

    def _outcome(self, item: Item, status: Dataset, syntax: str, decoded: bool) -> SendResult:
        code = int(status.Status)
        category = code_to_category(code)
        comment = str(status.get("ErrorComment", "") or "")
        if category in ("Success", "Warning"):
            stored = SendStatus.STORED_DECODED if decoded else SendStatus.STORED
            notes = []
            if decoded:
                notes.append(f"the peer refused {item.transfer_syntax.name}, sent decoded as {UID(syntax).name}")
            if category == "Warning":
                notes.append(f"warning status 0x{code:04X}{': ' + comment if comment else ''}")
            return item.result(stored, "; ".join(notes), sent=syntax, code=code)
        detail = f": {comment}" if comment else ""
        return item.result(
            SendStatus.FAILED,
            f"Not stored: the peer answered {category.lower()} status 0x{code:04X}{detail}.",
            code=code,
        )

    def close(self) -> None:
        self._release()

    def __enter__(self) -> DimseSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self._release()
        else:
            self._abort()


def dimse_echo(destination: DicomDestination) -> EchoResult:
    """C-ECHO (PS3.7 9.1.5): can we associate and does the peer answer?"""
    ae = _make_ae(destination)
    contexts = [build_context(Verification)]
    message = ""
    for attempt in range(1 + destination.retries):
        if attempt:
            time.sleep(destination.backoff * 2 ** (attempt - 1))
        assoc, message = _associate_once(ae, destination, contexts)
        if not message and assoc is not None:
            try:
                status = assoc.send_c_echo()
            finally:
                if assoc.is_established:
                    assoc.release()
            if "Status" in status:
                code = int(status.Status)
                if code == 0:
                    return EchoResult(True, f"{destination} answered C-ECHO with success.", code)
                return EchoResult(False, f"{destination} answered C-ECHO with status 0x{code:04X}.", code)
            message = "no C-ECHO response"
            continue
        if _is_permanent(assoc, message):
            break
    return EchoResult(False, f"C-ECHO failed: {message} at {destination}.")
