"""Associating with a DICOM peer, retrying, and one deadline per exchange.

Shared by every DIMSE service dicomify uses (C-STORE, C-ECHO, C-FIND, N-ACTION):

- :class:`Deadline`: ``--timeout`` bounds a whole exchange, not each read, so a peer
  that trickles one byte a second cannot hold us past it.
- :class:`Attempts`: the one retry loop (exponential backoff, capped by the deadline,
  a server's ``Retry-After`` honoured up to a cap).
- :func:`associate`: an association, or one sentence on why not, taken from
  pynetdicom's rejection primitive and its event handlers (never from its log text).
"""

from __future__ import annotations

import gc
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext

from ._config import DicomDestination
from ._tls import client_context

__all__ = [
    "MAX_RETRY_AFTER",
    "SLOWEST_UPLOAD",
    "Attempts",
    "Deadline",
    "associate",
    "finish",
    "is_permanent",
    "make_ae",
    "watchdog",
]

#: the longest ``Retry-After`` we wait for (seconds); a server asking for more is failed now
MAX_RETRY_AFTER = 60.0
#: bytes a second an upload may be as slow as: the deadline of an exchange that sends an
#: object grows by its size at this rate, so a large object on a slow link is not cut off
SLOWEST_UPLOAD = 1024 * 1024


