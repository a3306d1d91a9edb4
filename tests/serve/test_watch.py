"""The watch folder: slow writers, restarts, a failing PACS, bad files; nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from helpers.validators import dciodvfy_errors
from net.orthanc_server import ORTHANC_AET, Orthanc, free_port
from PIL import Image

from dicomify import convert
from dicomify.net import DicomDestination, send_files
from dicomify.serve.config import ServeConfig, WatchConfig, load_config
from dicomify.serve.watch import DICOM_SUFFIX, DONE, FAILED, OUT, REPORT, WORK, Watcher

from .conftest import rgb_picture, write_png
from .server_process import REPO, write_config


def report(folder: Path) -> list[dict[str, Any]]:
    path = folder / REPORT
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def pacs(orthanc: Orthanc, **kwargs: Any) -> DicomDestination:
    return DicomDestination("127.0.0.1", orthanc.dicom_port, called_aet=ORTHANC_AET, **kwargs)


def patient_instances(orthanc: Orthanc, patient_id: str) -> list[dict[str, Any]]:
    for patient in orthanc.json("/patients"):
        details = orthanc.json(f"/patients/{patient}")
        if details["MainDicomTags"]["PatientID"] == patient_id:
            return [
                orthanc.json(f"/instances/{i['ID']}/simplified-tags")
                for i in orthanc.json(f"/patients/{patient}/instances")
            ]
    return []


def test_a_file_still_being_written_is_not_taken(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    config = ServeConfig(watch=WatchConfig(poll_seconds=0.1, settle_seconds=2.0))
    stop = threading.Event()
    watcher = Watcher(folder, config, stop)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        source = tmp_path / "photo.png"
        pixels = write_png(source, seed=3)
        data = source.read_bytes()
        with open(folder / "photo.png", "wb") as slow:
            for start in range(0, len(data), 1500):  # a slow copy: a chunk every 0.3 s
                slow.write(data[start : start + 1500])
                slow.flush()
                time.sleep(0.3)
                assert names(folder / DONE) == [] and names(folder / FAILED) == [], "taken while being written"
        deadline = time.monotonic() + 30
        while not names(folder / DONE) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert names(folder / DONE) == ["photo.png"]
    (row,) = report(folder)
    assert row["status"] == "converted" and row["output"] == f"{OUT}/photo.dcm"
    made = pydicom.dcmread(folder / OUT / "photo.dcm")
    np.testing.assert_array_equal(made.pixel_array, pixels)
    assert dciodvfy_errors(folder / OUT / "photo.dcm") == []


def test_metadata_from_sidecar_and_file_name_and_bad_files_go_to_failed(tmp_path: Path, serve_orthanc: Orthanc) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "PID-WATCH-7_ACC77_left-hand.png", seed=4)
    (folder / "PID-WATCH-7_ACC77_left-hand.json").write_text(
        json.dumps({"PatientName": "Watch^Wanda", "Laterality": "L"})
    )
    (folder / "notes.txt").write_text("not a picture")
    (folder / "bad-sidecar.png").write_bytes((folder / "PID-WATCH-7_ACC77_left-hand.png").read_bytes())
    (folder / "bad-sidecar.json").write_text('{"PatientSex": "X"}')
    old = time.time() - 60  # written a minute ago: settled
    for path in folder.iterdir():
        os.utime(path, (old, old))
    config = ServeConfig(
        pacs=pacs(serve_orthanc),
        watch=WatchConfig(settle_seconds=1.0, filename_pattern=r"(?P<PatientID>[^_]+)_(?P<AccessionNumber>[^_]+)_.*"),
    )
    watcher = Watcher(folder, config)
    assert watcher.poll() == 3
    assert names(folder / DONE) == ["PID-WATCH-7_ACC77_left-hand.json", "PID-WATCH-7_ACC77_left-hand.png"]
    assert names(folder / FAILED) == ["bad-sidecar.json", "bad-sidecar.png", "notes.txt"]
    rows = {row["source"]: row for row in report(folder)}
    assert (
        rows["notes.txt"]["status"] == "failed"
        and "notes.txt: not a supported picture format" in rows["notes.txt"]["message"]
    )
    assert "PatientSex 'X' is not one of M, F, O" in rows["bad-sidecar.png"]["message"]
    assert rows["PID-WATCH-7_ACC77_left-hand.png"]["status"] == "stored"
    (stored,) = patient_instances(serve_orthanc, "PID-WATCH-7")
    assert (
        stored["PatientName"] == "Watch^Wanda" and stored["AccessionNumber"] == "ACC77" and stored["Laterality"] == "L"
    )
    assert names(folder / WORK) == []


def test_a_failing_pacs_keeps_the_file_until_it_is_back(tmp_path: Path, serve_orthanc: Orthanc) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "photo.png", seed=5)
    old = time.time() - 60
    os.utime(folder / "photo.png", (old, old))
    down = DicomDestination("127.0.0.1", free_port(), called_aet="NOBODY", timeout=2, retries=0)
    watcher = Watcher(folder, ServeConfig(pacs=down, metadata={"PatientID": "PID-RETRY"}))
    assert watcher.poll() == 0
    work = names(folder / WORK)
    assert work == ["photo.png"]  # in hand, converted, not sent
    (made,) = (folder / WORK / ("photo.png" + DICOM_SUFFIX)).iterdir()
    assert names(folder / FAILED) == [] and names(folder / DONE) == []
    (row,) = report(folder)
    assert row["status"] == "retry" and row["message"]
    uid = pydicom.dcmread(made).SOPInstanceUID
    # A restart with the PACS back: the same object (same SOP Instance UID) is delivered once.
    watcher = Watcher(folder, ServeConfig(pacs=pacs(serve_orthanc), metadata={"PatientID": "PID-RETRY"}))
    assert watcher.poll() == 1
    assert names(folder / DONE) == ["photo.png"] and names(folder / WORK) == []
    (stored,) = patient_instances(serve_orthanc, "PID-RETRY")
    assert stored["SOPInstanceUID"] == uid


def test_restart_after_a_crash_between_sending_and_filing_does_not_store_twice(
    tmp_path: Path, serve_orthanc: Orthanc
) -> None:
    folder = tmp_path / "in"
    (folder / WORK).mkdir(parents=True)
    # The state a crash leaves: the source in hand, its object made and already sent.
    source = folder / WORK / "photo.png"
    write_png(source, seed=6)
    dicom = folder / WORK / ("photo.png" + DICOM_SUFFIX) / "photo.dcm"
    convert(source, dicom, iod="photo", PatientID="PID-CRASH")
    (folder / WORK / "photo.png.dicomify.part").mkdir()  # and a half-made one from an earlier crash
    assert next(iter(send_files([dicom], pacs(serve_orthanc)))).ok
    watcher = Watcher(folder, ServeConfig(pacs=pacs(serve_orthanc)))
    assert watcher.poll() == 1
    assert names(folder / DONE) == ["photo.png"]
    assert len(patient_instances(serve_orthanc, "PID-CRASH")) == 1
    assert list((folder / WORK).iterdir()) == []  # nothing left in hand, no half-made objects


def test_sigterm_finishes_the_file_in_hand_and_a_restart_does_the_rest(tmp_path: Path, serve_orthanc: Orthanc) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    count = 8
    for index in range(count):
        Image.fromarray(np.tile(rgb_picture(index, 200, 300), (6, 6, 1))).save(folder / f"photo-{index}.png")
    old = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (old, old))
    config = write_config(
        tmp_path / "watch.toml",
        {
            "pacs": {"host": "127.0.0.1", "port": serve_orthanc.dicom_port, "called_aet": ORTHANC_AET},
            "metadata": {"PatientID": "PID-SIGTERM"},
            "watch": {"poll_seconds": 0.2, "settle_seconds": 1.0},
        },
    )
    load_config(config)  # the file is valid
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "dicomify", "watch", str(folder), "--config", str(config)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not names(folder / DONE) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    done_first = names(folder / DONE)
    assert 1 <= len(done_first) < count, "stopped before the end"
    assert list((folder / WORK).iterdir()) == [], "the file in hand was finished"
    assert sorted(done_first + [n for n in names(folder) if n.endswith(".png")]) == sorted(
        f"photo-{i}.png" for i in range(count)
    )
    # The restart takes the rest.
    rest = subprocess.run(command + ["--once"], env=env, capture_output=True, text=True, timeout=120)
    assert rest.returncode == 0, rest.stderr
    assert names(folder / DONE) == sorted(f"photo-{i}.png" for i in range(count))
    assert len(patient_instances(serve_orthanc, "PID-SIGTERM")) == count  # nothing twice, nothing lost
    assert sorted(row["source"] for row in report(folder)) == sorted(f"photo-{i}.png" for i in range(count))
    for secret in ("PID-SIGTERM", "photo-"):
        assert secret not in stderr + rest.stderr  # no patient data (names may hold IDs) in the log


def test_watch_of_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dicomify", "watch", str(tmp_path / "nowhere")],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"dicomify: error: {tmp_path / 'nowhere'}: the folder to watch does not exist"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[watch]\nfilename_pattern = "(?P<Colour>x)"\n', "filename_pattern group 'Colour' is not a metadata field"),
        ('[watch]\nfilename_pattern = "(["\n', "filename_pattern is not a regular expression"),
        ("[watch]\nsettle_seconds = 0\n", "settle_seconds: must be greater than 0"),
        ("[wach]\n", "[wach] is not a section"),
        ('[watch]\nmanifest = "../elsewhere.csv"\n', "manifest: must be a file name in the watched folder"),
    ],
)
def test_bad_watch_settings(tmp_path: Path, toml: str, message: str) -> None:
    from dicomify import DicomifyError

    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(DicomifyError, match=None) as raised:
        load_config(path)
    assert message in str(raised.value)


def test_serve_runs_the_watch_folder_by_configuration(
    start_server: Any, serve_orthanc: Orthanc, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    server = start_server(
        "serve-watch",
        {
            "pacs": {"host": "127.0.0.1", "port": serve_orthanc.dicom_port, "called_aet": ORTHANC_AET},
            "metadata": {"PatientID": "PID-SERVE-WATCH"},
            "watch": {"folder": str(folder), "poll_seconds": 0.2, "settle_seconds": 0.5},
        },
    )
    write_png(folder / "photo.png", seed=9)
    deadline = time.monotonic() + 30
    while not names(folder / DONE) and time.monotonic() < deadline:
        time.sleep(0.1)
    server.stop()
    assert names(folder / DONE) == ["photo.png"]
    assert len(patient_instances(serve_orthanc, "PID-SERVE-WATCH")) == 1


def test_a_tiff_whose_pages_differ_sends_every_object(tmp_path: Path, serve_orthanc: Orthanc) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pages = [Image.fromarray(np.full((40, 50), 100, np.uint8)), Image.fromarray(np.full((30, 20), 200, np.uint8))]
    pages[0].save(folder / "mixed.tif", save_all=True, append_images=pages[1:])
    old = time.time() - 60
    os.utime(folder / "mixed.tif", (old, old))
    watcher = Watcher(folder, ServeConfig(pacs=pacs(serve_orthanc), metadata={"PatientID": "PID-PARTS"}))
    assert watcher.poll() == 1
    assert names(folder / DONE) == ["mixed.tif"]
    stored = patient_instances(serve_orthanc, "PID-PARTS")
    assert sorted((t["Rows"], t["Columns"]) for t in stored) == [("30", "20"), ("40", "50")]


def test_an_order_number_in_the_file_name_takes_patient_and_study_from_the_worklist(
    tmp_path: Path, serve_orthanc: Orthanc
) -> None:
    from net.worklist_servers import order, write_item

    written = order("ACC-WATCH-9", patient_name="FOLDER^FRIDA", patient_id="PID-WATCH-9")
    write_item(serve_orthanc.worklists, "ACC-WATCH-9", written)  # type: ignore[attr-defined]
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "ACC-WATCH-9_scan.png", seed=10)
    write_png(folder / "NO-SUCH-ORDER_scan.png", seed=11)
    old = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (old, old))
    destination = pacs(serve_orthanc)
    config = ServeConfig(
        pacs=destination, worklist=destination, watch=WatchConfig(filename_pattern=r"(?P<order>[^_]+)_.*")
    )
    assert Watcher(folder, config).poll() == 2
    assert names(folder / DONE) == ["ACC-WATCH-9_scan.png"]
    assert names(folder / FAILED) == ["NO-SUCH-ORDER_scan.png"]
    rows = {row["source"]: row for row in report(folder)}
    assert "No scheduled procedure with accession number 'NO-SUCH-ORDER'" in rows["NO-SUCH-ORDER_scan.png"]["message"]
    (stored,) = patient_instances(serve_orthanc, "PID-WATCH-9")
    assert stored["PatientName"] == "FOLDER^FRIDA" and stored["AccessionNumber"] == "ACC-WATCH-9"
    assert stored["StudyInstanceUID"] == written.StudyInstanceUID


def test_an_order_rule_without_a_worklist_is_refused(tmp_path: Path) -> None:
    from dicomify import DicomifyError

    path = tmp_path / "c.toml"
    path.write_text('[watch]\nfilename_pattern = "(?P<order>[^_]+)_.*"\n')
    with pytest.raises(DicomifyError) as raised:
        load_config(path)
    assert "group 'order' needs a [worklist]" in str(raised.value)


def test_a_manifest_gives_each_file_its_patient_and_unlisted_files_fail(tmp_path: Path, serve_orthanc: Orthanc) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "manifest.csv").write_text(
        "file,PatientID,PatientName,AccessionNumber\n"
        "arm.png,PID-MAN-1,Manifest^Mia,ACC-M1\n"
        "leg.png,PID-MAN-2,Manifest^Max,ACC-M2\n"
        "bad.png,PID-MAN-3,Manifest^Bad,\n"
        "bad.png,PID-MAN-3,,\n",
        encoding="utf-8",
    )
    for index, name in enumerate(("arm.png", "leg.png", "stray.png")):
        write_png(folder / name, seed=30 + index)
    (folder / "bad.png").write_bytes(b"not a picture")
    old = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (old, old))
    config = ServeConfig(pacs=pacs(serve_orthanc), watch=WatchConfig(manifest="manifest.csv"))
    assert Watcher(folder, config).poll() == 4
    assert names(folder / DONE) == ["arm.png", "leg.png"]
    assert names(folder / FAILED) == ["bad.png", "stray.png"]
    assert (folder / "manifest.csv").exists()  # the manifest itself is never taken
    rows = {row["source"]: row for row in report(folder)}
    assert "stray.png is not listed in the manifest manifest.csv" in rows["stray.png"]["message"]
    (mia,) = patient_instances(serve_orthanc, "PID-MAN-1")
    assert mia["PatientName"] == "Manifest^Mia" and mia["AccessionNumber"] == "ACC-M1"
    (max_,) = patient_instances(serve_orthanc, "PID-MAN-2")
    assert max_["AccessionNumber"] == "ACC-M2"


def test_a_folder_rule_names_the_patient_of_the_files_in_it(tmp_path: Path, serve_orthanc: Orthanc) -> None:
    folder = tmp_path / "in"
    (folder / "PID-DIR-1_Folder^Fred").mkdir(parents=True)
    (folder / "not-a-patient-folder").mkdir()
    write_png(folder / "PID-DIR-1_Folder^Fred" / "photo.png", seed=40)
    write_png(folder / "not-a-patient-folder" / "photo.png", seed=41)
    old = time.time() - 60
    for path in folder.rglob("*.png"):
        os.utime(path, (old, old))
    config = ServeConfig(
        pacs=pacs(serve_orthanc),
        watch=WatchConfig(folder_pattern=r"(?P<PatientID>PID-[A-Z0-9-]+)_(?P<PatientName>.+)"),
    )
    assert Watcher(folder, config).poll() == 2
    assert names(folder / DONE / "PID-DIR-1_Folder^Fred") == ["photo.png"]
    assert names(folder / FAILED / "not-a-patient-folder") == ["photo.png"]
    rows = {row["source"]: row for row in report(folder)}
    assert "does not match the folder_pattern" in rows["not-a-patient-folder/photo.png"]["message"]
    (fred,) = patient_instances(serve_orthanc, "PID-DIR-1")
    assert fred["PatientName"] == "Folder^Fred"
    assert list((folder / WORK).iterdir()) == []  # the sub-folders in hand are gone too


def test_a_file_slower_than_max_seconds_goes_to_failed_and_the_watch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicomify import _warnings
    from dicomify.serve import watch

    monkeypatch.setattr(_warnings, "_owned", True)  # as in `dicomify watch`: its own process
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "slow", "c"):
        Image.fromarray(np.full((8, 8), 100, np.uint8)).save(folder / f"{name}.png")
    old = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (old, old))
    real = watch.Watcher._convert

    def stuck_on_slow(self: watch.Watcher, source: Path, objects: Path) -> None:
        if source.stem == "slow":
            while True:  # what a decoder stuck in Python code does
                pass
        real(self, source, objects)

    monkeypatch.setattr(watch.Watcher, "_convert", stuck_on_slow)
    settings = tmp_path / "dicomify.toml"
    settings.write_text("[limits]\nmax_seconds = 1\n")
    config = load_config(settings)
    assert config.options.max_seconds == 1
    watcher = Watcher(folder, config)
    while watcher.poll():
        pass
    assert names(folder / FAILED) == ["slow.png"]
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["a.dcm", "c.dcm"]
    rows = {row["source"]: row for row in report(folder)}
    assert "slow.png: the conversion took longer than 1 seconds" in rows["slow.png"]["message"]
    assert names(folder / WORK) == []
