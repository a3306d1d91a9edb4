"""Batch conversion: many pictures and folders, in parallel, grouped into studies and series.

``convert_many(sources, output_dir, ...)`` plans the batch (inputs, output paths,
study/series UIDs) and returns a :class:`BatchRun`; iterating it converts the files on
any ``concurrent.futures.Executor`` and yields one :class:`~dicomify.outcome.Outcome`
per input. :func:`convert_and_send` also sends each output as it is written.
See docs/batch.md.

The modules, one job each: ``discover`` (inputs and output paths), ``grouping``
(studies and series), ``manifest``, ``plan`` (tasks), ``worker`` (what a worker runs),
``schedule`` (chunks on an executor), ``pool`` (our crash-recovering process pool),
``_native`` (ctypes: allocator tuning, dying with the parent), ``run`` (BatchRun),
``pipeline`` (convert then send), ``cluster`` (a Dask cluster's executor).
"""

from ..outcome import ConvertStatus, Outcome
from ._native import tune_allocator
from .cluster import dask_executor
from .discover import PICTURE_EXTENSIONS
from .grouping import Grouping
from .pipeline import convert_and_send, deliver, read_delivered
from .plan import Plan, Task, plan, plan_file
from .run import BatchRun, Step, Tally, convert_file, convert_many
from .worker import convert_task

#: the outcome of one input of a batch (the name it had before Outcome)
BatchResult = Outcome

__all__ = [
    "PICTURE_EXTENSIONS",
    "BatchResult",
    "BatchRun",
    "ConvertStatus",
    "Grouping",
    "Outcome",
    "Plan",
    "Step",
    "Tally",
    "Task",
    "convert_and_send",
    "convert_file",
    "convert_many",
    "convert_task",
    "dask_executor",
    "deliver",
    "plan",
    "plan_file",
    "read_delivered",
    "tune_allocator",
]
