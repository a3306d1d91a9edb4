"""Taking a camera's metadata out of a JPEG codestream that goes into DICOM unchanged.

A JPEG kept byte-exact in Pixel Data would carry every marker segment of the file:
EXIF (GPS position, camera serial numbers, the owner's name), XMP, IPTC, comments,
vendor blocks and preview pictures. De-identification tools look at DICOM attributes,
not inside Pixel Data, so by default these are removed (``keep_jpeg_metadata`` keeps
them). What decoding needs stays (ITU-T T.81 B.2, T.872 for APP14):

* every marker segment that is not an application segment (APPn) or a comment (COM):
  quantisation and Huffman tables, frame and scan headers, restart interval ...
* APP0 ``JFIF`` (the colour space), APP2 ``ICC_PROFILE`` (the colour profile),
  APP14 ``Adobe`` (the colour transform);
* the entropy-coded scan data, byte for byte.

Everything after the End Of Image marker (the preview pictures of the Multi-Picture
Format, trailers some phones append) is dropped too.

:func:`check_picture_data` refuses a codestream that cannot hold its picture: a file
cut short and closed with an End Of Image marker would otherwise decode to a full-size
picture that is almost all filler (693 bytes claiming 9000x9000 pixels became a 243 MB
object).
"""

from __future__ import annotations

from ..errors import CorruptImageError

__all__ = ["check_picture_data", "strip_metadata"]

_SOI, _EOI, _SOS, _TEM = 0xD8, 0xD9, 0xDA, 0x01
_COM = 0xFE
_RST = range(0xD0, 0xD8)
_APP = range(0xE0, 0xF0)
# Application segments decoding needs, by marker and identifier.
_KEEP = ((0xE0, b"JFIF\x00"), (0xE2, b"ICC_PROFILE\x00"), (0xEE, b"Adobe"))


def _kept(marker: int, body: bytes) -> bool:
    if marker == _COM:
        return False
    if marker not in _APP:
        return True
    return any(marker == kept and body.startswith(name) for kept, name in _KEEP)


def _scan_end(data: bytes, position: int) -> int:
    """Where the entropy-coded data starting at ``position`` ends: the next real marker.

    Inside scan data 0xFF is followed by 0x00 (a stuffed byte) or a restart marker.
    """
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            raise CorruptImageError("the JPEG ends inside its scan data")
        following = data[position + 1]
        if following == 0x00 or following in _RST:
            position += 2
        elif following == 0xFF:
            position += 1  # fill byte before a marker
        else:
            return position


def strip_metadata(data: bytes) -> bytes:
    """``data`` without metadata segments and without anything after End Of Image.

    Parameters
    ----------
    data
        A whole JPEG codestream, starting with SOI.

    Returns
    -------
    bytes
        The codestream with the segments listed in the module docstring removed; the
        scan data is unchanged.

    Raises
    ------
    CorruptImageError
        The marker structure is damaged or ends before End Of Image.
    """
    if not data.startswith(b"\xff\xd8"):
        raise CorruptImageError("not a JPEG codestream")
    kept = bytearray(data[:2])
    position = 2
    while True:
        while (
            position < len(data) and data[position] == 0xFF and position + 1 < len(data) and data[position + 1] == 0xFF
        ):
            position += 1  # fill bytes before a marker carry nothing
        if position + 2 > len(data) or data[position] != 0xFF:
            raise CorruptImageError("the JPEG's marker segments are damaged")
        marker = data[position + 1]
        if marker == _EOI:
            kept += data[position : position + 2]
            return bytes(kept)
        if marker in _RST or marker in (_SOI, _TEM):
            kept += data[position : position + 2]
            position += 2
            continue
        if position + 4 > len(data):
            raise CorruptImageError("the JPEG's marker segments are damaged")
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise CorruptImageError("the JPEG's marker segments are damaged")
        if _kept(marker, data[position + 4 : end]):
            kept += data[position:end]
        position = end
        if marker == _SOS:
            scan_end = _scan_end(data, position)
            kept += data[position:scan_end]
            position = scan_end


# Huffman-coded frames (T.81 Table B.1); arithmetic coding can spend less than a bit
# per block, so no lower bound is known for it.
_HUFFMAN_SOF = {0xC0, 0xC1, 0xC2}
_LOSSLESS_SOF = 0xC3


def _segments(data: bytes) -> tuple[bytes | None, int, int]:
    """(frame header, SOF marker, bytes of entropy-coded data) of a codestream."""
    frame: bytes | None = None
    sof = 0
    coded = 0
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker == _EOI:
            break
        if marker in _RST or marker in (_SOI, _TEM):
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame, sof = data[position + 4 : end], marker
        position = end
        if marker == _SOS:
            try:
                scan_end = _scan_end(data, position)
            except CorruptImageError:
                scan_end = len(data)
            coded += scan_end - position
            position = scan_end
    return frame, sof, coded


def _minimum_bits(frame: bytes, sof: int) -> int:
    """The fewest bits any complete Huffman-coded scan set for this frame can take.

    Every 8x8 block of every component needs at least one Huffman code (its DC
    difference) in sequential and progressive JPEG; every sample one code in lossless.
    """
    rows, columns, count = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big"), frame[5]
    factors = [(frame[7 + 3 * i] >> 4, frame[7 + 3 * i] & 0x0F) for i in range(count) if 8 + 3 * i < len(frame)]
    if not factors or rows == 0:
        return 0
    if sof == _LOSSLESS_SOF:
        return rows * columns * len(factors)
    h_max = max(h for h, _ in factors) or 1
    v_max = max(v for _, v in factors) or 1
    blocks = 0
    for h, v in factors:
        width = -(-columns * h // h_max)
        height = -(-rows * v // v_max)
        blocks += -(-width // 8) * -(-height // 8)
    return blocks


def check_picture_data(data: bytes) -> None:
    """Refuse a JPEG whose scans are far too short for its size: most of it is missing.

    Parameters
    ----------
    data
        A whole JPEG codestream.

    Raises
    ------
    CorruptImageError
        The entropy-coded data is shorter than any complete picture of this size
        could be (one bit per 8x8 block, per sample for lossless JPEG).
    """
    frame, sof, coded = _segments(data)
    if frame is None or len(frame) < 6 or sof not in _HUFFMAN_SOF | {_LOSSLESS_SOF}:
        return
    needed = _minimum_bits(frame, sof)
    if needed <= 0:  # no rows, columns or components: the frame header is refused elsewhere
        return
    if coded * 8 < needed:
        rows, columns = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
        missing = 100 * (needed - coded * 8) // needed
        raise CorruptImageError(
            f"most of the picture is missing: {coded} bytes of picture data cannot hold {columns}x{rows} "
            f"pixels (that takes at least {-(-needed // 8)} bytes; {missing}% or more is missing, the file "
            "was probably cut short)"
        )
