"""The per-file report of a batch: JSON lines or CSV, chosen by the file extension.

One row per input. ``convert`` fills the conversion columns, ``send`` (and
``convert --send``) the delivery columns; a column that does not apply stays empty.
Rows are flushed as they are written so an interrupted batch still leaves a
usable report (``--skip-existing`` / ``--skip-sent`` read it back).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["REPORT_COLUMNS", "ReportWriter", "read_report"]

REPORT_COLUMNS = (
    "source",
    "output",
    "status",  # converted | failed | skipped  (or, for `send`: stored | failed | skipped)
    "sop_instance_uid",
    "study_instance_uid",
    "series_instance_uid",
    "sop_class_uid",
    "transfer_syntax",
    "send_status",  # stored | stored-decoded | failed | skipped | "" (not sent)
    "send_transfer_syntax",
    "message",
)


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


class ReportWriter:
    """Write report rows to ``path`` (CSV for ``.csv``, JSON lines otherwise)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(self.path, "w", encoding="utf-8", newline="")
        self._csv: csv.DictWriter[str] | None = None
        if _is_csv(self.path):
            self._csv = csv.DictWriter(self._file, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
            self._csv.writeheader()

    def write(self, row: Mapping[str, Any]) -> None:
        full = {column: "" if row.get(column) is None else str(row.get(column)) for column in REPORT_COLUMNS}
        if self._csv is not None:
            self._csv.writerow(full)
        else:
            self._file.write(json.dumps(full, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_report(path: str | Path) -> Iterator[dict[str, str]]:
    """Rows of a report written by :class:`ReportWriter` (either format)."""
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as file:
        if _is_csv(path):
            yield from csv.DictReader(file)
        else:
            for line in file:
                if line.strip():
                    yield json.loads(line)
