"""Batches on a Dask cluster: a LocalCluster with two worker processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import distributed  # declared in the test extra: missing is a failure, not a skip
import pydicom
import pytest
from helpers.batch_tree import tree

from dicomify.batch import convert_many
from dicomify.cli import EXIT_PARTIAL, main
from dicomify.report import read_report


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as local:
        yield local


def _comparable(rows: list[dict[str, str]], root: Path) -> list[tuple[str, ...]]:
    # Everything but the per-object UIDs (fresh each run) must match.
    return sorted(
        (
            str(Path(r["source"]).relative_to(root)),
            str(Path(r["output"]).relative_to(root)) if r["output"] else "",
            r["status"],
            r["sop_class_uid"],
            r["transfer_syntax"],
            r["message"],
        )
        for r in rows
    )


def test_convert_many_on_a_dask_cluster_matches_local_processes(tmp_path: Path, cluster: object) -> None:
    tree(tmp_path)
    with distributed.Client(cluster) as client:
        on_dask = list(convert_many(tmp_path / "photos", tmp_path / "dask", executor=client.get_executor(pure=False)))
    local = list(convert_many(tmp_path / "photos", tmp_path / "local", jobs=2))
    dask_rows = [{**r.as_row(), "output": r.output.replace("/dask/", "/x/")} for r in on_dask]
    local_rows = [{**r.as_row(), "output": r.output.replace("/local/", "/x/")} for r in local]
    assert _comparable(dask_rows, tmp_path) == _comparable(local_rows, tmp_path)
    failed = [r for r in on_dask if r.status == "failed"]
    assert len(failed) == 1 and "not a supported picture format" in failed[0].message  # isolated
    good = [r for r in on_dask if r.ok]
    assert len({r.study_instance_uid for r in good}) == 1
    for result in good:
        ds = pydicom.dcmread(result.output)
        assert ds.SOPInstanceUID == result.sop_instance_uid
        local_twin = pydicom.dcmread(result.output.replace("/dask/", "/local/"))
        assert ds.PixelData == local_twin.PixelData and ds.InstanceNumber == local_twin.InstanceNumber


def test_cli_dask_scheduler(tmp_path: Path, cluster: object) -> None:
    tree(tmp_path)
    report = tmp_path / "dask.csv"
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    code = main(["convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "--dask-scheduler", address,
                 "--report", str(report), "-q"])  # fmt: skip
    assert code == EXIT_PARTIAL
    local_report = tmp_path / "local.csv"
    main(["convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out2"), "--report", str(local_report), "-q"])
    dask_rows = [dict(r, output=r["output"].replace("/out/", "/x/")) for r in read_report(report)]
    local_rows = [dict(r, output=r["output"].replace("/out2/", "/x/")) for r in read_report(local_report)]
    assert _comparable(dask_rows, tmp_path) == _comparable(local_rows, tmp_path)


def test_cli_unreachable_scheduler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dicomify.batch.cluster

    monkeypatch.setattr(dicomify.batch.cluster, "DASK_CONNECT_TIMEOUT", 1)
    tree(tmp_path)
    code = main(
        ["convert", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "--dask-scheduler", "tcp://127.0.0.1:9"]
    )
    assert code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
