"""Batch planning and running: discovery, output paths, grouping, manifest, executors."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
from pathlib import Path

import pydicom
import pytest
from helpers.batch_tree import picture, tree

from dicomify import ConvertOptions
from dicomify._files import remove_stale_temporaries
from dicomify.batch import BatchResult, Grouping, convert_many
from dicomify.batch.discover import Input, anchor_of, assign_outputs, discover
from dicomify.batch.grouping import assign_groups
from dicomify.batch.manifest import read_manifest
from dicomify.batch.plan import Task
from dicomify.batch.worker import convert_task
from dicomify.errors import DicomifyError, InputError, MetadataError
from dicomify.outcome import SendStatus

# --- discovery and output paths -------------------------------------------------------


def test_discover_walks_folders_sorted_skipping_hidden_and_non_pictures(tmp_path: Path) -> None:
    files = tree(tmp_path)
    (tmp_path / "photos" / "a" / ".hidden.jpg").write_bytes(b"x")
    (tmp_path / "photos" / "a" / ".one.dcm.abc.part").write_bytes(b"x")
    (tmp_path / "photos" / "notes.txt").write_text("not a picture by name")
    (tmp_path / "photos" / ".git").mkdir()
    picture(tmp_path / "photos" / ".git" / "x.jpg")
    found = discover([tmp_path / "photos"])
    assert [Path(i.path) for i in found] == [files["one"], files["two"], files["bad"], files["three"]]
    assert all(i.root == str(tmp_path / "photos") for i in found)


def test_discover_takes_any_named_file_once_and_refuses_missing(tmp_path: Path) -> None:
    files = tree(tmp_path)
    named = tmp_path / "scan.data"
    named.write_bytes(b"whatever")
    found = discover([named, tmp_path / "photos", files["one"]])
    assert found[0] == Input(str(named), None)
    assert len(found) == 5  # one.jpg is not listed twice
    with pytest.raises(InputError, match="nope.jpg: no such file or folder"):
        discover([tmp_path / "nope.jpg"])


def test_discover_follows_folder_links_once(tmp_path: Path) -> None:
    picture(tmp_path / "in" / "sub" / "a.jpg")
    (tmp_path / "in" / "sub" / "loop").symlink_to(tmp_path / "in")
    (tmp_path / "in" / "alias").symlink_to(tmp_path / "in" / "sub")
    found = discover([tmp_path / "in"])
    assert [Path(i.path).name for i in found] == ["a.jpg"]


def test_discover_never_walks_into_the_output_folder(tmp_path: Path) -> None:
    picture(tmp_path / "in" / "a.jpg")
    picture(tmp_path / "in" / "out" / "old.jpg")
    found = discover([tmp_path / "in"], output_dir=tmp_path / "in" / "out")
    assert [Path(i.path).name for i in found] == ["a.jpg"]


def test_outputs_mirror_the_tree_below_one_folder(tmp_path: Path) -> None:
    tree(tmp_path)
    inputs = discover([tmp_path / "photos"])
    outputs = assign_outputs(inputs, tmp_path / "out")
    assert [Path(o).relative_to(tmp_path / "out").as_posix() for o in outputs] == [
        "a/one.dcm", "a/two.dcm", "b/bad.dcm", "b/three.dcm"
    ]  # fmt: skip


def test_outputs_of_several_folders_keep_their_names(tmp_path: Path) -> None:
    picture(tmp_path / "day1" / "x.jpg")
    picture(tmp_path / "day2" / "x.jpg")
    picture(tmp_path / "loose.png", "png")
    inputs = discover([tmp_path / "day1", tmp_path / "day2", tmp_path / "loose.png"])
    assert anchor_of(inputs) == str(tmp_path)
    outputs = assign_outputs(inputs, tmp_path / "out")
    assert [Path(o).relative_to(tmp_path / "out").as_posix() for o in outputs] == [
        "day1/x.dcm", "day2/x.dcm", "loose.dcm"
    ]  # fmt: skip


def test_outputs_never_collide_and_never_land_on_an_input(tmp_path: Path) -> None:
    for name in ("b.jpg", "b.png", "c.jpg"):
        picture(tmp_path / name, name[-3:])
    (tmp_path / "c.dcm").write_bytes(b"an input that happens to end in .dcm")
    inputs = discover([tmp_path / "b.jpg", tmp_path / "b.png", tmp_path / "c.jpg", tmp_path / "c.dcm"])
    outputs = [Path(o).name for o in assign_outputs(inputs, tmp_path)]
    assert outputs == ["b.jpg.dcm", "b.png.dcm", "c.jpg.dcm", "c.dcm.dcm"]
    # Same stem from two folders mapped into one place: numbered, in input order.
    same = [Input(str(tmp_path / "x" / "p.jpg")), Input(str(tmp_path / "x" / "p.jpg"))]
    assert [Path(o).name for o in assign_outputs(same, tmp_path / "o")] == ["p.jpg.dcm", "p.jpg-2.dcm"]
    # An output that would be the input itself gets another name.
    alone = [Input(str(tmp_path / "c.dcm"))]
    assert [Path(o).name for o in assign_outputs(alone, tmp_path, anchor=str(tmp_path))] == ["c-2.dcm"]


# --- grouping ---------------------------------------------------------------------------


def test_run_grouping_is_one_study_and_series_numbered_in_order() -> None:
    groups = assign_groups([("/a", {}), ("/b", {}), ("/a", {"PatientName": "X"})], Grouping.RUN)
    assert groups[0]["StudyInstanceUID"] == groups[1]["StudyInstanceUID"] != groups[2]["StudyInstanceUID"]
    assert groups[0]["SeriesInstanceUID"] == groups[1]["SeriesInstanceUID"]
    assert [g["InstanceNumber"] for g in groups] == [1, 2, 1]
    assert [g["SeriesNumber"] for g in groups] == [1, 1, 1]
    assert groups[2]["PatientName"] == "X"


def test_folder_grouping_gives_one_series_per_folder() -> None:
    groups = assign_groups([("/a", {}), ("/a", {}), ("/b", {}), ("/a", {})], "folder")
    assert len({g["StudyInstanceUID"] for g in groups}) == 1
    assert groups[0]["SeriesInstanceUID"] == groups[1]["SeriesInstanceUID"] == groups[3]["SeriesInstanceUID"]
    assert groups[2]["SeriesInstanceUID"] != groups[0]["SeriesInstanceUID"]
    assert [(g["SeriesNumber"], g["InstanceNumber"]) for g in groups] == [(1, 1), (1, 2), (2, 1), (1, 3)]


def test_given_values_win_and_a_shared_series_uid_across_folders_is_refused() -> None:
    given = {"StudyInstanceUID": "1.2.3", "SeriesNumber": 7, "InstanceNumber": 9}
    groups = assign_groups([("/a", given), ("/a", given)], Grouping.RUN)
    assert groups[0]["StudyInstanceUID"] == "1.2.3"
    # A number given alike for several files is where they start counting.
    assert [(g["SeriesNumber"], g["InstanceNumber"]) for g in groups] == [(7, 9), (7, 10)]
    with pytest.raises(DicomifyError, match="SeriesInstanceUID 1.2.4 is given for files"):
        assign_groups([("/a", {"SeriesInstanceUID": "1.2.4"}), ("/b", {"SeriesInstanceUID": "1.2.4"})], "folder")


def test_file_grouping_assigns_nothing() -> None:
    assert assign_groups([("/a", {"PatientID": "1"}), ("/a", {})], Grouping.FILE) == [{"PatientID": "1"}, {}]


# --- manifest ---------------------------------------------------------------------------


def test_manifest_rows_are_checked_and_bad_rows_kept(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "path,PatientID,PatientName,PatientSex,AccessionNumber\n"
        "a.jpg,P1,Doe^Jane,F,ACC1\n"
        "sub/b.jpg,P2,Roe^Rick,X,ACC2\n"
        ",P3,,,\n"
        "c.jpg,P1,,,\n",
        encoding="utf-8",
    )
    rows = read_manifest(manifest)
    assert rows[0].path == str(tmp_path / "a.jpg")
    assert rows[0].metadata == {
        "PatientID": "P1",
        "PatientName": "Doe^Jane",
        "PatientSex": "F",
        "AccessionNumber": "ACC1",
    }
    assert rows[1].error is not None and "manifest line 3" in rows[1].error and "PatientSex 'X'" in rows[1].error
    assert rows[2].error == "manifest line 4 has no path"
    assert rows[3].metadata == {"PatientID": "P1"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("PatientID\nP1\n", "has no path column"),
        ("path,PatientAge\na.jpg,42\n", "'PatientAge' are not metadata fields"),
    ],
)
def test_unusable_manifest_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(content)
    with pytest.raises(DicomifyError, match=message):
        read_manifest(manifest)
    with pytest.raises(DicomifyError, match="cannot read manifest"):
        read_manifest(tmp_path / "missing.csv")


def test_manifest_assigns_patients_and_studies(tmp_path: Path) -> None:
    for name in ("a", "b", "c", "d"):
        picture(tmp_path / "in" / f"{name}.jpg", seed=ord(name))
    manifest = tmp_path / "in" / "m.csv"
    manifest.write_text(
        "file,PatientID,PatientName,StudyDescription\n"
        "a.jpg,P1,Doe^Jane,Skin\n"
        "b.jpg,P1,Doe^Jane,Skin\n"
        "c.jpg,P2,Roe^Rick,Wound\n"
        "d.jpg,P3,Bad^Birth,\n"
        "missing.jpg,P4,,\n"
        "a.jpg,P9,,\n",
    )
    with open(manifest, "a") as file:
        file.write("d.jpg,P3,,\n")  # listed twice
    rows = list(convert_many([], tmp_path / "out", manifest=manifest, jobs=1, PatientBirthDate="2001-02-03"))
    by_source = {}
    for row in rows:
        by_source.setdefault(Path(row.source).name, []).append(row)
    failed = [r for r in rows if r.status == "failed"]
    assert sorted(Path(r.source).name for r in failed) == ["a.jpg", "d.jpg", "missing.jpg"]
    assert all("manifest line" in r.message for r in failed)
    converted = {Path(r.source).name: r for r in rows if r.status == "converted"}
    assert set(converted) == {"a.jpg", "b.jpg", "c.jpg", "d.jpg"}
    assert converted["a.jpg"].study_instance_uid == converted["b.jpg"].study_instance_uid
    assert converted["c.jpg"].study_instance_uid != converted["a.jpg"].study_instance_uid
    ds = pydicom.dcmread(converted["c.jpg"].output)
    assert (ds.PatientID, str(ds.PatientName), ds.StudyDescription, ds.PatientBirthDate) == (
        "P2",
        "Roe^Rick",
        "Wound",
        "20010203",
    )
    assert ds.InstanceNumber == 1 and ds.SeriesNumber == 1


# --- running ----------------------------------------------------------------------------


def _check_outputs(results: list[BatchResult]) -> None:
    for result in results:
        if result.status == "converted":
            ds = pydicom.dcmread(result.output)
            assert ds.SOPInstanceUID == result.sop_instance_uid
            assert ds.StudyInstanceUID == result.study_instance_uid
            assert ds.file_meta.TransferSyntaxUID == result.transfer_syntax
            ds.pixel_array  # noqa: B018 - decodes


@pytest.mark.parametrize(
    "make_executor",
    [None, lambda: cf.ThreadPoolExecutor(2), lambda: cf.ProcessPoolExecutor(2)],
    ids=["inline", "threads", "processes"],
)
def test_convert_many_on_any_executor(tmp_path: Path, make_executor) -> None:  # type: ignore[no-untyped-def]
    files = tree(tmp_path)
    executor = make_executor() if make_executor else None
    try:
        run = convert_many(tmp_path / "photos", tmp_path / "out", executor=executor, jobs=1, PatientName="Doe^J")
        assert run.total == 4
        results = list(run)
    finally:
        if executor:
            executor.shutdown()
    assert sorted(r.status for r in results) == ["converted", "converted", "converted", "failed"]
    bad = next(r for r in results if r.status == "failed")
    assert bad.source == str(files["bad"]) and "not a supported picture format" in bad.message
    assert not Path(bad.output).exists()
    good = [r for r in results if r.ok]
    assert len({r.study_instance_uid for r in good}) == 1 and len({r.series_instance_uid for r in good}) == 1
    _check_outputs(results)
    numbers = sorted((pydicom.dcmread(r.output).InstanceNumber, Path(r.source).name) for r in good)
    assert numbers == [(1, "one.jpg"), (2, "two.png"), (4, "three.jpg")]  # bad.png was number 3
    with pytest.raises(DicomifyError, match="a batch runs once"):
        list(run)


def test_own_process_pool_and_options(tmp_path: Path) -> None:
    tree(tmp_path)
    results = list(
        convert_many(
            [tmp_path / "photos"],
            tmp_path / "out",
            jobs=2,
            group="folder",
            decode_jpeg=True,
            options=ConvertOptions(iod="photo"),
        )
    )
    good = [r for r in results if r.ok]
    assert len(good) == 3 and all(r.transfer_syntax == "1.2.840.10008.1.2.1" for r in good)
    assert all(r.sop_class_uid == "1.2.840.10008.5.1.4.1.1.77.1.4" for r in good)
    assert len({r.series_instance_uid for r in good}) == 2


def test_on_converted_may_replace_the_result(tmp_path: Path) -> None:
    tree(tmp_path)
    seen = []

    def send(result: BatchResult) -> BatchResult:
        seen.append(result.output)
        return dataclasses.replace(result, send_status=SendStatus.STORED, sent_transfer_syntax=result.transfer_syntax)

    results = list(convert_many([tmp_path / "photos"], tmp_path / "out", jobs=1, on_converted=send))
    assert len(seen) == 3
    assert {r.send_status for r in results} == {"stored", None}
    assert all(r.send_status is None for r in results if r.status == "failed")


def test_skip_existing_reports_the_existing_uids_and_stale_parts_are_removed(tmp_path: Path) -> None:
    tree(tmp_path)
    first = {r.source: r for r in convert_many([tmp_path / "photos"], tmp_path / "out", jobs=1)}
    stale = tmp_path / "out" / "a" / ".one.dcm.x1y2z3w4.part"
    stale.write_bytes(b"half a file")
    other = tmp_path / "out" / "a" / ".someone-else.bin.part"
    other.write_bytes(b"not ours")
    os.unlink(tmp_path / "out" / "b" / "three.dcm")
    second = {r.source: r for r in convert_many([tmp_path / "photos"], tmp_path / "out", jobs=1, skip_existing=True)}
    assert not stale.exists() and other.exists()
    statuses = {Path(s).name: r.status for s, r in second.items()}
    assert statuses == {"one.jpg": "skipped", "two.png": "skipped", "three.jpg": "converted", "bad.png": "failed"}
    one = str(tmp_path / "photos" / "a" / "one.jpg")
    assert second[one].sop_instance_uid == first[one].sop_instance_uid
    # An existing output that is not a whole DICOM file (not DICOM, cut short) is redone.
    junk = Task(one, str(tmp_path / "junk.dcm"), {})
    Path(junk.output).write_bytes(b"junk")
    result = convert_task(junk, ConvertOptions(), skip_existing=True)
    assert result.status == "converted" and "not a complete DICOM file" in result.message
    whole = Path(junk.output).read_bytes()
    Path(junk.output).write_bytes(whole[: len(whole) // 2])
    assert convert_task(junk, ConvertOptions(), skip_existing=True).status == "converted"
    assert Path(junk.output).read_bytes()[-100:] == whole[-100:]  # the pixels are all there again
    assert convert_task(junk, ConvertOptions(), skip_existing=True).status == "skipped"


def test_remove_stale_parts_tolerates_missing_folders(tmp_path: Path) -> None:
    remove_stale_temporaries([str(tmp_path / "nowhere" / "x.dcm")])


def test_planning_errors_come_before_any_work(tmp_path: Path) -> None:
    tree(tmp_path)
    with pytest.raises(MetadataError):
        convert_many([tmp_path / "photos"], tmp_path / "out", PatientSex="Q")
    with pytest.raises(DicomifyError, match="no pictures found"):
        (tmp_path / "empty").mkdir()
        convert_many([tmp_path / "empty"], tmp_path / "out")
    with pytest.raises(DicomifyError, match="nothing to convert"):
        convert_many([], tmp_path / "out")
    with pytest.raises(DicomifyError, match="jobs 0"):
        convert_many([tmp_path / "photos"], tmp_path / "out", jobs=0)
    assert not (tmp_path / "out").exists()


def test_an_unexpected_error_in_one_file_is_a_failed_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dicomify.api

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(dicomify.api, "DicomImage", boom)
    result = convert_task(Task(str(picture(tmp_path / "a.jpg")), str(tmp_path / "a.dcm"), {}), ConvertOptions())
    assert result.status == "failed" and result.message == "unexpected ZeroDivisionError: a bug"


def _die_on_poison(task: Task, options: ConvertOptions, skip_existing: bool = False) -> BatchResult:
    if "poison" in task.source:
        os._exit(9)  # a worker killed (out of memory, a codec crash)
    return _real_convert_task(task, options, skip_existing)


_real_convert_task = convert_task


def test_a_worker_that_dies_fails_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the poisoned function reaches the workers only when they are forked")
    from dicomify.batch import worker

    # Enough files that some are still unsent when the worker dies: those carry on in a
    # fresh pool, the ones in flight are retried one by one.
    for i in range(40):
        picture(tmp_path / "in" / f"ok{i:02d}.jpg", seed=i)
    picture(tmp_path / "in" / "ok05-poison.jpg")
    monkeypatch.setattr(worker, "convert_task", _die_on_poison)
    results = {Path(r.source).name: r for r in convert_many([tmp_path / "in"], tmp_path / "out", jobs=2)}
    assert results.pop("ok05-poison.jpg").message.startswith("the worker process died")
    assert {r.status for r in results.values()} == {"converted"} and len(results) == 40


def test_a_resumed_batch_stays_one_study_and_its_series(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        for i in range(3):
            picture(tmp_path / "in" / folder / f"{i}.jpg", seed=i)
    first = list(convert_many([tmp_path / "in"], tmp_path / "out", jobs=1, group="folder"))
    for name in ("a/1.dcm", "a/2.dcm", "b/0.dcm", "b/1.dcm", "b/2.dcm"):
        os.unlink(tmp_path / "out" / name)  # as if killed after the first file
    second = list(convert_many([tmp_path / "in"], tmp_path / "out", jobs=1, group="folder", skip_existing=True))
    assert sorted(r.status for r in second) == ["converted"] * 5 + ["skipped"]
    headers = [pydicom.dcmread(p) for p in sorted((tmp_path / "out").rglob("*.dcm"))]
    assert {h.StudyInstanceUID for h in headers} == {first[0].study_instance_uid}
    series = {h.SeriesInstanceUID for h in headers if "/a/" in str(h.filename)}
    assert series == {next(r.series_instance_uid for r in first if "/a/" in r.output)}
    assert len({h.SeriesInstanceUID for h in headers}) == 2
    assert sorted((h.SeriesNumber, h.InstanceNumber) for h in headers) == [
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 2),
        (2, 3),
    ]


def test_tune_allocator_takes_on_glibc() -> None:
    import platform

    from dicomify.batch import tune_allocator

    assert tune_allocator() is (platform.libc_ver()[0] == "glibc")
