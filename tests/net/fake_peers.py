"""Misbehaving peers on loopback, for the faults a real Orthanc cannot show on purpose.

- :class:`FakeStow`: an HTTP server answering every request as a test scripts it (an
  HTML page with 200, malformed DICOM JSON, a huge body, 503 with Retry-After, a body
  trickled one byte at a time).
- :class:`TricklingProxy`: a TCP relay to a real peer that passes the peer's answers on
  one byte at a time, so the DICOM bytes are the real peer's, only slow.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between single bytes of the body (0: all at once)
    chunks: int = 0  # send the body this many times (a long stream without Content-Length)
    slow_headers: bool = False  # trickle the status line and headers too


class FakeStow:
    """Answers each request with the next scripted :class:`Reply` (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                reply = fake.replies[min(len(fake.requests) - 1, len(fake.replies) - 1)]
                if reply.slow_headers:
                    head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body)}\r\n\r\n".encode()
                    try:
                        for byte in head + reply.body:
                            self.wfile.write(bytes([byte]))
                            time.sleep(reply.trickle)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                try:
                    if reply.chunks:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for _ in range(reply.chunks):
                            self.wfile.write(reply.body)
                        return
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.trickle:
                        for byte in reply.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            do_POST = _answer
            do_GET = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/dicom-web"

    def __enter__(self) -> FakeStow:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class TricklingProxy:
    """Relays TCP to ``port``; the peer's bytes reach the client ``delay`` seconds apart."""

    def __init__(self, port: int, delay: float = 1.0) -> None:
        self.target = port
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []

    def _pump(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        try:
            while not self._stop.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if not slow:
                    sink.sendall(data)
                    continue
                for byte in data:
                    if self._stop.is_set():
                        return
                    sink.sendall(bytes([byte]))
                    time.sleep(self.delay)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def __enter__(self) -> TricklingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``call()``'s result and how many seconds it took."""
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start