class Deadline:
    """A point in time an exchange must be over by (``time.monotonic`` based)."""

    def __init__(self, seconds: float, upload: int = 0) -> None:
        """``seconds`` from now, plus one second per :data:`SLOWEST_UPLOAD` bytes of ``upload``."""
        self.seconds = seconds + upload / SLOWEST_UPLOAD
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left, never below a millisecond (0 would make a socket non-blocking)."""
        return max(self.end - time.monotonic(), 0.001)

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end


class Attempts:
    """``for attempt in Attempts(retries, backoff): ...``: the first try, then up to ``retries`` more.

    Before each retry it sleeps ``backoff``, then twice that, and so on, or what
    :meth:`wait_at_least` asked for (a server's ``Retry-After``, capped at
    :data:`MAX_RETRY_AFTER`). With a ``deadline`` it stops when the wait would end
    past it. ``break`` out of the loop on success or on a permanent failure.
    """

    def __init__(self, retries: int, backoff: float, deadline: Deadline | None = None) -> None:
        self.retries = retries
        self.backoff = backoff
        self.deadline = deadline
        self._asked: float | None = None
        self.made = 0

    def wait_at_least(self, seconds: float) -> bool:
        """Wait ``seconds`` before the next try; False (and no retry) if that is over the cap."""
        if seconds > MAX_RETRY_AFTER:
            self.retries = self.made - 1  # no further attempt
            return False
        self._asked = max(seconds, 0.0)
        return True

    def __iter__(self) -> Iterator[int]:
        while self.made < 1 + self.retries:
            if self.made:
                delay = self.backoff * 2 ** (self.made - 1) if self._asked is None else self._asked
                self._asked = None
                if self.deadline is not None and time.monotonic() + delay >= self.deadline.end:
                    return
                time.sleep(delay)
            self.made += 1
            yield self.made - 1


def finish(assoc: Association, timeout: float) -> None:
    """Wait for a failed association's thread to end and free its socket now, not later.

    pynetdicom <= 3.0.4 can drop its socket unclosed when a connection fails or is
    aborted (pydicom/pynetdicom#979, fixed by #999 after 3.0.4); what is still reachable
    is closed here. What it dropped is collected with a ``ResourceWarning``, which
    Python ignores by default; it is not silenced here, because changing the warning
    filters is process-wide (not thread-safe) and this runs on the server's threads.
    """
    if assoc.is_alive():
        assoc.join(timeout)
    try:
        sock = assoc.dul.socket.socket  # type: ignore[union-attr]
        if sock is not None:
            sock.close()  # pynetdicom <= 3.0.4 may leave it open after an abort (#979)
    except (AttributeError, OSError):
        pass
    gc.collect()  # a failed TLS handshake leaves the socket in a reference cycle


def make_ae(destination: DicomDestination, ae_title: str | None = None) -> AE:
    ae = AE(ae_title=ae_title or destination.calling_aet)
    ae.acse_timeout = destination.timeout
    ae.dimse_timeout = destination.timeout
    ae.network_timeout = destination.timeout
    ae.connection_timeout = destination.timeout
    ae.maximum_pdu_size = destination.max_pdu
    return ae


class _Watch:
    """What the event handlers saw of one association attempt."""

    def __init__(self) -> None:
        self.connected = False
        self.closed_by_peer = False
        self.assoc: Association | None = None

    def on_open(self, event: Any) -> None:
        self.connected = True
        self.assoc = event.assoc

    def on_close(self, event: Any) -> None:
        self.closed_by_peer = True


def _why_not_connected(destination: DicomDestination, deadline: Deadline) -> str:
    """The operating system's (or the TLS library's) reason, from one probe connection.

    pynetdicom reports a failed connection only in its log; trying once more with the
    socket module gives the reason as an exception we can quote.
    """
    try:
        with socket.create_connection((destination.host, destination.port), timeout=deadline.remaining()) as sock:
            if destination.tls is None:
                return "cannot connect"
            context = client_context(destination.tls)
            server_name = destination.host if destination.tls.check_hostname else None
            with context.wrap_socket(sock, server_hostname=server_name):
                return "cannot connect (the TLS handshake failed)"
    except ssl.SSLError as error:
        return f"cannot connect ({error})"
    except TimeoutError:
        return f"cannot connect (no answer within {destination.timeout:g} s)"
    except OSError as error:
        return f"cannot connect ({error.strerror or error})"


def _failure(assoc: Association, watch: _Watch, destination: DicomDestination, deadline: Deadline) -> str:
    """One sentence on why an association did not happen."""
    if assoc.is_rejected:
        answer = assoc.acceptor.primitive
        if answer is not None:
            return f"the peer rejected the association ({answer.result_str}; {answer.source_str}; {answer.reason_str})"
        return "the peer rejected the association"
    if not watch.connected:
        return _why_not_connected(destination, deadline)
    answer = assoc.acceptor.primitive
    if answer is not None and answer.result == 0x00 and not assoc.accepted_contexts:
        return "the peer accepted none of the proposed presentation contexts"
    if deadline.expired:
        return f"no answer within {destination.timeout:g} s"
    if watch.closed_by_peer:
        return "the association was aborted (the peer closed the connection without answering)"
    return "the association was aborted"


def is_permanent(assoc: Association) -> bool:
    """A permanent rejection (PS3.8 9.3.4, e.g. a wrong called AE title) will not change on retry."""
    answer = assoc.acceptor.primitive
    return bool(assoc.is_rejected and answer is not None and answer.result == 0x01)


@contextmanager
def watchdog(deadline: Deadline, watch: _Watch | None = None, assoc: Association | None = None) -> Iterator[None]:
    """Shut the association's socket down when ``deadline`` passes, whatever it is waiting for.

    pynetdicom's timeouts bound each wait; a peer sending one byte at a time resets
    them. Shutting the socket wakes every blocked read, so the exchange ends at the
    deadline with the failure pynetdicom reports for a dropped connection.
    """

    def fire() -> None:
        target = assoc if assoc is not None else watch.assoc if watch is not None else None
        try:
            sock = target.dul.socket.socket  # type: ignore[union-attr]
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass

    timer = threading.Timer(deadline.remaining(), fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def associate(
    ae: AE,
    destination: DicomDestination,
    contexts: Sequence[PresentationContext],
    deadline: Deadline,
    handlers: Sequence[tuple[Any, Any]] = (),
    ext_neg: Sequence[Any] | None = None,
) -> tuple[Association, str]:
    """Associate; (association, "") on success, or (association, why not)."""
    unknown = _unresolvable(destination)
    if unknown:
        # pynetdicom resolves the name inside associate() and lets socket.gaierror
        # escape; an association that never started stands for the failed attempt.
        return Association(ae, "requestor"), unknown
    watch = _Watch()
    bound = [(evt.EVT_CONN_OPEN, watch.on_open), (evt.EVT_CONN_CLOSE, watch.on_close), *handlers]
    kwargs: dict[str, Any] = {
        "ae_title": destination.called_aet,
        "contexts": list(contexts),
        "max_pdu": destination.max_pdu,
        "evt_handlers": bound,
    }
    if ext_neg:
        kwargs["ext_neg"] = list(ext_neg)
    if destination.tls is not None:
        server_name = destination.host if destination.tls.check_hostname else None
        kwargs["tls_args"] = (client_context(destination.tls), server_name)
    for name in ("acse_timeout", "connection_timeout"):
        setattr(ae, name, min(destination.timeout, deadline.remaining()))
    with watchdog(deadline, watch):
        assoc = ae.associate(destination.host, destination.port, **kwargs)
        if not assoc.is_established or not assoc.accepted_contexts:
            message = _failure(assoc, watch, destination, deadline)
            if assoc.is_established:
                assoc.abort()
            finish(assoc, destination.timeout)
            return assoc, message
    _no_delay(assoc)
    return assoc, ""


def _unresolvable(destination: DicomDestination) -> str:
    """Why the peer's host name does not resolve, or "" when it does."""
    try:
        socket.getaddrinfo(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return f"cannot resolve the host name {destination.host!r} ({reason})"
    return ""


def _no_delay(assoc: Association) -> None:
    """Turn Nagle's algorithm off: a C-STORE is a small command PDU then the data set,
    and waiting to coalesce them costs a delayed-ACK round trip per object (measured:
    twice the time per object against Orthanc on loopback)."""
    try:
        assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[union-attr]
    except (AttributeError, OSError):  # pynetdicom's internals moved, or the socket is gone
        pass
