"""JPEG: the codestream goes into DICOM unchanged whenever DICOM can label it.

Policy (PS3.5 8.2.1 and A.4.1):

* SOF0 baseline          -> JPEG Baseline (Process 1)          1.2.840.10008.1.2.4.50
* SOF1 extended 8/12-bit -> JPEG Extended (Process 2 & 4)      1.2.840.10008.1.2.4.51
* SOF3 lossless          -> JPEG Lossless SV1 (predictor 1)    1.2.840.10008.1.2.4.70
                            or JPEG Lossless (Process 14)      1.2.840.10008.1.2.4.57
* anything else (progressive SOF2, arithmetic, hierarchical) is decoded and stored
  natively: their transfer syntaxes are retired and most toolkits cannot decode them.
* 4 components (CMYK/YCCK) is decoded and stored as RGB: DICOM has no CMYK.
* an EXIF orientation other than "upright" is decoded, turned upright and stored
  natively (no second lossy step), unless ``keep_orientation`` is set.

Photometric Interpretation: MONOCHROME2 for one component; for three, RGB when the
stream says so (Adobe APP14 transform 0, or component ids 'R','G','B'), otherwise
YBR_FULL_422 (CP-1654: the colour space, whatever the subsampling).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO

from pydicom.uid import JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Encapsulated, FrameLayout, Picture, frames_of
from . import Reader, register
from .jpeg_repair import repair_jpeg
from .jpeg_segments import check_picture_data, strip_metadata
from .opening import check_size, exif_datetime, exif_orientation, load, open_image, upright
from .pixels import frame_from_pil, layout_of

_SOI = b"\xff\xd8\xff"
# Start-of-frame markers: every 0xC0..0xCF except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = {m for m in range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
_PASSTHROUGH = {0xC0: JPEGBaseline8Bit, 0xC1: JPEGExtended12Bit}


@dataclass(frozen=True)
class JpegFacts:
    """What the marker segments before the first scan say about a JPEG stream."""

    sof: int
    precision: int
    rows: int
    columns: int
    component_ids: tuple[int, ...]
    adobe_transform: int | None
    jfif: bool
    predictor: int | None  # lossless only: the first scan's predictor selection value


def parse_jpeg(data: bytes) -> JpegFacts:
    """Walk the marker segments up to the first SOS (ITU-T T.81 B.1)."""
    if not data.startswith(_SOI):
        raise UnsupportedFormatError("not a JPEG stream")
    position = 2
    sof: tuple[int, int, int, int, tuple[int, ...]] | None = None
    adobe_transform: int | None = None
    jfif = False
    while True:
        # Markers may be preceded by any number of 0xFF fill bytes.
        while (
            position < len(data) and data[position] == 0xFF and position + 1 < len(data) and data[position + 1] == 0xFF
        ):
            position += 1
        if position + 4 > len(data) or data[position] != 0xFF:
            raise CorruptImageError("the JPEG is truncated or damaged before its first scan")
        marker = data[position + 1]
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segment = data[position + 4 : position + 2 + length]
        if length < 2 or len(segment) != length - 2:
            raise CorruptImageError("the JPEG is truncated or damaged before its first scan")
        if marker in _SOF_MARKERS:
            if len(segment) < 6:
                raise CorruptImageError("the JPEG frame header is damaged")
            precision, rows, columns, count = struct.unpack(">BHHB", segment[:6])
            if not 2 <= precision <= 16:  # ITU-T T.81 B.2.2: P is 8 or 12 (2..16 lossless)
                raise CorruptImageError(f"the JPEG frame header declares {precision}-bit samples")
            ids = tuple(segment[6 + 3 * i] for i in range(count) if 6 + 3 * i < len(segment))
            sof = (marker, precision, rows, columns, ids)
        elif marker == 0xE0 and segment.startswith(b"JFIF\x00"):
            jfif = True
        elif marker == 0xEE and segment.startswith(b"Adobe") and len(segment) >= 12:
            adobe_transform = segment[11]
        elif marker == 0xDA:
            if sof is None:
                raise CorruptImageError("the JPEG has no frame header before its first scan")
            count = segment[0] if segment else 0
            predictor = segment[1 + 2 * count] if len(segment) > 1 + 2 * count else None
            marker_, precision, rows, columns, ids = sof
            return JpegFacts(
                sof=marker_,
                precision=precision,
                rows=rows,
                columns=columns,
                component_ids=ids,
                adobe_transform=adobe_transform,
                jfif=jfif,
                predictor=predictor if marker_ == 0xC3 else None,
            )
        elif marker == 0xD9:
            raise CorruptImageError("the JPEG ends before its first scan")
        position += 2 + length


def sniff(head: bytes) -> bool:
    # SOI alone: extraneous bytes may follow it before the first marker (jpeg_repair).
    return head.startswith(_SOI[:2])


def _photometric(facts: JpegFacts) -> str:
    if len(facts.component_ids) == 1:
        return "MONOCHROME2"
    if facts.adobe_transform is not None:
        return "RGB" if facts.adobe_transform == 0 else "YBR_FULL_422"
    if facts.jfif:
        return "YBR_FULL_422"
    if facts.component_ids == (ord("R"), ord("G"), ord("B")) or facts.sof == 0xC3:
        # Lossless JPEG carries no colour transform unless a marker says so.
        return "RGB"
    return "YBR_FULL_422"


def _transfer_syntax(facts: JpegFacts) -> str | None:
    if facts.sof == 0xC3:
        return JPEGLosslessSV1 if facts.predictor == 1 else JPEGLossless
    return _PASSTHROUGH.get(facts.sof)


def read(stream: BinaryIO, options: ConvertOptions) -> Picture:
    data, repairs = repair_jpeg(stream.read())
    facts = parse_jpeg(data)
    if repairs and facts.precision == 8 and facts.sof != 0xC3:
        # A repair must give what libjpeg decodes, or nothing: decode it once to be sure.
        load(open_image(io.BytesIO(data), options, formats=["JPEG"]))
    check_size(facts.columns, facts.rows, options)
    check_picture_data(data)  # a file cut short must not decode to a full-size filler picture
    if facts.rows == 0:
        raise UnsupportedFormatError("JPEG with the height in a DNL marker is not supported")
    transfer_syntax = _transfer_syntax(facts)
    components = len(facts.component_ids)
    # Pillow reads EXIF/ICC from the header without decoding; it cannot open 12-bit or
    # lossless JPEG at all, and those carry no EXIF in practice.
    image = None
    if facts.precision == 8 and facts.sof != 0xC3:
        image = open_image(io.BytesIO(data), options, formats=["JPEG"])
    rotated = image is not None and not options.keep_orientation and exif_orientation(image) != 1
    keep_bytes = transfer_syntax is not None and components in (1, 3) and not options.decode_jpeg and not rotated
    if keep_bytes:
        assert transfer_syntax is not None
        # A stream cut short loses its End Of Image marker; decoding would be the
        # only deeper check, and passthrough exists to avoid decoding.
        if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            raise CorruptImageError("the JPEG is truncated (no End Of Image marker)")
        photometric = _photometric(facts)
        bits_allocated = 8 if facts.precision <= 8 else 16
        layout = FrameLayout(
            rows=facts.rows,
            columns=facts.columns,
            samples_per_pixel=components,
            bits_allocated=bits_allocated,
            bits_stored=facts.precision,
            photometric=photometric,  # type: ignore[arg-type]
        )
        lossy = facts.sof != 0xC3
        return Picture(
            source_format="JPEG",
            layout=layout,
            number_of_frames=1,
            frames=None,
            encapsulated=Encapsulated(
                transfer_syntax=transfer_syntax,
                # Camera metadata (EXIF, XMP ...) would hide inside Pixel Data.
                fragments=(data if options.keep_jpeg_metadata else strip_metadata(data),),
                lossy=lossy,
                lossy_method="ISO_10918_1" if lossy else None,
            ),
            icc_profile=image.info.get("icc_profile") if image is not None and components == 3 else None,
            content_datetime=exif_datetime(image) if image is not None else None,
            notes=repairs,
        )
    if image is None:
        raise UnsupportedFormatError(
            f"{facts.precision}-bit JPEG with {components} components cannot be decoded here; "
            "it can only be stored as it is"
        )
    load(image)
    shown = upright(image, options)
    frame = frame_from_pil(shown, options.background)
    notes = list(repairs)
    if components == 4:
        notes.append("CMYK JPEG converted to RGB")
    if rotated:
        notes.append("EXIF orientation applied: stored decoded")
    return Picture(
        source_format="JPEG",
        layout=layout_of(frame),
        number_of_frames=1,
        frames=frames_of([frame]),
        icc_profile=image.info.get("icc_profile") if frame.ndim == 3 and components == 3 else None,
        content_datetime=exif_datetime(image),
        notes=notes,
    )


register(Reader(name="JPEG", sniff=sniff, read=read))
