"""The server's configuration: one TOML file, read and checked when the server starts.

Everything the page must never choose comes from here: where pictures are
published, the worklist and the PACS queried, who may log in, and the limits.
A mistake in the file is one :class:`~dicomify.errors.DicomifyError` naming the
file, the setting and the reason, before anything listens.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DicomifyError, NetworkError
from ..iod.metadata import validate
from ..net import CommitOptions, Destination, DicomDestination, StowDestination, TLSOptions
from ..options import ConvertOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Limits", "ServeConfig", "WatchConfig", "is_loopback", "load_config"]

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request, and the server as a whole, may cost."""

    max_upload_bytes: int = 200 * MB  # one request's body
    max_files: int = 50  # pictures in one request
    max_pixels: int = 50_000_000  # per frame: decompression-bomb guard
    workers: int = 2  # conversions running at once (each holds one picture in memory)
    max_pending: int = 100  # requests with pictures in hand; more are turned away with 503
    staged_minutes: float = 60.0  # how long converted objects wait for publish/download
    max_seconds: float = 600.0  # per file: uploads (isolated) and `dicomify watch`
    isolate: bool = True  # uploads converted in worker processes (serve/isolation.py)


@dataclass(frozen=True)
class WatchConfig:
    """``dicomify watch`` (or ``[watch]`` in the server's file)."""

    folder: Path | None = None
    poll_seconds: float = 1.0
    settle_seconds: float = 2.0  # a file's size and time must stay unchanged this long
    # A regular expression with named groups (DICOM keywords) matched against the file name,
    # e.g. "(?P<PatientID>[0-9]+)_(?P<AccessionNumber>[A-Z0-9]+)_.*".
    filename_pattern: str | None = None
    sidecar: bool = True  # NAME.json beside NAME.ext holds metadata for it
    # A regular expression for the names of sub-folders (one level): files in them are
    # watched too, the groups (DICOM keywords) naming their metadata, e.g. "(?P<PatientID>.+)".
    folder_pattern: str | None = None
    #: a CSV in the watched folder (path/file column + DICOM keyword columns), read on every
    #: pass; with it, a file it does not list goes to failed/
    manifest: str | None = None


