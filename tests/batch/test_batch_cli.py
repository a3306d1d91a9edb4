"""`dicomify convert` in batch mode: in-process, and killed for real in a subprocess."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from helpers.batch_tree import picture, tree

from dicomify.cli import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from dicomify.cli.progress import Progress
from dicomify.report import read_report

SRC = Path(__file__).resolve().parents[2] / "src"


def test_folder_to_outdir_with_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree(tmp_path)
    report = tmp_path / "report.jsonl"
    code = main(
        ["convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "--report", str(report), "--jobs", "2"]
    )
    assert code == EXIT_PARTIAL
    rows = list(read_report(report))
    assert len(rows) == 4
    assert sorted(r["status"] for r in rows) == ["converted", "converted", "converted", "failed"]
    err = capsys.readouterr().err
    assert f"dicomify: {tmp_path / 'photos' / 'b' / 'bad.png'}: not a supported picture format" in err
    assert "3 converted, 1 failed of 4 files" in err and "report:" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.dcm")) == [
        "a/one.dcm", "a/two.dcm", "b/three.dcm"
    ]  # fmt: skip


def test_all_good_is_0_all_bad_is_1_and_quiet_is_silent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = tree(tmp_path)
    out = str(tmp_path / "out")
    assert (
        main(["convert", str(files["one"]), str(files["two"]), "-o", out, "-q", "--report", str(tmp_path / "r.csv")])
        == EXIT_OK
    )
    assert capsys.readouterr().err == ""
    rows = list(read_report(tmp_path / "r.csv"))
    assert [r["status"] for r in rows] == ["converted", "converted"]
    assert main(["convert", str(files["bad"]), str(files["bad"]), "-o", out]) == EXIT_FAILED


def test_single_file_paths_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = picture(tmp_path / "one.jpg")
    assert main(["convert", str(one), "-o", str(tmp_path / "x.dcm")]) == EXIT_OK
    assert pydicom.dcmread(tmp_path / "x.dcm").SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    # With a report (and resuming), one file to one path goes through the batch engine.
    report = tmp_path / "r.jsonl"
    assert main(["convert", str(one), "-o", str(tmp_path / "y.dcm"), "--report", str(report), "-q"]) == EXIT_OK
    assert [r["output"] for r in read_report(report)] == [str(tmp_path / "y.dcm")]
    assert (
        main(["convert", str(one), "-o", str(tmp_path / "y.dcm"), "--skip-existing", "--report", str(report), "-q"])
        == EXIT_OK
    )
    assert [r["status"] for r in read_report(report)] == ["skipped"]
    # One file into a folder (existing, or named with a trailing slash).
    assert main(["convert", str(one), "-o", str(tmp_path / "dir") + "/", "-q"]) == EXIT_OK
    assert (tmp_path / "dir" / "one.dcm").exists()
    # stdin to stdout is untouched.
    stdin = io.BytesIO(one.read_bytes())
    stdout = io.BytesIO()
    monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": stdin})())
    monkeypatch.setattr(sys, "stdout", type("S", (), {"buffer": stdout})())
    assert main(["convert", "-", "-o", "-"]) == EXIT_OK
    assert pydicom.dcmread(io.BytesIO(stdout.getvalue())).Rows == 32


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (["-", "{one}"], "'-' (stdin) converts one picture", EXIT_USAGE),
        (["{one}", "{one}", "-o", "-"], "need an output folder", EXIT_USAGE),
        (["{one}", "--jobs", "0"], "--jobs 0 must be 1 or more", EXIT_USAGE),
        (["{one}", "-o", "{one}", "--report", "{tmp}/r.csv"], "refusing to overwrite the input", EXIT_FAILED),
        (["{tmp}/missing.jpg", "-o", "{tmp}/m.dcm", "--report", "{tmp}/r.csv"], "no such file", EXIT_FAILED),
        (["{tmp}/missing", "{one}"], "missing: no such file or folder", EXIT_FAILED),
        (
            ["{one}", "-o", "{tmp}/x.dcm", "--dask-scheduler", "tcp://127.0.0.1:1"],
            "--dask-scheduler needs several",
            EXIT_USAGE,
        ),
        (
            ["{tmp}", "--series-per-folder", "--series-uid", "1.2.3", "--set", "PatientID=1"],
            "given for files",
            EXIT_FAILED,
        ),
    ],
)
def test_bad_batch_command_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str, code: int
) -> None:
    one = picture(tmp_path / "one.jpg")
    picture(tmp_path / "sub" / "two.jpg")
    values = {"one": str(one), "tmp": str(tmp_path)}
    argv = [a.format(**values) for a in argv]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "out")]
    assert main(["convert", *argv]) == code
    assert message in capsys.readouterr().err


def test_no_sources_needs_a_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-o", str(tmp_path / "out")]) == EXIT_USAGE
    assert "give pictures, folders or --manifest" in capsys.readouterr().err


def test_manifest_and_series_per_folder(tmp_path: Path) -> None:
    tree(tmp_path)
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,PatientID,PatientSex\nphotos/a/one.jpg,P1,F\nphotos/b/three.jpg,P1,nonsense\n")
    report = tmp_path / "r.csv"
    code = main(
        ["convert", str(tmp_path / "photos"), "--manifest", str(manifest), "-o", str(tmp_path / "out"),
         "--series-per-folder", "--report", str(report), "-q", "--patient-name", "Doe^J", "--jobs", "1"]
    )  # fmt: skip
    assert code == EXIT_PARTIAL
    rows = {Path(r["source"]).name: r for r in read_report(report)}
    assert "manifest line 3" in rows["three.jpg"]["message"] and rows["three.jpg"]["status"] == "failed"
    assert rows["bad.png"]["status"] == "failed"
    one = pydicom.dcmread(rows["one.jpg"]["output"])
    two = pydicom.dcmread(rows["two.png"]["output"])
    assert one.PatientID == "P1" and two.get("PatientID", "") == "" and str(two.PatientName) == "Doe^J"
    # one.jpg's patient (from the manifest) is another study than two.png's.
    assert one.StudyInstanceUID != two.StudyInstanceUID


def test_group_file_gives_independent_studies(tmp_path: Path) -> None:
    tree(tmp_path)
    report = tmp_path / "r.jsonl"
    main(
        [
            "convert",
            str(tmp_path / "photos"),
            "-o",
            str(tmp_path / "out"),
            "--group",
            "file",
            "-q",
            "--report",
            str(report),
        ]
    )
    studies = [r["study_instance_uid"] for r in read_report(report) if r["status"] == "converted"]
    assert len(set(studies)) == 3


def test_missing_dask_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tree(tmp_path)
    monkeypatch.setitem(sys.modules, "distributed", None)
    code = main(["convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "--dask-scheduler", "tcp://x:1"])
    assert code == EXIT_FAILED
    assert "pip install 'dicomify[dask]'" in capsys.readouterr().err


def test_progress_line_and_summary() -> None:
    stream = io.StringIO()
    progress = Progress(4, enabled=True, stream=stream)
    progress.update("converted")
    progress.update("failed")
    progress.clear()
    for status in ("converted", "skipped"):
        progress.update(status)
    progress.close()
    text = stream.getvalue()
    assert "\r[" in text and "4/4 files, 1 failed" in text and "files/s" in text and "ETA" in text
    assert progress.summary("r.csv").startswith("dicomify: 2 converted, 1 skipped, 1 failed of 4 files in ")
    assert Progress(0, enabled=True, stream=io.StringIO()).line().startswith("[" + "#" * 24)


def _run_cli(*argv: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.Popen([sys.executable, "-m", "dicomify", "convert", *argv], env=env, stderr=subprocess.DEVNULL)


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4: ppid
                children.append(int(entry))
    return children


def test_a_killed_batch_leaves_only_complete_files_and_resumes(tmp_path: Path) -> None:
    for i in range(40):
        picture(tmp_path / "in" / f"p{i:02d}.png", "png", size=(900, 700), seed=i)
    out = tmp_path / "out"
    process = _run_cli(str(tmp_path / "in"), "-o", str(out), "--jobs", "2", "-q")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("*.dcm"))) < 5:
        time.sleep(0.01)
    workers = _children_of(process.pid)
    assert workers, "the batch runs in worker processes"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while workers and time.monotonic() < deadline:  # the workers die with their parent
        workers = [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
        time.sleep(0.05)
    assert not workers, "worker processes outlived the killed batch"
    finished = sorted(out.glob("*.dcm"))
    assert 5 <= len(finished) < 40, "kill the batch in the middle"
    for path in finished:  # every final name is a complete DICOM file
        ds = pydicom.dcmread(path)
        assert len(ds.PixelData) == 900 * 700 * 3
    report = tmp_path / "r.csv"
    env = dict(os.environ, PYTHONPATH=str(SRC))
    again = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(tmp_path / "in"), "-o", str(out), "--skip-existing",
         "--report", str(report), "-q"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == EXIT_OK, again.stderr
    rows = list(read_report(report))
    assert len(rows) == 40
    statuses = [r["status"] for r in rows]
    assert statuses.count("skipped") >= len(finished) and "failed" not in statuses
    assert len(list(out.glob("*.dcm"))) == 40
    assert not list(out.glob(".*.part"))
    headers = [pydicom.dcmread(path) for path in out.glob("*.dcm")]
    assert all(len(h.PixelData) == 900 * 700 * 3 for h in headers)
    # Resumed, the batch is still one study and one series, numbered 1..40.
    assert len({h.StudyInstanceUID for h in headers}) == 1 and len({h.SeriesInstanceUID for h in headers}) == 1
    assert sorted(h.InstanceNumber for h in headers) == list(range(1, 41))


def test_progress_bar_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    import pty

    tree(tmp_path)
    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(SRC))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dicomify", "convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "-j", "1"],
            env=env, stderr=follower, stdout=subprocess.DEVNULL, timeout=60, check=False,
        )  # fmt: skip
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
    assert done.returncode == EXIT_PARTIAL
    text = output.decode()
    assert "\r[" in text and "4/4 files, 1 failed" in text and "files/s" in text and "ETA" in text
    assert "3 converted, 1 failed of 4 files" in text


def test_delivery_hook_failures_set_the_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `--send` will plug in: each finished output goes to on_converted; unsent counts as failed."""
    import dataclasses

    from dicomify.cli import build_parser
    from dicomify.cli.convert import run

    tree(tmp_path)
    sent = []

    def send(result):  # type: ignore[no-untyped-def]
        sent.append(result.output)
        status = "failed" if "two" in result.output else "stored"
        return dataclasses.replace(result, send_status=status, message="refused" if status == "failed" else "")

    report = tmp_path / "r.csv"
    args = build_parser().parse_args(
        ["convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "--report", str(report), "-j", "1"]
    )
    assert run(args, on_converted=send) == EXIT_PARTIAL
    assert len(sent) == 3
    rows = {Path(r["source"]).name: r for r in read_report(report)}
    assert rows["one.jpg"]["send_status"] == "stored" and rows["two.png"]["send_status"] == "failed"
    err = capsys.readouterr().err
    assert "two.dcm: not sent: refused" in err and "3 converted, 1 failed, 1 not sent of 4 files" in err
    # One file to one path goes through the same hook.
    one = tmp_path / "photos" / "a" / "one.jpg"
    args = build_parser().parse_args(["convert", str(one), "-o", str(tmp_path / "one.dcm"), "-q"])
    assert run(args, on_converted=send) == EXIT_OK and sent[-1] == str(tmp_path / "one.dcm")
    assert main(["convert", "-", "-o", str(tmp_path / "x.dcm"), "--report", str(report)]) == EXIT_USAGE
    assert "batch flags" in capsys.readouterr().err
