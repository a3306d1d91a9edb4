"""Readers for sources already in memory: a Pillow image or a numpy array."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import InputError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Picture, frames_of
from .opening import check_size
from .pixels import frame_from_array, layout_of

__all__ = ["picture_from_array", "picture_from_pil"]


def picture_from_pil(image: Image.Image, options: ConvertOptions) -> Picture:
    """A Pillow image, read like a decoded file of its format."""
    from .pillow import picture_from_image

    check_size(image.width, image.height, options)
    return picture_from_image(image, image.format or "Pillow image", options)


def picture_from_array(array: np.ndarray, options: ConvertOptions) -> Picture:
    """H×W or H×W×{1..4} is one frame; N×H×W (N > 4) or N×H×W×C is N frames."""
    if not 2 <= array.ndim <= 4:
        raise UnsupportedFormatError(
            f"a pixel array of shape {array.shape} is not a picture (give H×W, H×W×C, N×H×W or N×H×W×C)"
        )
    single = array.ndim == 2 or (array.ndim == 3 and array.shape[2] <= 4)
    stack = [array] if single else list(array)
    frames = [frame_from_array(np.asarray(f), options.background) for f in stack]
    check_size(frames[0].shape[1], frames[0].shape[0], options)
    if any(f.shape != frames[0].shape or f.dtype != frames[0].dtype for f in frames):
        raise InputError("the frames of the array differ in shape or type")
    return Picture(
        source_format="array",
        layout=layout_of(frames[0]),
        number_of_frames=len(frames),
        frames=frames_of(frames),
    )
