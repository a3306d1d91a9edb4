"""A preview of what was produced, drawn from the DICOM object itself (not from the source).

So a person checks what the PACS will show: pixels as decoded by pydicom from
the written file (first frame), colour converted to RGB, more than 8 bits
scaled for display, made small enough for a page.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels import pixel_array
from pydicom.uid import MPEGTransferSyntaxes

__all__ = ["PREVIEW_SIDE", "render_preview"]

PREVIEW_SIDE = 480  # pixels on the longer side


def _first_page(document: bytes, side: int) -> np.ndarray:
    """The first page of the PDF the object holds, drawn by PDFium about ``side`` pixels high."""
    from ..readers.pdf import render_first_page  # PDFium only loads when a PDF is shown

    return render_first_page(document, side)


def _content(dataset: Dataset) -> bytes:
    """The document or video the object holds, as export extracts it."""
    from ..export import extract_content

    extracted = extract_content(dataset)
    assert extracted is not None  # the callers checked it is a document or a video
    return extracted[0]


def _first_video_frame(stream: bytes) -> np.ndarray:
    """The first frame of a video stream, decoded by FFmpeg (PyAV)."""
    import av

    with av.open(io.BytesIO(stream), mode="r") as container:
        for frame in container.decode(video=0):
            return np.asarray(frame.to_ndarray(format="rgb24"))
    raise ValueError("the video has no frame to show")


def _to_8bit(pixels: np.ndarray, ds: Dataset) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    # More than 8 bits (or a rescaled TIFF): stretch the frame's own range for display.
    values = pixels.astype(np.float64)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(pixels.shape, dtype=np.uint8)
    return ((values - low) * (255.0 / (high - low))).round().astype(np.uint8)


def render_preview(path: Path, side: int = PREVIEW_SIDE) -> bytes:
    """A PNG of the first frame of the DICOM file at ``path``, at most ``side`` pixels wide and high.

    Parameters
    ----------
    path : Path
        A DICOM file dicomify wrote.
    side : int
        The longest side of the preview.

    Returns
    -------
    bytes
        The PNG.
    """
    header = dcmread(path, stop_before_pixels=True)
    if "EncapsulatedDocument" in header:
        frame = _first_page(_content(header), side)
    elif str(header.file_meta.TransferSyntaxUID) in MPEGTransferSyntaxes:
        frame = _first_video_frame(_content(dcmread(path)))
    else:
        frame = pixel_array(str(path), index=0)  # one frame read and decoded, YBR converted to RGB
        frame = _to_8bit(frame, header)
        if header.get("PhotometricInterpretation") == "MONOCHROME1":
            frame = 255 - frame
    image = Image.fromarray(frame, mode="RGB" if frame.ndim == 3 else "L")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
