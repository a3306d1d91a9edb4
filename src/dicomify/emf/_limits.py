"""How much work a metafile may ask for, checked before anything is drawn.

The canvas is capped in :mod:`._size` (pixels and side, at the chosen dpi); here the
number of records is: each record can fill the whole canvas, so a small file of many
cheap-looking records can keep a converter busy for minutes.
"""

from __future__ import annotations

import struct

from ..errors import ImageTooLargeError
from ._sniff import WMF_PLACEABLE_KEY

__all__ = ["MAX_RECORDS", "check_record_count"]

# Records per metafile (EMF: top-level records, EMF+ comments counted as one; WMF: all).
# Drawings exported from office and CAD programs hold up to a few hundred thousand.
MAX_RECORDS = 1_000_000


def check_record_count(data: bytes, emf: bool, limit: int = MAX_RECORDS) -> int:
    """Count the records by their sizes alone (no drawing); refuse beyond ``limit``.

    Returns the number of records read before the end, a damaged size or EOF.
    """
    count = 0
    if emf:
        at, step, unit, minimum, header = 0, "<4xI", 1, 8, 8
    else:
        at = 22 if len(data) >= 4 and struct.unpack_from("<I", data, 0)[0] == WMF_PLACEABLE_KEY else 0
        if len(data) < at + 18:
            return 0
        at += 2 * struct.unpack_from("<H", data, at + 2)[0]  # META_HEADER size in words
        step, unit, minimum, header = "<I", 2, 3, 6
    while at + header <= len(data):
        size = struct.unpack_from(step, data, at)[0]
        if size < minimum:
            break
        count += 1
        if count > limit:
            raise ImageTooLargeError(
                f"the metafile has more than {limit} records, beyond what a picture needs (a damaged or "
                "hostile file; raise the limit with --max-records if the picture is trusted)"
            )
        at += size * unit
    return count
