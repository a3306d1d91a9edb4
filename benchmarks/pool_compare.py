"""Our crash-recovering process pool against pebble.ProcessPool, on the same batch.

    python benchmarks/pool_compare.py [--files 400] [--repeat 3] [--jobs 2] [--scenarios throughput,poison,kill,kill-early]

Three scenarios, each with both pools, the same tasks and chunks (batch/schedule.py):

* throughput: a batch of JPEG (passthrough) and PNG (decoded) pictures;
* poison: one file kills the worker converting it (``os._exit``, as a codec crash or the
  kernel's OOM killer would); every other file must still convert, that one must fail;
* kill: a worker process is SIGKILLed from outside once a quarter of the batch is done;
  no file is to blame, so every file must still convert;
* kill-early: the same, as soon as a worker process exists (before any file is done).

"hand-written" is dicomify's pool (dicomify.batch.pool.run_on_own_pool): a
ProcessPoolExecutor, rebuilt when a worker dies, the files in flight then retried one at a
time in a one-worker pool. "pebble" runs the same chunks on a ``pebble.ProcessPool``, where
a worker's death fails only the future of the call it was running (``ProcessExpired``);
that call's files are sent again one per call, and a file whose one-file call dies again
is reported as failed. Needs pebble (pip install 'dicomify[benchmark]') and the fork start
method (the poisoned function reaches the workers by forking).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import resource
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from dicomify.batch import worker  # noqa: E402
from dicomify.batch._native import init_worker  # noqa: E402
from dicomify.batch.plan import Task, plan  # noqa: E402
from dicomify.batch.pool import WORKER_DIED, run_on_own_pool  # noqa: E402
from dicomify.batch.schedule import chunks  # noqa: E402
from dicomify.options import ConvertOptions  # noqa: E402
from dicomify.outcome import ConvertStatus, Outcome  # noqa: E402

Runner = Callable[[Sequence[Task], ConvertOptions, bool, int], Iterator[Outcome]]


def run_on_pebble(
    tasks: Sequence[Task], options: ConvertOptions, skip_existing: bool, workers: int
) -> Iterator[Outcome]:
    """The same chunks and window as dicomify's scheduling, on ``pebble.ProcessPool``.

    A worker's death fails only the call it was running (``ProcessExpired``): that call's
    files go again one per call, and a file whose one-file call dies again fails. When
    pebble declares the whole pool broken instead (a worker died while no call was
    running), the calls still in flight and those not sent fail with "pool broken": that
    is counted, not recovered, so the table shows how often it happens; so is a pool
    in which no call finishes for HANG_SECONDS ("pool hung").
    """
    from pebble import ProcessExpired, ProcessPool

    pending = deque(chunks(tasks, workers))
    window = max(2, workers * 3)
    in_flight: dict[cf.Future[list[Outcome]], list[Task]] = {}

    def lost(chunk: Sequence[Task], why: str) -> Iterator[Outcome]:
        for task in chunk:
            yield Outcome(task.source, ConvertStatus.FAILED, task.output, message=why)

    pool = ProcessPool(max_workers=workers, initializer=init_worker)
    try:
        while pending or in_flight:
            while pending and len(in_flight) < window:
                chunk = pending.popleft()
                try:
                    in_flight[pool.schedule(worker.convert_chunk, args=(chunk, options, skip_existing))] = chunk
                except RuntimeError:  # the pool is broken: it takes no more work
                    yield from lost(chunk, "pool broken")
            if not in_flight:
                continue
            done, _ = cf.wait(in_flight, timeout=HANG_SECONDS, return_when=cf.FIRST_COMPLETED)
            if not done:  # nothing finished for a long time: the pool hangs
                for chunk in [*in_flight.values(), *pending]:
                    yield from lost(chunk, "pool hung")
                in_flight.clear()
                pending.clear()
            for future in done:
                chunk = in_flight.pop(future)
                try:
                    yield from future.result()
                except ProcessExpired:
                    if len(chunk) == 1:
                        yield from lost(chunk, WORKER_DIED)
                    else:  # one of them killed the worker: each goes again on its own
                        pending.extendleft([task] for task in reversed(chunk))
                except cf.BrokenExecutor:
                    yield from lost(chunk, "pool broken")
    finally:
        pool.stop()
        pool.join(timeout=HANG_SECONDS)


#: seconds without any call finishing after which the pebble pool counts as hung
HANG_SECONDS = 30.0


RUNNERS: dict[str, Runner] = {"hand-written": run_on_own_pool, "pebble": run_on_pebble}


def make_batch(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        # Smooth content, so the JPEGs are photo-sized rather than noise-sized.
        y, x = np.mgrid[0:600, 0:800]
        base = (np.sin(x / (20 + i % 7)) + np.cos(y / (15 + i % 5))) * 60 + 128
        pixels = np.clip(base[..., None] + rng.normal(0, 8, (600, 800, 3)), 0, 255).astype(np.uint8)
        if i % 3 == 2:
            path = folder / f"p{i:04d}.png"
            Image.fromarray(pixels[:300, :400]).save(path)
        else:
            path = folder / f"p{i:04d}.jpg"
            Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def tasks_for(paths: Sequence[Path], out: Path) -> list[Task]:
    return plan([str(p) for p in paths], str(out)).tasks


_real_convert_task = worker.convert_task


def _die_on_poison(task: Task, options: ConvertOptions, skip_existing: bool = False) -> Outcome:
    if "poison" in task.source:
        os._exit(9)
    return _real_convert_task(task, options, skip_existing)


def _kill_a_worker_when(done: Callable[[], int], at: int, stop: threading.Event) -> None:
    while not stop.is_set():
        if done() >= at:
            children = [p for p in multiprocessing.active_children() if p.pid is not None]
            if children:
                os.kill(children[0].pid, signal.SIGKILL)  # type: ignore[arg-type]
                return
        time.sleep(0.002)


def run(runner: Runner, tasks: Sequence[Task], jobs: int, kill_at: int | None = None) -> dict[str, float]:
    options = ConvertOptions()
    outcomes: list[Outcome] = []
    stop = threading.Event()
    killer = None
    if kill_at is not None:
        killer = threading.Thread(target=_kill_a_worker_when, args=(lambda: len(outcomes), kill_at, stop), daemon=True)
        killer.start()
    before = _cpu()
    start = time.perf_counter()
    for outcome in runner(tasks, options, False, jobs):
        outcomes.append(outcome)
    seconds = time.perf_counter() - start
    cpu = _cpu() - before
    stop.set()
    if killer is not None:
        killer.join()
    failed = [o for o in outcomes if o.status is ConvertStatus.FAILED]
    assert len(outcomes) == len(tasks), (len(outcomes), len(tasks))
    return {"seconds": seconds, "cpu": cpu, "failed": len(failed), "files": len(outcomes)}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the pools' workers, once joined).

    Less sensitive than wall time to other work on a shared machine.
    """
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scenarios", default="throughput,poison,kill,kill-early")
    args = parser.parse_args()
    if multiprocessing.get_start_method() != "fork":
        sys.exit("needs the fork start method (Linux)")
    import pebble

    print(f"pebble {pebble.__version__}; {args.files} files, --jobs {args.jobs}, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        paths = make_batch(root / "in", args.files)
        poison = paths[len(paths) // 2].with_name("p-poison.jpg")
        paths[len(paths) // 2].rename(poison)
        clean = [p for p in paths if p.exists()]
        rows = []
        for scenario in args.scenarios.split(","):
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in RUNNERS}
            for attempt in range(args.repeat):
                # Interleaved, the order flipped each time: a busy moment of a shared
                # machine must not land on one pool only.
                names = list(RUNNERS) if attempt % 2 == 0 else list(reversed(RUNNERS))
                for name in names:
                    runner = RUNNERS[name]
                    out = root / f"out-{scenario}-{name}-{attempt}"
                    if scenario == "poison":
                        worker.convert_task = _die_on_poison  # reaches the workers: they are forked
                        try:
                            result = run(runner, tasks_for([*clean, poison], out), args.jobs)
                        finally:
                            worker.convert_task = _real_convert_task
                    elif scenario.startswith("kill"):
                        at = len(clean) // 4 if scenario == "kill" else 0
                        result = run(runner, tasks_for(clean, out), args.jobs, kill_at=at)
                    else:
                        result = run(runner, tasks_for(clean, out), args.jobs)
                    runs[name].append(result)
            for name in RUNNERS:
                walls = sorted(r["seconds"] for r in runs[name])
                summary = {
                    "seconds": walls[0],
                    "median": walls[len(walls) // 2],
                    "cpu": min(r["cpu"] for r in runs[name]),
                    "files": runs[name][0]["files"],
                    "failed": max(r["failed"] for r in runs[name]),
                }
                rows.append((scenario, name, summary))
                print(
                    f"{scenario:10} {name:12} best {walls[0]:6.2f} s, median {summary['median']:6.2f} s,"
                    f" cpu {summary['cpu']:6.2f} s, {int(summary['files'])} files, {int(summary['failed'])} failed",
                    flush=True,
                )
    print()
    print("| scenario | pool | wall s (best) | wall s (median) | CPU s (best) | files | failed (worst round) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for scenario, name, b in rows:
        print(
            f"| {scenario} | {name} | {b['seconds']:.2f} | {b['median']:.2f} | {b['cpu']:.2f}"
            f" | {int(b['files'])} | {int(b['failed'])} |"
        )


if __name__ == "__main__":
    main()
