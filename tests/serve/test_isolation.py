"""Uploads are converted in worker processes: a crash fails only its file, a stuck
conversion is stopped, the server goes on (serve/isolation.py)."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pydicom
from helpers.isolation_targets import convert_or_die
from PIL import Image

from dicomify.options import ConvertOptions
from dicomify.serve.isolation import WORKER_DIED, ConversionPool
from dicomify.serve.service import PictureChoice

from .conftest import write_png
from .server_process import ServerProcess


def _children(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.update(int(child) for child in text)
    return children


def test_uploads_are_converted_in_worker_processes(start_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = start_server("isolated")
    assert server.process is not None
    workers = _children(server.process.pid)
    assert len(workers) >= 2  # [limits] workers = 2, started with the server
    pixels = write_png(tmp_path / "a.png")
    response = httpx.post(
        f"{server.url}/api/convert",
        files=[("file", ("a.png", (tmp_path / "a.png").read_bytes(), "image/png"))],
        timeout=60,
    )
    assert response.status_code == 200, response.text
    np.testing.assert_array_equal(pydicom.dcmread(io.BytesIO(response.content)).pixel_array, pixels)
    server.stop()
    end = time.monotonic() + 10  # the workers (and multiprocessing's resource tracker) end with it

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        except FileNotFoundError:
            return False

    while any(alive(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)]


def test_a_conversion_over_max_seconds_is_stopped_and_the_server_goes_on(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start_server("slow", {"limits": {"max_seconds": 0.05}})
    big = io.BytesIO()
    noise = np.random.default_rng(3).integers(0, 256, (3000, 3000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(big, format="PNG", compress_level=1)  # seconds to decode and write
    url = f"{server.url}/api/convert"
    response = httpx.post(url, files=[("file", ("big.png", big.getvalue(), "image/png"))], timeout=120)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "big.png: the conversion took longer than 0.05 seconds"
    write_png(tmp_path / "small.png")  # (a tiny picture fits in 50 ms)
    small = httpx.post(
        url, files=[("file", ("small.png", (tmp_path / "small.png").read_bytes(), "image/png"))], timeout=60
    )
    assert small.status_code in (200, 422)  # the server answers; it did not hang or die
    health = httpx.get(f"{server.url}/api/health", timeout=10)
    assert health.status_code == 200


def test_a_worker_that_dies_fails_only_its_file(tmp_path: Path) -> None:
    names = ["good-1.png", "poison.png", "good-2.png", "good-3.png"]
    for index, name in enumerate(names):
        write_png(tmp_path / name, seed=index)
    pool = ConversionPool(2, target=convert_or_die)
    options = ConvertOptions(iod="photo")  # type: ignore[arg-type]

    async def convert_all() -> list:  # type: ignore[type-arg]
        jobs = [
            pool.convert(tmp_path / name, name, tmp_path / f"{name}.dcm", {}, options, PictureChoice(), False)
            for name in names
        ]
        return list(await asyncio.gather(*jobs))

    async def twice() -> tuple[list, list]:  # type: ignore[type-arg]
        return await convert_all(), await convert_all()

    try:
        pool.start()
        results, again = asyncio.run(twice())
        by_name = {result.name: result for result in results}
        assert by_name["poison.png"].error == f"poison.png: {WORKER_DIED}"
        for name in ("good-1.png", "good-2.png", "good-3.png"):
            assert by_name[name].error == "" and by_name[name].path is not None and by_name[name].path.exists()
        # The pool was replaced: it converts as before.
        assert [bool(result.error) for result in again] == [False, True, False, False]
    finally:
        pool.shutdown()
    end = time.monotonic() + 10  # a broken pool's workers are ended by its own thread
    while multiprocessing.active_children() and time.monotonic() < end:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []
