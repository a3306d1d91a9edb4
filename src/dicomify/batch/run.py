"""Running a planned batch: :class:`BatchRun`, :func:`convert_many`, :func:`convert_file`.

Iterating a :class:`BatchRun` converts its tasks (in this process, our own process
pool, or any executor) and yields one :class:`~dicomify.outcome.Outcome` per input as
it finishes. Steps added with :meth:`BatchRun.then` (the delivery of
:func:`dicomify.batch.convert_and_send`) run in this process on every converted or
skipped file before its outcome is yielded. :attr:`BatchRun.tally` counts as it goes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._files import check_output_folder, remove_stale_temporaries
from ..errors import DicomifyError, OptionError
from ..iod.metadata import split_keywords
from ..options import ConvertOptions
from ..outcome import ConvertStatus, Outcome
from . import worker
from ._native import tune_allocator as _tune_allocator
from .grouping import Grouping
from .plan import Plan, plan, plan_file
from .pool import run_on_own_pool
from .schedule import run_on, worker_count

__all__ = ["BatchRun", "Step", "Tally", "convert_file", "convert_many"]

#: a step run on every converted or skipped outcome; it may return a replacement
Step = Callable[[Outcome], "Outcome | None"]


@dataclass
class Tally:
    """Counts of a batch's outcomes so far; ``not_sent`` are converted files whose delivery failed."""

    total: int
    converted: int = 0
    skipped: int = 0
    failed: int = 0
    not_sent: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.status is ConvertStatus.CONVERTED:
            self.converted += 1
        elif outcome.status is ConvertStatus.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1
        if (
            outcome.status is not ConvertStatus.FAILED
            and outcome.send_status is not None
            and not outcome.send_status.delivered
        ):
            self.not_sent += 1

    @property
    def done(self) -> int:
        return self.converted + self.skipped + self.failed

    @property
    def unsuccessful(self) -> int:
        """Inputs not converted, or converted but not delivered."""
        return self.failed + self.not_sent


