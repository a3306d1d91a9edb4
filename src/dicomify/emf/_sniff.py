"""Recognising metafiles from their first bytes, without loading the renderer."""

from __future__ import annotations

import struct

# MS-WMF 2.3.2.3 META_PLACEABLE key.
WMF_PLACEABLE_KEY = 0x9AC6CDD7


def is_emf(head: bytes) -> bool:
    """EMR_HEADER (record type 1) at offset 0 and the " EMF" signature at offset 40 (MS-EMF 2.3.4.2)."""
    return len(head) >= 44 and head[:4] == b"\x01\x00\x00\x00" and head[40:44] == b" EMF"


def is_wmf(head: bytes) -> bool:
    """A placeable WMF key, or a META_HEADER: type 1 or 2, 9 words, version 0x100 or 0x300 (MS-WMF 2.3.2.2)."""
    if len(head) >= 4 and struct.unpack_from("<I", head, 0)[0] == WMF_PLACEABLE_KEY:
        return True
    if len(head) >= 18:
        mtype, header_words, version = struct.unpack_from("<HHH", head, 0)
        return mtype in (1, 2) and header_words == 9 and version in (0x0100, 0x0300)
    return False
