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

import os
from collections.abc import Iterable, Iterator
from types import TracebackType

from pydicom import Dataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from pynetdicom import build_context
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    Verification,
    VLPhotographicImageStorage,
)
from pynetdicom.status import code_to_category

from ._assoc import Attempts, Deadline, associate, finish, is_permanent, make_ae, watchdog
from ._config import DicomDestination
from ._items import Item, SendItem, decoded_copy, load, uid_name
from ._result import EchoResult, SendResult, SendStatus

__all__ = ["DimseSender", "dimse_echo"]

# What dicomify.convert makes (PS3.3 A.8, A.32.4; PS3.5 A.4): proposed up front when
# a sender is opened without knowing its objects (``convert --send``), so that
# converting and sending one by one still needs a single association.
DICOMIFY_SOP_CLASSES = (
    SecondaryCaptureImageStorage,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    VLPhotographicImageStorage,
)
DICOMIFY_TRANSFER_SYNTAXES = (
    ExplicitVRLittleEndian,  # and Implicit, in the same context
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEG2000Lossless,
    RLELossless,
)
DICOMIFY_CONTEXTS = tuple((str(sop), str(ts)) for sop in DICOMIFY_SOP_CLASSES for ts in DICOMIFY_TRANSFER_SYNTAXES)

MAX_CONTEXTS = 128  # PS3.8 9.3.2.2: presentation context IDs are odd numbers 1..255
NATIVE = "native"  # the key of the uncompressed-little-endian context of a SOP class
_UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)


def _size_of(item: Item) -> int:
    """About how many bytes the object is on the wire: its file's size, or its pixel data's."""
    try:
        if item.source:
            return os.path.getsize(item.source)
        pixels = item.dataset.get("PixelData")
        return len(pixels) if pixels is not None else 0
    except (OSError, TypeError):
        return 0


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
        self._ae = make_ae(destination)
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
            if self._assoc.is_established:
                self._assoc.abort()
            finish(self._assoc, self.destination.timeout)
            self._assoc = None
            self._proposed = set()

    def _ready_for(self, item: Item) -> bool:
        """Can ``item`` travel over the current association?"""
        self._want(item.sop_class_uid, item.transfer_syntax)
        needed = set(_keys_for(item.sop_class_uid, item.transfer_syntax))
        self._used |= needed
        return self._assoc is not None and self._assoc.is_established and needed <= self._proposed

    def _associate_for(self, item: Item, deadline: Deadline) -> tuple[str, bool]:
        """Associate (once) so that ``item`` can travel: ("", _) when ready, else (why not, permanent?)."""
        self._release()
        keys = self._contexts_for(item)
        assoc, message = associate(self._ae, self.destination, [_build(key) for key in keys], deadline)
        if message:
            return f"{message} at {self.destination}", is_permanent(assoc) or "accepted none" in message
        self._assoc = assoc
        self._proposed = set(keys)
        self.associations += 1
        return "", False

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
        """Store one file or dataset; the outcome as data.

        Each attempt (associating if needed, then the C-STORE) must be over within
        the destination's timeout; a failed attempt is retried with backoff.
        """
        loaded = load(source)
        if isinstance(loaded, SendResult):
            return loaded
        item = loaded
        if self._unreachable:
            return item.result(SendStatus.FAILED, f"Not sent: {self._unreachable}.")
        last = ""
        attempts = Attempts(self.destination.retries, self.destination.backoff)
        forgiven = False
        unreachable = False
        for _ in attempts:
            deadline = Deadline(self.destination.timeout, upload=_size_of(item))
            reused = self._ready_for(item)
            if not reused:
                problem, permanent = self._associate_for(item, deadline)
                unreachable = bool(problem)
                if problem:
                    last = problem
                    if "accepted none" in problem:
                        return item.result(
                            SendStatus.FAILED,
                            f"Not stored: the peer refused SOP class {uid_name(item.sop_class_uid)}"
                            f" (it accepted no presentation context at {self.destination}).",
                        )
                    if permanent:
                        return item.result(SendStatus.FAILED, f"Not sent: {problem}.")
                    continue
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
            assert self._assoc is not None
            try:
                with watchdog(deadline, assoc=self._assoc):
                    status = self._store(dataset)
            except Exception as error:  # an object pydicom cannot encode: this file fails, not the batch
                return item.result(SendStatus.FAILED, f"Not stored: cannot encode the object: {error}")
            if "Status" in status:
                return self._outcome(item, status, syntax, decode)
            # No response: the association was aborted or timed out. One the peer
            # closed while idle (Orthanc's DicomScpTimeout) is not the object's
            # fault: that try does not count.
            if deadline.expired:
                last = f"no answer within {self.destination.timeout:g} s"
            else:
                last = "the association was aborted (the peer closed the connection without answering)"
            self._abort()
            if reused and not forgiven:
                forgiven = True
                attempts.retries += 1
        if unreachable:
            self._unreachable = last  # the rest of the batch fails fast; a rerun sends it
            return item.result(SendStatus.FAILED, f"Not sent: {last}.")
        return item.result(SendStatus.FAILED, f"Not stored: {last} (after {attempts.made} attempts).")

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
    """C-ECHO (PS3.7 9.1.5): can we associate and does the peer answer?

    The whole exchange (connecting, associating, the echo, releasing) ends within the
    destination's timeout, however slowly the peer answers.
    """
    ae = make_ae(destination)
    contexts = [build_context(Verification)]
    message = ""
    for _ in Attempts(destination.retries, destination.backoff):
        deadline = Deadline(destination.timeout)
        assoc, message = associate(ae, destination, contexts, deadline)
        if message:
            if is_permanent(assoc):
                break
            continue
        with watchdog(deadline, assoc=assoc):
            try:
                status = assoc.send_c_echo()
            finally:
                if assoc.is_established:
                    assoc.release()
                finish(assoc, destination.timeout)
        if "Status" in status:
            code = int(status.Status)
            if code == 0:
                return EchoResult(True, f"{destination} answered C-ECHO with success.", code)
            return EchoResult(False, f"{destination} answered C-ECHO with status 0x{code:04X}.", code)
        message = f"no answer within {destination.timeout:g} s" if deadline.expired else "no C-ECHO response"
    return EchoResult(False, f"C-ECHO failed: {message} at {destination}.")
