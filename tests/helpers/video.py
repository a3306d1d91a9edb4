"""Short video clips written by PyAV (FFmpeg), for the video tests."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def clip(
    path: Path,
    codec: str = "libx264",
    container: str = "mp4",
    size: tuple[int, int] = (320, 240),
    frames: int = 12,
    rate: int = 25,
    options: dict[str, str] | None = None,
) -> Path:
    """A short clip: a white bar moving over black, so frames differ."""
    width, height = size
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=Fraction(rate))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = options or {}
        for index in range(frames):
            picture = np.zeros((height, width, 3), np.uint8)
            picture[:, (index * 16) % width : (index * 16) % width + 16] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path