@dataclass(frozen=True)
class ServeConfig:
    """The whole configuration; ``ServeConfig()`` is a loopback server with no PACS.

    Made by :func:`load_config` from the TOML file (docs/serve.md lists every setting),
    or directly. ``pacs`` is where publishing and the watch folder send; ``worklist``
    and ``studies`` are queried for the patient; ``token`` and ``users`` (name to
    password hash) are who may use it; ``metadata`` goes into every object, below what
    a request gives.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    #: user name -> password hash made by ``dicomify serve --hash-password``
    users: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    options: ConvertOptions = field(default_factory=lambda: ConvertOptions(iod="photo"))  # type: ignore[arg-type]
    #: metadata every object gets (InstitutionName ...), below what the page or request gives
    metadata: Mapping[str, Any] = field(default_factory=dict)
    pacs: Destination | None = None
    worklist: DicomDestination | None = None
    studies: DicomDestination | None = None
    #: storage commitment after publishing (C-STORE only): ``[pacs] storage_commitment``
    commit: CommitOptions | None = None
    temp_dir: Path | None = None
    watch: WatchConfig = field(default_factory=WatchConfig)
    source: str = "<defaults>"

    @property
    def auth_required(self) -> bool:
        return bool(self.token or self.users)

    def check_listen(self, host: str) -> None:
        """Refuse to listen beyond loopback without authentication."""
        if not self.auth_required and not is_loopback(host):
            raise DicomifyError(
                f"{self.source}: refusing to listen on {host} without authentication: "
                "set [auth] token or [auth.users] in the config, or listen on 127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- reading the file -------------------------------------------------------------


class _Section:
    """One table of the TOML file; unknown keys are errors (typos must not pass silently)."""

    def __init__(self, source: str, name: str, table: Any) -> None:
        if not isinstance(table, dict):
            raise DicomifyError(f"{source}: [{name}] must be a table")
        self.source, self.name, self.table = source, name, dict(table)

    def error(self, key: str, reason: str) -> DicomifyError:
        return DicomifyError(f"{self.source}: [{self.name}] {key}: {reason}")

    def take(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.error(key, f"must be a number, not {value!r}")
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.error(key, f"must be {names}, not {value!r}")
        return value

    def positive(self, key: str, default: float, integer: bool = True) -> Any:
        value = self.take(key, int if integer else (int, float), default)
        if value <= 0:
            raise self.error(key, f"must be greater than 0, not {value!r}")
        return value

    def done(self) -> None:
        if self.table:
            raise self.error(next(iter(self.table)), "is not a setting here")


def _destination(section: _Section, stow_allowed: bool) -> Destination:
    stow = section.take("stow", str)
    if stow is not None:
        if not stow_allowed:
            raise section.error("stow", "only C-FIND (host, port, called_aet) is possible here")
        destination: Destination = StowDestination(
            stow,
            username=section.take("username", str),
            password=section.take("password", str),
            token=section.take("token", str),
            timeout=section.positive("timeout", 30.0, integer=False),
        )
    else:
        host = section.take("host", str)
        if host is None:
            raise section.error("host", "give host (C-STORE/C-FIND) or stow (a DICOMweb URL)")
        tls = section.take("tls", bool, False)
        destination = DicomDestination(
            host,
            port=section.take("port", int, 104),
            called_aet=section.take("called_aet", str, "ANY-SCP"),
            calling_aet=section.take("calling_aet", str, "DICOMIFY"),
            timeout=section.positive("timeout", 30.0, integer=False),
            tls=TLSOptions(
                ca=section.take("tls_ca", str), cert=section.take("tls_cert", str), key=section.take("tls_key", str)
            )
            if tls
            else None,
        )
    return destination


def load_config(path: str | os.PathLike[str] | None) -> ServeConfig:
    """Read a TOML configuration file (``None``: the defaults, a loopback server without a PACS).

    Raises
    ------
    DicomifyError
        The file cannot be read or a setting is wrong; the message names both.
    """
    if path is None:
        return ServeConfig()
    source = os.fspath(path)
    try:
        with open(source, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise DicomifyError(f"{source}: cannot read the configuration ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise DicomifyError(f"{source}: not valid TOML ({error})") from None
    try:
        return _parse(source, data)
    except NetworkError as error:
        raise DicomifyError(f"{source}: {error}") from None


def _parse(source: str, data: dict[str, Any]) -> ServeConfig:
    sections = set(data) - {"server", "auth", "limits", "convert", "metadata", "pacs", "worklist", "studies", "watch"}
    if sections:
        raise DicomifyError(f"{source}: [{sorted(sections)[0]}] is not a section of the configuration")
    server = _Section(source, "server", data.get("server", {}))
    host = server.take("host", str, "127.0.0.1")
    port = server.take("port", int, 8080)
    temp = server.take("temp_dir", str)
    server.done()

    auth = _Section(source, "auth", data.get("auth", {}))
    token = auth.take("token", str)
    if token is not None and len(token) < 16:
        raise auth.error("token", "must be at least 16 characters long")
    users_table = auth.take("users", dict, {})
    auth.done()
    from .passwords import check_hash

    users: dict[str, str] = {}
    for name, hashed in users_table.items():
        if not isinstance(hashed, str) or not check_hash(hashed):
            raise DicomifyError(
                f"{source}: [auth.users] {name}: not a password hash; make one with dicomify serve --hash-password"
            )
        users[name] = hashed

    limits_section = _Section(source, "limits", data.get("limits", {}))
    limits = Limits(
        max_upload_bytes=int(limits_section.positive("max_upload_mb", 200, integer=False) * MB),
        max_files=limits_section.positive("max_files", 50),
        max_pixels=limits_section.positive("max_pixels", 50_000_000),
        workers=limits_section.positive("workers", 2),
        max_pending=limits_section.positive("max_pending", 100),
        staged_minutes=limits_section.positive("staged_minutes", 60.0, integer=False),
        max_seconds=limits_section.positive("max_seconds", 600.0, integer=False),
        isolate=limits_section.take("isolate", bool, True),
    )
    limits_section.done()

    convert = _Section(source, "convert", data.get("convert", {}))
    try:
        options = ConvertOptions(
            iod=convert.take("iod", str, "photo"),
            compression=convert.take("compression", str, "none"),
            decode_jpeg=convert.take("decode_jpeg", bool, False),
            background=convert.take("background", str, "white"),
            max_pixels=limits.max_pixels,
            max_seconds=limits.max_seconds,
        )
    except DicomifyError as error:
        raise DicomifyError(f"{source}: [convert] {error}") from None
    convert.done()
    try:
        metadata = validate(_Section(source, "metadata", data.get("metadata", {})).table)
    except DicomifyError as error:
        raise DicomifyError(f"{source}: [metadata] {error}") from None

    pacs = worklist = studies = None
    commit = None
    if "pacs" in data:
        section = _Section(source, "pacs", data["pacs"])
        if section.take("storage_commitment", bool, False):
            commit = CommitOptions(
                port=section.take("commit_port", int), wait=section.positive("commit_wait", 60.0, integer=False)
            )
        elif "commit_port" in section.table or "commit_wait" in section.table:
            raise section.error("commit_port", "only applies with storage_commitment = true")
        pacs = _destination(section, stow_allowed=True)
        if commit is not None and not isinstance(pacs, DicomDestination):
            raise section.error("storage_commitment", "needs a C-STORE destination (host, port), not STOW-RS")
        section.done()
    if "worklist" in data:
        section = _Section(source, "worklist", data["worklist"])
        worklist = _destination(section, stow_allowed=False)
        section.done()
    if "studies" in data:
        section = _Section(source, "studies", data["studies"])
        studies = _destination(section, stow_allowed=False)
        section.done()

    watch_section = _Section(source, "watch", data.get("watch", {}))
    folder = watch_section.take("folder", str)
    watch = WatchConfig(
        folder=Path(folder) if folder else None,
        poll_seconds=watch_section.positive("poll_seconds", 1.0, integer=False),
        settle_seconds=watch_section.positive("settle_seconds", 2.0, integer=False),
        filename_pattern=watch_section.take("filename_pattern", str),
        sidecar=watch_section.take("sidecar", bool, True),
        manifest=watch_section.take("manifest", str),
        folder_pattern=watch_section.take("folder_pattern", str),
    )
    if watch.manifest is not None and (not watch.manifest or Path(watch.manifest).name != watch.manifest):
        raise watch_section.error("manifest", f"must be a file name in the watched folder, not {watch.manifest!r}")
    watch_section.done()
    from .watch import compile_pattern

    if watch.folder_pattern is not None:
        compile_pattern(watch.folder_pattern, source, what="folder_pattern", order=False)
    if watch.filename_pattern is not None:
        if "order" in compile_pattern(watch.filename_pattern, source).groupindex and worklist is None:
            raise DicomifyError(f"{source}: [watch] filename_pattern group 'order' needs a [worklist] to look it up")

    return ServeConfig(
        host=host,
        port=port,
        token=token,
        users=users,
        limits=limits,
        options=options,
        metadata=metadata,
        pacs=pacs,
        worklist=worklist,  # type: ignore[arg-type]
        studies=studies,  # type: ignore[arg-type]
        commit=commit,
        temp_dir=Path(temp) if temp else None,
        watch=watch,
        source=source,
    )
