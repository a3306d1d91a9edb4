"""Where to deliver: typed, validated destinations (DICOM C-STORE or DICOMweb STOW-RS).

Validation happens when a destination is made, so a typo in an address or an
unreadable TLS file is a :class:`~dicomify.errors.NetworkError` up front, never a
half-sent batch.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import NetworkError

__all__ = ["CommitOptions", "DicomDestination", "Destination", "StowDestination", "TLSOptions", "worklist_destination"]

# PS3.8 9.3.2: an AE title is 1 to 16 characters of the Default Character
# Repertoire, no backslash, no control characters, and not all spaces.
_AE_TITLE_MAX = 16


def _check_ae_title(value: str, what: str) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > _AE_TITLE_MAX:
        raise NetworkError(f"The {what} AE title {value!r} is not valid: it must have 1 to {_AE_TITLE_MAX} characters.")
    if "\\" in stripped or any(ord(char) < 0x20 or ord(char) > 0x7E for char in stripped):
        raise NetworkError(
            f"The {what} AE title {value!r} is not valid: only printable ASCII without a backslash is allowed."
        )
    return stripped


def _check_positive(value: float, what: str) -> None:
    if not value > 0:
        raise NetworkError(f"The {what} must be greater than 0, not {value!r}.")


def _check_retries(retries: int, backoff: float) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise NetworkError(f"The number of retries must be a whole number of 0 or more, not {retries!r}.")
    if backoff < 0:
        raise NetworkError(f"The retry backoff must be 0 seconds or more, not {backoff!r}.")


def _check_readable(path: Path, what: str) -> None:
    if not path.is_file() or not os.access(path, os.R_OK):
        raise NetworkError(f"The {what} file {str(path)!r} does not exist or cannot be read.")


@dataclass(frozen=True)
class TLSOptions:
    """TLS for a DICOM association (PS3.15 B.1, the TLS Secure Transport Connection Profile).

    ``ca`` is the file of certificates that may sign the peer's certificate (PEM);
    without it the system's trust store is used. ``cert`` and ``key`` are our own
    certificate and private key (PEM), needed when the peer asks for a client
    certificate (Orthanc does by default). ``check_hostname`` compares the peer's
    certificate with the host name or IP address we connect to.
    """

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    check_hostname: bool = True

    def __post_init__(self) -> None:
        for name in ("ca", "cert", "key"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
                _check_readable(Path(value), f"TLS {name}")
        if self.key is not None and self.cert is None:
            raise NetworkError("A TLS private key was given without its certificate: add the certificate.")


@dataclass(frozen=True)
class DicomDestination:
    """A DICOM Storage SCP reached by C-STORE (and C-ECHO).

    ``timeout`` (seconds) is the deadline of each exchange: connecting,
    association negotiation and the whole DIMSE answer, plus one second per MB
    sent. A failed association is tried ``retries`` more times,
    waiting ``backoff``, then twice that, and so on.
    """

    host: str
    port: int = 104
    called_aet: str = "ANY-SCP"
    calling_aet: str = "DICOMIFY"
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 1.0
    tls: TLSOptions | None = None
    max_pdu: int = 0  # 0: no limit, PS3.8 D.1

    def __post_init__(self) -> None:
        if not self.host or any(char.isspace() for char in self.host):
            raise NetworkError(f"The host {self.host!r} is not a valid host name or address.")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise NetworkError(f"The port {self.port!r} is not valid: use a number from 1 to 65535.")
        object.__setattr__(self, "called_aet", _check_ae_title(self.called_aet, "called"))
        object.__setattr__(self, "calling_aet", _check_ae_title(self.calling_aet, "calling"))
        _check_positive(self.timeout, "timeout")
        _check_retries(self.retries, self.backoff)
        if self.max_pdu < 0:
            raise NetworkError(f"The maximum PDU size must be 0 (no limit) or more, not {self.max_pdu!r}.")

    def __str__(self) -> str:
        scheme = "dicom+tls" if self.tls else "dicom"
        return f"{scheme}://{self.called_aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class StowDestination:
    """A DICOMweb server reached by STOW-RS (PS3.18 10.5).

    ``url`` is the server's DICOMweb root (``http://host:8042/dicom-web``), its
    ``.../studies`` endpoint or one study's ``.../studies/{uid}``. Authentication is either HTTP basic
    (``username`` + ``password``) or a bearer ``token``. ``ca`` verifies an
    https server against the given certificates; ``verify=False`` turns
    verification off. ``batch_size`` instances go in one request.
    """

    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 1.0
    ca: Path | None = None
    verify: bool = True
    batch_size: int = 20

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkError(f"The STOW-RS URL {self.url!r} is not valid: use http://HOST[:PORT]/PATH or https://...")
        if (self.username is None) != (self.password is None):
            raise NetworkError("HTTP basic authentication needs both a user name and a password.")
        if self.token is not None and self.username is not None:
            raise NetworkError("Use either a bearer token or a user name and password, not both.")
        _check_positive(self.timeout, "timeout")
        _check_retries(self.retries, self.backoff)
        if self.ca is not None:
            object.__setattr__(self, "ca", Path(self.ca))
            _check_readable(Path(self.ca), "CA certificate")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise NetworkError(f"The STOW-RS batch size must be 1 or more, not {self.batch_size!r}.")

    def redact(self, text: str) -> str:
        """``text`` with this destination's password and token replaced by ``***``."""
        for secret in (self.password, self.token, urlsplit(self.url).password):
            if secret:
                text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        hidden = {"password": self.password, "token": self.token}
        shown = ", ".join(
            f"{name}={repr('***') if hidden.get(name) else repr(getattr(self, name))}"
            for name in self.__dataclass_fields__
            if name != "url"
        )
        return f"StowDestination(url={_redacted_url(self.url)!r}, {shown})"

    @property
    def studies_url(self) -> str:
        """The STOW-RS endpoint: ``{root}/studies``, or ``{root}/studies/{StudyInstanceUID}`` as given.

        Posting to one study's URL makes the server refuse instances of other
        studies (PS3.18 10.5.1), each reported as failed.
        """
        parts = urlsplit(self.url)
        path = parts.path.rstrip("/")
        if not re.search(r"/studies(/[0-9.]+)?$", path):
            path = f"{path}/studies"
        return urlunsplit(parts._replace(path=path))

    def __str__(self) -> str:
        """The endpoint without secrets: a password in the URL shows as ``***``."""
        return _redacted_url(self.studies_url)


