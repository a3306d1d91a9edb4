"""dicomify: turn ordinary pictures into conformant DICOM and deliver them to a PACS.

The names below are imported on first use (PEP 562), so ``import dicomify`` and
``dicomify --version`` do not pay for pydicom, numpy and Pillow.
"""

# Module-level names are private (underscored) or public API: dir() lists them all.
from importlib import import_module as _import_module
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._version import __version__

if _TYPE_CHECKING:
    from .api import DicomImage, convert
    from .batch import BatchResult, convert_many
    from .errors import (
        CorruptImageError,
        DicomifyError,
        ImageTooLargeError,
        InputError,
        MetadataError,
        NetworkError,
        OptionError,
        OutputError,
        UnsupportedFormatError,
    )
    from .options import Compression, ConvertOptions, Iod

__all__ = [
    "BatchResult",
    "Compression",
    "ConvertOptions",
    "CorruptImageError",
    "DicomImage",
    "DicomifyError",
    "ImageTooLargeError",
    "InputError",
    "Iod",
    "MetadataError",
    "NetworkError",
    "OptionError",
    "OutputError",
    "UnsupportedFormatError",
    "__version__",
    "convert",
    "convert_many",
]

# Public name -> the module that defines it.
_HOMES = {
    "DicomImage": "api",
    "convert": "api",
    "BatchResult": "batch",
    "convert_many": "batch",
    "Compression": "options",
    "ConvertOptions": "options",
    "Iod": "options",
    **{
        name: "errors"
        for name in (
            "CorruptImageError",
            "DicomifyError",
            "ImageTooLargeError",
            "InputError",
            "MetadataError",
            "NetworkError",
            "OptionError",
            "OutputError",
            "UnsupportedFormatError",
        )
    },
}


def __getattr__(name: str) -> _Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module(f".{home}", __name__), name)
    globals()[name] = value  # found once, then an ordinary module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
