"""Load on ``dicomify serve`` over loopback: N concurrent uploads, errors, latency, server memory.

Starts a real server (uvicorn) on a free loopback port, posts N pictures at once to
POST /api/convert, and samples the resident memory of the server and its worker
processes (summed) while they run. Uploads are converted in worker processes
(``[limits] isolate = true``, the default) and, with ``--compare``, the same load runs
on a server converting on threads (``isolate = false``). Only 127.0.0.1 is ever
contacted; the run is bounded (N requests, a timeout each).

    PYTHONPATH=src python benchmarks/serve_load.py --uploads 50 --side 1500 --compare

Results are written down in docs/serve.md ("Load").
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from serve.server_process import ServerProcess  # noqa: E402


@dataclass
class LoadResult:
    uploads: int
    ok: int
    statuses: dict[int, int]
    seconds: float
    latency_p50: float
    latency_max: float
    rss_before_mb: float
    rss_peak_mb: float


def picture(side: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (side * 3 // 4, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class RssSampler:
    """Peak resident memory of a process, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        """The server's resident memory with its worker processes'."""
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, self.rss())
            except psutil.Error:
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _upload(client: httpx.AsyncClient, data: bytes, index: int) -> tuple[int, float, bytes]:
    started = time.monotonic()
    response = await client.post("/api/convert", files={"file": (f"p{index}.png", data, "image/png")}, timeout=300)
    return response.status_code, time.monotonic() - started, response.content[128:132]


async def _run(url: str, pictures: list[bytes]) -> list[tuple[int, float, bytes]]:
    limits = httpx.Limits(max_connections=len(pictures), max_keepalive_connections=len(pictures))
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        return await asyncio.gather(*(_upload(client, data, i) for i, data in enumerate(pictures)))


def load(server: ServerProcess, uploads: int, side: int) -> LoadResult:
    """Post ``uploads`` pictures of ``side`` pixels wide at once; measure the server."""
    assert server.process is not None
    pictures = [picture(side, seed) for seed in range(uploads)]
    sampler = RssSampler(server.process.pid)
    rss_before = sampler.rss()
    with sampler:
        started = time.monotonic()
        answers = asyncio.run(_run(server.url, pictures))
        seconds = time.monotonic() - started
    statuses: dict[int, int] = {}
    for status, _, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    ok = sum(1 for status, _, magic in answers if status == 200 and magic == b"DICM")
    latencies = [latency for _, latency, _ in answers]
    return LoadResult(
        uploads,
        ok,
        statuses,
        seconds,
        statistics.median(latencies),
        max(latencies),
        rss_before / 2**20,
        sampler.peak / 2**20,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--side", type=int, default=1500, help="picture width in pixels (height 3/4 of it)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="also run it on a server converting on threads")
    args = parser.parse_args()
    for isolate in (True, False) if args.compare else (True,):
        with tempfile.TemporaryDirectory() as folder:
            server = ServerProcess(Path(folder), {"limits": {"workers": args.workers, "isolate": isolate}}).start()
            try:
                result = load(server, args.uploads, args.side)
            finally:
                server.stop()
        print(
            f"{result.uploads} concurrent uploads of {args.side}x{args.side * 3 // 4} RGB PNG, {args.workers} "
            f"{'worker processes' if isolate else 'threads'}: {result.ok} ok, statuses {result.statuses}, "
            f"{result.seconds:.1f} s, latency median {result.latency_p50:.1f} s / max {result.latency_max:.1f} s, "
            f"RSS (server and workers) {result.rss_before_mb:.0f} MB before, {result.rss_peak_mb:.0f} MB peak"
        )


if __name__ == "__main__":
    main()