def _redacted_url(url: str) -> str:
    """``url`` with the password of its user information (``user:pw@``) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = "***" if parts.password is None else f"{parts.username}:***"
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


Destination = DicomDestination | StowDestination


#: environment variables naming the worklist SCP, below flags and above the config file
WORKLIST_ENV = {
    "host": "DICOMIFY_WORKLIST_HOST",
    "port": "DICOMIFY_WORKLIST_PORT",
    "called_aet": "DICOMIFY_WORKLIST_AEC",
    "calling_aet": "DICOMIFY_WORKLIST_AET",
}


def worklist_destination(
    *,
    host: str | None = None,
    port: int | None = None,
    called_aet: str | None = None,
    calling_aet: str | None = None,
    config: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> DicomDestination:
    """The worklist SCP from explicit values, else the environment, else a JSON config file.

    Parameters
    ----------
    host, port, called_aet, calling_aet : optional
        Explicit settings (command-line flags); they win.
    config : path, optional
        A JSON file with a ``"worklist"`` object of ``host``, ``port``,
        ``called_aet``, ``calling_aet``, ``timeout``.
    environ : mapping, optional
        Where ``DICOMIFY_WORKLIST_HOST`` / ``_PORT`` / ``_AEC`` / ``_AET`` are read
        (default ``os.environ``).
    **options
        Other :class:`DicomDestination` fields (timeout, retries, tls ...).

    Raises
    ------
    NetworkError
        No host anywhere, a port that is not a number, an unreadable config file.
    """
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    if config is not None:
        settings.update(_worklist_config(Path(config)))
    for name, variable in WORKLIST_ENV.items():
        if environ.get(variable):
            settings[name] = environ[variable]
    explicit = {"host": host, "port": port, "called_aet": called_aet, "calling_aet": calling_aet}
    settings.update({name: value for name, value in explicit.items() if value is not None})
    if not settings.get("host"):
        raise NetworkError(
            f"No worklist server: give --worklist-host, set {WORKLIST_ENV['host']}, or a config file with one."
        )
    if "port" in settings:
        try:
            settings["port"] = int(settings["port"])
        except (TypeError, ValueError):
            raise NetworkError(f"The worklist port {settings['port']!r} is not a number.") from None
    timeout = settings.pop("timeout", None)
    if timeout is not None and "timeout" not in options:
        try:
            options["timeout"] = float(timeout)
        except (TypeError, ValueError):
            raise NetworkError(f"The worklist timeout {timeout!r} is not a number of seconds.") from None
    return DicomDestination(**settings, **options)


def _worklist_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise NetworkError(f"Cannot read the config file {str(path)!r}: {error.strerror or error}.") from None
    except ValueError as error:
        raise NetworkError(f"The config file {str(path)!r} is not valid JSON: {error}.") from None
    section = data.get("worklist") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise NetworkError(f'The config file {str(path)!r} has no "worklist" object.')
    known = {"host", "port", "called_aet", "calling_aet", "timeout"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise NetworkError(
            f"The config file {str(path)!r} has unknown worklist settings {', '.join(unknown)}: "
            f"use {', '.join(sorted(known))}."
        )
    return dict(section)


@dataclass(frozen=True)
class CommitOptions:
    """Storage commitment after storing (PS3.4 Annex J, Push Model).

    ``port``: listen there (under the destination's calling AE title) for the
    archive's report on an association it opens to us; None keeps our association
    open and waits for the report on it. ``wait``: seconds to wait for the report.
    """

    port: int | None = None
    wait: float = 60.0

    def __post_init__(self) -> None:
        if self.port is not None and (
            isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535
        ):
            raise NetworkError(f"The commitment port {self.port!r} is not valid: use a number from 1 to 65535.")
        _check_positive(self.wait, "storage commitment wait")
