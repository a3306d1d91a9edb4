"""The batch's own process pool: a worker killed from outside, and a caller that stops early."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from helpers.batch_tree import picture

from dicomify.batch import ConvertStatus, convert_many


def test_a_worker_killed_from_outside_loses_no_file(tmp_path: Path) -> None:
    """As the kernel's OOM killer would: no file is to blame, so every file still converts."""
    for i in range(60):
        picture(tmp_path / "in" / f"p{i:02d}.png", "png", size=(300, 200), seed=i)
    outcomes = []
    killed = None
    for outcome in convert_many([tmp_path / "in"], tmp_path / "out", jobs=2):
        outcomes.append(outcome)
        if len(outcomes) == 10 and killed is None:
            workers = [p.pid for p in multiprocessing.active_children() if p.pid is not None]
            assert workers, "the batch runs in worker processes"
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
    assert killed is not None
    assert len(outcomes) == 60 and {o.status for o in outcomes} == {ConvertStatus.CONVERTED}
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 60
    assert not list((tmp_path / "out").glob(".*.part"))


def test_stopping_early_stops_the_workers(tmp_path: Path) -> None:
    for i in range(40):
        picture(tmp_path / "in" / f"p{i:02d}.png", "png", size=(300, 200), seed=i)
    outcomes = iter(convert_many([tmp_path / "in"], tmp_path / "out", jobs=2))
    first = next(outcomes)
    assert first.status is ConvertStatus.CONVERTED
    assert multiprocessing.active_children()
    outcomes.close()  # what a `break` out of the loop leads to
    assert multiprocessing.active_children() == []
    assert len(list((tmp_path / "out").glob("*.dcm"))) < 40  # the pending work did not run
