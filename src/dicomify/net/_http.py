"""An httpx client whose requests end by a deadline, however slowly the server answers.

httpx's timeouts bound each socket operation, and httpcore fixes the read timeout
once per response phase: a server sending one byte a second never trips it. The
client made here runs on an httpcore network backend whose every connect, read and
write is bounded by the time left before :attr:`Clock.deadline`, so ``--timeout`` is
a deadline for the whole exchange (connecting, sending, the whole answer).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpcore
import httpx

from ._assoc import Deadline

__all__ = ["Clock", "deadline_client"]


class Clock:
    """The deadline of the request in flight (None: only httpx's own timeouts apply)."""

    def __init__(self) -> None:
        self.deadline: Deadline | None = None

    def bound(self, timeout: float | None, error: type[Exception]) -> float | None:
        if self.deadline is None:
            return timeout
        if self.deadline.expired:
            raise error(f"no complete answer within {self.deadline.seconds:g} s")
        remaining = self.deadline.remaining()
        return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, clock: Clock) -> None:
        self._stream = stream
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._clock.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._clock.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = self._clock.bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, bounded), self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, clock: Clock) -> None:
        self._backend = httpcore.SyncBackend()
        self._clock = clock

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        bounded = self._clock.bound(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, bounded, local_address, socket_options)
        return _Stream(stream, self._clock)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        bounded = self._clock.bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, bounded, socket_options), self._clock)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's transport (its request mapping and exception translation) over :class:`_Backend`."""

    def __init__(self, verify: ssl.SSLContext | bool, clock: Clock) -> None:
        super().__init__(verify=verify)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify), network_backend=_Backend(clock)
        )


def deadline_client(verify: ssl.SSLContext | bool, clock: Clock, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` (``kwargs`` as for it) whose requests obey ``clock.deadline``."""
    return httpx.Client(transport=_Transport(verify, clock), verify=verify, **kwargs)
