"""Repairing damage outside a JPEG's scan data that libjpeg decodes past.

libjpeg tolerates some damage in the marker segments before the first scan (its
``next_marker`` and ``skip_variable`` in jdmarker.c), and so do viewers built on it.
DICOM toolkits decoding a passthrough codestream may not, so the damaged parts are
dropped; the scan data stays byte for byte:

* extraneous bytes before a marker (after SOI or between segments) are removed;
* an application segment (APPn) or comment whose length field is below 2 is removed
  with its length field (libjpeg skips nothing for it);
* APP0 JFIF, APP2 ICC_PROFILE and APP14 Adobe segments too short for their fixed
  fields are removed (libjpeg ignores them: ``examine_app0``/``examine_app14``;
  Pillow refuses the file).

Anything else that is damaged is left for the JPEG reader to refuse.

Bytes *before* the SOI marker are not repaired: libjpeg ("Not a JPEG file: starts with
0x.. 0x.."), Pillow and web browsers (tried with Chromium) all refuse such a file, so no
viewer shows a picture there. :func:`jpeg_start` only finds the stream, to say why.
"""

from __future__ import annotations

__all__ = ["JPEG_SEARCH", "jpeg_start", "repair_jpeg"]

_SOS, _EOI = 0xDA, 0xD9
_APP = range(0xE0, 0xF0)
_COM = 0xFE
# Shortest body each identified application segment needs (identifier included).
_MINIMUM = {(0xE0, b"JFIF\x00"): 14, (0xEE, b"Adobe"): 12, (0xE2, b"ICC_PROFILE\x00"): 14}


# How far into a file that is no known format a JPEG's SOI is looked for, to explain
# the refusal (junk before SOI); a false match only changes the message.
JPEG_SEARCH = 1 << 16


def jpeg_start(data: bytes) -> int | None:
    """Where a JPEG stream starts in ``data`` when something precedes its SOI, or None.

    SOI must be followed by a marker segment (0xFF then a marker code from 0xC0), so
    random 0xFFD8 pairs in other data do not count.
    """
    position = data.find(b"\xff\xd8\xff", 1, JPEG_SEARCH)
    while position > 0:
        if position + 3 < len(data) and data[position + 3] >= 0xC0 and data[position + 3] != 0xFF:
            return position
        position = data.find(b"\xff\xd8\xff", position + 1, JPEG_SEARCH)
    return None


def _too_short(marker: int, body: bytes) -> bool:
    for (kind, name), minimum in _MINIMUM.items():
        if marker == kind and body[: len(name)] == name[: len(body)] and len(body) < minimum:
            return True
    return False


def _is_marker(byte: int) -> bool:
    return byte not in (0x00, 0xFF)


def repair_jpeg(data: bytes) -> tuple[bytes, list[str]]:
    """``data`` with the damage listed in the module docstring removed, and notes on what was.

    Returns ``data`` itself (and no notes) when nothing needed repair. Only the part
    before the first scan is looked at.
    """
    if not data.startswith(b"\xff\xd8"):
        return data, []
    out = bytearray(data[:2])
    notes: list[str] = []
    position = 2
    while position < len(data):
        if data[position] == 0xFF and position + 1 < len(data) and data[position + 1] == 0xFF:
            position += 1  # fill bytes before a marker carry nothing
            continue
        if data[position] != 0xFF or position + 1 >= len(data) or not _is_marker(data[position + 1]):
            # Extraneous bytes: skip to the next 0xFF that starts a marker (fill bytes
            # 0xFF may precede it).
            start = position
            while position + 1 < len(data) and not (data[position] == 0xFF and _is_marker(data[position + 1])):
                position += 1
            if position + 1 >= len(data):
                return data, []  # no further marker: leave the damage for the reader
            notes.append(f"{position - start} extraneous bytes before a JPEG marker dropped")
            continue
        marker = data[position + 1]
        if marker in (_SOS, _EOI):
            out += data[position:]
            break
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:
            out += data[position : position + 2]
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if (marker in _APP or marker == _COM) and length < 2:
            notes.append(f"JPEG segment 0xFF{marker:02X} with length {length} dropped")
            position += 4
            continue
        if position + 2 + length > len(data):
            return data, []  # the file ends inside a segment: left for the reader to refuse
        body = data[position + 4 : position + 2 + length]
        if marker in _APP and _too_short(marker, body):
            notes.append(f"truncated JPEG segment APP{marker - 0xE0} ({len(body)} bytes) dropped")
            position += 2 + length
            continue
        out += data[position : position + 2 + length]
        position += 2 + length
    if not notes:
        return data, []
    return bytes(out), notes
