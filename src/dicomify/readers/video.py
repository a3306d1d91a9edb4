"""Video (MP4/MOV with H.264 or HEVC, MPEG-2 program streams), read with PyAV.

Nothing is re-encoded: the container is probed for the stream's codec, profile, level,
geometry and frame rate, and the DICOM transfer syntax the stream satisfies is chosen
(PS3.5 8.2.5-8.2.9 and A.4). MP4 and MPEG-2 program streams are kept byte-identical;
QuickTime MOV is rewritten into MP4 with the same packets. A stream that no DICOM video
transfer syntax allows is refused naming the constraint it breaks, unless ``transcode``
asks for a lossy re-encoding into H.264 High Profile / Level 4.1.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydicom.uid import HEVCM10P51, HEVCMP51, MPEG2MPHL, MPEG2MPML, MPEG4HP41, MPEG4HP422D

from ..errors import CorruptImageError, ImageTooLargeError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Video
from . import Reader, register

__all__ = ["StreamFacts", "transfer_syntax_for"]

# ISO base media brands of video files (HEIF/AVIF brands belong to readers/heif.py).
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VP",
    b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"MSNV", b"hvc1", b"f4v ", b"mmp4",
}  # fmt: skip
_PACK_START = b"\x00\x00\x01\xba"  # MPEG-2 program stream
_SEQUENCE_HEADER = b"\x00\x00\x01\xb3"  # MPEG-1/2 video elementary stream

# One fragment holds the whole stream (PS3.5 8.2.5): its length is 32-bit and even.
MAX_VIDEO_BYTES = 0xFFFF_FFFE

# H.264 profiles a High Profile decoder decodes: Constrained Baseline and Main are subsets.
_H264_PROFILES = {"High", "Main", "Constrained Baseline"}


@dataclass(frozen=True)
class StreamFacts:
    """What the transfer syntax depends on, as PyAV reports it."""

    codec: str  # FFmpeg's name: h264, hevc, mpeg2video
    profile: str | None
    level: int | None  # H.264: level x 10; HEVC: level x 30; MPEG-2: 4 High, 6 High-1440, 8 Main
    width: int
    height: int
    frame_rate: float
    pixel_format: str | None


def sniff(head: bytes) -> bool:
    if head[4:8] == b"ftyp":
        return head[8:12] in _MP4_BRANDS
    return head.startswith(_PACK_START) or head.startswith(_SEQUENCE_HEADER)


def transfer_syntax_for(facts: StreamFacts) -> tuple[str, str]:
    """The DICOM transfer syntax the stream satisfies, and a name for the stream.

    Raises
    ------
    UnsupportedFormatError
        No video transfer syntax allows the stream; the message names the constraint.
    """
    size = f"{facts.width}x{facts.height}"
    if facts.pixel_format not in (None, "yuv420p", "yuvj420p", "yuv420p10le"):
        raise UnsupportedFormatError(
            f"the video's samples are {facts.pixel_format}; DICOM video is 4:2:0 (YBR_PARTIAL_420)"
        )
    if facts.codec == "h264":
        level = (facts.level or 0) / 10
        name = f"H.264 {facts.profile} Profile / Level {level:g}"
        if facts.profile not in _H264_PROFILES:
            raise UnsupportedFormatError(
                f"{name}: DICOM takes H.264 High Profile streams (Main and Constrained Baseline as subsets), "
                f"not {facts.profile}"
            )
        if facts.width > 1920 or facts.height > 1080:
            raise UnsupportedFormatError(f"{name}: {size} is larger than the 1920x1080 H.264 in DICOM allows")
        if level <= 4.1:
            return MPEG4HP41, name
        if level <= 4.2:
            return MPEG4HP422D, name
        raise UnsupportedFormatError(f"{name}: DICOM takes H.264 up to Level 4.2")
    if facts.codec == "hevc":
        level = (facts.level or 0) / 30
        name = f"HEVC {facts.profile} Profile / Level {level:g}"
        if level > 5.1:
            raise UnsupportedFormatError(f"{name}: DICOM takes HEVC up to Level 5.1")
        if facts.profile == "Main":
            return HEVCMP51, name
        if facts.profile == "Main 10":
            return HEVCM10P51, name
        raise UnsupportedFormatError(f"{name}: DICOM takes HEVC Main or Main 10 Profile, not {facts.profile}")
    if facts.codec == "mpeg2video":
        levels = {4: "High", 6: "High 1440", 8: "Main", 10: "Low"}
        level_name = levels.get(facts.level or 0, str(facts.level))
        name = f"MPEG-2 {facts.profile} Profile @ {level_name} Level"
        if facts.profile not in ("Main", "Simple"):
            raise UnsupportedFormatError(f"{name}: DICOM takes MPEG-2 Main Profile, not {facts.profile}")
        if facts.level in (8, 10) and facts.width <= 720 and facts.height <= 576:
            return MPEG2MPML, name
        if facts.level in (4, 6, 8, 10) and facts.width <= 1920 and facts.height <= 1080:
            return MPEG2MPHL, name
        raise UnsupportedFormatError(f"{name}: {size} exceeds MPEG-2 Main Profile / High Level (1920x1080)")
    raise UnsupportedFormatError(
        f"the video is {facts.codec}; DICOM takes MPEG-2, H.264 or HEVC video (--transcode re-encodes it to H.264)"
    )


def _open(data: bytes) -> Any:
    import av

    try:
        return av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError) as error:
        raise CorruptImageError(f"the video cannot be read ({' '.join(str(error).split())})") from None


def _facts(stream: Any) -> StreamFacts:
    context = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return StreamFacts(
        codec=context.name,
        profile=context.profile,
        level=getattr(context, "level", None),
        width=context.width,
        height=context.height,
        frame_rate=float(rate) if rate else 0.0,
        pixel_format=context.pix_fmt,
    )


def _count_frames(container: Any, stream: Any) -> int:
    """The number of frames: the container's count, else the video packets counted."""
    if stream.frames:
        return int(stream.frames)
    container.seek(0)
    return sum(1 for packet in container.demux(stream) if packet.size)