class BatchRun:
    """A planned batch; iterate over it to run it and get one outcome per input.

    ``total`` is known before the first file is converted (for a progress bar).
    Outcomes come in the order files finish; those planned as failures (bad manifest
    rows) come first. A batch runs once.

    Parameters
    ----------
    plan
        What to convert (:func:`~dicomify.batch.plan.plan`, :func:`~dicomify.batch.plan.plan_file`).
    options
        The conversion options of every file.
    executor
        Runs the work; None: our own process pool of ``jobs`` workers.
    jobs
        Worker processes of our own pool (default: every core; 1 converts in this process).
    skip_existing
        Leave outputs that exist alone (their outcome is ``skipped``).
    tune_allocator
        Tune this process's allocator for converting here (``jobs=1``); process-wide, so
        only for a process that is the batch's own (the CLI). Workers are always tuned.
    """

    def __init__(
        self,
        plan: Plan,
        options: ConvertOptions,
        *,
        executor: cf.Executor | None = None,
        jobs: int | None = None,
        skip_existing: bool = False,
        tune_allocator: bool = False,
    ) -> None:
        if jobs is not None and jobs < 1:
            raise OptionError(f"jobs {jobs!r} must be a whole number, 1 or more")
        self.plan = plan
        self.options = options
        self.executor = executor
        self.jobs = jobs
        self.skip_existing = skip_existing
        self.tune_allocator = tune_allocator
        self.tally = Tally(plan.total)
        self._steps: list[tuple[Step, contextlib.AbstractContextManager[Any] | None]] = []
        self._finish: Callable[[list[Outcome]], list[Outcome]] | None = None
        self._started = False

    @property
    def total(self) -> int:
        return self.plan.total

    def __len__(self) -> int:
        return self.total

    def then(self, step: Step, within: contextlib.AbstractContextManager[Any] | None = None) -> BatchRun:
        """Run ``step`` on every converted or skipped outcome, in this process, in order added.

        ``step(outcome)`` may return a replacement outcome (e.g. with the delivery
        fields set). ``within`` is entered when the run starts and exited when it ends
        (a sender's connection). Returns the run itself.
        """
        if self._started:
            raise DicomifyError("steps are added before the batch runs")
        self._steps.append((step, within))
        return self

    def finally_(self, finish: Callable[[list[Outcome]], list[Outcome]]) -> BatchRun:
        """Hand every outcome to ``finish`` once all are in, and yield what it returns.

        For a step that needs the whole run (storage commitment after the last
        store): outcomes are then yielded at the end, not as files finish.
        """
        if self._started:
            raise DicomifyError("steps are added before the batch runs")
        self._finish = finish
        return self

    def __iter__(self) -> Iterator[Outcome]:
        if self._started:
            raise DicomifyError("a batch runs once; call convert_many again to run it again")
        self._started = True
        if self._finish is None:
            for outcome in self._outcomes():
                self.tally.add(outcome)
                yield outcome
            return
        for outcome in self._finish(list(self._outcomes())):
            self.tally.add(outcome)
            yield outcome

    def _outcomes(self) -> Iterator[Outcome]:
        with contextlib.ExitStack() as stack:
            for _, within in self._steps:
                if within is not None:
                    stack.enter_context(within)
            yield from self.plan.failures
            for outcome in self._converted():
                if outcome.status is not ConvertStatus.FAILED:
                    for step, _ in self._steps:
                        outcome = step(outcome) or outcome
                yield outcome

    def _converted(self) -> Iterator[Outcome]:
        tasks = self.plan.tasks
        if not tasks:
            return
        remove_stale_temporaries(task.output for task in tasks)
        workers = worker_count(self.executor, self.jobs)
        if self.executor is None and (workers == 1 or len(tasks) == 1):
            if self.tune_allocator:
                _tune_allocator()  # files converted here fault less
            for task in tasks:
                yield worker.convert_task(task, self.options, self.skip_existing)
            return
        if self.executor is not None:
            yield from run_on(self.executor, tasks, self.options, self.skip_existing, workers)
        else:
            yield from run_on_own_pool(tasks, self.options, self.skip_existing, workers)
        # Every task has finished: what a dead worker left half-written goes now.
        remove_stale_temporaries(task.output for task in tasks)


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
    on_converted: Step | None = None,
    tune_allocator: bool = False,
    metadata: Mapping[str, Any] | None = None,
    follow_links: bool = False,
    **kwargs: Any,
) -> BatchRun:
    """Convert pictures and folders (recursively) into ``output_dir``; iterate for outcomes.

    Planning happens now; iterating the returned :class:`BatchRun` converts and yields
    one :class:`~dicomify.outcome.Outcome` per input as it finishes. A file that fails
    is an outcome, not an exception.

    Parameters
    ----------
    sources
        Picture files and folders.
    output_dir
        The output folder (the output tree mirrors the input tree).
    manifest
        CSV of per-file metadata (docs/batch.md).
    options
        Conversion options; keyword arguments may also give them.
    executor
        Any ``concurrent.futures.Executor`` (threads, processes,
        :func:`dicomify.batch.dask_executor`); without one, ``jobs`` processes.
    jobs
        Worker processes (default: all cores; 1 converts in this process).
    group
        How files are grouped into studies and series (:class:`Grouping`).
    skip_existing
        Leave outputs that exist alone; planned studies and series keep their UIDs.
    on_converted
        A step run in this process on every converted or skipped outcome before it is
        yielded (see :meth:`BatchRun.then`).
    tune_allocator
        See :class:`BatchRun`.
    metadata
        Run-wide metadata by DICOM keyword (keyword arguments win over it).
    follow_links
        Follow symbolic links that lead out of the source folders.
    **kwargs
        Conversion options and run-wide metadata, as for :func:`dicomify.convert`.

    Returns
    -------
    BatchRun
        Iterate it to run the batch.

    Raises
    ------
    DicomifyError
        Before anything is written: a missing input, bad run-wide metadata, an
        unusable manifest, ``jobs`` below 1.
    """
    chosen, given = split_keywords(kwargs, options)
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if jobs is not None and jobs < 1:
        raise OptionError(f"jobs {jobs!r} must be a whole number, 1 or more")
    planned = plan(
        list(sources),
        output_dir,
        metadata={**(metadata or {}), **given},
        manifest=manifest,
        group=group,
        resume=skip_existing,
        follow_links=follow_links,
    )
    if planned.tasks:
        check_output_folder(output_dir)  # once, now, rather than once per file
    run = BatchRun(
        planned, chosen, executor=executor, jobs=jobs, skip_existing=skip_existing, tune_allocator=tune_allocator
    )
    return run.then(on_converted) if on_converted is not None else run


def convert_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    options: ConvertOptions | None = None,
    skip_existing: bool = False,
    on_converted: Step | None = None,
    metadata: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> BatchRun:
    """One picture to one output path, as a one-file batch (one outcome, steps, resume).

    Parameters are as for :func:`convert_many`; the file is converted in this process.

    Returns
    -------
    BatchRun
        Iterate it to convert the file.

    Raises
    ------
    DicomifyError
        ``source`` is not a file, ``output`` is ``source``, bad metadata.
    """
    chosen, given = split_keywords(kwargs, options)
    run = BatchRun(
        plan_file(source, output, {**(metadata or {}), **given}), chosen, jobs=1, skip_existing=skip_existing
    )
    return run.then(on_converted) if on_converted is not None else run
