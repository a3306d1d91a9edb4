"""C-STORE and C-ECHO against a real Orthanc: every kind of file, the fallbacks and the faults."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import JPEGBaseline8Bit
from pynetdicom import StoragePresentationContexts

from dicomify.net import DicomDestination, SendStatus, TLSOptions, echo, open_sender, send_files

from .net_samples import KINDS, batch, make, with_sop_class
from .net_verify import check_stored, paths, source_unchanged
from .orthanc_server import ORTHANC_AET, Orthanc, Pki, free_port


def destination(server: Orthanc, **options: object) -> DicomDestination:
    settings: dict[str, object] = {"called_aet": ORTHANC_AET, "timeout": 10.0, "retries": 1, "backoff": 0.05}
    settings.update(options)
    return DicomDestination("127.0.0.1", server.dicom_port, **settings)  # type: ignore[arg-type]


def test_echo(orthanc: Orthanc) -> None:
    outcome = echo(destination(orthanc))
    assert outcome.ok and outcome.status_code == 0


def test_every_kind_is_stored_byte_for_byte_and_renders(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, KINDS)
    results = list(send_files(paths(samples), destination(orthanc)))
    assert [r.status for r in results] == [SendStatus.STORED] * len(samples)
    for sample, result in zip(samples, results, strict=True):
        assert result.source == str(sample.path)
        assert result.sent_transfer_syntax == result.transfer_syntax == sample.dataset.file_meta.TransferSyntaxUID
        assert result.sop_instance_uid == sample.dataset.SOPInstanceUID
        assert result.study_instance_uid == sample.dataset.StudyInstanceUID
        assert result.status_code == 0 and result.ok
        check_stored(orthanc, sample)


def test_folder_is_searched_for_dicom_files_only(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path / "a" / "b", ("native", "jpeg"))
    (tmp_path / "notes.txt").write_text("not DICOM")
    (tmp_path / "DICOMDIR").write_bytes(samples[0].path.read_bytes())  # a directory record is not sent
    results = list(send_files([tmp_path], destination(orthanc)))
    assert sorted(r.source for r in results) == sorted(str(p) for p in paths(samples))
    assert all(r.status is SendStatus.STORED for r in results)


def test_one_association_for_the_batch_and_datasets_as_converted(orthanc: Orthanc, tmp_path: Path) -> None:
    """The ``convert --send`` path: datasets sent one by one as they are made, over one association."""
    with open_sender(destination(orthanc)) as sender:
        results = []
        samples = []
        for index, kind in enumerate(KINDS):
            sample = make(tmp_path, kind, seed=index + 10)
            samples.append(sample)
            results.append(sender.send(sample.dataset))
        assert sender.associations == 1  # type: ignore[attr-defined]
    assert all(r.status is SendStatus.STORED and r.source == "" for r in results)
    for sample in samples:
        check_stored(orthanc, sample)


def test_expected_contexts_make_one_association(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, KINDS)
    expected = [(s.dataset.SOPClassUID, s.dataset.file_meta.TransferSyntaxUID) for s in samples]
    with open_sender(destination(orthanc), expected) as sender:
        results = [sender.send(sample.path) for sample in samples]
        assert sender.associations == 1  # type: ignore[attr-defined]
    assert all(r.status is SendStatus.STORED for r in results)


def test_refused_compressed_syntax_is_sent_decoded(orthanc_no_jpeg: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, KINDS)
    results = list(send_files(paths(samples), destination(orthanc_no_jpeg)))
    by_kind = {sample.kind: result for sample, result in zip(samples, results, strict=True)}
    for kind in ("jpeg", "jpegls"):
        assert by_kind[kind].status is SendStatus.STORED_DECODED
        assert by_kind[kind].sent_transfer_syntax == "1.2.840.10008.1.2.1"
        assert "refused" in by_kind[kind].message
        assert by_kind[kind].report_row()["status"] == "stored"
        assert by_kind[kind].report_row()["send_status"] == "stored-decoded"
    for kind in ("native", "multiframe"):
        assert by_kind[kind].status is SendStatus.STORED
    for sample in samples:
        check_stored(orthanc_no_jpeg, sample, decoded=sample.kind in ("jpeg", "jpegls"))
        source_unchanged(sample)


def test_refused_syntax_with_a_dataset_leaves_the_callers_dataset_alone(
    orthanc_no_jpeg: Orthanc, tmp_path: Path
) -> None:
    sample = make(tmp_path, "jpeg", seed=30)
    before = sample.dataset.PixelData
    with open_sender(destination(orthanc_no_jpeg)) as sender:
        result = sender.send(sample.dataset)
    assert result.status is SendStatus.STORED_DECODED
    assert sample.dataset.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert sample.dataset.PixelData == before


def test_refused_sop_class_fails_that_file_only(orthanc: Orthanc, tmp_path: Path) -> None:
    good = make(tmp_path, "native", seed=40)
    unknown = with_sop_class(good, "1.2.826.0.1.3680043.8.498.999.1", tmp_path / "unknown.dcm")
    after = make(tmp_path, "jpeg", seed=41)
    results = list(send_files([good.path, unknown, after.path], destination(orthanc)))
    assert [r.status for r in results] == [SendStatus.STORED, SendStatus.FAILED, SendStatus.STORED]
    assert "refused SOP class" in results[1].message and "1.2.826.0.1.3680043.8.498.999.1" in results[1].message
    assert orthanc.instance_id(dcmread(unknown).SOPInstanceUID) is None
    assert unknown.exists()


def test_more_than_128_contexts_reassociate(orthanc: Orthanc, tmp_path: Path) -> None:
    """65 SOP classes x (JPEG, uncompressed) = 130 contexts: more than one association may carry."""
    base = make(tmp_path, "jpeg", seed=50)
    classes = [cx.abstract_syntax for cx in StoragePresentationContexts][:65]
    files = [with_sop_class(base, str(uid), tmp_path / "many" / f"{i:03d}.dcm") for i, uid in enumerate(classes)]
    expected = [(str(uid), JPEGBaseline8Bit) for uid in classes]
    results = []
    with open_sender(destination(orthanc), expected) as sender:
        for path in files:
            results.append(sender.send(path))
        associations = sender.associations  # type: ignore[attr-defined]
    refused = [r for r in results if r.status is SendStatus.FAILED]
    # Orthanc accepts the storage classes DCMTK knows; any it does not know must be reported, not lost
    assert all("refused SOP class" in r.message for r in refused)
    assert len(results) - len(refused) >= 55
    assert associations == 2  # 128 contexts, then the 2 left with the used ones
    for result in results:
        if result.ok:
            assert orthanc.instance_id(result.sop_instance_uid) is not None


def test_wrong_called_ae_title_is_rejected_without_retrying(orthanc: Orthanc, tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native", "jpeg"))
    start = time.monotonic()
    results = list(send_files(paths(samples), destination(orthanc, called_aet="NOT-ORTHANC", retries=3, backoff=5)))
    assert time.monotonic() - start < 4  # a permanent rejection is not retried (backoff would be 5 s)
    assert all(r.status is SendStatus.FAILED for r in results)
    assert "rejected" in results[0].message and "Called AE title not recognised" in results[0].message
    assert not echo(destination(orthanc, called_aet="NOT-ORTHANC", retries=0)).ok


def test_closed_port_fails_every_file_after_retries(tmp_path: Path) -> None:
    samples = batch(tmp_path, ("native", "jpeg", "multiframe"))
    closed = DicomDestination("127.0.0.1", free_port(), retries=2, backoff=0.2, timeout=5)
    start = time.monotonic()
    results = list(send_files(paths(samples), closed))
    elapsed = time.monotonic() - start
    assert 0.6 <= elapsed < 5  # waited 0.2 then 0.4 s between the three attempts, then gave up on the rest
    assert all(r.status is SendStatus.FAILED for r in results)
    assert all("cannot connect" in r.message and "refused" in r.message.lower() for r in results)
    assert all(sample.path.exists() for sample in samples)
    outcome = echo(closed)
    assert not outcome.ok and "cannot connect" in outcome.message


def test_retry_reaches_a_server_that_comes_back(orthanc_disposable: Orthanc, tmp_path: Path) -> None:
    orthanc_disposable.stop()
    samples = batch(tmp_path, ("native",))
    restarter = threading.Timer(0.5, orthanc_disposable.start)
    restarter.start()
    try:
        results = list(send_files(paths(samples), destination(orthanc_disposable, retries=5, backoff=0.4)))
    finally:
        restarter.join(timeout=40)
    assert results[0].status is SendStatus.STORED
    check_stored(orthanc_disposable, samples[0])


def test_server_killed_mid_batch_then_rerun_completes(orthanc_disposable: Orthanc, tmp_path: Path) -> None:
    samples = [make(tmp_path, KINDS[i % 3], seed=60 + i, name=f"{i:02d}") for i in range(6)]
    report = tmp_path / "report.jsonl"
    from dicomify.report import ReportWriter

    results = []
    with ReportWriter(report) as writer:
        for result in send_files(paths(samples), destination(orthanc_disposable, retries=1, backoff=0.05)):
            results.append(result)
            writer.write(result.report_row())
            if len(results) == 2:
                orthanc_disposable.kill()
    assert [r.status for r in results[:2]] == [SendStatus.STORED] * 2
    assert all(r.status is SendStatus.FAILED and r.message.startswith("Not") for r in results[2:])
    assert all(sample.path.exists() for sample in samples)

    orthanc_disposable.start()  # same storage, same ports
    again = list(send_files(paths(samples), destination(orthanc_disposable), skip_sent=report))
    assert sorted(r.status.value for r in again) == ["skipped"] * 2 + ["stored"] * 4
    skipped = {r.source for r in again if r.status is SendStatus.SKIPPED}
    assert skipped == {str(samples[0].path), str(samples[1].path)}
    for sample in samples:
        check_stored(orthanc_disposable, sample)


def test_no_answer_times_out(tmp_path: Path) -> None:
    """A peer that accepts the TCP connection and never answers (a hung PACS)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        samples = batch(tmp_path, ("native",))
        hung = DicomDestination("127.0.0.1", listener.getsockname()[1], timeout=0.5, retries=1, backoff=0.05)
        start = time.monotonic()
        results = list(send_files(paths(samples), hung))
        assert time.monotonic() - start < 10
        assert results[0].status is SendStatus.FAILED
    finally:
        listener.close()


