"""The per-file report of a batch: JSON lines or CSV, chosen by the file extension.

One row per input: an :class:`~dicomify.outcome.Outcome`. ``convert`` fills the
conversion columns, ``send`` (and ``convert --send``) the delivery columns; a column
that does not apply stays empty. Rows are flushed as they are written so an
interrupted batch still leaves a usable report; :func:`delivered_objects` reads one
back for ``skip_sent`` (``--skip-sent``), the one place reports are read for that.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .outcome import Outcome

__all__ = ["REPORT_COLUMNS", "ReportWriter", "delivered_objects", "is_delivered", "read_outcomes", "read_report"]

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

    def write(self, row: Outcome | Mapping[str, Any]) -> None:
        """Write one row (an :class:`Outcome`, or a mapping by column name) and flush it."""
        if isinstance(row, Outcome):
            row = row.report_row()
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


def read_report(path: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """Rows of a report written by :class:`ReportWriter` (either format)."""
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as file:
        if _is_csv(path):
            yield from csv.DictReader(file)
        else:
            for line in file:
                if line.strip():
                    yield json.loads(line)


def read_outcomes(path: str | os.PathLike[str]) -> Iterator[Outcome]:
    """The :class:`Outcome` of every row of a report (see :meth:`Outcome.from_row`).

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When it is not a report (bad JSON, unknown status words).
    """
    for row in read_report(path):
        yield Outcome.from_row(row)


def _key(path: str) -> str:
    return os.path.realpath(path)


def delivered_objects(path: str | os.PathLike[str]) -> set[tuple[str, str]]:
    """(real path of the DICOM file, SOP Instance UID) of every object a report says was delivered.

    The file is the row's ``output`` for a conversion report and its ``source`` for a
    send report; rows whose send status is stored, stored-decoded or skipped (written
    only for objects an even earlier run stored) count. :func:`is_delivered` asks
    whether an object is in the set.

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When it is not a report.
    """
    return {
        (_key(outcome.sent_file), outcome.sop_instance_uid)
        for outcome in read_outcomes(path)
        if outcome.delivered and outcome.sop_instance_uid and outcome.sent_file
    }


def is_delivered(delivered: set[tuple[str, str]], file: str, sop_instance_uid: str) -> bool:
    """Whether ``file`` holding ``sop_instance_uid`` is among :func:`delivered_objects`."""
    return bool(file) and (_key(file), sop_instance_uid) in delivered
