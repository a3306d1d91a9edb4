""" "Stored" must mean stored: delivery against misbehaving peers.

Fake HTTP servers (a real Orthanc cannot misbehave on purpose) answer 2xx with an HTML
page, an empty or malformed body, a huge body, a trickle, 503 with Retry-After; a
trickling relay slows a real Orthanc's DICOM answers to one byte at a time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydicom import Dataset
from pydicom.sequence import Sequence

from dicomify.cli import main
from dicomify.net import DicomDestination, SendStatus, StowDestination, echo, send_files
from dicomify.report import read_report

from .fake_peers import FakeStow, Reply, TricklingProxy, timed
from .net_samples import Sample, make
from .orthanc_server import ORTHANC_AET, Orthanc


def _samples(tmp_path: Path, count: int = 2) -> list[Sample]:
    return [make(tmp_path, "native", seed=300 + index, name=f"s{index}") for index in range(count)]


def _response(stored: list[Sample], failed: list[tuple[Sample, Any]] = ()) -> bytes:  # type: ignore[assignment]
    """A Store Instances Response (PS3.18 10.5.3) written with pydicom's DICOM JSON model."""
    answer = Dataset()
    referenced = []
    for sample in stored:
        item = Dataset()
        item.ReferencedSOPClassUID = sample.dataset.SOPClassUID
        item.ReferencedSOPInstanceUID = sample.dataset.SOPInstanceUID
        referenced.append(item)
    answer.ReferencedSOPSequence = Sequence(referenced)
    if failed:
        items = []
        for sample, reason in failed:
            item = Dataset()
            item.ReferencedSOPClassUID = sample.dataset.SOPClassUID
            item.ReferencedSOPInstanceUID = sample.dataset.SOPInstanceUID
            item.FailureReason = reason
            items.append(item)
        answer.FailedSOPSequence = Sequence(items)
    return json.dumps(answer.to_json_dict()).encode()


def _stow(fake: FakeStow, **options: Any) -> StowDestination:
    settings: dict[str, Any] = {"timeout": 5.0, "retries": 0, "backoff": 0.05}
    settings.update(options)
    return StowDestination(fake.url, **settings)


JSON = {"Content-Type": "application/dicom+json"}


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (
            Reply(200, b"<html><body>Welcome to nginx!</body></html>", {"Content-Type": "text/html"}),
            "not JSON (text/html)",
        ),
        (Reply(200, b""), "an empty response body"),
        (Reply(204), "an empty response body"),
        (Reply(200, b'"stored"', JSON), "not a DICOM JSON object"),
        (Reply(200, b"{}", JSON), "without Referenced or Failed SOP Sequence"),
        (
            Reply(200, b'{"00081199": {"vr": "SQ", "Value": ["not an item"]}}', JSON),
            "malformed Store Instances Response",
        ),
        (Reply(200, b'{"00081199": {"vr": "SQ", "Value": [17]}}', JSON), "malformed Store Instances Response"),
        (Reply(200, b'{"00081199": "x"}', JSON), "malformed Store Instances Response"),
        (
            Reply(200, b'{"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": [{"a": 1}]}}]}}', JSON),
            "malformed",
        ),
    ],
)
def test_a_2xx_without_a_store_instances_response_is_unconfirmed(tmp_path: Path, reply: Reply, why: str) -> None:
    samples = _samples(tmp_path)
    with FakeStow(reply) as fake:
        results = list(send_files([s.path for s in samples], _stow(fake)))
    assert [r.status for r in results] == [SendStatus.UNCONFIRMED] * 2
    assert all(why in r.message and r.message.startswith("Not confirmed") for r in results)
    assert not any(r.ok for r in results)


def test_only_listed_instances_are_stored_and_reasons_are_parsed(tmp_path: Path) -> None:
    first, second, third = _samples(tmp_path, 3)
    body = _response([first], failed=[(second, 0xA700)])
    with FakeStow(Reply(202, body, JSON)) as fake:
        results = list(send_files([first.path, second.path, third.path], _stow(fake)))
    assert [r.status for r in results] == [SendStatus.STORED, SendStatus.FAILED, SendStatus.UNCONFIRMED]
    assert "failure reason 0xA700" in results[1].message
    assert "does not list it" in results[2].message


