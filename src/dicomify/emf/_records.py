"""What a damaged record looks like to the metafile players (EMF, EMF+, WMF)."""

from __future__ import annotations

import struct

__all__ = ["DAMAGED_RECORD_ERRORS"]

# A record whose sizes, counts or values are wrong fails while it is unpacked or
# drawn with one of these; each player turns them into CorruptImageError naming the
# record and its offset. (CorruptImageError itself is none of these, so it passes.)
DAMAGED_RECORD_ERRORS = (struct.error, IndexError, ValueError, OverflowError, ZeroDivisionError)
