"""Running a batch: plan in the parent, convert in workers, results as they finish.

The parent decides everything that must be the same whatever the worker (inputs,
output paths, study/series UIDs and numbers) and sends workers plain, picklable
:class:`Task` lists; a worker converts its tasks with :func:`dicomify.convert`'s
machinery and returns one :class:`BatchResult` per task. A failure of one file is a
``failed`` result, never an exception that stops the batch.

Any :class:`concurrent.futures.Executor` runs the work: a process pool (ours by
default), a thread pool, or a Dask cluster's ``Client.get_executor()``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._files import check_output_folder, is_complete_dicom, remove_stale_temporaries
from ..errors import DicomifyError
from ..options import ConvertOptions, split_options
from .discover import Input, anchor_of, assign_outputs, scan
from .grouping import Grouping, assign_groups
from .manifest import read_manifest

__all__ = ["BatchResult", "BatchRun", "Task", "convert_many"]

CONVERTED, FAILED, SKIPPED = "converted", "failed", "skipped"


@dataclass(frozen=True)
class Task:
    """One file's work, as sent to a worker: plain data only."""

    source: str
    output: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class BatchResult:
    """What happened to one input; the fields are the report's columns.

    ``status`` is ``converted``, ``failed`` or ``skipped`` (the output already existed
    and ``skip_existing`` was set; the UIDs are then read from that file). ``message``
    says why a file failed, or notes what the reader did (e.g. CMYK converted to RGB).
    The ``send_*`` fields are left for a delivery step (``on_converted``) to fill.
    """

    source: str
    output: str
    status: str
    sop_instance_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_class_uid: str = ""
    transfer_syntax: str = ""
    send_status: str = ""
    send_transfer_syntax: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != FAILED

    def as_row(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _without_prefix(message: str, source: str) -> str:
    # Library errors start with the source name; the report has a column for it.
    prefix = f"{source}: "
    return message.removeprefix(prefix)


def _existing(task: Task) -> BatchResult:
    import pydicom

    fields = {}
    try:
        ds = pydicom.dcmread(task.output, stop_before_pixels=True)
        fields = {
            "sop_instance_uid": str(ds.get("SOPInstanceUID", "")),
            "study_instance_uid": str(ds.get("StudyInstanceUID", "")),
            "series_instance_uid": str(ds.get("SeriesInstanceUID", "")),
            "sop_class_uid": str(ds.get("SOPClassUID", "")),
            "transfer_syntax": str(ds.file_meta.get("TransferSyntaxUID", "")),
        }
        message = "the output already exists"
    except Exception as error:  # not ours to judge: it exists, so it is skipped
        message = f"the output already exists (not readable as DICOM: {error})"
    return BatchResult(task.source, task.output, SKIPPED, message=message, **fields)


def convert_task(task: Task, options: ConvertOptions, skip_existing: bool = False) -> BatchResult:
    """Convert one task; every failure becomes a ``failed`` result."""
    notes: list[str] = []
    if skip_existing and os.path.exists(task.output):
        if is_complete_dicom(task.output):
            return _existing(task)
        # Cut short by something else (a copy, a full disk): ours are never partial.
        notes.append("the existing output was not a complete DICOM file: converted again")
    from ..api import DicomImage  # imported in the worker, where the work is

    try:
        with DicomImage(task.source, options=options, **task.metadata) as image:
            image.save(task.output)
            ds = image.dataset
            return BatchResult(
                task.source,
                task.output,
                CONVERTED,
                sop_instance_uid=str(ds.SOPInstanceUID),
                study_instance_uid=str(ds.StudyInstanceUID),
                series_instance_uid=str(ds.SeriesInstanceUID),
                sop_class_uid=str(ds.SOPClassUID),
                transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
                message="; ".join([*notes, *image.picture.notes]),
            )
    except DicomifyError as error:
        return BatchResult(task.source, task.output, FAILED, message=_without_prefix(str(error), task.source))
    except Exception as error:  # a bug or a codec crash in one file must not stop the batch
        return BatchResult(
            task.source, task.output, FAILED, message=f"unexpected {type(error).__name__}: {error}"
        )


def convert_chunk(tasks: Sequence[Task], options: ConvertOptions, skip_existing: bool = False) -> list[BatchResult]:
    """The unit of work sent to an executor: a few tasks, to keep per-call overhead small."""
    return [convert_task(task, options, skip_existing) for task in tasks]


def _available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _worker_count(executor: cf.Executor | None, jobs: int | None) -> int:
    if executor is None:
        return max(1, jobs or _available_cores())
    client = getattr(executor, "_client", None)  # dask.distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # an older or foreign client: fall back to a guess
            pass
    return int(getattr(executor, "_max_workers", 0) or _available_cores())


class BatchRun:
    """A planned batch; iterate over it to run it and get one result per input.

    ``total`` is known before the first file is converted (for a progress bar). Results
    come in the order files finish; results planned as failures (bad manifest rows)
    come first.
    """

    def __init__(
        self,
        tasks: list[Task],
        planned_failures: list[BatchResult],
        options: ConvertOptions,
        executor: cf.Executor | None,
        jobs: int | None,
        skip_existing: bool,
        on_converted: Callable[[BatchResult], BatchResult | None] | None,
    ) -> None:
        self.tasks = tasks
        self.planned_failures = planned_failures
        self.options = options
        self.executor = executor
        self.jobs = jobs
        self.skip_existing = skip_existing
        self.on_converted = on_converted
        self._started = False

    @property
    def total(self) -> int:
        return len(self.tasks) + len(self.planned_failures)

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[BatchResult]:
        if self._started:
            raise DicomifyError("a batch runs once; call convert_many again to run it again")
        self._started = True
        yield from self.planned_failures
        for result in self._results():
            if self.on_converted is not None and result.status != FAILED:
                result = self.on_converted(result) or result
            yield result

    def _results(self) -> Iterator[BatchResult]:
        if not self.tasks:
            return
        remove_stale_temporaries(task.output for task in self.tasks)
        workers = _worker_count(self.executor, self.jobs)
        if self.executor is None and (workers == 1 or len(self.tasks) == 1):
            for task in self.tasks:
                yield convert_task(task, self.options, self.skip_existing)
            return
        if self.executor is not None:
            yield from _run_on(self.executor, self.tasks, self.options, self.skip_existing, workers)
        else:
            yield from _run_on_own_pool(self.tasks, self.options, self.skip_existing, workers)
        # Every task has finished: what a dead worker left half-written goes now.
        remove_stale_temporaries(task.output for task in self.tasks)


def _chunks(tasks: Sequence[Task], workers: int) -> list[list[Task]]:
    # Several files per call amortise the executor's per-call cost; enough calls per
    # worker keep the load balanced and the progress bar moving.
    # The last files go one per call, so that no worker finishes a whole chunk alone
    # while the others are idle at the end of the batch.
    size = max(1, min(8, len(tasks) // (workers * 8)))
    tail = min(len(tasks), 2 * workers * size) if size > 1 else 0
    head = len(tasks) - tail
    return [list(tasks[i : min(i + size, head)]) for i in range(0, head, size)] + [[task] for task in tasks[head:]]


def _run_on(
    executor: cf.Executor,
    tasks: Sequence[Task],
    options: ConvertOptions,
    skip_existing: bool,
    workers: int,
    broken: list[Task] | None = None,
    unsent: list[Task] | None = None,
) -> Iterator[BatchResult]:
    """Submit chunks with a bounded number in flight; yield results as chunks finish.

    With ``broken`` and ``unsent`` (our own process pool), a crashed worker process,
    which breaks the whole pool, fails nothing: the files that were in flight go to
    ``broken`` (one of them killed the worker) and those not yet sent to ``unsent``.
    """
    pending = deque(_chunks(tasks, workers))
    window = max(2, workers * 3)
    in_flight: dict[cf.Future[list[BatchResult]], list[Task]] = {}
    while pending or in_flight:
        while pending and len(in_flight) < window:
            chunk = pending.popleft()
            try:
                future = executor.submit(convert_chunk, chunk, options, skip_existing)
            except cf.BrokenExecutor:
                if broken is None or unsent is None:
                    raise
                broken.extend(chunk)
                break
            in_flight[future] = chunk
        if not in_flight:
            break
        done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
        for future in done:
            chunk = in_flight.pop(future)
            try:
                yield from future.result()
            except cf.BrokenExecutor:
                if broken is None or unsent is None:
                    raise
                broken.extend(chunk)
            except Exception as error:  # the executor lost the work (a cluster worker died ...)
                for task in chunk:
                    yield BatchResult(
                        task.source, task.output, FAILED, message=f"the worker failed: {type(error).__name__}: {error}"
                    )
        if broken and unsent is not None and pending:
            # The pool is broken: what was not sent yet goes to a fresh one.
            unsent.extend(task for chunk in pending for task in chunk)
            pending.clear()


def _die_with_parent() -> None:
    """Worker initializer: a worker must not outlive a killed batch (``kill -9``).

    Pool workers wait on a pipe whose write end they share, so they never see the
    parent go. On Linux the kernel kills them with it (PR_SET_PDEATHSIG); elsewhere a
    watcher thread notices the re-parenting.
    """
    import signal
    import sys
    import threading

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG = 1
                if os.getppid() != parent:  # the parent died before prctl
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="dicomify-parent-watch").start()


def tune_allocator() -> bool:
    """Keep freed memory for reuse instead of handing it back to the kernel at once.

    glibc serves every allocation over 128 KB (a photo's bytes, its encapsulation, the
    write buffers) with a fresh mmap and unmaps it on free, so each file costs hundreds
    of page faults: measured on 2000 photos, 560 000 faults and 44% of the CPU time in
    the kernel. Raising the mmap and trim thresholds (as MALLOC_MMAP_THRESHOLD_ /
    MALLOC_TRIM_THRESHOLD_ would) takes that to 18 000 faults and the batch 20% faster.
    Only for processes the batch owns (its workers, the CLI); a no-op without glibc.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        # Above 32 MiB (glibc's ceiling) allocations are still mapped and unmapped, so a
        # huge picture's memory goes back to the system when it is done.
        return bool(libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)) and bool(
            libc.mallopt(m_trim_threshold, 256 * 1024 * 1024)
        )
    except (OSError, AttributeError):
        return False


def _init_worker() -> None:
    _die_with_parent()
    tune_allocator()


def _new_pool(workers: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=workers, initializer=_init_worker)


def _run_on_own_pool(
    tasks: Sequence[Task], options: ConvertOptions, skip_existing: bool, workers: int
) -> Iterator[BatchResult]:
    """Our process pool; a worker that dies (killed for memory, a crash in a codec)
    fails only the file it was converting.

    The files in flight when a worker died are retried one at a time in a one-worker
    pool (the one that kills it again is reported); the files not yet sent carry on in
    a fresh pool of full size.
    """
    remaining = list(tasks)
    suspects: list[Task] = []
    while remaining:
        broken: list[Task] = []
        unsent: list[Task] = []
        pool = _new_pool(workers)
        try:
            yield from _run_on(pool, remaining, options, skip_existing, workers, broken, unsent)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        suspects += broken
        remaining = unsent
    single: cf.ProcessPoolExecutor | None = None
    try:
        for task in suspects:
            single = single or _new_pool(1)
            try:
                yield single.submit(convert_task, task, options, skip_existing).result()
            except cf.BrokenExecutor:
                single.shutdown(wait=True)
                single = None
                yield BatchResult(
                    task.source,
                    task.output,
                    FAILED,
                    message="the worker process died converting this file (out of memory, or a crash in a codec)",
                )
    finally:
        if single is not None:
            single.shutdown(wait=True)


def plan(
    sources: Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    group: Grouping | str = Grouping.RUN,
    resume: bool = False,
    follow_links: bool = False,
) -> tuple[list[Task], list[BatchResult]]:
    """The tasks of a batch and the results already known to be failures (bad manifest rows).

    With ``resume`` (``skip_existing``), studies and series that already have outputs on
    disk keep the UIDs of those outputs, so a resumed batch stays one study.
    """
    from ..iod.metadata import validate

    base = validate(dict(metadata or {}))
    found = scan(sources, output_dir, follow_links=follow_links)
    inputs = found.inputs
    row_metadata: dict[str, dict[str, Any]] = {}
    # Paths passed over still get a row: every input path is accounted for.
    failures = [BatchResult(p.path, "", p.status, message=p.message) for p in found.passed]
    manifest_inputs: list[Input] = []
    refused: set[str] = set()
    if manifest is not None:
        known = {i.real_path() for i in inputs}
        for row in read_manifest(manifest):
            if row.error is not None:
                # The file is not converted at all: without its row's values it would get
                # the wrong patient. (It may also have been found below a folder argument.)
                if row.path:
                    refused.add(os.path.realpath(row.path))
                failures.append(BatchResult(row.path or f"{manifest}:{row.line}", "", FAILED, message=row.error))
                continue
            if not os.path.isfile(row.path):
                failures.append(
                    BatchResult(row.path, "", FAILED, message=f"manifest line {row.line}: no such file")
                )
                continue
            key = os.path.realpath(row.path)
            if key in row_metadata:
                failures.append(
                    BatchResult(row.path, "", FAILED, message=f"manifest line {row.line}: the file is listed twice")
                )
                continue
            row_metadata[key] = row.metadata
            if key not in known:
                known.add(key)
                manifest_inputs.append(Input(row.path, None, key))
    inputs = manifest_inputs + inputs if manifest_inputs else inputs
    if refused:
        inputs = [i for i in inputs if i.real_path() not in refused]
    if not inputs and not failures:
        raise DicomifyError(
            "no pictures found in " + ", ".join(os.fspath(s) for s in sources)
            if sources
            else "nothing to convert: give pictures, folders or a manifest"
        )
    outputs = assign_outputs(inputs, output_dir, anchor_of(inputs)) if inputs else []
    entries = []
    for item in inputs:
        merged = dict(base)
        if row_metadata:
            merged.update(row_metadata.get(item.real_path(), {}))
        entries.append((os.path.dirname(os.path.abspath(item.path)), merged))
    grouped = assign_groups(entries, group)
    if resume:
        _adopt_existing_uids(grouped, outputs)
    tasks = [Task(item.path, output, meta) for item, output, meta in zip(inputs, outputs, grouped, strict=False)]
    return tasks, failures


def _adopt_existing_uids(grouped: list[dict[str, Any]], outputs: list[str]) -> None:
    """Give each planned study and series the UIDs its outputs already on disk carry.

    An interrupted batch is resumed with fresh UIDs from the plan; without this, the
    files converted on the second run would form another study than those of the first.
    One header is read per study and per series, not per file.
    """
    import pydicom

    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
        members: dict[str, list[int]] = {}
        for index, metadata in enumerate(grouped):
            if keyword in metadata:
                members.setdefault(str(metadata[keyword]), []).append(index)
        for planned, indices in members.items():
            found = None
            for index in indices:
                if os.path.exists(outputs[index]):
                    try:
                        header = pydicom.dcmread(outputs[index], stop_before_pixels=True, specific_tags=[keyword])
                        found = str(header.get(keyword, "")) or None
                    except Exception:  # not ours, not DICOM: it will be skipped, not trusted
                        found = None
                    if found:
                        break
            if found and found != planned:
                for index in indices:
                    grouped[index][keyword] = found


def convert_many(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    manifest: str | os.PathLike[str] | None = None,
    options: ConvertOptions | None = None,
    executor: cf.Executor | None = None,
    jobs: int | None = None,
    group: Grouping | str = Grouping.RUN,
    skip_existing: bool = False,
    on_converted: Callable[[BatchResult], BatchResult | None] | None = None,
    follow_links: bool = False,
    **kwargs: Any,
) -> BatchRun:
    """Convert pictures and folders (recursively) into ``output_dir``; iterate for results.

    Planning happens now: a missing input, bad run-wide metadata or an unusable manifest
    raises :class:`~dicomify.errors.DicomifyError` before anything is written. Iterating
    the returned :class:`BatchRun` converts and yields one :class:`BatchResult` per
    input as it finishes; a file that fails is a result, not an exception.

    ``executor`` runs the work (any ``concurrent.futures.Executor``: threads,
    processes, ``distributed.Client(...).get_executor()``); without one, ``jobs``
    processes are used (default: all cores; 1 converts in this process).
    ``on_converted(result)`` is called in this process for every converted or skipped
    file before its result is yielded; it may return a replacement result (e.g. with
    the ``send_*`` fields filled). Symbolic links leading out of the source folders
    are followed only with ``follow_links``. Keyword arguments are conversion options
    and run-wide metadata, as for :func:`dicomify.convert`.
    """
    chosen, metadata = split_options(kwargs, options)
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if jobs is not None and jobs < 1:
        raise DicomifyError(f"jobs {jobs} must be 1 or more")
    tasks, failures = plan(
        list(sources),
        output_dir,
        metadata=metadata,
        manifest=manifest,
        group=group,
        resume=skip_existing,
        follow_links=follow_links,
    )
    if tasks:
        check_output_folder(output_dir)  # once, now, rather than once per file
    return BatchRun(tasks, failures, chosen, executor, jobs, skip_existing, on_converted)


def summarise(results: Iterable[BatchResult]) -> dict[str, int]:
    counts = {CONVERTED: 0, SKIPPED: 0, FAILED: 0}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts

