"""``--transcode``: a video no DICOM transfer syntax allows, re-encoded to H.264 High 4.1.

Lossy on purpose and only on request: the frames are decoded by FFmpeg (PyAV), scaled
down to fit 1920x1080 when larger, and encoded with libx264 (High Profile, Level 4.1,
4:2:0, at most 30 frames per second) into MP4. The object says so (Lossy Image
Compression 01, method ISO_14496_10).
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Video

__all__ = ["to_h264"]


def _fit(width: int, height: int) -> tuple[int, int]:
    """The size within 1920x1080 keeping the aspect ratio, even (4:2:0 needs it)."""
    scale = min(1.0, 1920 / width, 1080 / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def to_h264(data: bytes, options: ConvertOptions) -> Video:
    """Re-encode the first video stream of ``data``; the new stream's facts with it."""
    import av

    from .video import _facts, transfer_syntax_for  # noqa: PLC2701 - one reader's helpers

    try:
        source = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError) as error:
        raise CorruptImageError(f"the video cannot be read ({error})") from None
    out = io.BytesIO()
    frames = 0
    try:
        if not source.streams.video:
            raise UnsupportedFormatError("the file has no video stream")
        original = source.streams.video[0]
        width, height = _fit(original.codec_context.width, original.codec_context.height)
        rate = original.average_rate or Fraction(25)
        rate = min(rate, Fraction(30))
        with av.open(out, mode="w", format="mp4") as target:
            stream: Any = target.add_stream("libx264", rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"profile": "high", "level": "4.1", "preset": "medium", "crf": "18"}
            for frame in source.decode(original):
                picture = frame.reformat(width=width, height=height, format="yuv420p")
                picture.pts = None
                for packet in stream.encode(picture):
                    target.mux(packet)
                frames += 1
            for packet in stream.encode():
                target.mux(packet)
    except av.FFmpegError as error:
        raise CorruptImageError(f"the video cannot be decoded ({' '.join(str(error).split())})") from None
    finally:
        source.close()
    encoded = out.getvalue()
    check = av.open(io.BytesIO(encoded))
    try:
        facts = _facts(check.streams.video[0])
    finally:
        check.close()
    syntax, codec = transfer_syntax_for(facts)
    if frames < 1:
        raise CorruptImageError("the video has no frames")
    return Video(
        data=encoded,
        transfer_syntax=str(syntax),
        codec=codec,
        rows=facts.height,
        columns=facts.width,
        number_of_frames=frames,
        frame_rate=float(rate),
        transcoded=True,
    )
