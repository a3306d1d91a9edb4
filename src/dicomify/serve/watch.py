"""The watch folder: pictures dropped into a folder are converted, sent, and filed away.

Layout under the watched folder ``IN``::

    IN/picture.jpg              a new file (and IN/picture.json, its metadata, optional)
    IN/.dicomify-work/          the file in hand, with its objects (NAME.dicomify/) once converted
    IN/done/                    sources delivered (or converted, without a PACS)
    IN/failed/                  sources that cannot be converted, with the reason in the report
    IN/out/                     the .dcm files when no PACS is configured
    IN/watch-report.jsonl       one line per finished file

A file is picked up only once its size and modification time have stayed the
same for ``settle_seconds`` (it is no longer being written). It is moved into the
work folder before anything else, so after a crash or restart the work folder says
exactly what was in hand: a source with its objects is sent again as the same objects
(same SOP Instance UID, so the PACS keeps one copy), a source without one is
converted again. A PACS that refuses or is down leaves the file in the work folder
to be retried, never in failed/. SIGTERM lets the file in hand finish.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.deadline import FileTimeout, time_limit, too_slow
from ..errors import DicomifyError, MetadataError
from ..iod.metadata import FIELDS, validate
from ..net import Destination
from ..options import ConvertOptions
from .config import ServeConfig

__all__ = ["Watcher", "compile_pattern"]

logger = logging.getLogger("dicomify.watch")

WORK, DONE, FAILED, OUT = ".dicomify-work", "done", "failed", "out"
REPORT = "watch-report.jsonl"
# The objects made from NAME (one, or one per part of a source whose pages differ) go to
# the folder NAME.dicomify beside it, made as NAME.dicomify.part and renamed when complete.
DICOM_SUFFIX = ".dicomify"
PART_SUFFIX = ".dicomify.part"
RETRY_SECONDS = 30.0
ORDER_GROUP = "order"  # a filename_pattern group holding an accession number of the worklist


def compile_pattern(
    pattern: str, source: str = "the configuration", what: str = "filename_pattern", order: bool = True
) -> re.Pattern[str]:
    """The file-name rule: named groups are metadata keywords, or ``order`` (an accession number
    looked up in the configured worklist).

    Raises
    ------
    DicomifyError
        Not a regular expression, or a group that is neither.
    """
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise DicomifyError(f"{source}: [watch] {what} is not a regular expression ({error})") from None
    unknown = sorted(set(compiled.groupindex) - set(FIELDS) - ({ORDER_GROUP} if order else set()))
    if unknown:
        also = f" (nor {ORDER_GROUP!r})" if order else ""
        raise DicomifyError(f"{source}: [watch] {what} group {unknown[0]!r} is not a metadata field{also}")
    return compiled


def _is_query_failure(error: Exception) -> bool:
    from ..net import QueryError

    return isinstance(error, QueryError)


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


def _unique(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name.1`` ... when a file of that name was filed before."""
    target = folder / name
    counter = 1
    while target.exists():
        target = folder / f"{name}.{counter}"
        counter += 1
    return target


