"""``dicomify serve`` as a real process on a free loopback port, for the tests."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class ServerProcess:
    """``python -m dicomify serve --config FILE --port 0``; ``url`` once it listens."""

    def __init__(self, folder: Path, sections: dict[str, dict[str, Any]], *extra: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.temp = folder / "private"
        sections = {**sections, "server": {"temp_dir": str(self.temp), **sections.get("server", {})}}
        self.config = write_config(folder / "serve.toml", sections)
        self.log = folder / "server.log"
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dicomify", "serve", "--config", str(self.config), "--port", "0", *self.extra],
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dicomify serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                if b"listening on " in line:
                    self.url = line.decode().split("listening on ", 1)[1].strip().rstrip("/")
                    httpx.get(f"{self.url}/api/health", timeout=10).raise_for_status()
                    return self
        self.stop()
        raise RuntimeError(f"dicomify serve did not start within {START_TIMEOUT} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")
