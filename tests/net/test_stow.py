"""STOW-RS against Orthanc's DICOMweb plugin: every kind of file, authentication, per-instance failures."""

from __future__ import annotations

import time
from pathlib import Path

from dicomify.net import SendStatus, StowDestination, echo, open_sender, send_files

from .net_samples import KINDS, batch, make
from .net_verify import check_stored, paths
from .orthanc_server import PASSWORD, TOKEN, USER, Orthanc, free_port


def stow(server: Orthanc, **options: object) -> StowDestination:
    settings: dict[str, object] = {
        "username": USER,
        "password": PASSWORD,
        "timeout": 10.0,
        "retries": 1,
        "backoff": 0.05,
    }
    settings.update(options)
    return StowDestination(server.dicomweb, **settings)  # type: ignore[arg-type]


def test_echo_over_http(orthanc: Orthanc) -> None:
    outcome = echo(stow(orthanc))
    assert outcome.ok and outcome.status_code == 200


def test_every_kind_is_stored_byte_for_byte_and_renders(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, KINDS)
    results = list(send_files(paths(samples), stow(orthanc)))
    assert [r.status for r in results] == [SendStatus.STORED] * len(samples)
    for sample, result in zip(samples, results, strict=True):
        assert result.status_code == 200
        assert result.sent_transfer_syntax == sample.dataset.file_meta.TransferSyntaxUID
        check_stored(orthanc, sample)


def test_datasets_in_requests_of_batch_size(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = [make(tmp_path, KINDS[i % 4], seed=100 + i) for i in range(5)]
    with open_sender(stow(orthanc, batch_size=2)) as sender:
        results = list(sender.send_many([s.dataset for s in samples]))
        assert sender.requests == 3  # type: ignore[attr-defined]  # 2 + 2 + 1
    assert all(r.status is SendStatus.STORED for r in results)
    for sample in samples:
        check_stored(orthanc, sample)


def test_one_study_url_refuses_other_studies_per_instance(orthanc: Orthanc, tmp_path: Path) -> None:
    """A real partial failure: posting to /studies/{A} makes Orthanc refuse the instance of study B."""
    first = make(tmp_path, "native", seed=110)
    other = make(tmp_path, "jpeg", seed=111)
    assert first.dataset.StudyInstanceUID != other.dataset.StudyInstanceUID
    target = StowDestination(
        f"{orthanc.dicomweb}/studies/{first.dataset.StudyInstanceUID}", username=USER, password=PASSWORD, retries=0
    )
    results = list(send_files([first.path, other.path], target))
    assert results[0].status is SendStatus.STORED
    assert results[1].status is SendStatus.FAILED
    assert "failure reason 0x0110" in results[1].message  # PS3.18 Table 10.5.3-1: Processing failure
    check_stored(orthanc, first)
    assert orthanc.instance_id(other.dataset.SOPInstanceUID) is None


def test_bad_credentials_fail_every_instance(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native", "jpeg"))
    start = time.monotonic()
    results = list(send_files(paths(samples), stow(orthanc, password="wrong", retries=3, backoff=5)))
    assert time.monotonic() - start < 4  # 401 is not retried
    assert all(r.status is SendStatus.FAILED and r.status_code == 401 for r in results)
    assert all("HTTP 401" in r.message for r in results)
    assert all(orthanc.instance_id(s.dataset.SOPInstanceUID) is None for s in samples)
    assert not echo(stow(orthanc, password="wrong")).ok


def test_wrong_url_is_reported(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native",))
    results = list(
        send_files(
            paths(samples), StowDestination(f"{orthanc.url}/no-such-dicom-web", username=USER, password=PASSWORD)
        )
    )
    assert results[0].status is SendStatus.FAILED and results[0].status_code == 404
    assert "HTTP 404" in results[0].message


def test_bearer_token(orthanc_bearer: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native", "jpeg"))
    with_token = StowDestination(orthanc_bearer.dicomweb, token=TOKEN)
    assert echo(with_token).ok
    results = list(send_files(paths(samples), with_token))
    assert all(r.status is SendStatus.STORED for r in results)
    for sample in samples:
        check_stored(orthanc_bearer, sample)
    again = batch(tmp_path / "again", ("native",))
    refused = list(send_files(paths(again), StowDestination(orthanc_bearer.dicomweb, token="not-the-token")))
    assert refused[0].status is SendStatus.FAILED and refused[0].status_code == 403


def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native", "jpeg"))
    target = StowDestination(f"http://127.0.0.1:{free_port()}/dicom-web", retries=2, backoff=0.1, batch_size=1)
    start = time.monotonic()
    results = list(send_files(paths(samples), target))
    assert time.monotonic() - start >= 0.6  # 0.1 + 0.2 per request, two requests
    assert all(r.status is SendStatus.FAILED and "cannot reach" in r.message for r in results)
    assert not echo(target).ok


def test_rerun_with_report_sends_only_what_failed(orthanc: Orthanc, tmp_path: Path) -> None:
    from dicomify.report import ReportWriter

    samples = batch(tmp_path, KINDS)
    report = tmp_path / "report.csv"
    with ReportWriter(report) as writer:
        # the first run has the wrong password for the second half
        for result in send_files(paths(samples[:2]), stow(orthanc)):
            writer.write(result.report_row())
        for result in send_files(paths(samples[2:]), stow(orthanc, password="wrong")):
            writer.write(result.report_row())
    again = list(send_files(paths(samples), stow(orthanc), skip_sent=report))
    assert [r.status.value for r in again] == ["skipped", "skipped", "stored", "stored"]
    for sample in samples:
        check_stored(orthanc, sample)
