"""Storage commitment (PS3.4 Annex J): Orthanc as the commitment SCP, and a peer that misbehaves.

Orthanc answers on an association it opens back to our AE (``--commit-port``): our AE
title is registered with it as a modality at that port. A small pynetdicom SCP stands
in for archives that answer on the same association, or never.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydicom import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    SecondaryCaptureImageStorage,
    StorageCommitmentPushModel,
    StorageCommitmentPushModelInstance,
)

from dicomify.cli import main
from dicomify.net import CommitOptions, DicomDestination, SendStatus, send_files
from dicomify.net._commit import request_commitment
from dicomify.report import read_report

from .net_samples import Sample, make, picture
from .orthanc_server import ORTHANC_AET, Orthanc, free_port


def _listen_port(server: Orthanc) -> int:
    """A free port, registered with Orthanc as where our AE (DICOMIFY) listens."""
    port = free_port()
    response = httpx.put(
        f"{server.url}/modalities/dicomify",
        json={"AET": "DICOMIFY", "Host": "127.0.0.1", "Port": port},
        timeout=10,
    )
    response.raise_for_status()
    return port


def _samples(tmp_path: Path, count: int = 3) -> list[Sample]:
    return [make(tmp_path, ("native", "jpeg", "multiframe")[i % 3], seed=500 + i, name=f"c{i}") for i in range(count)]


def _flags(server: Orthanc | int, aet: str = ORTHANC_AET) -> list[str]:
    port = server if isinstance(server, int) else server.dicom_port
    return ["--host", "127.0.0.1", "--port", str(port), "-aec", aet, "--backoff", "0.05"]


def test_orthanc_commits_what_was_sent(
    orthanc_worklist: Orthanc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _listen_port(orthanc_worklist)
    samples = _samples(tmp_path)
    report = tmp_path / "report.csv"
    command = ["send", *[str(s.path) for s in samples], *_flags(orthanc_worklist), "--report", str(report)]
    assert main([*command, "--commit", "--commit-port", str(port), "--commit-timeout", "20"]) == 0
    assert [row["send_status"] for row in read_report(report)] == ["committed"] * 3
    assert "3 file(s): 3 stored (0 decoded first), 3 committed, 0 not committed" in capsys.readouterr().err
    for sample in samples:
        assert orthanc_worklist.instance_id(sample.dataset.SOPInstanceUID) is not None
    assert "Unable to read N-EVENT-REPORT response" not in orthanc_worklist.log.read_text()  # we acknowledged it

    # Resuming with --commit skips only what was committed, and it stays committed.
    again = list(
        send_files(
            [s.path for s in samples],
            DicomDestination("127.0.0.1", orthanc_worklist.dicom_port, called_aet=ORTHANC_AET),
            skip_sent=report,
            commit=CommitOptions(port=port, wait=20),
        )
    )
    assert [r.status for r in again] == [SendStatus.COMMITTED] * 3
    assert all("Not sent again: committed according to" in r.message for r in again)


def test_stored_without_commit_is_sent_again_when_commit_is_asked(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    port = _listen_port(orthanc_worklist)
    samples = _samples(tmp_path, 2)
    report = tmp_path / "report.jsonl"
    assert (
        main(["send", *[str(s.path) for s in samples], *_flags(orthanc_worklist), "--report", str(report), "-q"]) == 0
    )
    assert [row["send_status"] for row in read_report(report)] == ["stored", "stored"]
    command = ["send", *[str(s.path) for s in samples], *_flags(orthanc_worklist), "--skip-sent", str(report)]
    assert main([*command, "--report", str(report), "--commit", "--commit-port", str(port), "-q"]) == 0
    rows = list(read_report(report))
    assert [row["send_status"] for row in rows] == ["committed", "committed"]
    assert all("according to" not in row["message"] for row in rows)  # sent again, then committed


def test_an_instance_the_archive_does_not_hold_is_not_committed(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    port = _listen_port(orthanc_worklist)
    sample = _samples(tmp_path, 1)[0]
    list(send_files([sample.path], DicomDestination("127.0.0.1", orthanc_worklist.dicom_port, called_aet=ORTHANC_AET)))
    missing = generate_uid()
    answers = request_commitment(
        DicomDestination("127.0.0.1", orthanc_worklist.dicom_port, called_aet=ORTHANC_AET),
        [
            (str(sample.dataset.SOPClassUID), str(sample.dataset.SOPInstanceUID)),
            (SecondaryCaptureImageStorage, missing),
        ],
        port=port,
        wait=20,
    )
    assert answers[str(sample.dataset.SOPInstanceUID)].committed
    assert not answers[missing].committed
    assert "failure reason 0x0112, no such object instance" in answers[missing].message


def test_convert_send_commit(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    from PIL import Image

    port = _listen_port(orthanc_worklist)
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(3):
        Image.fromarray(picture(seed=520 + index)).save(folder / f"p{index}.png")
    report = tmp_path / "report.jsonl"
    code = main(
        ["convert", str(folder), "-o", str(tmp_path / "out"), "--send", *_flags(orthanc_worklist), "--commit"]
        + ["--commit-port", str(port), "--report", str(report), "-q"]
    )
    assert code == 0
    rows = list(read_report(report))
    assert [row["status"] for row in rows] == ["converted"] * 3
    assert [row["send_status"] for row in rows] == ["committed"] * 3


class CommitmentPeer:
    """A pynetdicom Storage SCP that answers commitment requests on the same association
    (``answer=True``, after a short delay) or never (``answer=False``)."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.port = free_port()
        self.ae = AE(ae_title="FAKEPACS")
        self.ae.add_supported_context(SecondaryCaptureImageStorage)
        self.ae.add_supported_context(StorageCommitmentPushModel)
        self.stored: set[str] = set()

    def _on_store(self, event: object) -> int:
        self.stored.add(str(event.request.AffectedSOPInstanceUID))  # type: ignore[attr-defined]
        return 0x0000

    def _on_action(self, event: object) -> tuple[int, None]:
        request = event.action_information  # type: ignore[attr-defined]
        assoc = event.assoc  # type: ignore[attr-defined]
        if self.answer:
            threading.Thread(target=self._report, args=(assoc, request), daemon=True).start()
        return 0x0000, None

    def _report(self, assoc: object, request: Dataset) -> None:
        time.sleep(0.3)
        report = Dataset()
        report.TransactionUID = request.TransactionUID
        done, failed = [], []
        for item in request.ReferencedSOPSequence:
            entry = Dataset()
            entry.ReferencedSOPClassUID = item.ReferencedSOPClassUID
            entry.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
            if str(item.ReferencedSOPInstanceUID) in self.stored:
                done.append(entry)
            else:
                entry.FailureReason = 0x0112
                failed.append(entry)
        report.ReferencedSOPSequence = Sequence(done)
        if failed:
            report.FailedSOPSequence = Sequence(failed)
        assoc.send_n_event_report(  # type: ignore[attr-defined]
            report, 2 if failed else 1, StorageCommitmentPushModel, StorageCommitmentPushModelInstance
        )

    def __enter__(self) -> CommitmentPeer:
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_N_ACTION, self._on_action)]
        self.server = self.ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=handlers)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


