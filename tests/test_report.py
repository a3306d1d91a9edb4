"""Reports and messages that are safe to open and cannot be forged, even on a full disk."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from helpers.batch_tree import picture
from helpers.mounts import read_only_folder, tmpfs

from dicomify.cli import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, main
from dicomify.errors import OutputError
from dicomify.report import ReportWriter, read_report


def _only_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_report_at_a_folder_or_unwritable_place_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = picture(tmp_path / "one.jpg")
    (tmp_path / "reports").mkdir()
    out = str(tmp_path / "out")
    assert main(["convert", str(one), "-o", out + "/", "--report", str(tmp_path / "reports")]) == EXIT_FAILED
    assert (
        _only_line(capsys) == f"dicomify: error: report {tmp_path / 'reports'}: cannot write (is a folder, not a file)"
    )
    with read_only_folder(tmp_path / "ro") as folder:
        assert main(["convert", str(one), "-o", out + "/", "--report", str(folder / "r.csv")]) == EXIT_FAILED
        assert _only_line(capsys).startswith(f"dicomify: error: report {folder / 'r.csv'}: cannot write (")


def test_a_report_on_a_full_disk_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = [str(picture(tmp_path / "in" / f"p{index}.jpg", seed=index)) for index in range(3)]
    with tmpfs(tmp_path / "small", size="64k") as small:
        with open(small / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass
        code = main(["convert", *sources, "-o", str(tmp_path / "out"), "--report", str(small / "r.jsonl"), "-q"])
        assert code == EXIT_FAILED
        assert (
            _only_line(capsys) == f"dicomify: error: report {small / 'r.jsonl'}: cannot write (No space left on device)"
        )


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_file_names_that_are_not_utf8(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.jpg")  # Latin-1, as an old camera card writes it
    picture(folder / name)
    report = tmp_path / f"r{suffix}"
    assert main(["convert", str(folder), "-o", str(tmp_path / "out"), "--report", str(report), "-q"]) == EXIT_OK
    (row,) = read_report(report)
    assert row["status"] == "converted"
    if suffix == ".jsonl":
        assert row["source"] == str(folder / name)  # exactly, for --skip-sent and scripts
    else:
        assert row["source"] == str(folder / "caf\\udce9.jpg")  # readable text in a spreadsheet
    report.read_bytes().decode("utf-8")  # the report itself is valid UTF-8


def test_csv_cells_cannot_be_formulas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    picture(tmp_path / "=HYPERLINK(1).jpg")
    picture(tmp_path / "@SUM(1).jpg")
    (tmp_path / "+2-3.png").write_bytes(b"not a picture")
    report = tmp_path / "r.csv"
    assert (
        main(["convert", "=HYPERLINK(1).jpg", "@SUM(1).jpg", "+2-3.png", "-o", "out/", "--report", str(report), "-q"])
        == EXIT_PARTIAL
    )
    with open(report, newline="", encoding="utf-8") as file:
        cells = [row["source"] for row in csv.DictReader(file)]
    assert sorted(cells) == ["'+2-3.png", "'=HYPERLINK(1).jpg", "'@SUM(1).jpg"]
    assert sorted(row["source"] for row in read_report(report)) == ["+2-3.png", "=HYPERLINK(1).jpg", "@SUM(1).jpg"]


def test_control_characters_cannot_forge_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forged = tmp_path / "x.png\ndicomify: 3 converted, 0 failed of 3 files\x1b[2J.png"
    forged.write_bytes(b"not a picture")
    good = picture(tmp_path / "good.jpg")
    report = tmp_path / "r.csv"
    code = main(["convert", str(forged), str(good), "-o", str(tmp_path / "out"), "--report", str(report), "-q"])
    assert code == EXIT_PARTIAL
    (line,) = capsys.readouterr().err.splitlines()
    assert "\\ndicomify: 3 converted" in line and "\\x1b[2J" in line and "\x1b" not in line
    assert len(report.read_text(encoding="utf-8").splitlines()) == 3  # header and two rows


def test_writer_errors_are_output_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        ReportWriter(tmp_path)
    with ReportWriter(tmp_path / "r.jsonl") as writer:
        writer.write({"source": "a", "status": "converted"})
    assert [r["source"] for r in read_report(tmp_path / "r.jsonl")] == ["a"]
