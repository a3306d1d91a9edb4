"""Batch conversion: many pictures and folders, in parallel, grouped into studies and series.

``convert_many(sources, output_dir, ...)`` plans the batch (inputs, output paths,
study/series UIDs) and returns a :class:`BatchRun`; iterating it converts the files on
any ``concurrent.futures.Executor`` and yields one :class:`BatchResult` per input.
See docs/batch.md.
"""

from .discover import PICTURE_EXTENSIONS
from .engine import BatchResult, BatchRun, Task, convert_many, convert_task
from .grouping import Grouping

__all__ = ["PICTURE_EXTENSIONS", "BatchResult", "BatchRun", "Grouping", "Task", "convert_many", "convert_task"]
