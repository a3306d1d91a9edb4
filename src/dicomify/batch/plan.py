"""Planning a batch: which files, where their outputs go, and their finished metadata.

Everything that must be the same whatever the worker (inputs, output paths,
study/series UIDs and numbers) is decided here, in the caller's process, before any
file is converted; workers receive plain, picklable :class:`Task` lists.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DicomifyError, InputError
from ..outcome import ConvertStatus, Outcome
from .dates import picture_date
from .discover import Input, anchor_of, assign_outputs, scan
from .grouping import Grouping, as_grouping, assign_groups
from .manifest import read_manifest

__all__ = ["Plan", "Task", "plan", "plan_file"]


@dataclass(frozen=True)
class Task:
    """One file's work, as sent to a worker: plain data only."""

    source: str
    output: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """The tasks of a batch, and the outcomes already known to be failures (bad manifest rows)."""

    tasks: list[Task]
    failures: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.tasks) + len(self.failures)


def _failed(source: str, message: str) -> Outcome:
    return Outcome(source, ConvertStatus.FAILED, message=message)


def plan(
    sources: Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    group: Grouping | str = Grouping.RUN,
    resume: bool = False,
    follow_links: bool = False,
) -> Plan:
    """Plan converting pictures and folders (recursively) into ``output_dir``.

    Parameters
    ----------
    sources
        Picture files and folders.
    output_dir
        The output folder; the output tree mirrors the input tree.
    metadata
        Run-wide metadata (validated here).
    manifest
        A CSV file of per-file metadata (see docs/batch.md).
    group
        How files are grouped into studies and series.
    resume
        Studies and series that already have outputs on disk keep the UIDs of those
        outputs, so a resumed batch (``skip_existing``) stays one study.
    follow_links
        Follow symbolic links that lead out of the source folders.

    Returns
    -------
    Plan
        The tasks, and outcomes for paths not converted: manifest rows that were
        refused, paths discovery passed over (a second path to one picture, a broken link).

    Raises
    ------
    DicomifyError
        A missing input, bad metadata, an unusable manifest, nothing to convert.
    """
    from ..iod.metadata import validate

    base = validate(dict(metadata or {}))
    found = scan(sources, output_dir, follow_links=follow_links)
    inputs = found.inputs
    row_metadata: dict[str, dict[str, Any]] = {}
    # Paths passed over still get a row: every input path is accounted for.
    failures = [Outcome(p.path, p.status, message=p.message) for p in found.passed]
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
                failures.append(_failed(row.path or f"{manifest}:{row.line}", row.error))
                continue
            if not os.path.isfile(row.path):
                failures.append(_failed(row.path, f"manifest line {row.line}: no such file"))
                continue
            key = os.path.realpath(row.path)
            if key in row_metadata:
                failures.append(_failed(row.path, f"manifest line {row.line}: the file is listed twice"))
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
    dates: list[dt.datetime | None] | None = None
    if as_grouping(group) is not Grouping.FILE and not (base.get("StudyDate") and base.get("StudyTime")):
        dates = [picture_date(item.path) for item in inputs]  # a study's date is its earliest picture's
    grouped = assign_groups(entries, group, dates)
    if resume:
        _adopt_existing_uids(grouped, outputs)
    tasks = [Task(item.path, output, meta) for item, output, meta in zip(inputs, outputs, grouped, strict=False)]
    return Plan(tasks, failures)


def plan_file(
    source: str | os.PathLike[str], output: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
) -> Plan:
    """Plan converting one picture to one output path (its own study and series).

    Raises
    ------
    InputError
        When ``source`` is not a file.
    OutputError
        When ``output`` is ``source`` itself.
    DicomifyError
        Bad metadata.
    """
    from ..errors import OutputError
    from ..iod.metadata import validate

    source, output = os.fspath(source), os.fspath(output)
    if not os.path.isfile(source):
        raise InputError(f"{source}: no such file")
    if same_file(source, output):
        raise OutputError(f"{output}: refusing to overwrite the input")
    return Plan([Task(source, output, validate(dict(metadata or {})))])


def same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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
        # A study also keeps the Study Date/Time of the first run (it may be the time
        # that run was planned).
        also = ("StudyDate", "StudyTime") if keyword == "StudyInstanceUID" else ()
        for indices in members.values():
            found = None
            for index in indices:
                if os.path.exists(outputs[index]):
                    try:
                        header = pydicom.dcmread(
                            outputs[index], stop_before_pixels=True, specific_tags=[keyword, *also]
                        )
                        found = str(header.get(keyword, "")) or None
                    except Exception:  # not ours, not DICOM: it will be skipped, not trusted
                        found = None
                    if found:
                        break
            if found:
                adopted = {name: str(header.get(name, "")) for name in (keyword, *also) if header.get(name)}
                for index in indices:
                    grouped[index].update(adopted)
