"""Where to deliver: typed, validated destinations (DICOM C-STORE or DICOMweb STOW-RS).

Validation happens when a destination is made, so a typo in an address or an
unreadable TLS file is a :class:`~dicomify.errors.NetworkError` up front, never a
half-sent batch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import NetworkError

__all__ = ["DicomDestination", "Destination", "StowDestination", "TLSOptions"]

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

    ``timeout`` bounds connecting, association negotiation and each DIMSE
    response (seconds). A failed association is tried ``retries`` more times,
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
        return self.studies_url


Destination = DicomDestination | StowDestination
