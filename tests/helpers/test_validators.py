"""The validator helpers must fail when the validator did not run: "no errors" means checked."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import dicomify
from helpers.validators import dciodvfy_errors


def test_valid_file_has_no_errors_and_broken_file_has_some(tmp_path: Path) -> None:
    good = tmp_path / "good.dcm"
    dicomify.convert(np.zeros((8, 8), np.uint8), good)
    assert dciodvfy_errors(good) == []
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(good.read_bytes()[:300])
    assert dciodvfy_errors(bad) != []


def test_missing_file_fails(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="not a file"):
        dciodvfy_errors(tmp_path / "missing.dcm")


def test_validator_that_does_not_run_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A dciodvfy that dies at once, saying nothing.
    broken = tmp_path / "bin" / "dciodvfy"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{broken.parent}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "x.dcm"
    target.write_bytes(b"DICM")
    with pytest.raises(pytest.fail.Exception, match="did not check"):
        dciodvfy_errors(target)
