"""Destinations are checked when made: misuse is a NetworkError, never a half-sent batch."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import Dataset

import dicomify.net
from dicomify.errors import DicomifyError, NetworkError
from dicomify.net import DicomDestination, SendResult, SendStatus, StowDestination, TLSOptions, open_sender, send_files


def test_exported_members_are_exactly_the_public_names() -> None:
    public = {name for name in dir(dicomify.net) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(dicomify.net, name)).__name__ == "module"}
    assert set(dicomify.net.__all__) == public - modules
    assert dicomify.net.__all__ == sorted(dicomify.net.__all__)


def test_defaults() -> None:
    destination = DicomDestination("pacs")
    assert (destination.port, destination.called_aet, destination.calling_aet) == (104, "ANY-SCP", "DICOMIFY")
    assert str(destination) == "dicom://ANY-SCP@pacs:104"
    assert str(StowDestination("http://pacs:8042/dicom-web/")) == "http://pacs:8042/dicom-web/studies"


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("http://h/dicom-web", "http://h/dicom-web/studies"),
        ("http://h/dicom-web/studies/", "http://h/dicom-web/studies"),
        ("http://h/dw/studies/1.2.3", "http://h/dw/studies/1.2.3"),
        ("https://h:1/x?tenant=2", "https://h:1/x/studies?tenant=2"),
    ],
)
def test_stow_endpoint(url: str, endpoint: str) -> None:
    assert StowDestination(url).studies_url == endpoint


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DicomDestination(""), "host '' is not a valid host name"),
        (lambda: DicomDestination("pacs", 0), "port 0 is not valid"),
        (lambda: DicomDestination("pacs", True), "port True is not valid"),  # type: ignore[arg-type]
        (lambda: DicomDestination("pacs", called_aet=""), "called AE title '' is not valid"),
        (lambda: DicomDestination("pacs", calling_aet="BACK\\SLASH"), "only printable ASCII"),
        (lambda: DicomDestination("pacs", calling_aet="ÉCHO"), "only printable ASCII"),
        (lambda: DicomDestination("pacs", timeout=-1), "timeout must be greater than 0"),
        (lambda: DicomDestination("pacs", retries=1.5), "retries must be a whole number"),  # type: ignore[arg-type]
        (lambda: DicomDestination("pacs", backoff=-1), "backoff must be 0 seconds or more"),
        (lambda: DicomDestination("pacs", max_pdu=-1), "maximum PDU size"),
        (lambda: TLSOptions(ca=Path("/nonexistent.pem")), "TLS ca file '/nonexistent.pem' does not exist"),
        (lambda: StowDestination("pacs/dicom-web"), "is not valid: use http"),
        (lambda: StowDestination("http://h", username="u"), "needs both"),
        (lambda: StowDestination("http://h", username="u", password="p", token="t"), "not both"),
        (lambda: StowDestination("http://h", batch_size=0), "batch size must be 1 or more"),
        (lambda: StowDestination("http://h", ca=Path("/nonexistent.pem")), "CA certificate file"),
    ],
)
def test_misuse_raises_network_error(make: object, message: str) -> None:
    with pytest.raises(NetworkError, match=message.replace("\\", "\\\\").replace("(", r"\(")):
        make()  # type: ignore[operator]


def test_key_without_certificate(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not used")
    with pytest.raises(NetworkError, match="without its certificate"):
        TLSOptions(key=key)


def test_unusable_certificate_files_are_misuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("this is not PEM")
    destination = DicomDestination("127.0.0.1", 11112, tls=TLSOptions(ca=bad), retries=0)
    with pytest.raises(NetworkError, match="Cannot use the TLS certificate files"):
        list(send_files([], destination))  # nothing to send: nothing opened
        from dicomify.net import echo

        echo(destination)


def test_wrong_arguments_are_misuse() -> None:
    with pytest.raises(NetworkError, match="give a DicomDestination or a StowDestination"):
        send_files([], "pacs:104")  # type: ignore[arg-type]
    with pytest.raises(NetworkError, match="give file or folder paths or pydicom Datasets"):
        send_files([42], DicomDestination("pacs"))  # type: ignore[list-item]
    assert issubclass(NetworkError, DicomifyError)


def test_dataset_without_transfer_syntax_is_a_failed_result() -> None:
    dataset = Dataset()
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    dataset.SOPInstanceUID = "1.2.3"
    with open_sender(DicomDestination("127.0.0.1", 9, retries=0)) as sender:
        result = sender.send(dataset)
    assert result.status is SendStatus.FAILED and "TransferSyntaxUID" in result.message


def test_report_row_of_each_status() -> None:
    row = SendResult("a.dcm", SendStatus.STORED_DECODED, sent_transfer_syntax="1.2.840.10008.1.2.1").report_row()
    assert (row["status"], row["send_status"], row["send_transfer_syntax"]) == (
        "stored",
        "stored-decoded",
        "1.2.840.10008.1.2.1",
    )
    assert SendResult("a.dcm", SendStatus.SKIPPED).ok and not SendResult("a.dcm", SendStatus.FAILED).ok


def test_worklist_settings_precedence_and_errors(tmp_path: Path) -> None:
    from dicomify.net import worklist_destination

    config = tmp_path / "config.json"
    config.write_text('{"worklist": {"host": "ris", "port": 1104, "called_aet": "RIS", "timeout": 5}}')
    from_file = worklist_destination(config=config, environ={})
    assert (from_file.host, from_file.port, from_file.called_aet, from_file.timeout) == ("ris", 1104, "RIS", 5.0)
    env = {"DICOMIFY_WORKLIST_HOST": "ris2", "DICOMIFY_WORKLIST_AEC": "RIS2"}
    assert worklist_destination(config=config, environ=env).host == "ris2"  # the environment beats the file
    assert worklist_destination(host="ris3", config=config, environ=env).host == "ris3"  # and flags beat both
    with pytest.raises(NetworkError, match="No worklist server"):
        worklist_destination(environ={})
    with pytest.raises(NetworkError, match="port 'x' is not a number"):
        worklist_destination(environ={"DICOMIFY_WORKLIST_HOST": "ris", "DICOMIFY_WORKLIST_PORT": "x"})
    config.write_text('{"worklist": {"host": "ris", "timeout": "soon"}}')
    with pytest.raises(NetworkError, match="timeout 'soon' is not a number"):
        worklist_destination(config=config, environ={})
    config.write_text('{"worklist": {"host": "ris", "colour": "blue"}}')
    with pytest.raises(NetworkError, match="unknown worklist settings colour"):
        worklist_destination(config=config, environ={})
    config.write_text("{not json")
    with pytest.raises(NetworkError, match="is not valid JSON"):
        worklist_destination(config=config, environ={})
    with pytest.raises(NetworkError, match="Cannot read the config file"):
        worklist_destination(config=tmp_path / "missing.json", environ={})


def test_stow_destination_hides_its_secrets() -> None:
    with_password = StowDestination("https://alice:pa55@pacs.example/dicom-web")
    assert str(with_password) == "https://alice:***@pacs.example/dicom-web/studies"
    assert "pa55" not in repr(with_password)
    assert with_password.redact("Basic pa55 failed") == "Basic *** failed"
    token = StowDestination("https://pacs.example/dicom-web", token="tok3n")
    assert "tok3n" not in repr(token) and "token='***'" in repr(token)
    basic = StowDestination("https://pacs.example/dicom-web", username="bob", password="hunter2")
    assert "hunter2" not in repr(basic) and "username='bob'" in repr(basic)


@pytest.mark.parametrize(("port", "wait"), [(0, 60.0), (70000, 60.0), (None, 0.0), (None, -1.0)])
def test_commit_options_are_checked(port: int | None, wait: float) -> None:
    from dicomify.net import CommitOptions

    with pytest.raises(NetworkError):
        CommitOptions(port=port, wait=wait)
