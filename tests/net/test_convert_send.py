"""`dicomify convert ... --send`: convert and deliver in one go, against the real Orthanc."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dicomify.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from dicomify.report import read_report

from .net_samples import Sample, picture
from .net_verify import check_stored
from .orthanc_server import ORTHANC_AET, Orthanc, free_port


def pictures(folder: Path) -> dict[str, list[np.ndarray]]:
    """A PNG, a JPEG and an animated GIF; the frames a viewer shows for each."""
    folder.mkdir(parents=True)
    png, jpeg = picture(seed=1), picture(seed=2)
    Image.fromarray(png).save(folder / "chart.png")
    Image.fromarray(jpeg).save(folder / "photo.jpg", quality=92)
    frames = [picture(seed=3 + k) for k in range(3)]
    images = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    images[0].save(folder / "anim.gif", save_all=True, append_images=images[1:], duration=100)
    with Image.open(folder / "anim.gif") as gif:
        shown = []
        for index in range(gif.n_frames):
            gif.seek(index)
            shown.append(np.asarray(gif.convert("RGB")))
    return {"chart.png": [png], "photo.jpg": [jpeg], "anim.gif": shown}


def destination(server: Orthanc) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.dicom_port), "-aec", ORTHANC_AET, "--backoff", "0.05"]


def test_convert_and_send_a_folder(orthanc: Orthanc, tmp_path: Path) -> None:
    shown = pictures(tmp_path / "in")
    report = tmp_path / "report.csv"
    command = ["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--send", *destination(orthanc)]
    assert main([*command, "--report", str(report), "-q", "--jobs", "2"]) == EXIT_OK
    rows = list(read_report(report))
    assert len(rows) == 3
    assert {row["status"] for row in rows} == {"converted"}
    assert {row["send_status"] for row in rows} == {"stored"}
    for row in rows:
        name = Path(row["source"]).name
        sample = Sample(Path(row["output"]), name, shown[name], 3.0 if name.endswith(".jpg") else 1.0)
        check_stored(orthanc, sample)
    jpeg_row = next(row for row in rows if row["source"].endswith(".jpg"))
    assert jpeg_row["send_transfer_syntax"] == "1.2.840.10008.1.2.4.50"  # travelled byte-exact


def test_peer_without_jpeg_gets_it_decoded(orthanc_no_jpeg: Orthanc, tmp_path: Path) -> None:
    shown = pictures(tmp_path / "in")
    out, report = tmp_path / "photo.dcm", tmp_path / "r.jsonl"
    command = ["convert", str(tmp_path / "in" / "photo.jpg"), "-o", str(out), "--send", *destination(orthanc_no_jpeg)]
    assert main([*command, "--report", str(report)]) == EXIT_OK
    (row,) = read_report(report)
    assert row["send_status"] == "stored-decoded"
    assert row["transfer_syntax"] == "1.2.840.10008.1.2.4.50"
    assert row["send_transfer_syntax"] == "1.2.840.10008.1.2.1"
    check_stored(orthanc_no_jpeg, Sample(out, "jpeg", shown["photo.jpg"], 3.0), decoded=True)


def test_server_down_then_rerun_sends_only_what_is_missing(
    orthanc_disposable: Orthanc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pictures(tmp_path / "in")
    out, report = tmp_path / "out", tmp_path / "report.csv"
    base = ["convert", str(tmp_path / "in"), "-o", str(out), "-q", "--report", str(report)]

    # Nobody listens: every file converts, none is stored, the exit code says so.
    closed = ["--send", "--host", "127.0.0.1", "--port", str(free_port()), "--retries", "0"]
    assert main([*base, *closed]) == EXIT_FAILED
    rows = list(read_report(report))
    assert {row["status"] for row in rows} == {"converted"}
    assert {row["send_status"] for row in rows} == {"failed"}
    assert len(list(out.rglob("*.dcm"))) == 3  # the converted files stay on disk
    assert "not sent" in capsys.readouterr().err

    # The same command against a live server: the kept outputs are sent, not re-converted.
    rerun = [*base, "--skip-existing", "--skip-sent", str(report), "--send", *destination(orthanc_disposable)]
    assert main(rerun) == EXIT_OK
    rows = list(read_report(report))
    assert {row["status"] for row in rows} == {"skipped"}
    assert {row["send_status"] for row in rows} == {"stored"}
    assert len(orthanc_disposable.instances()) == 3

    # Once more: nothing is missing, nothing is sent again.
    assert main(rerun) == EXIT_OK
    assert {row["send_status"] for row in read_report(report)} == {"skipped"}
    assert len(orthanc_disposable.instances()) == 3


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--send"], "needs a destination"),
        (["--host", "127.0.0.1"], "only apply with --send"),
        (["--skip-sent", "r.csv"], "only apply with --send"),
    ],
)
def test_send_flags_misuse(flags: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.fromarray(picture()).save(tmp_path / "a.png")
    assert main(["convert", str(tmp_path / "a.png"), "-o", str(tmp_path / "a.dcm"), *flags]) == EXIT_USAGE
    assert words in capsys.readouterr().err
    assert not (tmp_path / "a.dcm").exists()


def test_send_to_stdout_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    Image.fromarray(picture()).save(tmp_path / "a.png")
    command = ["convert", str(tmp_path / "a.png"), "-o", "-", "--send", "--host", "127.0.0.1"]
    assert main(command) == EXIT_USAGE
    assert "not '-'" in capsys.readouterr().err
