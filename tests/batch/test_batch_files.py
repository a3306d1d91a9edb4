"""A batch's files: unwritable output folder, dead workers' temporaries, redoing cut outputs."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pydicom
import pytest
from helpers.batch_tree import picture, tree
from helpers.mounts import read_only_folder

from dicomify.batch import convert_many
from dicomify.cli import EXIT_FAILED, EXIT_OK, main
from dicomify.errors import OutputError
from dicomify.report import read_report


def test_an_unwritable_output_folder_fails_once_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree(tmp_path)
    with read_only_folder(tmp_path / "ro") as folder:
        code = main(["convert", str(tmp_path / "photos"), "-o", str(folder / "out")])
        assert code == EXIT_FAILED
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"dicomify: error: {folder / 'out'}: cannot write output files here (")
        with pytest.raises(OutputError):
            convert_many([tmp_path / "photos"], folder, jobs=1)


def test_no_temporary_is_left_when_a_worker_dies_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the dying writer is planted by forking the test process")
    for index in range(4):
        picture(tmp_path / "in" / f"ok{index}.jpg", seed=index)
    picture(tmp_path / "in" / "killer.png", "png", size=(77, 77))
    real_write = pydicom.dcmwrite

    def write_half_then_die(file, dataset, **kwargs):  # type: ignore[no-untyped-def]
        if dataset.Rows == 77:
            file.write(b"half a file")
            file.flush()
            os._exit(9)  # as the kernel's OOM killer would end it
        return real_write(file, dataset, **kwargs)

    monkeypatch.setattr(pydicom, "dcmwrite", write_half_then_die)
    results = {Path(r.source).name: r for r in convert_many([tmp_path / "in"], tmp_path / "out", jobs=2)}
    assert results["killer.png"].status == "failed" and "worker process died" in results["killer.png"].message
    assert sum(r.status == "converted" for r in results.values()) == 4
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".part")] == []


def test_skip_existing_redoes_a_cut_output(tmp_path: Path) -> None:
    files = tree(tmp_path)
    out = tmp_path / "out"
    assert main(["convert", str(files["one"]), str(files["two"]), "-o", str(out), "-q"]) == EXIT_OK
    cut = out / "one.dcm"
    whole = cut.read_bytes()
    cut.write_bytes(whole[:-500])
    report = tmp_path / "r.jsonl"
    code = main(
        [
            "convert",
            str(files["one"]),
            str(files["two"]),
            "-o",
            str(out),
            "-q",
            "--skip-existing",
            "--report",
            str(report),
        ]
    )
    assert code == EXIT_OK
    statuses = {Path(r["source"]).name: r["status"] for r in read_report(report)}
    assert statuses == {"one.jpg": "converted", "two.png": "skipped"}
    assert len(cut.read_bytes()) == len(whole)
    # The redone file stays in the study of the first run.
    assert pydicom.dcmread(cut).StudyInstanceUID == pydicom.dcmread(out / "two.dcm").StudyInstanceUID
