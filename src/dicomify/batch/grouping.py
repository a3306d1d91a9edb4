"""Grouping the files of a batch into studies and series, decided before any work starts.

Every UID and number is chosen here, in the parent process, in input order, so the
workers (processes, a cluster) only ever receive finished metadata and a run's result
does not depend on which worker finished first.

* A *study* is the set of files sharing their patient and study fields (from the run's
  metadata and the manifest row): without a manifest one run is one study.
* A *series*, with :attr:`Grouping.RUN`, is the whole study; with
  :attr:`Grouping.FOLDER`, the files of one input folder within the study.
* Series Number counts the series of a study from 1, Instance Number the files of a
  series from 1, in input order. A number given for one file or series is kept; a
  number given alike for several (``--instance-number 5`` for a whole run, or
  ``--series-number 3`` with one series per folder) is where they start counting,
  so that no two objects of a series (no two series of a study) share a number.
* A study has one Study Date and Time: the earliest picture date (EXIF
  DateTimeOriginal) among its files, or the time the batch was planned when none has
  one. A Study Date or Time given by the user (or copied by ``--study-from``) wins.
  Each file keeps its own Content Date and Time.
* :attr:`Grouping.FILE` assigns nothing: each file is its own study and series, exactly
  as separate ``convert`` calls would make them. A Series Instance UID given for
  several files is refused there: it would put one series into several studies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from ..errors import DicomifyError, OptionError
from ..iod.metadata import PATIENT_FIELDS, SERIES_FIELDS, STUDY_FIELDS
from ..iod.uids import new_uid

__all__ = ["Grouping", "as_grouping", "assign_groups"]


class Grouping(str, Enum):
    """How the files of a batch are grouped into studies and series."""

    RUN = "run"  # one study (per patient/study of the manifest), one series in it
    FOLDER = "folder"  # one series per input folder
    FILE = "file"  # every file its own study and series


def as_grouping(value: Grouping | str) -> Grouping:
    """``value`` as a :class:`Grouping`.

    Raises
    ------
    OptionError
        ``value`` is not one of the groupings.
    """
    try:
        return Grouping(value)
    except ValueError:
        raise OptionError(f"group {value!r} is not one of: {', '.join(g.value for g in Grouping)}") from None


def _key(metadata: Mapping[str, Any], fields: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((f, str(metadata[f])) for f in fields if metadata.get(f) not in (None, ""))


def _numbers(given: Sequence[Any], first_default: int = 1) -> list[int]:
    """Numbers for members in order: a value given for one member is kept; a value given
    alike for several is where they start counting (``--instance-number 5`` on three
    files gives 5, 6, 7); members without one count on from the last number."""
    counts: dict[int, int] = {}
    for value in given:
        if value not in (None, ""):
            counts[int(value)] = counts.get(int(value), 0) + 1
    numbers: list[int] = []
    following = first_default
    shared_next: dict[int, int] = {}
    for value in given:
        if value in (None, ""):
            number = following
        elif counts[int(value)] > 1:
            number = shared_next.get(int(value), int(value))
            shared_next[int(value)] = number + 1
        else:
            number = int(value)
        numbers.append(number)
        following = number + 1
    return numbers


def _study_datetime(
    members: Sequence[int], metadata: Sequence[Mapping[str, Any]], dates: Sequence[dt.datetime | None], now: dt.datetime
) -> dict[str, str]:
    """Study Date and Time for one study: the earliest picture date among its members,
    or ``now`` when none has one; a value given by the user wins."""
    known = [date for date in (dates[i] for i in members) if date is not None]
    chosen = min(known) if known else now
    given = metadata[members[0]]
    completed = {}
    if given.get("StudyDate") in (None, ""):
        completed["StudyDate"] = chosen.strftime("%Y%m%d")
    if given.get("StudyTime") in (None, ""):
        completed["StudyTime"] = chosen.strftime("%H%M%S")
    return completed


def assign_groups(
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    grouping: Grouping | str,
    dates: Sequence[dt.datetime | None] | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """For each (folder, metadata) entry, the metadata completed with its study and series.

    Parameters
    ----------
    entries
        ``(folder, metadata)`` per file: the folder the file lies in, the user's values.
    grouping
        How files form studies and series.
    dates
        The picture date of each file (EXIF), None where unknown: a study's Study
        Date/Time is the earliest of its files' (see the module docstring).
    now
        The fallback Study Date/Time (default: the current time).

    Returns
    -------
    list of dict
        The completed metadata, one per entry.

    Raises
    ------
    DicomifyError
        A given Series Instance UID would have to span two series or studies.
    """
    grouping = as_grouping(grouping)
    if grouping is Grouping.FILE:
        uids = [str(m["SeriesInstanceUID"]) for _, m in entries if m.get("SeriesInstanceUID")]
        shared = next((uid for uid in uids if uids.count(uid) > 1), None)
        if shared is not None:
            raise DicomifyError(
                f"SeriesInstanceUID {shared} is given for several files, but --group file makes every file "
                "its own study and series; give it per file in a manifest, or use --group run"
            )
        return [dict(metadata) for _, metadata in entries]
    study_uids: dict[Any, str] = {}
    series: dict[Any, str] = {}  # series key -> uid
    series_order: dict[Any, list[Any]] = {}  # study key -> its series keys, in order
    members: dict[Any, list[int]] = {}  # series key -> entry indices
    study_members: dict[Any, list[int]] = {}
    given_series_uid: dict[str, Any] = {}
    keys: list[tuple[Any, Any]] = []
    for index, (folder, metadata) in enumerate(entries):
        study_key = _key(metadata, PATIENT_FIELDS + STUDY_FIELDS)
        series_key = (study_key, folder if grouping is Grouping.FOLDER else None, _key(metadata, SERIES_FIELDS))
        if study_key not in study_uids:
            study_uids[study_key] = str(metadata.get("StudyInstanceUID") or new_uid())
        if series_key not in series:
            series_order.setdefault(study_key, []).append(series_key)
            uid = metadata.get("SeriesInstanceUID")
            if uid:
                other = given_series_uid.setdefault(str(uid), series_key)
                if other != series_key:
                    raise DicomifyError(
                        f"SeriesInstanceUID {uid} is given for files that fall into different series "
                        "(other folders, patients or studies); give it per series in a manifest, or drop it"
                    )
            series[series_key] = str(uid or new_uid())
        members.setdefault(series_key, []).append(index)
        study_members.setdefault(study_key, []).append(index)
        keys.append((study_key, series_key))
    metadata_of = [m for _, m in entries]
    series_number: dict[Any, int] = {}
    for ordered in series_order.values():
        firsts = [metadata_of[members[key][0]].get("SeriesNumber") for key in ordered]
        series_number.update(zip(ordered, _numbers(firsts), strict=True))
    instance_number: dict[int, int] = {}
    for indices in members.values():
        given = [metadata_of[i].get("InstanceNumber") for i in indices]
        instance_number.update(zip(indices, _numbers(given), strict=True))
    when = now or dt.datetime.now()
    study_dates = {
        key: _study_datetime(indices, metadata_of, dates or [None] * len(entries), when)
        for key, indices in study_members.items()
    }
    result = []
    for index, (study_key, series_key) in enumerate(keys):
        completed: dict[str, Any] = {k: v for k, v in metadata_of[index].items() if v not in (None, "")}
        completed.update(study_dates[study_key])
        completed.update(
            {
                "StudyInstanceUID": study_uids[study_key],
                "SeriesInstanceUID": series[series_key],
                "SeriesNumber": series_number[series_key],
                "InstanceNumber": instance_number[index],
            }
        )
        result.append(completed)
    return result
