"""Exceptions raised by dicomify.

Every error the library raises on purpose derives from one root, so a caller
(and the CLI) can catch ``DicomifyError`` and print its one-line message::

    DicomifyError
    ├── InputError              the source cannot be turned into a picture
    │   ├── UnsupportedFormatError   not a format we read
    │   ├── CorruptImageError        zero-byte, truncated or damaged data
    │   └── ImageTooLargeError       decompression bomb, canvas cap, DICOM's 16-bit Rows/Columns
    ├── MetadataError           a patient/study/series value does not fit its VR
    ├── OutputError             the target cannot be written
    └── NetworkError            misuse of the delivery API (bad address, TLS files ...)

Outcomes of sending (a peer refusing an object) are data, not exceptions: see
``dicomify.net``.
"""

from __future__ import annotations

__all__ = [
    "CorruptImageError",
    "DicomifyError",
    "ImageTooLargeError",
    "InputError",
    "MetadataError",
    "NetworkError",
    "OutputError",
    "UnsupportedFormatError",
]


class DicomifyError(Exception):
    """Root of every error dicomify raises on purpose."""


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


class OutputError(DicomifyError):
    """The DICOM object cannot be written to the target."""


class NetworkError(DicomifyError):
    """The delivery API was misused (bad address, unreadable TLS files, ...)."""
