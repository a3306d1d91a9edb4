"""The per-file report of a batch: JSON lines or CSV, chosen by the file extension.

One row per input: an :class:`~dicomify.outcome.Outcome`. ``convert`` fills the
conversion columns, ``send`` (and ``convert --send``) the delivery columns; a column
that does not apply stays empty. Rows are flushed as they are written so an
interrupted batch still leaves a usable report; :func:`delivered_objects` reads one
back for ``skip_sent`` (``--skip-sent``), the one place reports are read for that.
"""

from __future__ import annotations

import csv
import errno
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ._files import os_reason
from ._text import printable
from .errors import OutputError
from .outcome import Outcome, SendStatus

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


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    """A cell that a spreadsheet shows as text and that stays on one line.

    Control characters become escapes; a cell that would start a formula gets a
    leading ``'`` (and so does one that starts with ``'``, so that reading strips
    exactly what was added).
    """
    value = printable(value)
    return "'" + value if value.startswith((*_FORMULA_START, "'")) else value


def _csv_value(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


class ReportWriter:
    """Write report rows to ``path`` (CSV for ``.csv``, JSON lines otherwise).

    JSON lines keep every value exactly (a file name that is not UTF-8 is written with
    JSON's ``\\udcXX`` escapes and read back unchanged). CSV cells are made safe for a
    spreadsheet: no formulas, no control characters (those are written as escapes).

    Raises
    ------
    OutputError
        The report cannot be created, or a row cannot be written (a full disk).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            if self.path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a folder, not a file")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # backslashreplace: an undecodable file name (a lone surrogate) becomes
            # "\\udcXX", which in a JSON string is that very character again.
            self._file: IO[str] = open(self.path, "w", encoding="utf-8", errors="backslashreplace", newline="")
        except OSError as error:
            raise OutputError(f"report {self.path}: cannot write ({os_reason(error)})") from None
        self._csv: csv.DictWriter[str] | None = None
        if _is_csv(self.path):
            self._csv = csv.DictWriter(self._file, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
            self._guarded(self._csv.writeheader)

    def _guarded(self, action: Callable[[], object]) -> None:
        try:
            action()
            self._file.flush()
        except OSError as error:
            raise OutputError(f"report {self.path}: cannot write ({os_reason(error)})") from None

    def write(self, row: Outcome | Mapping[str, Any]) -> None:
        """Write one row (an :class:`Outcome`, or a mapping by column name) and flush it."""
        if isinstance(row, Outcome):
            row = row.report_row()
        full = {column: "" if row.get(column) is None else str(row.get(column)) for column in REPORT_COLUMNS}
        if self._csv is not None:
            writer = self._csv
            self._guarded(lambda: writer.writerow({k: _csv_cell(v) for k, v in full.items()}))
        else:
            line = json.dumps(full, ensure_ascii=False) + "\n"
            self._guarded(lambda: self._file.write(line))

    def close(self) -> None:
        """Close the report; a failure to flush its last bytes is an :class:`OutputError`."""
        if self._file.closed:
            return
        try:
            self._file.close()
        except OSError as error:
            raise OutputError(f"report {self.path}: cannot write ({os_reason(error)})") from None

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
            for row in csv.DictReader(file):
                yield {key: _csv_value(value or "") for key, value in row.items()}
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


def delivered_objects(path: str | os.PathLike[str], committed_only: bool = False) -> set[tuple[str, str]]:
    """(real path of the DICOM file, SOP Instance UID) of every object a report says was delivered.

    The file is the row's ``output`` for a conversion report and its ``source`` for a
    send report; rows whose send status is stored, stored-decoded or skipped (written
    only for objects an even earlier run stored) or committed count; with
    ``committed_only`` (a run that asks for storage commitment) only committed rows do.
    :func:`is_delivered` asks whether an object is in the set.

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
        if outcome.delivered
        and outcome.sop_instance_uid
        and outcome.sent_file
        and (not committed_only or outcome.send_status is SendStatus.COMMITTED)
    }


def is_delivered(delivered: set[tuple[str, str]], file: str, sop_instance_uid: str) -> bool:
    """Whether ``file`` holding ``sop_instance_uid`` is among :func:`delivered_objects`."""
    return bool(file) and (_key(file), sop_instance_uid) in delivered