def test_tls_with_the_test_ca_and_a_client_certificate(orthanc_tls: Orthanc, pki: Pki, tmp_path: Path) -> None:
    tls = TLSOptions(ca=pki.ca, cert=pki.client_cert, key=pki.client_key)
    assert echo(destination(orthanc_tls, tls=tls)).ok
    samples = batch(tmp_path, KINDS)
    results = list(send_files(paths(samples), destination(orthanc_tls, tls=tls)))
    assert all(r.status is SendStatus.STORED for r in results)
    for sample in samples:
        check_stored(orthanc_tls, sample)


@pytest.mark.parametrize(
    "case",
    ["no client certificate", "unknown CA", "no TLS"],
)
def test_tls_failures_are_reported(orthanc_tls: Orthanc, pki: Pki, tmp_path: Path, case: str) -> None:
    tls = {
        "no client certificate": TLSOptions(ca=pki.ca),
        "unknown CA": TLSOptions(ca=pki.other_ca, cert=pki.client_cert, key=pki.client_key),
        "no TLS": None,
    }[case]
    target = destination(orthanc_tls, tls=tls, retries=0)
    assert not echo(target).ok
    samples = batch(tmp_path, ("native",))
    results = list(send_files(paths(samples), target))
    assert results[0].status is SendStatus.FAILED
    if case == "unknown CA":
        assert "CERTIFICATE_VERIFY_FAILED" in results[0].message
    assert orthanc_tls.instance_id(samples[0].dataset.SOPInstanceUID) is None


