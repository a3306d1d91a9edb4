"""The IODs dicomify builds, each composed module by module in the standard's order.

Secondary Capture Image (PS3.3 A.8.1) for single frames; the multi-frame SC IODs
(A.8.3 Grayscale Byte, A.8.4 Grayscale Word, A.8.5 True Color) for several frames;
VL Photographic Image (A.32.4) on request for clinical photos. The modules are in
:mod:`dicomify.iod.modules`; :func:`build_dataset` picks the IOD, adds the caller's
extra elements (a worklist item's, say) and the file meta information.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import (
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    VLPhotographicImageStorage,
)

from ..errors import DicomifyError, MetadataError
from ..options import ConvertOptions, Iod
from ..picture import Picture
from . import modules
from ._object import finish, needs_unicode_for

__all__ = ["build_dataset", "check_modality", "sop_class_for"]


def sop_class_for(picture: Picture, iod: Iod) -> str:
    """The SOP Class that can hold this picture, or a DicomifyError saying why none can."""
    layout = picture.layout
    if iod is Iod.PHOTOGRAPHIC:
        if picture.number_of_frames > 1:
            raise DicomifyError(
                f"a VL Photographic Image holds one frame; this {picture.source_format} has "
                f"{picture.number_of_frames} (use the default Secondary Capture)"
            )
        if layout.bits_allocated != 8 or layout.bits_stored != 8:
            raise DicomifyError(
                "a VL Photographic Image holds 8-bit samples; this picture has "
                f"{layout.bits_stored}-bit samples (use the default Secondary Capture)"
            )
        if layout.signed:
            # PS3.3 A.32.4: Pixel Representation 0 only.
            raise DicomifyError(
                "a VL Photographic Image holds unsigned samples; this picture has signed "
                "samples (use the default Secondary Capture)"
            )
        return VLPhotographicImageStorage
    if picture.number_of_frames == 1:
        return SecondaryCaptureImageStorage
    if layout.samples_per_pixel == 3:
        if layout.bits_allocated != 8:
            raise DicomifyError(
                "multi-frame True Color Secondary Capture holds 8-bit colour only; this "
                f"{picture.source_format} has {picture.number_of_frames} frames of "
                f"{layout.bits_stored}-bit colour (convert one page with --page N)"
            )
        return MultiFrameTrueColorSecondaryCaptureImageStorage
    if layout.bits_allocated == 8:
        return MultiFrameGrayscaleByteSecondaryCaptureImageStorage
    return MultiFrameGrayscaleWordSecondaryCaptureImageStorage


@dataclass(frozen=True)
class _Facts:
    """What every IOD's modules are built from."""

    picture: Picture
    metadata: Mapping[str, Any]
    sop_class: str
    now: dt.datetime  # when this object is made (instance creation, time of capture)
    content_time: dt.datetime  # when the picture was made, else now
    unicode: bool


def _secondary_capture(ds: Dataset, facts: _Facts) -> None:
    """Secondary Capture Image (A.8.1) and the multi-frame SC IODs (A.8.3-A.8.5)."""
    picture, metadata = facts.picture, facts.metadata
    multi_frame = picture.number_of_frames > 1
    modules.sop_common(ds, facts.sop_class, facts.now, facts.unicode)
    modules.patient(ds, metadata)
    modules.general_study(ds, metadata, facts.content_time)
    modules.general_series(ds, metadata, modality="OT")
    modules.general_equipment(ds, metadata)
    modules.sc_equipment(ds, metadata)
    modules.general_image(
        ds,
        metadata,
        facts.content_time,
        picture.encapsulated,
        image_type=("DERIVED", "SECONDARY"),
        burned_in_annotation=True,
    )
    modules.sc_image(ds, facts.now)
    modules.image_pixel(ds, picture.layout)
    modules.icc_profile(ds, picture)
    if multi_frame:
        modules.multi_frame(ds, picture.number_of_frames)
        modules.cine(ds, picture.frame_times_ms)
        modules.sc_multi_frame_image(ds, picture)
    else:
        modules.modality_lut(ds, picture.rescale)
    modules.voi_lut(ds, picture)


def _vl_photographic(ds: Dataset, facts: _Facts) -> None:
    """VL Photographic Image (A.32.4): one 8-bit frame (see :func:`sop_class_for`)."""
    picture, metadata = facts.picture, facts.metadata
    modules.sop_common(ds, facts.sop_class, facts.now, facts.unicode)
    modules.patient(ds, metadata)
    modules.general_study(ds, metadata, facts.content_time)
    modules.general_series(ds, metadata, modality="XC")
    modules.general_equipment(ds, metadata)
    modules.general_image(
        ds,
        metadata,
        facts.content_time,
        picture.encapsulated,
        image_type=("ORIGINAL", "PRIMARY"),
        burned_in_annotation=False,
    )
    modules.acquisition_context(ds)
    modules.image_pixel(ds, picture.layout)
    modules.icc_profile(ds, picture)
    modules.modality_lut(ds, picture.rescale)
    modules.voi_lut(ds, picture)


def check_modality(metadata: Mapping[str, Any], iod: Iod) -> None:
    """Refuse a Modality the IOD forbids: a VL Photographic Image is XC (PS3.3 A.32.4)."""
    modality = metadata.get("Modality")
    if iod is Iod.PHOTOGRAPHIC and modality and modality != "XC":
        raise MetadataError(
            f"Modality {modality!r} is not allowed in a VL Photographic Image, which requires XC "
            "(use the default Secondary Capture for other modalities)"
        )


def build_dataset(
    picture: Picture,
    metadata: Mapping[str, Any],
    options: ConvertOptions,
    now: dt.datetime | None = None,
    elements: Dataset | None = None,
) -> Dataset:
    """A complete dataset without Pixel Data (the encoder adds it).

    Parameters
    ----------
    picture : Picture
        What the reader made of the source.
    metadata : Mapping[str, Any]
        Validated metadata fields (:func:`dicomify.iod.metadata.validate`).
    options : ConvertOptions
        ``options.iod`` chooses the IOD.
    now : datetime, optional
        The creation time (default: the current time).
    elements : Dataset, optional
        Further elements to copy into the object as they are (already validated, see
        :func:`dicomify.iod.metadata.from_dataset`).

    Returns
    -------
    Dataset
        The object, with its file meta information.

    Raises
    ------
    DicomifyError
        No IOD of ``options.iod`` can hold the picture.
    MetadataError
        ``elements`` holds an element dicomify sets itself.
    """
    sop_class = sop_class_for(picture, options.iod)
    check_modality(metadata, options.iod)
    now = now or dt.datetime.now()
    unicode = needs_unicode_for(metadata, elements)
    facts = _Facts(picture, metadata, sop_class, now, picture.content_datetime or now, unicode)
    ds = Dataset()
    if options.iod is Iod.PHOTOGRAPHIC:
        _vl_photographic(ds, facts)
    else:
        _secondary_capture(ds, facts)
    return finish(ds, elements)
