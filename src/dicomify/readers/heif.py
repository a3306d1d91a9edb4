"""HEIF/HEIC phone photos (pillow-heif, libheif) and AVIF (Pillow's own plugin).

Both are ISO base media files whose ``ftyp`` box names the brand. libheif applies the
container's rotation and mirroring (``irot``/``imir``, which is how phones store
orientation), so the pixels come out as the phone shows them. 10- and 12-bit images stay
deep: pillow-heif scales them to 16 bits, we shift them back and label Bits Stored.
A container of several images (burst, Live Photo stills) gives its primary image, one
image chosen with ``page``, or every image as frames with ``all_images``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from ..errors import CorruptImageError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Picture, frames_of
from . import Reader, register
from .opening import check_size, datetime_of_exif, exif_datetime, exif_orientation, open_image
from .pillow import picture_from_image
from .pixels import frame_from_array, layout_of, orient

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of the leading ``ftyp`` box."""
    if head[4:8] != b"ftyp":
        return set()
    size = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[8:12]}
    brands.update(head[at : at + 4] for at in range(16, size - 3, 4))
    return brands


def sniff(head: bytes) -> bool:
    return bool(_brands(head) & (_HEIF_BRANDS | _AVIF_BRANDS))


def read(stream: BinaryIO, options: ConvertOptions) -> Picture:
    head = stream.read(64)
    stream.seek(0)
    brands = _brands(head)
    if brands & _AVIF_BRANDS and head[8:12] in _AVIF_BRANDS | {b"mif1", b"msf1"}:
        return _read_avif(stream, options)
    return _read_heif(stream, options)


def _avif_depth(data: bytes) -> int:
    """Bits per sample from the ``pixi`` property (ISO/IEC 23008-12 6.5.6), 8 when absent."""
    at = data.find(b"pixi", 0, 1 << 16)
    # size(4) 'pixi' version+flags(4) channel count(1) bits per channel(1 each)
    if at < 4 or at + 10 > len(data) or data[at + 8] == 0:
        return 8
    return int(data[at + 9])


def _read_avif(stream: BinaryIO, options: ConvertOptions) -> Picture:
    image = open_image(stream, options, formats=["AVIF"])
    stream.seek(0)
    data = stream.read()
    depth = _avif_depth(data)
    if depth <= 8:
        return picture_from_image(image, "AVIF", options)
    # Pillow decodes AVIF to 8 bits; imagecodecs (libavif) keeps 10/12-bit samples.
    import imagecodecs

    try:
        array = imagecodecs.avif_decode(data)
    except Exception as error:  # imagecodecs raises its own AvifError
        raise CorruptImageError(f"the AVIF cannot be decoded ({' '.join(str(error).split())})") from None
    shift = 16 - depth
    # Composite at 16 bits (alpha's full scale), then back to the real depth.
    frame = frame_from_array(array.astype(np.uint16) << shift, options.background) >> shift
    if not options.keep_orientation:
        frame = orient(frame, exif_orientation(image))  # Pillow reads irot/imir as an orientation
    return Picture(
        source_format="AVIF",
        layout=layout_of(frame, bits_stored=depth),
        number_of_frames=1,
        frames=frames_of([frame]),
        icc_profile=image.info.get("icc_profile") if frame.ndim == 3 else None,
        content_datetime=exif_datetime(image),
    )


def _heif_file(stream: BinaryIO) -> Any:
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - a declared dependency
        raise UnsupportedFormatError("HEIF/HEIC needs the pillow-heif package") from None
    try:
        # No register_heif_opener(): that would change Pillow's registry for the whole process.
        return pillow_heif.open_heif(stream, convert_hdr_to_8bit=False)
    except (ValueError, RuntimeError, OSError) as error:
        raise CorruptImageError(f"the HEIF file cannot be decoded ({' '.join(str(error).split())})") from None


def _frame_of(image: Any, background: tuple[int, int, int]) -> tuple[np.ndarray, int]:
    """The decoded pixels as a DICOM frame, and the bits they really hold."""
    try:
        array = np.asarray(image)
    except (ValueError, RuntimeError) as error:
        raise CorruptImageError(f"the HEIF image cannot be decoded ({' '.join(str(error).split())})") from None
    depth = int(image.info.get("bit_depth", 8) or 8)
    if array.dtype == np.uint16 and depth < 16:
        # pillow-heif scales 10/12-bit samples up to 16 bits; keep the real values.
        array = array >> (16 - depth)
    return frame_from_array(array, background), depth


def _read_heif(stream: BinaryIO, options: ConvertOptions) -> Picture:
    heif = _heif_file(stream)
    count = len(heif)
    if options.page is not None and not 0 <= options.page < count:
        raise CorruptImageError(f"there is no image {options.page} (the file has {count})")
    if options.page is not None:
        chosen = [options.page]
    elif options.all_images:
        chosen = list(range(count))
    else:
        chosen = [heif.primary_index]
    images = [heif[index] for index in chosen]
    width, height = images[0].size
    check_size(width, height, options, len(images))
    if any(image.size != (width, height) or image.mode != images[0].mode for image in images):
        raise UnsupportedFormatError("the images of this HEIF file differ in size or kind; convert one with --page N")
    first, depth = _frame_of(images[0], options.background)

    def frames() -> Iterator[np.ndarray]:
        yield first
        for image in images[1:]:
            yield _frame_of(image, options.background)[0]

    exif = heif.info.get("exif")
    content_datetime = None
    if exif:
        parsed = Image.Exif()
        try:
            parsed.load(exif)
            content_datetime = datetime_of_exif(parsed)
        except Exception:  # a broken EXIF block must not stop the conversion
            content_datetime = None
    icc = images[0].info.get("icc_profile")
    return Picture(
        source_format="HEIF",
        layout=layout_of(first, bits_stored=depth if first.dtype == np.uint16 else None),
        number_of_frames=len(images),
        frames=frames,
        icc_profile=bytes(icc) if icc and first.ndim == 3 else None,
        content_datetime=content_datetime,
    )


register(Reader(name="HEIF/AVIF", sniff=sniff, read=read))
