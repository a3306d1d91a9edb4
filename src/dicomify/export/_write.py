"""Pixels to PNG (also animated), JPEG and TIFF files."""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np

from ..errors import DicomifyError

__all__ = ["write_picture"]


def write_picture(file: BinaryIO, frames: np.ndarray, picture_format: str, frame_ms: float) -> None:
    """Write frames of shape (n, rows, columns[, 3]), uint8/uint16 (int16 for TIFF)."""
    if picture_format == "tiff":
        import tifffile

        photometric = "rgb" if frames.ndim == 4 else "minisblack"
        data = frames[0] if len(frames) == 1 else frames
        buffer = io.BytesIO()  # tifffile wants a named file or a BytesIO, not a bare descriptor
        tifffile.imwrite(buffer, data, photometric=photometric, compression="zlib")
        file.write(buffer.getbuffer())
        return
    if picture_format == "jpeg":
        _write_jpeg(file, frames[0])
        return
    _write_png(file, frames, frame_ms)


def _write_jpeg(file: BinaryIO, frame: np.ndarray) -> None:
    from PIL import Image

    if frame.dtype != np.uint8:
        raise DicomifyError("JPEG holds 8 bits per sample: use png or tiff for 16 bits")
    Image.fromarray(frame).save(file, format="JPEG", quality=95)


def _write_png(file: BinaryIO, frames: np.ndarray, frame_ms: float) -> None:
    from PIL import Image

    if len(frames) == 1 and frames.dtype == np.uint16 and frames.ndim == 4:
        # 16-bit colour: Pillow cannot write it, imagecodecs can.
        import imagecodecs

        file.write(imagecodecs.png_encode(frames[0]))
        return
    if frames.dtype == np.uint16 and frames.ndim == 4:
        raise DicomifyError("an animated PNG of 16-bit colour cannot be written: use tiff")
    images = [Image.fromarray(frame) for frame in frames]  # uint16 gray becomes mode I;16
    if len(images) == 1:
        images[0].save(file, format="PNG")
        return
    images[0].save(file, format="PNG", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