def _remux_to_mp4(data: bytes) -> bytes:
    """The same packets in an MP4 container (QuickTime MOV in, no re-encoding)."""
    import av

    source = _open(data)
    out = io.BytesIO()
    try:
        with av.open(out, mode="w", format="mp4") as target:
            mapping = {}
            for stream in source.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = target.add_stream_from_template(stream)
            for packet in source.demux(*[s for s in source.streams if s.index in mapping]):
                if packet.dts is None:
                    continue
                packet.stream = mapping[packet.stream.index]
                target.mux(packet)
    finally:
        source.close()
    return out.getvalue()


def read(stream: BinaryIO, options: ConvertOptions) -> Video:
    data = stream.read()
    if len(data) > MAX_VIDEO_BYTES:
        raise ImageTooLargeError(f"the video has {len(data)} bytes; one DICOM fragment holds at most 4 GiB")
    container = _open(data)
    try:
        if not container.streams.video:
            raise UnsupportedFormatError("the file has no video stream")
        video = container.streams.video[0]
        facts = _facts(video)
        frames = _count_frames(container, video)
        container_name = container.format.name
    finally:
        container.close()
    try:
        syntax, codec = transfer_syntax_for(facts)
    except UnsupportedFormatError:
        if not options.transcode:
            raise
        from .transcode import to_h264

        return to_h264(data, options)
    if frames < 1:
        raise CorruptImageError("the video has no frames")
    if facts.codec == "mpeg2video" and container_name != "mpeg":
        raise UnsupportedFormatError("MPEG-2 video is taken in an MPEG-2 program stream (.mpg) only")
    if facts.codec != "mpeg2video" and data[4:12] == b"ftypqt  ":
        data = _remux_to_mp4(data)  # QuickTime: the same packets in MP4
    return Video(
        data=data,
        transfer_syntax=str(syntax),
        codec=codec,
        rows=facts.height,
        columns=facts.width,
        number_of_frames=frames,
        frame_rate=facts.frame_rate,
    )


register(Reader(name="video (MP4/MOV/MPEG-2)", sniff=sniff, read=read))
