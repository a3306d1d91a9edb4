"""Body parts for VL pictures and video: DICOM CID 4031 "Common Anatomic Regions".

The codes come from pydicom's copy of the standard's context groups (SNOMED CT,
scheme ``SCT``); each is paired with the Body Part Examined defined term of PS3.16
Annex L. ``paired`` marks regions that have a left and a right, where the page asks
for laterality.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

__all__ = ["LATERALITIES", "REGIONS", "Region", "anatomic_region_item", "region"]


@dataclass(frozen=True)
class Region:
    key: str  # the name in pydicom's CID 4031 (codes.CID4031.<key>)
    body_part: str  # Body Part Examined (0018,0015), PS3.16 Annex L
    paired: bool

    @property
    def code(self) -> tuple[str, str, str]:
        """(Code Value, Coding Scheme Designator, Code Meaning)."""
        concept = getattr(codes.CID4031, self.key)
        return str(concept.value), str(concept.scheme_designator), str(concept.meaning)


# A small table of what is photographed most; the full group has 114 entries.
REGIONS: tuple[Region, ...] = (
    Region("Head", "HEAD", False),
    Region("Eye", "EYE", True),
    Region("Neck", "NECK", False),
    Region("Chest", "CHEST", False),
    Region("Breast", "BREAST", True),
    Region("Abdomen", "ABDOMEN", False),
    Region("Pelvis", "PELVIS", False),
    Region("Sacrum", "SACRUM", False),
    Region("Shoulder", "SHOULDER", True),
    Region("UpperArm", "ARM", True),
    Region("ElbowJoint", "ELBOW", True),
    Region("Forearm", "FOREARM", True),
    Region("WristJoint", "WRIST", True),
    Region("Hand", "HAND", True),
    Region("Finger", "FINGER", True),
    Region("Thumb", "THUMB", True),
    Region("Hip", "HIP", True),
    Region("Thigh", "THIGH", True),
    Region("Knee", "KNEE", True),
    Region("LowerLeg", "LEG", True),
    Region("AnkleJoint", "ANKLE", True),
    Region("Foot", "FOOT", True),
    Region("Toe", "TOE", True),
)

_BY_BODY_PART = {region.body_part: region for region in REGIONS}

#: Image Laterality (0020,0062), PS3.3 C.8.12.x: R, L, U (unpaired), B (both)
LATERALITIES = {"R": "right", "L": "left", "B": "both", "U": "unpaired"}


def region(body_part: str) -> Region | None:
    """The region whose Body Part Examined term is ``body_part`` (case-insensitive)."""
    return _BY_BODY_PART.get(body_part.strip().upper())


def anatomic_region_item(chosen: Region) -> Dataset:
    """One item of Anatomic Region Sequence (0008,2218) for ``chosen``."""
    value, scheme, meaning = chosen.code
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item