class Watcher:
    """Watch one folder: :meth:`run` until ``stop`` is set, or :meth:`poll` for one pass.

    Parameters
    ----------
    folder : str or PathLike
        The folder files are dropped into (``done/``, ``failed/`` ... are made inside it).
    config : ServeConfig
        ``pacs`` (where to send; without it the objects go to ``out/``), ``options``,
        ``metadata``, ``worklist`` (for an ``order`` group) and ``watch`` (timings, rules).
    stop : threading.Event, optional
        Set it to stop after the file in hand (``dicomify watch`` sets it on SIGTERM).
    clock : callable, optional
        Monotonic seconds (tests may pass their own).

    Raises
    ------
    DicomifyError
        The folder does not exist, or the file-name rule is not valid.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        config: ServeConfig,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DicomifyError(f"{self.folder}: the folder to watch does not exist")
        self.config = config
        self.settings = config.watch
        self.destination: Destination | None = config.pacs
        self.options: ConvertOptions = config.options
        self.pattern = compile_pattern(self.settings.filename_pattern) if self.settings.filename_pattern else None
        self.folder_pattern = (
            compile_pattern(self.settings.folder_pattern, what="folder_pattern", order=False)
            if self.settings.folder_pattern
            else None
        )
        if self.pattern is not None and ORDER_GROUP in self.pattern.groupindex and config.worklist is None:
            raise DicomifyError("[watch] filename_pattern group 'order' needs a [worklist] to look it up")
        self.stop = stop or threading.Event()
        self.clock = clock
        self._seen: dict[str, _Seen] = {}
        self._retry_after = 0.0
        for name in (WORK, DONE, FAILED) + (() if self.destination is not None else (OUT,)):
            (self.folder / name).mkdir(exist_ok=True)
        self.work = self.folder / WORK

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Poll every ``poll_seconds`` until ``stop`` is set."""
        logger.info("watching a folder (every %.1f s)", self.settings.poll_seconds)
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(self.settings.poll_seconds)
        logger.info("watch stopped")

    def poll(self) -> int:
        """One pass: retry what is in hand, then take every settled new file. Returns files finished."""
        finished = self._resume()
        for path in self._settled():
            if self.stop.is_set():
                break
            finished += self._take(path)
        return finished

    # -- finding settled files -------------------------------------------------------------

    def _is_candidate(self, entry: os.DirEntry[str]) -> bool:
        if entry.name.startswith(".") or entry.name in (REPORT, self.settings.manifest):
            return False
        if not entry.is_file(follow_symlinks=False):
            return False
        return not (self.settings.sidecar and entry.name.lower().endswith(".json"))

    def _watched_folders(self) -> list[Path]:
        """The folder itself and, with a folder rule, its sub-folders (one level, not ours)."""
        folders = [self.folder]
        if self.folder_pattern is not None:
            with os.scandir(self.folder) as entries:
                folders.extend(
                    Path(entry.path)
                    for entry in sorted(entries, key=lambda e: e.name)
                    if entry.is_dir(follow_symlinks=False)
                    and not entry.name.startswith(".")
                    and entry.name not in (DONE, FAILED, OUT)
                )
        return folders

    def _settled(self) -> list[Path]:
        now = self.clock()
        ready: list[Path] = []
        present: set[str] = set()
        for folder in self._watched_folders():
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except FileNotFoundError:
                continue
            for entry in entries:
                if not self._is_candidate(entry):
                    continue
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                key = os.path.relpath(entry.path, self.folder)
                present.add(key)
                seen = self._seen.get(key)
                if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                    seen = self._seen[key] = _Seen(stat.st_size, stat.st_mtime_ns, now)
                    # Seen for the first time: settled already if nothing wrote to it for a while
                    # (a writer updates the modification time with every write).
                    if time.time() - stat.st_mtime < self.settings.settle_seconds:
                        continue
                elif now - seen.since < self.settings.settle_seconds:
                    continue
                if self._sidecar_settled(Path(entry.path)):
                    ready.append(Path(entry.path))
        for key in set(self._seen) - present:
            del self._seen[key]
        return ready

    def _sidecar(self, folder: Path, name: str) -> Path | None:
        if not self.settings.sidecar:
            return None
        path = folder / (Path(name).stem + ".json")
        return path if path.is_file() else None

    def _sidecar_settled(self, path: Path) -> bool:
        sidecar = self._sidecar(path.parent, path.name)
        if sidecar is None:
            return True
        stat = sidecar.stat()
        return time.time() - stat.st_mtime >= self.settings.settle_seconds

    # -- one file ---------------------------------------------------------------------------

    def _take(self, path: Path) -> int:
        """Move a settled file into the work folder (its sub-folder too), then handle it there."""
        relative = path.relative_to(self.folder)
        self._seen.pop(str(relative), None)
        (self.work / relative.parent).mkdir(parents=True, exist_ok=True)
        target = _unique(self.work / relative.parent, path.name)
        sidecar = self._sidecar(path.parent, path.name)
        try:
            if sidecar is not None:
                os.replace(sidecar, target.with_name(target.stem + ".json"))
            os.replace(path, target)
        except FileNotFoundError:
            return 0  # taken away meanwhile
        return self._handle(target)

    def _in_hand(self) -> list[Path]:
        """Sources in the work folder: at its top and in its sub-folders (not the objects made)."""
        sources: list[Path] = []
        for entry in sorted(self.work.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir() and not entry.name.endswith((DICOM_SUFFIX, PART_SUFFIX)):
                sources.extend(sorted(p for p in entry.iterdir() if p.is_file() and not p.name.startswith(".")))
            elif entry.is_file():
                sources.append(entry)
        return [p for p in sources if not (self.settings.sidecar and p.suffix.lower() == ".json")]

    def _resume(self) -> int:
        finished = 0
        for source in self._in_hand():
            if self.stop.is_set():
                break
            finished += self._handle(source)
        return finished

    def _metadata(self, source: Path) -> dict[str, Any]:
        """Later sources win: configuration, folder name, the order (worklist), the file name,
        the manifest, the sidecar."""
        metadata: dict[str, Any] = dict(self.config.metadata)
        if self.folder_pattern is not None and source.parent != self.work:
            match = self.folder_pattern.fullmatch(source.parent.name)
            if match is None:
                raise MetadataError(
                    f"the folder name {source.parent.name!r} does not match the folder_pattern of the configuration"
                )
            metadata.update({k: v for k, v in match.groupdict().items() if v})
        if self.pattern is not None:
            match = self.pattern.fullmatch(source.name)
            if match:
                groups = {k: v for k, v in match.groupdict().items() if v}
                order = groups.pop(ORDER_GROUP, "")
                if order:
                    from .pacs import order_and_study_metadata

                    metadata.update(order_and_study_metadata(self.config.worklist, None, order, ""))
                metadata.update(groups)
        if self.settings.manifest is not None:
            metadata.update(self._manifest_row(source.name))
        sidecar = self._sidecar(source.parent, source.name)
        if sidecar is not None:
            try:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise MetadataError(f"{sidecar.name}: not a readable JSON object ({error})") from None
            if not isinstance(data, dict):
                raise MetadataError(f"{sidecar.name}: must hold a JSON object of DICOM keywords")
            metadata.update(data)
        return validate(metadata)

    def _convert(self, source: Path, objects: Path) -> None:
        """All objects of ``source`` into the folder ``objects``, which appears only when complete."""
        from ..api import DicomImage

        partial = source.with_name(source.name + PART_SUFFIX)
        shutil.rmtree(partial, ignore_errors=True)  # left by a crash: made again
        partial.mkdir()
        with DicomImage(source, options=self.options, **self._metadata(source)) as image:
            image.save(partial / (Path(source.name).stem + ".dcm"))
        os.replace(partial, objects)

    def _manifest_row(self, name: str) -> dict[str, Any]:
        """The manifest's metadata for the file ``name``; a file it does not list is refused."""
        from ..batch.manifest import read_manifest

        assert self.settings.manifest is not None
        manifest = self.folder / self.settings.manifest
        if not manifest.is_file():
            raise MetadataError(f"the manifest {self.settings.manifest} is not in the watched folder")
        rows = [row for row in read_manifest(manifest) if Path(row.path).name == name]
        if not rows:
            raise MetadataError(f"{name} is not listed in the manifest {self.settings.manifest}")
        row = rows[-1]  # a later line for the same file corrects an earlier one
        if row.error:
            raise MetadataError(row.error)
        return dict(row.metadata)

    def _handle(self, source: Path) -> int:
        objects = source.with_name(source.name + DICOM_SUFFIX)
        if not objects.is_dir():
            if self.clock() < self._retry_after:
                return 0
            try:
                with time_limit(self.options.max_seconds):
                    self._convert(source, objects)
            except FileTimeout:
                shutil.rmtree(source.with_name(source.name + PART_SUFFIX), ignore_errors=True)
                message = f"{source.name}: {too_slow(self.options.max_seconds)} ([limits] max_seconds)"
                self._finish(source, FAILED, {"status": "failed", "message": message})
                return 1
            except DicomifyError as error:
                if _is_query_failure(error):
                    # The worklist could not be asked: try again later, the file is not at fault.
                    self._retry_after = self.clock() + RETRY_SECONDS
                    self._report({"source": source.name, "status": "retry", "message": str(error)})
                    return 0
                shutil.rmtree(source.with_name(source.name + PART_SUFFIX), ignore_errors=True)
                reason = f"{source.name}: {error.reason}" if error.source is not None else str(error)
                self._finish(source, FAILED, {"status": "failed", "message": reason})
                return 1
        made = sorted(objects.iterdir())
        if self.destination is None:
            outputs = []
            for path in made:
                output = _unique(self.folder / OUT, path.name)
                os.replace(path, output)
                outputs.append(str(output.relative_to(self.folder)))
            self._finish(source, DONE, {"status": "converted", "output": ", ".join(outputs)})
            return 1
        if self.clock() < self._retry_after:
            return 0
        from ..net import send_files

        results = list(send_files(made, self.destination, commit=self.config.commit))
        failed = [result for result in results if not result.ok]  # failed, unconfirmed or uncommitted
        if failed:
            # The PACS is down or refused: keep it in hand and try again later, never lose it.
            # Objects already stored are sent again then as the same objects (same UIDs).
            self._retry_after = self.clock() + RETRY_SECONDS
            logger.warning("sending failed, retrying in %.0f s: %s", RETRY_SECONDS, failed[0].message)
            self._report(
                {
                    "source": source.name,
                    "status": "retry",
                    "sop_instance_uid": failed[0].sop_instance_uid,
                    "message": failed[0].message,
                }
            )
            return 0
        self._retry_after = 0.0
        self._finish(
            source,
            DONE,
            {
                "status": results[0].status.value,
                "sop_instance_uid": ", ".join(result.sop_instance_uid for result in results),
                "message": "; ".join(result.message for result in results if result.message),
            },
        )
        return 1

    def _finish(self, source: Path, where: str, row: Mapping[str, Any]) -> None:
        relative = source.relative_to(self.work)
        destination = self.folder / where / relative.parent
        destination.mkdir(parents=True, exist_ok=True)
        target = _unique(destination, source.name)
        sidecar = self._sidecar(source.parent, source.name)
        if sidecar is not None:
            os.replace(sidecar, _unique(destination, sidecar.name))
        for made in (DICOM_SUFFIX, PART_SUFFIX):
            shutil.rmtree(source.with_name(source.name + made), ignore_errors=True)
        os.replace(source, target)
        if source.parent != self.work:
            with contextlib.suppress(OSError):
                source.parent.rmdir()  # the sub-folder in hand, once empty
        self._report({"source": str(relative), "moved_to": str(target.relative_to(self.folder)), **row})
        logger.info("a file went to %s/", where)  # no name: names may hold patient IDs
        logger.debug("%s -> %s", source.name, target)

    def _report(self, row: Mapping[str, Any]) -> None:
        line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **row}, ensure_ascii=False)
        with open(self.folder / REPORT, "a", encoding="utf-8") as report:
            report.write(line + "\n")
            report.flush()
            os.fsync(report.fileno())