def test_tls_hostname_is_checked(orthanc_tls: Orthanc, pki: Pki, tmp_path: Path) -> None:
    """The server certificate names localhost and 127.0.0.1; ::1 / other names would not match."""
    tls = TLSOptions(ca=pki.ca, cert=pki.client_cert, key=pki.client_key)
    by_name = DicomDestination("localhost", orthanc_tls.dicom_port, called_aet=ORTHANC_AET, tls=tls, retries=0)
    assert echo(by_name).ok
    unchecked = TLSOptions(ca=pki.ca, cert=pki.client_cert, key=pki.client_key, check_hostname=False)
    assert echo(destination(orthanc_tls, tls=unchecked)).ok


def test_unreadable_file_is_a_failed_row_not_an_exception(orthanc: Orthanc, tmp_path: Path) -> None:
    missing = tmp_path / "missing.dcm"
    not_dicom = tmp_path / "picture.png"
    not_dicom.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    good = make(tmp_path, "native", seed=70)
    results = list(send_files([missing, not_dicom, good.path], destination(orthanc)))
    assert [r.status for r in results] == [SendStatus.FAILED, SendStatus.FAILED, SendStatus.STORED]
    assert "cannot read" in results[0].message
    assert str(not_dicom) in results[1].message


def test_association_closed_by_an_idle_peer_is_reopened(
    orthanc_factory: Callable[..., Orthanc], tmp_path: Path
) -> None:
    """Orthanc drops an idle association after DicomScpTimeout: the next object goes over a new one."""
    server = orthanc_factory("idle", DicomScpTimeout=1)  # stopped with the others at the end
    samples = batch(tmp_path, ("native", "jpeg"))
    with open_sender(destination(server, retries=0)) as sender:
        first = sender.send(samples[0].path)
        time.sleep(2.5)
        second = sender.send(samples[1].path)
        assert sender.associations == 2  # type: ignore[attr-defined]
    assert first.status is SendStatus.STORED and second.status is SendStatus.STORED
    for sample in samples:
        check_stored(server, sample)


