"""Discovery with links, loops and unreadable folders: every picture once, every path a row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pydicom
from helpers.batch_tree import picture
from helpers.mounts import without_file_permissions_bypass

from dicomify.batch import convert_many
from dicomify.batch.discover import scan
from dicomify.cli import EXIT_OK, EXIT_PARTIAL, main
from dicomify.report import read_report

SRC = Path(__file__).resolve().parents[2] / "src"


def _rows(report: Path) -> dict[str, tuple[str, str]]:
    return {Path(r["source"]).name: (r["status"], r["message"]) for r in read_report(report)}


def test_a_link_to_an_own_picture_converts_the_real_file_once(tmp_path: Path) -> None:
    real = picture(tmp_path / "in" / "real.jpg")
    (tmp_path / "in" / "alias.jpg").symlink_to(real)  # sorts first
    (tmp_path / "in" / "sub").mkdir()
    (tmp_path / "in" / "sub" / "deep.jpg").symlink_to(Path("..") / "real.jpg")
    report = tmp_path / "r.jsonl"
    assert (
        main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(report), "-q"]) == EXIT_OK
    )
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.dcm")) == ["real.dcm"]
    rows = _rows(report)
    assert rows["real.jpg"][0] == "converted"
    assert rows["alias.jpg"] == ("skipped", f"the same picture as {real}")
    assert rows["deep.jpg"][0] == "skipped"


def test_broken_links_and_loops_get_a_row_and_the_batch_goes_on(tmp_path: Path) -> None:
    picture(tmp_path / "in" / "good.jpg")
    (tmp_path / "in" / "gone.jpg").symlink_to(tmp_path / "in" / "missing.jpg")
    (tmp_path / "in" / "self.jpg").symlink_to(tmp_path / "in" / "self.jpg")
    (tmp_path / "in" / "a.png").symlink_to(tmp_path / "in" / "b.png")
    (tmp_path / "in" / "b.png").symlink_to(tmp_path / "in" / "a.png")
    (tmp_path / "in" / "up").symlink_to(tmp_path / "in")  # a folder loop: walked once
    report = tmp_path / "r.csv"
    code = main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(report), "-q"])
    assert code == EXIT_PARTIAL
    rows = _rows(report)
    assert rows["good.jpg"][0] == "converted"
    assert rows["gone.jpg"][0] == "failed" and "broken symbolic link" in rows["gone.jpg"][1]
    for name in ("self.jpg", "a.png", "b.png"):
        assert rows[name] == ("failed", "the symbolic link loops back on itself")
    assert len(rows) == 5


def test_broken_links_that_may_have_led_to_pictures_get_a_row(tmp_path: Path) -> None:
    picture(tmp_path / "in" / "good.jpg")
    (tmp_path / "in" / "scans").symlink_to("/mnt/not-mounted/scans")  # a folder on a share
    (tmp_path / "in" / "latest").symlink_to(tmp_path / "in" / "gone.tif")
    (tmp_path / "in" / "notes").symlink_to(tmp_path / "in" / "notes.txt")  # not a picture either way
    found = scan([tmp_path / "in"])
    assert [Path(i.path).name for i in found.inputs] == ["good.jpg"]
    rows = {Path(p.path).name: (p.status, p.message) for p in found.passed}
    assert sorted(rows) == ["latest", "scans"]
    assert rows["scans"][0] == "failed" and "broken symbolic link (to /mnt/not-mounted/scans" in rows["scans"][1]


def test_links_out_of_the_input_folders_are_followed_only_when_asked(tmp_path: Path) -> None:
    for index in range(3):
        picture(tmp_path / "elsewhere" / f"x{index}.jpg", seed=index)
    picture(tmp_path / "in" / "own.jpg")
    (tmp_path / "in" / "usr").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "in" / "one.jpg").symlink_to(tmp_path / "elsewhere" / "x0.jpg")
    (tmp_path / "in" / "proc").symlink_to("/proc")
    found = scan([tmp_path / "in"])
    assert [Path(i.path).name for i in found.inputs] == ["own.jpg"]
    assert sorted((Path(p.path).name, p.status) for p in found.passed) == [
        ("one.jpg", "skipped"),
        ("proc", "skipped"),
        ("usr", "skipped"),
    ]
    assert "--follow-links" in found.passed[0].message
    (tmp_path / "in" / "proc").unlink()
    followed = scan([tmp_path / "in"], follow_links=True)
    # A file found in a folder wins over a link to that file.
    assert [Path(i.path).name for i in followed.inputs] == ["own.jpg", "x0.jpg", "x1.jpg", "x2.jpg"]
    assert [Path(p.path).name for p in followed.passed] == ["one.jpg"]
    # Two folder arguments are one input tree: a link from one into the other is followed.
    (tmp_path / "in" / "usr").unlink()
    (tmp_path / "in" / "one.jpg").unlink()
    (tmp_path / "in" / "other").symlink_to(tmp_path / "elsewhere")
    both = scan([tmp_path / "in", tmp_path / "elsewhere"])
    assert len(both.inputs) == 4 and all(p.status == "skipped" for p in both.passed)


def test_an_unreadable_folder_is_reported_and_the_rest_converted(tmp_path: Path) -> None:
    picture(tmp_path / "in" / "a" / "one.jpg")
    picture(tmp_path / "in" / "b" / "two.jpg")
    (tmp_path / "in" / "b").chmod(0o000)
    tmp_path.chmod(0o755)  # the child may not be root: let it reach the files
    report = tmp_path / "r.jsonl"
    try:
        result = subprocess.run(
            [*without_file_permissions_bypass(), sys.executable, "-m", "dicomify", "convert", str(tmp_path / "in"),
             "-o", str(tmp_path / "out"), "--report", str(report), "-q"],
            env=dict(os.environ, PYTHONPATH=str(SRC)),
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        (tmp_path / "in" / "b").chmod(0o755)
    assert result.returncode == EXIT_PARTIAL, result.stderr
    assert "Traceback" not in result.stderr
    rows = {r["source"]: (r["status"], r["message"]) for r in read_report(report)}
    assert rows[str(tmp_path / "in" / "b")] == ("failed", "cannot list the folder (Permission denied)")
    assert rows[str(tmp_path / "in" / "a" / "one.jpg")][0] == "converted"


def test_the_library_gives_every_path_a_result(tmp_path: Path) -> None:
    real = picture(tmp_path / "in" / "real.jpg")
    (tmp_path / "in" / "alias.jpg").symlink_to(real)
    (tmp_path / "in" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    results = {Path(r.source).name: r for r in convert_many([tmp_path / "in"], tmp_path / "out", jobs=1)}
    assert {name: r.status for name, r in results.items()} == {
        "real.jpg": "converted",
        "alias.jpg": "skipped",
        "gone.jpg": "failed",
    }
    assert pydicom.dcmread(results["real.jpg"].output).Rows == 32
