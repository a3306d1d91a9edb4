"""Exceptions raised by dicomify.

Every error the library raises on purpose derives from one root, so a caller
(and the CLI) can catch ``DicomifyError`` and print its one-line message::

    DicomifyError
    ├── InputError              the source cannot be turned into a picture
    │   ├── UnsupportedFormatError   not a format we read
    │   ├── CorruptImageError        zero-byte, truncated or damaged data
    │   └── ImageTooLargeError       decompression bomb, canvas cap, DICOM's 16-bit Rows/Columns
    ├── MetadataError           a patient/study/series value does not fit its VR
    ├── OptionError             a conversion or batch option has a bad value or type
    ├── OutputError             the target cannot be written
    └── NetworkError            misuse of the delivery API (bad address, TLS files ...)

Every error has ``source`` (the file or object it is about, or None) and ``reason``
(the message without the source); ``str(error)`` reads ``"SOURCE: reason"``.

Outcomes of sending (a peer refusing an object) are data, not exceptions: see
``dicomify.net``.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = [
    "CorruptImageError",
    "DicomifyError",
    "ImageTooLargeError",
    "InputError",
    "MetadataError",
    "NetworkError",
    "OptionError",
    "OutputError",
    "UnsupportedFormatError",
]


_E = TypeVar("_E", bound="DicomifyError")


class DicomifyError(Exception):
    """Root of every error dicomify raises on purpose.

    Parameters
    ----------
    reason : str
        What is wrong, as a sentence without the source's name.
    source : str, optional
        The file or object the error is about (``"<bytes>"``, ``"<numpy array>"`` for
        in-memory sources; the output path for an :class:`OutputError`).

    Attributes
    ----------
    reason : str
        The message without the source.
    source : str or None
        As given, or set later by :meth:`with_source`.
    """

    def __init__(self, reason: str = "", *, source: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        # Kept in the instance dict, so it survives pickling into and out of batch workers
        # (BaseException.__reduce__ passes the dict along with args).
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}" if self.source else self.reason

    def with_source(self: _E, source: str) -> _E:
        """A copy of this error naming ``source``; unchanged if it already names one.

        Parameters
        ----------
        source : str
            The file or object the error is about.

        Returns
        -------
        DicomifyError
            An error of the same type and reason.
        """
        if self.source:
            return self
        # Not copy.copy: a process-wide pickling hook (tblib's, which distributed installs)
        # makes the copy share this error's attribute dict.
        named = type(self).__new__(type(self), *self.args)
        named.args = self.args
        named.__dict__.update(self.__dict__)
        named.source = source
        return named


class InputError(DicomifyError):
    """The source cannot be read as a picture."""


class UnsupportedFormatError(InputError):
    """The source is not in a format dicomify reads."""


class CorruptImageError(InputError):
    """The source is empty, truncated or damaged."""


class ImageTooLargeError(InputError):
    """The picture is larger than allowed (decompression bomb guard or DICOM's limits)."""


class MetadataError(DicomifyError, ValueError):
    """A metadata value is not valid for its DICOM Value Representation."""


class OptionError(DicomifyError, ValueError):
    """A conversion or batch option has a bad value or type (``compression="zip"``,
    ``background=(300, -1, 5)``, ``decode_jpeg="no"``, ``group="weekly"`` ...)."""


class OutputError(DicomifyError):
    """The DICOM object cannot be written to the target."""


class NetworkError(DicomifyError):
    """The delivery API was misused (bad address, unreadable TLS files, ...)."""
