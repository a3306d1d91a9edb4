"""The batch progress line (files, rate, ETA) and the summary, written to stderr.

The line is redrawn in place on a terminal at most ten times a second; when stderr
is not a terminal (a log file, a pipe, CI) nothing but the summary is written.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.counts = {"converted": 0, "skipped": 0, "failed": 0}
        self.started = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def update(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done == self.total:
            self._drawn = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 24
        filled = width * self.done // self.total if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        failed = f", {self.counts['failed']} failed" if self.counts["failed"] else ""
        return f"[{bar}] {self.done}/{self.total} files{failed}  {rate:.1f} files/s  ETA {_duration(eta)}"

    def _draw(self, now: float) -> None:
        text = self.line(now)
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Erase the bar so a message can take the line (it is redrawn on the next update)."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def close(self) -> None:
        self.clear()

    def summary(self, report: str | None = None) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.counts['converted']} converted"]
        if self.counts["skipped"]:
            parts.append(f"{self.counts['skipped']} skipped")
        parts.append(f"{self.counts['failed']} failed")
        text = f"dicomify: {', '.join(parts)} of {self.total} files in {elapsed:.1f} s ({rate:.1f} files/s)"
        return text + (f"; report: {report}" if report else "")
