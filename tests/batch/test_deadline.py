"""Seconds per file: a stuck file is reported failed and the batch goes on."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dicomify
from dicomify import _warnings
from dicomify.batch import convert_many
from dicomify.batch.deadline import FileTimeout, time_limit
from dicomify.options import ConvertOptions


@pytest.fixture
def owned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_warnings, "_owned", True)


def test_time_limit_interrupts_python_code_in_an_owned_process(owned: None) -> None:
    start = time.perf_counter()
    with pytest.raises(FileTimeout):
        with time_limit(0.2):
            while True:  # what tifffile did with a looping page chain
                pass
    assert time.perf_counter() - start < 5


def test_time_limit_is_not_set_in_a_library_callers_process() -> None:
    assert not _warnings.is_owned()
    with time_limit(0.05):
        time.sleep(0.2)  # no signal: nothing interrupted


def test_time_limit_is_not_set_off_the_main_thread(owned: None) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with time_limit(0.05):
                time.sleep(0.2)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors == []


def test_a_slow_file_fails_and_the_batch_goes_on(owned: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "slow", "c"):
        Image.fromarray(np.full((8, 8), 100, np.uint8)).save(folder / f"{name}.png")
    from dicomify.batch import worker

    real = worker._convert

    def stuck_on_slow(task, options, notes):  # type: ignore[no-untyped-def]
        if Path(task.source).stem == "slow":
            while True:
                pass
        return real(task, options, notes)

    monkeypatch.setattr(worker, "_convert", stuck_on_slow)
    dicomify.convert(folder / "a.png", io.BytesIO())  # the readers imported: only the loop is slow
    options = ConvertOptions(max_seconds=5)
    results = {Path(r.source).stem: r for r in convert_many([folder], tmp_path / "out", jobs=1, options=options)}
    assert results["slow"].status == "failed" and "longer than 5 seconds" in results["slow"].message
    assert results["a"].status == results["c"].status == "converted"
    assert not list((tmp_path / "out").glob("*slow*"))
