"""Patient data stays out of logs at the default verbosity; secrets out of every output."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.batch_tree import picture

import dicomify
from dicomify.batch import convert_many

SRC = Path(__file__).resolve().parents[1] / "src"
PATIENT = {"PatientName": "Privatperson^Erika", "PatientID": "SECRET-ID-4711"}
SECRET = "pa55-w0rd-never-shown"


def test_no_patient_data_in_logs_at_info(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    named = picture(tmp_path / "in" / "Privatperson Erika SECRET-ID-4711.jpg")
    dicomify.convert(named, tmp_path / "one.dcm", metadata=PATIENT)
    list(convert_many([tmp_path / "in"], tmp_path / "out", jobs=1, **PATIENT))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Privatperson" not in logged and "SECRET-ID-4711" not in logged


def test_a_stow_password_is_never_shown(tmp_path: Path) -> None:
    source = picture(tmp_path / "a.jpg")
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    report = tmp_path / "r.csv"
    argv = [
        sys.executable,
        "-m",
        "dicomify",
        "convert",
        str(source),
        "-o",
        str(tmp_path / "a.dcm"),
        "--report",
        str(report),
    ]
    argv += ["--send", "--stow", f"http://me:{SECRET}@127.0.0.1:9/dicom-web", "--user", "me"]
    argv += ["--password-file", str(secret), "--retries", "0", "--timeout", "2"]
    result = subprocess.run(
        argv, env=dict(os.environ, PYTHONPATH=str(SRC)), capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    shown = result.stdout + result.stderr + report.read_text(encoding="utf-8")
    assert SECRET not in shown
