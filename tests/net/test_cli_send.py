"""`dicomify send` and `dicomify echo`, in-process, against the real Orthanc."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from dicomify.cli import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from dicomify.cli.send import add_destination_arguments, destination_from_args
from dicomify.net import DicomDestination, StowDestination
from dicomify.report import read_report

from .net_samples import KINDS, batch, make, with_sop_class
from .net_verify import check_stored
from .orthanc_server import ORTHANC_AET, PASSWORD, TOKEN, USER, Orthanc, Pki, free_port


def dicom_args(server: Orthanc) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.dicom_port), "-aec", ORTHANC_AET, "--backoff", "0.05"]


def test_echo_command(orthanc: Orthanc, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["echo", *dicom_args(orthanc)]) == EXIT_OK
    assert "success" in capsys.readouterr().out
    closed = ["echo", "--host", "127.0.0.1", "--port", str(free_port()), "--retries", "0"]
    assert main(closed) == EXIT_FAILED
    assert "cannot connect" in capsys.readouterr().err


def test_echo_command_stow(orthanc: Orthanc) -> None:
    assert main(["echo", "--stow", orthanc.dicomweb, "--user", USER, "--password", PASSWORD]) == EXIT_OK
    assert main(["echo", "--stow", orthanc.dicomweb, "--user", USER, "--password", "wrong"]) == EXIT_FAILED


def test_send_folder_with_report(orthanc: Orthanc, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = batch(tmp_path / "in", KINDS)
    report = tmp_path / "report.csv"
    command = ["send", str(tmp_path / "in"), *dicom_args(orthanc), "-pdu", "16384", "--report", str(report)]
    assert main(command) == EXIT_OK
    rows = list(read_report(report))
    assert sorted(row["source"] for row in rows) == sorted(str(s.path) for s in samples)
    assert {row["status"] for row in rows} == {"stored"}
    assert {row["send_status"] for row in rows} == {"stored"}
    by_source = {row["source"]: row for row in rows}
    for sample in samples:
        row = by_source[str(sample.path)]
        assert row["sop_instance_uid"] == sample.dataset.SOPInstanceUID
        assert row["study_instance_uid"] == sample.dataset.StudyInstanceUID
        assert row["series_instance_uid"] == sample.dataset.SeriesInstanceUID
        assert row["sop_class_uid"] == sample.dataset.SOPClassUID
        assert row["transfer_syntax"] == row["send_transfer_syntax"] == sample.dataset.file_meta.TransferSyntaxUID
        check_stored(orthanc, sample)
    assert "4 file(s): 4 stored" in capsys.readouterr().err


def test_partial_failure_exit_code_and_rerun_with_skip_sent(
    orthanc: Orthanc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = make(tmp_path / "in", "native", seed=200)
    refused = with_sop_class(good, "1.2.826.0.1.3680043.8.498.999.2", tmp_path / "in" / "refused.dcm")
    report = tmp_path / "send.jsonl"
    command = ["send", str(tmp_path / "in"), *dicom_args(orthanc), "--report", str(report), "--skip-sent", str(report)]
    report.write_text("")  # an empty report: nothing sent yet
    assert main(command) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert f"dicomify: {refused}: Not stored: the peer refused SOP class" in err
    rows = {row["source"]: row for row in read_report(report)}
    assert rows[str(good.path)]["send_status"] == "stored"
    assert rows[str(refused)]["send_status"] == "failed" and rows[str(refused)]["status"] == "failed"

    # the same command again: the stored file is skipped, the refused one tried again
    assert main(command) == EXIT_PARTIAL
    rows = {row["source"]: row for row in read_report(report)}
    assert rows[str(good.path)]["send_status"] == "skipped"
    assert rows[str(good.path)]["study_instance_uid"] == good.dataset.StudyInstanceUID
    assert rows[str(good.path)]["series_instance_uid"] == good.dataset.SeriesInstanceUID
    assert rows[str(refused)]["send_status"] == "failed"

    refused.unlink()  # the user gives up on that one: the rerun has nothing left to send
    assert main(command) == EXIT_OK
    assert [row["send_status"] for row in read_report(report)] == ["skipped"]


def test_nothing_stored_is_exit_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch(tmp_path, ("native", "jpeg"))
    code = main(["send", str(tmp_path), "--host", "127.0.0.1", "--port", str(free_port()), "--retries", "0", "-q"])
    assert code == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("cannot connect") == 2 and "file(s)" not in err  # -q: no summary


def test_no_dicom_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("hello")
    assert main(["send", str(tmp_path), "--host", "127.0.0.1"]) == EXIT_FAILED
    assert "no DICOM files found" in capsys.readouterr().err


def test_send_stow_with_password_from_environment(
    orthanc: Orthanc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = batch(tmp_path, KINDS)
    monkeypatch.setenv("DICOMIFY_PASSWORD", PASSWORD)
    report = tmp_path / "stow.csv"
    code = main(
        [
            "send",
            str(tmp_path),
            "--stow",
            orthanc.dicomweb,
            "--user",
            USER,
            "--batch-size",
            "3",
            "--report",
            str(report),
        ]
    )
    assert code == EXIT_OK
    assert {row["send_status"] for row in read_report(report)} == {"stored"}
    for sample in samples:
        check_stored(orthanc, sample)


def test_send_with_tls_flags(orthanc_tls: Orthanc, pki: Pki, tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native", "jpeg"))
    tls = ["--tls-ca", str(pki.ca), "--tls-cert", str(pki.client_cert), "--tls-key", str(pki.client_key)]
    assert main(["send", str(tmp_path), *dicom_args(orthanc_tls), *tls]) == EXIT_OK
    for sample in samples:
        check_stored(orthanc_tls, sample)
    assert main(["echo", *dicom_args(orthanc_tls), "--tls", "--tls-ca", str(pki.ca), "--retries", "0"]) == EXIT_FAILED
    unchecked = ["--tls-no-hostname-check", *tls]
    assert main(["echo", *dicom_args(orthanc_tls), *unchecked]) == EXIT_OK


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--stow", "http://127.0.0.1:1/dicom-web", "-aec", "PACS"], "-aec applies to a DICOM --host"),
        (["--host", "127.0.0.1", "--user", "me", "--password", "x"], "--user applies to --stow"),
        (["--host", "127.0.0.1", "--port", "70000"], "port 70000 is not valid"),
        (
            ["--host", "127.0.0.1", "-aec", "A-TITLE-THAT-IS-TOO-LONG"],
            "AE title 'A-TITLE-THAT-IS-TOO-LONG' is not valid",
        ),
        (["--host", "127.0.0.1", "--tls-ca", "/nonexistent/ca.pem"], "'/nonexistent/ca.pem' does not exist"),
        (["--stow", "ftp://example/dicom-web"], "is not valid: use http"),
        (["--stow", "http://h/dicom-web", "--user", "me"], "needs both a user name and a password"),
        (["--host", "127.0.0.1", "--retries", "-1"], "retries must be a whole number"),
        (["--host", "127.0.0.1", "--timeout", "0"], "timeout must be greater than 0"),
    ],
)
def test_misuse_is_one_line_and_exit_failed(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DICOMIFY_PASSWORD", raising=False)
    make(tmp_path, "native", seed=300)
    assert main(["send", str(tmp_path), *flags]) == EXIT_USAGE  # bad destination flags
    err = capsys.readouterr().err
    assert err.startswith("dicomify: error: ") and message in err and err.count("\n") == 1


def test_skip_sent_report_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(tmp_path, "native", seed=301)
    code = main(["send", str(tmp_path), "--host", "127.0.0.1", "--skip-sent", str(tmp_path / "none.csv")])
    assert code == EXIT_FAILED
    assert "none.csv' to resume from does not exist" in capsys.readouterr().err


def test_destination_arguments_contract_for_convert() -> None:
    """What `dicomify convert --send` builds on: no destination flags, no destination."""
    parser = argparse.ArgumentParser()
    add_destination_arguments(parser)
    assert destination_from_args(parser.parse_args([])) is None
    dicom = destination_from_args(parser.parse_args(["--host", "pacs", "-aet", "US", "-aec", "THEM", "-to", "5"]))
    assert dicom == DicomDestination("pacs", 104, called_aet="THEM", calling_aet="US", timeout=5)
    web = destination_from_args(parser.parse_args(["--stow", "https://pacs/dicom-web", "--token", "abc"]))
    assert isinstance(web, StowDestination) and web.token == "abc"
    with pytest.raises(SystemExit):
        parser.parse_args(["--host", "pacs", "--stow", "http://pacs"])  # one destination at a time
    from dicomify.cli.exitcodes import UsageError

    with pytest.raises(UsageError, match="--port needs a destination"):
        destination_from_args(parser.parse_args(["--port", "11112"]))


def test_unrelated_uid_in_report_is_sent_again(orthanc: Orthanc, tmp_path: Path) -> None:
    """A report row for the same path but another SOP Instance UID (the file was remade) does not skip it."""
    sample = make(tmp_path / "in", "native", seed=302)
    report = tmp_path / "old.csv"
    report.write_text(
        "source,output,status,sop_instance_uid,study_instance_uid,series_instance_uid,sop_class_uid,"
        "transfer_syntax,send_status,send_transfer_syntax,message\n"
        f"{sample.path},,stored,{generate_uid()},,,,,stored,,\n"
    )
    assert (
        main(["send", str(sample.path), *dicom_args(orthanc), "--skip-sent", str(report), "--report", str(report)])
        == EXIT_OK
    )
    assert [row["send_status"] for row in read_report(report)] == ["stored"]
    check_stored(orthanc, sample)


def test_send_stow_with_token_from_environment(
    orthanc_bearer: Orthanc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = batch(tmp_path, ("native", "jpeg"))
    monkeypatch.setenv("DICOMIFY_TOKEN", TOKEN)
    assert main(["send", str(tmp_path), "--stow", orthanc_bearer.dicomweb]) == EXIT_OK
    for sample in samples:
        check_stored(orthanc_bearer, sample)
    monkeypatch.setenv("DICOMIFY_TOKEN", "wrong")
    assert main(["echo", "--stow", orthanc_bearer.dicomweb]) == EXIT_FAILED