def test_a_non_numeric_failure_reason_is_a_per_file_outcome(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _samples(tmp_path)
    entry = {
        "00081150": {"vr": "UI", "Value": [str(second.dataset.SOPClassUID)]},
        "00081155": {"vr": "UI", "Value": [str(second.dataset.SOPInstanceUID)]},
        "00081197": {"vr": "US", "Value": ["disk full"]},
    }
    good = json.loads(_response([first]))
    good["00081198"] = {"vr": "SQ", "Value": [entry]}
    report = tmp_path / "report.jsonl"
    with FakeStow(Reply(409, json.dumps(good).encode(), JSON)) as fake:
        code = main(
            ["send", str(first.path), str(second.path), "--stow", fake.url, "--retries", "0", "--report", str(report)]
        )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    rows = list(read_report(report))
    assert len(rows) == 2 and code != 0
    assert {row["send_status"] for row in rows} <= {"failed", "unconfirmed", "stored"}
    assert rows[1]["send_status"] == "failed"


def test_unconfirmed_instances_are_sent_again_with_skip_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = _samples(tmp_path)
    report = tmp_path / "report.csv"
    html = Reply(200, b"<html>OK</html>", {"Content-Type": "text/html"})
    with FakeStow(html) as fake:
        assert (
            main(
                ["send", *[str(s.path) for s in samples], "--stow", fake.url, "--retries", "0", "--report", str(report)]
            )
            == 1
        )
    assert [row["send_status"] for row in read_report(report)] == ["unconfirmed", "unconfirmed"]
    assert "unconfirmed" in capsys.readouterr().err
    with FakeStow(Reply(200, _response(samples), JSON)) as fake:
        code = main(
            [
                "send",
                *[str(s.path) for s in samples],
                "--stow",
                fake.url,
                "--skip-sent",
                str(report),
                "--report",
                str(report),
            ]
        )
        assert code == 0 and len(fake.requests) == 1
    assert [row["send_status"] for row in read_report(report)] == ["stored", "stored"]


def test_a_huge_response_body_is_not_read_into_memory(tmp_path: Path) -> None:
    samples = _samples(tmp_path, 1)
    huge = Reply(200, b"[" + b" " * 1024 * 1024, JSON, chunks=64)  # 64 MB, never a whole JSON value
    with FakeStow(huge) as fake:
        (result,), elapsed = timed(lambda: list(send_files([samples[0].path], _stow(fake, timeout=20))))
    assert result.status is SendStatus.UNCONFIRMED and "longer than 4 MB" in result.message


def test_a_trickling_server_cannot_hold_us_past_the_timeout(tmp_path: Path) -> None:
    samples = _samples(tmp_path, 1)
    slow = Reply(200, _response(samples), JSON, trickle=0.2)  # ~200 bytes: 40 s at this pace
    with FakeStow(slow) as fake:
        (result,), elapsed = timed(lambda: list(send_files([samples[0].path], _stow(fake, timeout=1.5))))
    assert elapsed < 3.5, elapsed
    assert result.status is SendStatus.FAILED and "within 1.5 s" in result.message

    with FakeStow(Reply(200, b"[]", JSON, trickle=0.2, slow_headers=True)) as fake:
        echoed, elapsed = timed(lambda: echo(_stow(fake, timeout=1.5)))
        (result,), send_elapsed = timed(lambda: list(send_files([samples[0].path], _stow(fake, timeout=1.5))))
    assert not echoed.ok and "within 1.5 s" in echoed.message and elapsed < 3.5, (echoed, elapsed)
    assert result.status is SendStatus.FAILED and send_elapsed < 3.5, (result, send_elapsed)


def test_retry_after_is_honoured_and_capped(tmp_path: Path) -> None:
    samples = _samples(tmp_path, 1)
    busy = Reply(503, b"busy", {"Retry-After": "1"})
    with FakeStow(busy, Reply(200, _response(samples), JSON)) as fake:
        (result,), elapsed = timed(lambda: list(send_files([samples[0].path], _stow(fake, retries=1, backoff=0.01))))
    assert result.status is SendStatus.STORED and elapsed >= 1.0

    with FakeStow(Reply(503, b"", {"Retry-After": "3600"})) as fake:
        (result,), elapsed = timed(lambda: list(send_files([samples[0].path], _stow(fake, retries=3))))
        assert len(fake.requests) == 1
    assert elapsed < 2 and result.status is SendStatus.FAILED
    assert "asked to retry after 3600 s" in result.message


def test_credentials_never_leave_in_messages_reports_or_repr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = _samples(tmp_path, 1)
    report = tmp_path / "report.jsonl"
    with FakeStow(Reply(500, b"oops")) as fake:
        url = fake.url.replace("http://", "http://alice:pa55word@")
        code = main(
            [
                "send",
                str(samples[0].path),
                "--stow",
                url,
                "--retries",
                "0",
                "--report",
                str(report),
                "--token" if False else "-q",
            ]
        )
        assert fake.requests[0]["headers"]["Authorization"].startswith("Basic ")  # the URL's credentials were used
        destination = StowDestination(url)
        token = StowDestination(fake.url, token="t0p-secret")
        basic = StowDestination(fake.url, username="bob", password="hunter2")
    assert code == 1
    out = capsys.readouterr()
    text = out.out + out.err + report.read_text()
    for secret in ("pa55word", "t0p-secret", "hunter2"):
        assert secret not in text
        assert all(secret not in value for value in (str(destination), repr(destination), repr(token), repr(basic)))
    assert "alice:***@" in str(destination)


def test_a_trickling_dicom_peer_cannot_hold_us_past_the_timeout(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = _samples(tmp_path, 1)
    with TricklingProxy(orthanc.dicom_port, delay=0.2) as proxy:
        slow = DicomDestination("127.0.0.1", proxy.port, called_aet=ORTHANC_AET, timeout=1.5, retries=0)
        outcome, elapsed = timed(lambda: echo(slow))
        assert not outcome.ok and elapsed < 3.5, (outcome, elapsed)
        (result,), elapsed = timed(lambda: list(send_files([samples[0].path], slow)))
        assert result.status is SendStatus.FAILED and elapsed < 3.5, (result, elapsed)


def test_a_trickling_worklist_server_cannot_hold_a_query(orthanc_worklist: Orthanc) -> None:
    from dicomify.net import QueryError, find_worklist

    with TricklingProxy(orthanc_worklist.dicom_port, delay=0.2) as proxy:
        slow = DicomDestination("127.0.0.1", proxy.port, called_aet=ORTHANC_AET, timeout=1.5, retries=0)
        start = time.monotonic()
        with pytest.raises(QueryError, match="failed"):
            find_worklist(slow)
        assert time.monotonic() - start < 3.5
