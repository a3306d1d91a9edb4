"""The worker side of a batch: convert the tasks of one call, every failure a result.

What runs here is what a worker process (or thread, or cluster node) executes, so it
takes and returns plain picklable data: :class:`~dicomify.batch.plan.Task` in,
:class:`~dicomify.outcome.Outcome` out.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._files import is_complete_dicom
from .._warnings import library_notes
from ..errors import DicomifyError
from ..options import ConvertOptions
from ..outcome import ConvertStatus, Outcome, Uids, uids_in_file, uids_of
from .deadline import FileTimeout, time_limit, too_slow
from .plan import Task

if TYPE_CHECKING:
    from ..api import DicomImage

__all__ = ["convert_chunk", "convert_task"]


def _reason(error: DicomifyError, source: str) -> str:
    # The report has a column for the source: the message need not repeat it.
    if error.source == source:
        return error.reason
    return str(error).removeprefix(f"{source}: ")  # an error raised with the name in its text


def _existing(task: Task) -> Outcome:
    try:
        uids: Uids | None = uids_in_file(task.output)
        message = "the output already exists"
    except Exception as error:  # not ours to judge: it exists, so it is skipped
        uids = None
        message = f"the output already exists (not readable as DICOM: {error})"
    if uids is None:
        return Outcome(task.source, ConvertStatus.SKIPPED, task.output, message=message)
    return Outcome(task.source, ConvertStatus.SKIPPED, task.output, message=message, **uids)


def _failed(task: Task, message: str) -> Outcome:
    return Outcome(task.source, ConvertStatus.FAILED, task.output, message=message)


def convert_task(task: Task, options: ConvertOptions, skip_existing: bool = False) -> Outcome:
    """Convert one task; every failure becomes a ``failed`` outcome, never an exception.

    Parameters
    ----------
    task
        The source, output path and finished metadata of one file.
    options
        The conversion options of the batch.
    skip_existing
        Leave an output that exists alone: the outcome is ``skipped``, with the UIDs
        read from that file (one that is not a complete DICOM file is converted again).

    Returns
    -------
    Outcome
        ``converted`` (with the reader's notes in ``message``), ``skipped`` or ``failed``.
    """
    notes: list[str] = []
    if skip_existing and os.path.exists(task.output):
        if is_complete_dicom(task.output):
            return _existing(task)
        # Cut short by something else (a copy, a full disk): ours are never partial.
        notes.append("the existing output was not a complete DICOM file: converted again")
    with library_notes() as heard:
        try:
            with time_limit(options.max_seconds):
                outcome = _convert(task, options, notes)
        except FileTimeout:
            outcome = _failed(task, f"{too_slow(options.max_seconds)} (raise the limit with --max-seconds)")
    if heard:
        message = "; ".join(part for part in (outcome.message, *heard) if part)
        outcome = dataclasses.replace(outcome, message=message)
    return outcome


def _convert(task: Task, options: ConvertOptions, notes: list[str]) -> Outcome:
    from ..api import DicomImage  # imported in the worker, where the work is

    try:
        with DicomImage(task.source, options=options, **task.metadata) as image:
            image.save(task.output)
            return Outcome(
                task.source,
                ConvertStatus.CONVERTED,
                task.output,
                message="; ".join([*notes, *image.notes, *_more_outputs(image, task.output)]),
                more_outputs=tuple(image.outputs(task.output)[1:]),
                **uids_of(image.dataset),
            )
    except DicomifyError as error:
        return _failed(task, _reason(error, task.source))
    except Exception as error:  # a bug or a codec crash in one file must not stop the batch
        return _failed(task, f"unexpected {type(error).__name__}: {error}")


def _more_outputs(image: DicomImage, output: str) -> list[str]:
    """A note naming the further files of a source that makes several objects."""
    more = image.outputs(output)[1:]
    return [f"also wrote {', '.join(more)}"] if more else []


def convert_chunk(tasks: Sequence[Task], options: ConvertOptions, skip_existing: bool = False) -> list[Outcome]:
    """The unit of work sent to an executor: a few tasks, to keep per-call overhead small."""
    return [convert_task(task, options, skip_existing) for task in tasks]
