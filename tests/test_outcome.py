"""One record for batch, send and the report: Outcome, its statuses, and reading reports back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pydicom
import pytest
from helpers.batch_tree import picture

import dicomify
from dicomify.batch import BatchResult, ConvertStatus
from dicomify.net import SendResult, SendStatus
from dicomify.outcome import Outcome, uids_in_file, uids_of
from dicomify.report import REPORT_COLUMNS, ReportWriter, delivered_objects, is_delivered, read_outcomes, read_report


def test_batch_and_send_results_are_one_record() -> None:
    assert BatchResult is Outcome and SendResult is Outcome
    assert ConvertStatus.CONVERTED == "converted" and SendStatus.STORED_DECODED == "stored-decoded"


def test_uids_are_read_in_one_place(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    dicomify.convert(picture(tmp_path / "a.jpg"), path)
    ds = pydicom.dcmread(path)
    expected = {
        "sop_instance_uid": ds.SOPInstanceUID,
        "study_instance_uid": ds.StudyInstanceUID,
        "series_instance_uid": ds.SeriesInstanceUID,
        "sop_class_uid": ds.SOPClassUID,
        "transfer_syntax": ds.file_meta.TransferSyntaxUID,
    }
    assert uids_of(ds) == expected == uids_in_file(str(path))
    assert uids_of(pydicom.Dataset()) == dict.fromkeys(expected, "")  # absent: empty, never an error


def test_statuses_are_enums_and_words_are_accepted() -> None:
    converted = Outcome("a.jpg", "converted", "a.dcm")  # type: ignore[arg-type]
    assert converted.status is ConvertStatus.CONVERTED and converted.send_status is None and converted.ok
    sent = dataclasses.replace(converted, send_status="failed")
    assert sent.send_status is SendStatus.FAILED and not sent.ok and not sent.delivered
    stored = Outcome("x.dcm", SendStatus.STORED_DECODED)
    assert stored.send_status is SendStatus.STORED_DECODED and stored.delivered and stored.sent_file == "x.dcm"
    with pytest.raises(ValueError):
        Outcome("a.jpg", "nonsense")  # type: ignore[arg-type]


def test_with_delivery_keeps_the_conversion_and_joins_the_messages() -> None:
    converted = Outcome("a.jpg", ConvertStatus.CONVERTED, "a.dcm", sop_instance_uid="1.2", message="CMYK to RGB")
    sent = Outcome(
        "a.dcm", SendStatus.STORED, sent_transfer_syntax="1.2.840.10008.1.2.1", status_code=0, message="warning"
    )
    both = converted.with_delivery(sent)
    assert both.status is ConvertStatus.CONVERTED and both.send_status is SendStatus.STORED
    assert (both.sent_transfer_syntax, both.status_code, both.message) == (
        "1.2.840.10008.1.2.1",
        0,
        "CMYK to RGB; warning",
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_report_rows_round_trip(tmp_path: Path, suffix: str) -> None:
    outcomes = [
        Outcome("a.jpg", ConvertStatus.CONVERTED, "a.dcm", "1.1", "1.2", "1.3", "1.4", "1.5", SendStatus.STORED, "1.5"),
        Outcome("b.jpg", ConvertStatus.FAILED, message="not a supported picture format"),
        Outcome("c.jpg", ConvertStatus.SKIPPED, "c.dcm", "2.1", send_status=SendStatus.SKIPPED),
        Outcome("d.dcm", SendStatus.STORED_DECODED, sop_instance_uid="3.1", sent_transfer_syntax="1.2.840.10008.1.2.1"),
        Outcome("e.dcm", SendStatus.FAILED, message="refused"),
    ]
    path = tmp_path / f"r{suffix}"
    with ReportWriter(path) as writer:
        for outcome in outcomes:
            writer.write(outcome)
    rows = list(read_report(path))
    assert all(tuple(row) == REPORT_COLUMNS for row in rows)
    # A send report's status column says stored for stored-decoded, as it always did.
    assert [row["status"] for row in rows] == ["converted", "failed", "skipped", "stored", "failed"]
    back = list(read_outcomes(path))
    assert back == [dataclasses.replace(o, status_code=None) for o in outcomes]


def test_reports_of_the_previous_version_are_read(tmp_path: Path) -> None:
    """Rows written before Outcome existed (same columns) read back, and their deliveries count."""
    header = ",".join(REPORT_COLUMNS)
    (tmp_path / "convert.csv").write_text(
        header + "\n"
        f"{tmp_path}/a.jpg,{tmp_path}/a.dcm,converted,1.1,1.2,1.3,1.4,1.2.840.10008.1.2.4.50,stored,1.2.840.10008.1.2.4.50,\n"
        f"{tmp_path}/b.jpg,{tmp_path}/b.dcm,converted,2.1,1.2,1.3,1.4,1.2.840.10008.1.2.1,failed,,refused\n"
        f"{tmp_path}/c.jpg,,failed,,,,,,,,not a picture\n"
    )
    row = dict.fromkeys(REPORT_COLUMNS, "")
    row.update(source=f"{tmp_path}/d.dcm", status="stored", sop_instance_uid="4.1", send_status="stored-decoded")
    (tmp_path / "send.jsonl").write_text(json.dumps(row) + "\n")
    assert delivered_objects(tmp_path / "convert.csv") == {(str(tmp_path / "a.dcm"), "1.1")}
    sent = delivered_objects(tmp_path / "send.jsonl")
    assert sent == {(str(tmp_path / "d.dcm"), "4.1")}
    assert is_delivered(sent, str(tmp_path / "x" / ".." / "d.dcm"), "4.1")  # the same file, another spelling
    assert not is_delivered(sent, str(tmp_path / "d.dcm"), "4.2")  # the file was remade: another object
    assert not is_delivered(sent, "", "4.1")


def test_a_file_that_is_not_a_report_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text("not json\n")
    with pytest.raises(ValueError):
        delivered_objects(tmp_path / "r.jsonl")
    (tmp_path / "r.csv").write_text(",".join(REPORT_COLUMNS) + "\na,b,maybe,,,,,,,,\n")
    with pytest.raises(ValueError):
        delivered_objects(tmp_path / "r.csv")
