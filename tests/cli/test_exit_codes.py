"""The exit-code policy (cli/exitcodes.py): 0 all done, 1 nothing done, 2 usage, 3 some failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.batch_tree import picture, tree

from dicomify.cli import main
from dicomify.cli.exitcodes import ExitCode, UsageError, for_counts
from dicomify.errors import DicomifyError

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("total", "unsuccessful", "code"),
    [
        (3, 0, ExitCode.OK),
        (3, 1, ExitCode.PARTIAL),
        (3, 2, ExitCode.PARTIAL),
        (3, 3, ExitCode.FAILED),
        (0, 0, ExitCode.FAILED),
    ],
)
def test_policy(total: int, unsuccessful: int, code: ExitCode) -> None:
    assert for_counts(total, unsuccessful) is code


def test_the_codes_are_the_documented_numbers() -> None:
    assert [int(c) for c in (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE, ExitCode.PARTIAL)] == [0, 1, 2, 3]
    assert issubclass(UsageError, DicomifyError)  # library callers catch one root


def test_batch_outcomes_give_0_3_1(tmp_path: Path) -> None:
    files = tree(tmp_path)
    out = str(tmp_path / "out")
    assert main(["convert", str(files["one"]), str(files["two"]), "-o", out, "-q"]) == 0
    assert main(["convert", str(tmp_path / "photos"), "-o", out, "-q", "-j", "1"]) == 3
    assert main(["convert", str(files["bad"]), "-o", str(tmp_path / "bad.dcm"), "-q"]) == 1
    assert main(["convert", str(files["bad"]), str(files["bad"]), "-o", out, "-q"]) == 1
    # Resumed: every output kept counts as done.
    assert main(["convert", str(files["one"]), str(files["two"]), "-o", out, "-q", "--skip-existing"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{one}", "-o", "{out}", "--jobs", "0"], "--jobs 0 must be 1 or more"),
        (["-", "{one}", "-o", "{out}"], "cannot be mixed"),
        (["-", "-o", "{out}/x.dcm", "--skip-existing"], "batch flags"),
        (["{one}", "{one}", "-o", "-"], "need an output folder"),
        (["-o", "{out}"], "give pictures, folders or --manifest"),
        (["{one}", "-o", "{out}/x.dcm", "--dask-scheduler", "tcp://127.0.0.1:1"], "--dask-scheduler needs several"),
        (["{one}", "-o", "{out}/x.dcm", "--study-from", "a.dcm", "--series-from", "b.dcm"], "not both"),
        (["{one}", "-o", "{out}/x.dcm", "--set", "PatientName"], "KEYWORD=VALUE"),
        (["{one}", "-o", "{out}/x.dcm", "--sex", "X"], "PatientSex"),
        (["{one}", "-o", "{out}/x.dcm", "--dpi", "0"], "dpi 0"),
        (["{one}", "-o", "{out}/x.dcm", "--background", "no-such-colour"], "no-such-colour"),
        (["{one}", "-o", "{out}/x.dcm", "--send"], "--send needs a destination"),
        (["{one}", "-o", "{out}/x.dcm", "--host", "pacs"], "only apply with --send"),
        (["{one}", "-o", "{out}/x.dcm", "--skip-sent", "r.csv"], "only apply with --send"),
        (["{one}", "-o", "-", "--send", "--host", "pacs"], "not '-'"),
        (["{one}", "-o", "{out}/x.dcm", "--send", "--host", "pacs", "--port", "70000"], "port 70000"),
        (["{one}", "-o", "{out}/x.dcm", "--send", "--host", "pacs", "--user", "me"], "--user applies to --stow"),
    ],
)
def test_usage_errors_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    one = picture(tmp_path / "one.jpg")
    out = tmp_path / "out"
    argv = [a.format(one=one, out=out) for a in argv]
    assert main(["convert", *argv]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("dicomify: error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_send_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", str(tmp_path), "--host", "pacs", "--token", "x"]) == ExitCode.USAGE
    assert "--token applies to --stow" in capsys.readouterr().err


def test_bad_input_is_1_not_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing input or an unreadable metadata file is not a usage error."""
    one = picture(tmp_path / "one.jpg")
    assert main(["convert", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "x.dcm")]) == ExitCode.FAILED
    (tmp_path / "meta.json").write_text("[1, 2]")
    code = main(["convert", str(one), "-o", str(tmp_path / "x.dcm"), "--metadata", str(tmp_path / "meta.json")])
    assert code == ExitCode.FAILED
    assert "JSON object" in capsys.readouterr().err


def test_argparse_errors_exit_2_in_a_real_process(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    for argv in (["convert", "x.jpg"], ["convert", "x.jpg", "-o", "y.dcm", "--no-such-flag"], ["nonsense"]):
        done = subprocess.run(
            [sys.executable, "-m", "dicomify", *argv], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 2, (argv, done.stderr)
    one = picture(tmp_path / "one.jpg")
    done = subprocess.run(
        [sys.executable, "-m", "dicomify", "convert", str(one), "-o", str(tmp_path / "x.dcm"), "--jobs", "0"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "--jobs 0" in done.stderr and "Traceback" not in done.stderr


def test_export_follows_the_same_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dicomify

    (tmp_path / "empty").mkdir()
    assert main(["export", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == ExitCode.FAILED
    assert "no DICOM files found" in capsys.readouterr().err
    dicomify.convert(picture(tmp_path / "a.jpg"), tmp_path / "in" / "a.dcm")
    assert main(["export", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == ExitCode.OK
    (tmp_path / "in" / "b.dcm").write_bytes(b"not DICOM")  # named: a failure, not passed over
    named = [str(tmp_path / "in" / "a.dcm"), str(tmp_path / "in" / "b.dcm")]
    assert main(["export", *named, "-o", str(tmp_path / "out2")]) == ExitCode.PARTIAL
