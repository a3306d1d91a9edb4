"""UIDs: every object, series and study gets a fresh one under the 2.25 root.

2.25 is the ISO/IEC 9834-8 root for UIDs made from a UUID (PS3.5 B.2): it needs no
registration and cannot collide with another organisation's UIDs.
"""

from __future__ import annotations

import uuid

from pydicom.uid import generate_uid

from .._version import __version__

__all__ = ["IMPLEMENTATION_CLASS_UID", "IMPLEMENTATION_VERSION_NAME", "UID_ROOT", "new_uid"]

UID_ROOT = "2.25."
# A fixed UUID-derived UID naming this implementation (PS3.7 D.3.3.2).
IMPLEMENTATION_CLASS_UID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'https://pypi.org/project/dicomify/').int}"
# SH, at most 16 characters.
IMPLEMENTATION_VERSION_NAME = f"DICOMIFY_{__version__}"[:16]


def new_uid() -> str:
    """A fresh, globally unique UID (2.25.<128-bit random UUID as a decimal integer>)."""
    return generate_uid(prefix=None)