@pytest.fixture
def same_association_peer() -> Iterator[CommitmentPeer]:
    with CommitmentPeer(answer=True) as peer:
        yield peer


def test_report_on_the_same_association(same_association_peer: CommitmentPeer, tmp_path: Path) -> None:
    samples = [make(tmp_path, "native", seed=540 + i, name=f"s{i}") for i in range(2)]
    destination = DicomDestination("127.0.0.1", same_association_peer.port, called_aet="FAKEPACS")
    results = list(send_files([s.path for s in samples], destination, commit=CommitOptions(wait=10)))
    assert [r.status for r in results] == [SendStatus.COMMITTED] * 2


def test_an_archive_that_never_answers_the_commitment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = [make(tmp_path, "native", seed=550 + i, name=f"n{i}") for i in range(2)]
    report = tmp_path / "report.csv"
    with CommitmentPeer(answer=False) as peer:
        start = time.monotonic()
        code = main(
            ["send", *[str(s.path) for s in samples], *_flags(peer.port, "FAKEPACS"), "--commit"]
            + ["--commit-timeout", "1.5", "--report", str(report)]
        )
        elapsed = time.monotonic() - start
    assert code == 1 and elapsed < 10
    rows = list(read_report(report))
    assert [row["send_status"] for row in rows] == ["uncommitted", "uncommitted"]
    assert all("no storage commitment report within 1.5 s" in row["message"] for row in rows)
    assert "0 committed, 2 not committed" in capsys.readouterr().err


def test_commit_flags_need_a_dicom_destination(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = make(tmp_path, "native", seed=560)
    assert main(["send", str(sample.path), "--stow", "http://127.0.0.1:1/dicom-web", "--commit"]) == 1
    assert "STOW-RS has no storage commitment" in capsys.readouterr().err
    assert main(["send", str(sample.path), "--host", "127.0.0.1", "--commit-port", "11113"]) == 1
    assert "--commit-port applies with --commit" in capsys.readouterr().err


def test_an_archive_that_does_not_know_us_is_a_clear_outcome(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    """Orthanc drops an N-ACTION from an AE title it does not know as a modality."""
    sample = make(tmp_path, "native", seed=570)
    stranger = DicomDestination(
        "127.0.0.1", orthanc_worklist.dicom_port, called_aet=ORTHANC_AET, calling_aet="STRANGER", retries=0
    )
    (result,) = send_files([sample.path], stranger, commit=CommitOptions(port=free_port(), wait=5))
    assert result.status is SendStatus.UNCOMMITTED
    assert "does it know our AE title STRANGER?" in result.message


def test_every_object_of_a_multi_object_source_is_sent_and_committed(orthanc_worklist: Orthanc, tmp_path: Path) -> None:
    import numpy as np
    import pydicom
    import tifffile

    # Two pages of different sizes: two objects from one source, both must reach the archive.
    folder = tmp_path / "in"
    folder.mkdir()
    with tifffile.TiffWriter(folder / "scan.tif") as tiff:
        tiff.write(np.full((40, 30), 10, np.uint8))
        tiff.write(np.full((20, 50), 200, np.uint8))
    port = _listen_port(orthanc_worklist)
    report = tmp_path / "report.jsonl"
    code = main(
        ["convert", str(folder), "-o", str(tmp_path / "out"), "--send", *_flags(orthanc_worklist), "--commit"]
        + ["--commit-port", str(port), "--report", str(report), "-q"]
    )
    assert code == 0
    [row] = list(read_report(report))
    assert (row["status"], row["send_status"]) == ("converted", "committed")
    written = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == 2
    for path in written:
        uid = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        assert orthanc_worklist.instance_id(uid) is not None, f"{path.name} was not sent"