def test_only_an_unknown_sop_class_in_the_batch(orthanc: Orthanc, tmp_path: Path) -> None:
    good = make(tmp_path, "native", seed=80)
    unknown = with_sop_class(good, "1.2.826.0.1.3680043.8.498.999.3", tmp_path / "only-unknown.dcm")
    results = list(send_files([unknown], destination(orthanc)))
    assert results[0].status is SendStatus.FAILED
    assert "refused SOP class" in results[0].message and "1.2.826.0.1.3680043.8.498.999.3" in results[0].message


def test_refused_syntax_that_cannot_be_decoded_fails_that_file(orthanc_no_jpeg: Orthanc, tmp_path: Path) -> None:
    from pydicom import dcmread as read
    from pydicom.encaps import encapsulate

    sample = make(tmp_path, "jpeg", seed=90)
    damaged = read(sample.path)
    damaged.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + b"\x00" * 64])  # a JPEG that stops after its first marker
    damaged.save_as(tmp_path / "damaged.dcm", enforce_file_format=True)
    good = make(tmp_path, "native", seed=91)
    results = list(send_files([tmp_path / "damaged.dcm", good.path], destination(orthanc_no_jpeg)))
    assert results[0].status is SendStatus.FAILED
    assert "refused JPEG Baseline (Process 1) and decoding failed" in results[0].message
    assert results[1].status is SendStatus.STORED


def test_server_killed_while_sending_then_rerun_completes(orthanc_disposable: Orthanc, tmp_path: Path) -> None:
    """SIGKILL at an unplanned moment of a stream of C-STOREs: whatever was in flight fails cleanly."""
    from dicomify.report import ReportWriter

    samples = [make(tmp_path, KINDS[i % 4], seed=120 + i, name=f"{i:02d}") for i in range(24)]
    report = tmp_path / "report.csv"
    killer = threading.Timer(0.4, orthanc_disposable.kill)
    with ReportWriter(report) as writer:
        killer.start()
        try:
            results = []
            for result in send_files(paths(samples), destination(orthanc_disposable, retries=1, backoff=0.05)):
                results.append(result)
                writer.write(result.report_row())
        finally:
            killer.join(timeout=10)
    assert len(results) == len(samples)
    stored = [r for r in results if r.ok]
    assert 0 < len(stored) < len(samples)  # killed mid-stream
    first_failure = next(i for i, r in enumerate(results) if not r.ok)
    assert all(not r.ok for r in results[first_failure:])  # the rest fail fast, none is lost silently

    orthanc_disposable.start()
    again = list(send_files(paths(samples), destination(orthanc_disposable), skip_sent=report))
    assert sum(r.status is SendStatus.SKIPPED for r in again) == len(stored)
    assert all(r.ok for r in again)
    for sample in samples:
        assert orthanc_disposable.instance_id(sample.dataset.SOPInstanceUID) is not None
