"""Everyday mistakes on the command line: one line each, the right exit code, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.batch_tree import picture

from dicomify.cli import EXIT_USAGE, build_parser, main
from dicomify.cli.send import destination_from_args
from dicomify.net import DicomDestination, StowDestination, echo

SRC = Path(__file__).resolve().parents[2] / "src"
NOWHERE = "no-such-host.invalid"  # RFC 6761: never resolves


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dicomify", *argv],
        env=dict(os.environ, PYTHONPATH=str(SRC)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unresolvable_host_is_one_line_everywhere(tmp_path: Path) -> None:
    result = echo(DicomDestination(NOWHERE, retries=0))
    assert not result.ok and f"cannot resolve the host name {NOWHERE!r}" in result.message
    source = picture(tmp_path / "a.jpg")
    converted = tmp_path / "a.dcm"
    for argv in (
        ["echo", "--host", NOWHERE, "--retries", "0"],
        ["convert", str(source), "-o", str(converted), "--send", "--host", NOWHERE, "--retries", "0"],
        ["send", str(converted), "--host", NOWHERE, "--retries", "0"],
    ):
        run = _run(*argv)
        assert run.returncode != 0, argv
        assert "Traceback" not in run.stderr and "cannot resolve the host name" in run.stdout + run.stderr, argv


def test_two_spellings_of_grouping_at_once_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = picture(tmp_path / "a.jpg")
    with pytest.raises(SystemExit) as exit_info:
        main(["convert", str(source), "-o", str(tmp_path / "out/"), "--group", "file", "--series-per-folder"])
    assert exit_info.value.code == EXIT_USAGE
    assert "not allowed with argument" in capsys.readouterr().err


def _destination(*argv: str) -> object:
    args = build_parser(["send", *argv]).parse_args(["send", "x.dcm", *argv])
    return destination_from_args(args)


def test_tls_ca_with_plain_http_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not used")
    code = main(["send", str(tmp_path), "--stow", "http://pacs.example/dicom-web", "--tls-ca", str(ca)])
    assert code == EXIT_USAGE
    assert "--tls-ca applies to an https:// STOW URL" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["1", "4095", "4294967296"])
def test_max_pdu_has_bounds(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["echo", "--host", "localhost", "--max-pdu", size]) == EXIT_USAGE
    assert "--max-pdu" in capsys.readouterr().err
    assert isinstance(_destination("--host", "pacs", "--max-pdu", "0"), DicomDestination)  # 0: no limit
    assert isinstance(_destination("--host", "pacs", "--max-pdu", "16384"), DicomDestination)


def test_secrets_from_files_not_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-pass\n")
    monkeypatch.delenv("DICOMIFY_PASSWORD", raising=False)
    monkeypatch.delenv("DICOMIFY_TOKEN", raising=False)
    stow = _destination("--stow", "https://pacs.example/dicom-web", "--user", "me", "--password-file", str(secret))
    assert isinstance(stow, StowDestination) and stow.password == "s3cret-pass"
    stow = _destination("--stow", "https://pacs.example/dicom-web", "--token-file", str(secret))
    assert isinstance(stow, StowDestination) and stow.token == "s3cret-pass"
    monkeypatch.setenv("DICOMIFY_TOKEN", "from-env")
    stow = _destination("--stow", "https://pacs.example/dicom-web")
    assert isinstance(stow, StowDestination) and stow.token == "from-env"
    both = ["send", "x.dcm", "--stow", "https://p/dicom-web", "--token", "t", "--token-file", str(secret)]
    assert main(both) == EXIT_USAGE
    assert (
        main(["send", "x.dcm", "--stow", "https://p/dicom-web", "--token-file", str(tmp_path / "none")]) == EXIT_USAGE
    )
