"""dicomify: turn ordinary pictures into conformant DICOM and deliver them to a PACS."""

from . import _lazy
from ._version import __version__

_lazy.import_pydicom()  # first, without what it imports for its test-data downloads

from .api import DicomImage, convert  # noqa: E402
from .batch import BatchResult, convert_many  # noqa: E402
from .errors import (  # noqa: E402
    CorruptImageError,
    DicomifyError,
    ImageTooLargeError,
    InputError,
    MetadataError,
    NetworkError,
    OutputError,
    UnsupportedFormatError,
)
from .options import Compression, ConvertOptions, Iod  # noqa: E402

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
    "OutputError",
    "UnsupportedFormatError",
    "__version__",
    "convert",
    "convert_many",
]
