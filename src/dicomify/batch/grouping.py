"""Grouping the files of a batch into studies and series, decided before any work starts.

Every UID and number is chosen here, in the parent process, in input order, so the
workers (processes, a cluster) only ever receive finished metadata and a run's result
does not depend on which worker finished first.

* A *study* is the set of files sharing their patient and study fields (from the run's
  metadata and the manifest row): without a manifest one run is one study.
* A *series*, with :attr:`Grouping.RUN`, is the whole study; with
  :attr:`Grouping.FOLDER`, the files of one input folder within the study.
* Series Number counts the series of a study from 1, Instance Number the files of a
  series from 1, in input order. Values given by the user (run metadata or manifest)
  always win over the generated ones.
* :attr:`Grouping.FILE` assigns nothing: each file is its own study and series, exactly
  as separate ``convert`` calls would make them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from ..errors import DicomifyError
from ..iod.metadata import PATIENT_FIELDS, SERIES_FIELDS, STUDY_FIELDS
from ..iod.uids import new_uid

__all__ = ["Grouping", "assign_groups"]


class Grouping(str, Enum):
    """How the files of a batch are grouped into studies and series."""

    RUN = "run"  # one study (per patient/study of the manifest), one series in it
    FOLDER = "folder"  # one series per input folder
    FILE = "file"  # every file its own study and series


def _key(metadata: Mapping[str, Any], fields: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((f, str(metadata[f])) for f in fields if metadata.get(f) not in (None, ""))


def assign_groups(
    entries: Sequence[tuple[str, Mapping[str, Any]]], grouping: Grouping | str
) -> list[dict[str, Any]]:
    """For each (folder, metadata) entry, the metadata completed with its study and series.

    ``folder`` is the folder the file lies in; ``metadata`` the user's values for the file.
    Raises DicomifyError when a given Series Instance UID would have to span two series.
    """
    grouping = Grouping(grouping)
    if grouping is Grouping.FILE:
        return [dict(metadata) for _, metadata in entries]
    study_uids: dict[Any, str] = {}
    series: dict[Any, tuple[str, int]] = {}  # series key -> (uid, number)
    series_count: dict[Any, int] = {}  # study key -> series so far
    instance_count: dict[Any, int] = {}  # series key -> instances so far
    given_series_uid: dict[str, Any] = {}
    result = []
    for folder, metadata in entries:
        study_key = _key(metadata, PATIENT_FIELDS + STUDY_FIELDS)
        series_key = (study_key, folder if grouping is Grouping.FOLDER else None, _key(metadata, SERIES_FIELDS))
        if study_key not in study_uids:
            study_uids[study_key] = str(metadata.get("StudyInstanceUID") or new_uid())
        if series_key not in series:
            series_count[study_key] = series_count.get(study_key, 0) + 1
            uid = metadata.get("SeriesInstanceUID")
            if uid:
                other = given_series_uid.setdefault(str(uid), series_key)
                if other != series_key:
                    raise DicomifyError(
                        f"SeriesInstanceUID {uid} is given for files that fall into different series "
                        "(other folders, patients or studies); give it per series in a manifest, or drop it"
                    )
            series[series_key] = (str(uid or new_uid()), series_count[study_key])
        instance_count[series_key] = instance_count.get(series_key, 0) + 1
        series_uid, series_number = series[series_key]
        completed = {
            "StudyInstanceUID": study_uids[study_key],
            "SeriesInstanceUID": series_uid,
            "SeriesNumber": series_number,
            "InstanceNumber": instance_count[series_key],
        }
        completed.update({k: v for k, v in metadata.items() if v not in (None, "")})
        result.append(completed)
    return result
