"""Video Photographic, Endoscopic and Microscopic Image (PS3.3 A.32.5-A.32.7).

The stream is stored as it was encoded, in one fragment (PS3.5 8.2.5-8.2.9); the
modules say how to play it: Multi-frame and Cine (frame time, rate, duration) and the
VL Image module's lossy compression history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    VideoEndoscopicImageStorage,
    VideoMicroscopicImageStorage,
    VideoPhotographicImageStorage,
)

from ..errors import MetadataError
from ..options import VideoKind
from ..picture import FrameLayout, Video
from . import modules
from ._elements import decimal, put
from ._object import finish, needs_unicode_for
from .regions import REGIONS, anatomic_region_item, region

__all__ = ["build_video_dataset"]

_SOP_CLASS = {
    VideoKind.PHOTOGRAPHIC: (VideoPhotographicImageStorage, "XC"),
    VideoKind.ENDOSCOPIC: (VideoEndoscopicImageStorage, "ES"),
    VideoKind.MICROSCOPIC: (VideoMicroscopicImageStorage, "GM"),
}

# Lossy Image Compression Method (C.7.6.1.1.5.1) by the stream's standard.
_METHOD = {"MPEG-2": "ISO_13818_2", "H.264": "ISO_14496_10", "HEVC": "ISO_23008_2"}

_FRAME_TIME = 0x00181063


def _method(video: Video) -> str:
    return next(method for prefix, method in _METHOD.items() if video.codec.startswith(prefix))


def cine_for_video(ds: Dataset, video: Video) -> None:
    """Multi-frame and Cine (C.7.6.6, C.7.6.5): frames follow each other by Frame Time."""
    put(ds, "NumberOfFrames", video.number_of_frames)
    put(ds, "FrameIncrementPointer", _FRAME_TIME)
    if video.frame_rate > 0:
        put(ds, "FrameTime", decimal(1000.0 / video.frame_rate))
        rate = max(1, round(video.frame_rate))
        put(ds, "CineRate", rate)
        put(ds, "RecommendedDisplayFrameRate", rate)
        put(ds, "EffectiveDuration", decimal(video.number_of_frames / video.frame_rate))
    put(ds, "StartTrim", 1)
    put(ds, "StopTrim", video.number_of_frames)


def vl_image(ds: Dataset, video: Video, transcoded_from_lossy: bool) -> None:
    """VL Image (C.8.12.1): a lossy stream, ORIGINAL unless dicomify re-encoded it."""
    put(ds, "ImageType", ["DERIVED", "SECONDARY"] if transcoded_from_lossy else ["ORIGINAL", "PRIMARY"])
    put(ds, "LossyImageCompression", "01")
    put(ds, "LossyImageCompressionMethod", _method(video))


def anatomic_region(ds: Dataset, metadata: Mapping[str, Any]) -> None:
    """Anatomic Region Sequence (VL Image, 1C): required for video objects (dciodvfy checks it).

    From the metadata's sequence, else from Body Part Examined through CID 4031.
    """
    if metadata.get("AnatomicRegionSequence"):
        put(ds, "AnatomicRegionSequence", metadata["AnatomicRegionSequence"])
        return
    chosen = region(str(metadata.get("BodyPartExamined") or ""))
    if chosen is None:
        terms = ", ".join(r.body_part for r in REGIONS)
        raise MetadataError(
            "a video object needs its anatomic region (VL Image module): give --body-part "
            f"({terms}) or an AnatomicRegionSequence item with a CID 4031 code"
        )
    put(ds, "AnatomicRegionSequence", [anatomic_region_item(chosen)])


def build_video_dataset(
    video: Video,
    metadata: Mapping[str, Any],
    kind: VideoKind = VideoKind.PHOTOGRAPHIC,
    now: dt.datetime | None = None,
    elements: Dataset | None = None,
) -> Dataset:
    """A complete video object for ``video``, Pixel Data included.

    Parameters
    ----------
    video : Video
        What the video reader made of the source.
    metadata : Mapping[str, Any]
        Validated metadata fields (:func:`dicomify.iod.metadata.validate`).
    kind : VideoKind
        Photographic (Modality XC), Endoscopic (ES) or Microscopic (GM).
    now : datetime, optional
        The creation time (default: the current time).
    elements : Dataset, optional
        Further elements to copy into the object as they are.

    Returns
    -------
    Dataset
        The object, with its file meta information and the video's transfer syntax.

    Raises
    ------
    MetadataError
        ``elements`` holds an element dicomify sets itself, or no anatomic region is
        given (neither an Anatomic Region Sequence nor a Body Part Examined of CID 4031).
    """
    now = now or dt.datetime.now()
    content_time = video.content_datetime or now
    sop_class, modality = _SOP_CLASS[kind]
    unicode = needs_unicode_for(metadata, elements)
    ds = Dataset()
    modules.sop_common(ds, sop_class, now, unicode)
    modules.patient(ds, metadata)
    modules.general_study(ds, metadata, content_time)
    modules.general_series(ds, metadata, modality=modality)
    modules.general_equipment(ds, metadata)
    # General Image; the VL Image module below gives Image Type and the lossy history.
    modules.general_image(ds, metadata, content_time, None, ("ORIGINAL", "PRIMARY"), burned_in_annotation=False)
    cine_for_video(ds, video)
    # 4:2:0 video: YBR_PARTIAL_420, 8 bits (10 for HEVC Main 10), PS3.5 8.2.5-8.2.9.
    bits = 10 if video.codec.startswith("HEVC Main 10") else 8
    layout = FrameLayout(video.rows, video.columns, 3, 8 if bits == 8 else 16, bits, "YBR_PARTIAL_420")
    modules.image_pixel(ds, layout)
    modules.acquisition_context(ds)
    vl_image(ds, video, video.transcoded)
    anatomic_region(ds, metadata)
    finish(ds, elements)
    ds.file_meta.TransferSyntaxUID = UID(video.transfer_syntax)
    # One fragment holds the whole stream, no Basic Offset Table (PS3.5 8.2.5-8.2.9);
    # pydicom pads the fragment to an even length.
    ds.PixelData = encapsulate([video.data], has_bot=False)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds
