"""The library's convert-then-send pipeline (dicomify.batch.pipeline), against the real Orthanc.

It lives beside the other delivery tests for their Orthanc fixtures; what `convert --send`
adds on top (flags, report, exit code) is in test_convert_send.py.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from helpers.batch_tree import tree

from dicomify.batch import ConvertStatus, convert_and_send, convert_file, deliver
from dicomify.cli import main
from dicomify.errors import DicomifyError, NetworkError
from dicomify.net import DicomDestination, SendStatus
from dicomify.report import ReportWriter, read_report

from .orthanc_server import ORTHANC_AET, Orthanc, free_port


def at(server: Orthanc) -> DicomDestination:
    return DicomDestination("127.0.0.1", server.dicom_port, called_aet=ORTHANC_AET, backoff=0.05)


def test_convert_and_send_yields_one_outcome_per_input(orthanc_disposable: Orthanc, tmp_path: Path) -> None:
    tree(tmp_path)
    run = convert_and_send([tmp_path / "photos"], tmp_path / "out", at(orthanc_disposable), jobs=2, PatientID="P7")
    assert run.total == 4
    outcomes = {Path(o.source).name: o for o in run}
    assert outcomes["bad.png"].status is ConvertStatus.FAILED and outcomes["bad.png"].send_status is None
    good = [o for name, o in outcomes.items() if name != "bad.png"]
    assert all(o.status is ConvertStatus.CONVERTED and o.send_status is SendStatus.STORED for o in good)
    assert all(o.sent_transfer_syntax == o.transfer_syntax and o.status_code == 0 for o in good)
    stored = sorted(orthanc_disposable.instances())
    assert len(stored) == 3
    assert {pydicom.dcmread(o.output).PatientID for o in good} == {"P7"}
    tally = run.tally
    assert (tally.total, tally.converted, tally.failed, tally.not_sent, tally.unsuccessful) == (4, 3, 1, 0, 1)


def test_skip_sent_reads_an_earlier_report_and_sends_only_what_is_missing(
    orthanc_disposable: Orthanc, tmp_path: Path
) -> None:
    tree(tmp_path)
    (tmp_path / "photos" / "b" / "bad.png").unlink()
    report = tmp_path / "r.csv"
    closed = DicomDestination("127.0.0.1", free_port(), retries=0)
    with ReportWriter(report) as writer:
        for outcome in convert_and_send([tmp_path / "photos"], tmp_path / "out", closed, jobs=1):
            writer.write(outcome)
    first = list(read_report(report))
    assert {row["send_status"] for row in first} == {"failed"}
    # Two of the three reach the PACS by hand; the report of that run says so.
    one, two = (tmp_path / "out" / "a" / "one.dcm"), (tmp_path / "out" / "a" / "two.dcm")
    assert main(["send", str(one), str(two), "--host", "127.0.0.1", "--port", str(orthanc_disposable.dicom_port),
                 "-aec", ORTHANC_AET, "--report", str(report), "-q"]) == 0  # fmt: skip
    run = convert_and_send(
        [tmp_path / "photos"], tmp_path / "out", at(orthanc_disposable), jobs=1, skip_existing=True, skip_sent=report
    )
    outcomes = {Path(o.output).name: o for o in run}
    assert {name: o.status for name, o in outcomes.items()} == dict.fromkeys(outcomes, ConvertStatus.SKIPPED)
    assert (
        outcomes["one.dcm"].send_status is SendStatus.SKIPPED and outcomes["two.dcm"].send_status is SendStatus.SKIPPED
    )
    assert outcomes["three.dcm"].send_status is SendStatus.STORED
    assert len(orthanc_disposable.instances()) == 3
    # And `send --skip-sent` takes a conversion report too: the outputs are what was delivered.
    convert_report = tmp_path / "c.jsonl"
    with ReportWriter(convert_report) as writer:
        for outcome in deliver(
            convert_file(tmp_path / "photos" / "a" / "one.jpg", one, skip_existing=True), at(orthanc_disposable)
        ):
            writer.write(outcome)
    resend = tmp_path / "again.csv"
    assert main(["send", str(one), "--host", "127.0.0.1", "--port", str(orthanc_disposable.dicom_port), "-aec", ORTHANC_AET,
                 "--skip-sent", str(convert_report), "--report", str(resend), "-q"]) == 0  # fmt: skip
    assert [row["send_status"] for row in read_report(resend)] == ["skipped"]


def test_a_peer_that_refuses_counts_as_not_sent(tmp_path: Path) -> None:
    tree(tmp_path)
    closed = DicomDestination("127.0.0.1", free_port(), retries=0)
    run = convert_and_send([tmp_path / "photos" / "a"], tmp_path / "out", closed, jobs=1)
    outcomes = list(run)
    assert all(o.status is ConvertStatus.CONVERTED and o.send_status is SendStatus.FAILED for o in outcomes)
    assert all(not o.ok and o.message for o in outcomes)
    assert (run.tally.converted, run.tally.not_sent, run.tally.unsuccessful) == (2, 2, 2)


def test_misuse_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    tree(tmp_path)
    with pytest.raises(NetworkError):
        convert_and_send([tmp_path / "photos"], tmp_path / "out", "pacs:104")  # type: ignore[arg-type]
    with pytest.raises(DicomifyError, match="no such report"):
        convert_and_send(
            [tmp_path / "photos"], tmp_path / "out", DicomDestination("pacs"), skip_sent=tmp_path / "r.csv"
        )
    assert not (tmp_path / "out").exists()  # refused before the output folder is made
    run = convert_file(tmp_path / "photos" / "a" / "one.jpg", tmp_path / "one.dcm")
    list(run)
    with pytest.raises(DicomifyError, match="runs once"):
        list(run)
    with pytest.raises(DicomifyError, match="before the batch runs"):
        deliver(run, DicomDestination("pacs"))
