"""Typefaces for metafile text: the system's fonts first, bundled Liberation fonts as fallback.

The Liberation fonts (SIL OFL 1.1, ``dicomify/fonts/LICENSE-Liberation.txt``) are metric
compatible with Arial, Times New Roman and Courier New, the faces most metafiles name, so
text keeps its width even where the named face is missing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import skia

_FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"

# Face names (lower case) that mean a serif or fixed-pitch face.
_SERIF = (
    "times",
    "roman",
    "serif",
    "georgia",
    "garamond",
    "cambria",
    "book antiqua",
    "palatino",
)
_MONO = ("courier", "mono", "consolas", "lucida console", "fixedsys", "terminal")

# LOGFONT lfPitchAndFamily high nibble (MS-WMF 2.1.1.8 FamilyFont).
FF_ROMAN, FF_MODERN = 0x10, 0x30


def _category(face: str, pitch_and_family: int) -> str:
    name = face.lower()
    if any(word in name for word in _MONO):
        return "Mono"
    if any(word in name for word in _SERIF):
        return "Serif"
    if (pitch_and_family & 0xF0) == FF_MODERN or (pitch_and_family & 0x03) == 1:
        return "Mono"
    if (pitch_and_family & 0xF0) == FF_ROMAN:
        return "Serif"
    return "Sans"


@functools.lru_cache(maxsize=256)
def typeface(face: str, bold: bool, italic: bool, pitch_and_family: int = 0) -> skia.Typeface:
    """The best typeface for a LOGFONT face name and style."""
    style = skia.FontStyle(
        skia.FontStyle.kBold_Weight if bold else skia.FontStyle.kNormal_Weight,
        skia.FontStyle.kNormal_Width,
        skia.FontStyle.kItalic_Slant if italic else skia.FontStyle.kUpright_Slant,
    )
    if face:
        found = skia.FontMgr().matchFamilyStyle(face, style)
        if found is not None:
            return found
    category = _category(face, pitch_and_family)
    weight = "Bold" if bold else "Regular"
    bundled = _bundled(category, weight)
    if bundled is not None:
        return bundled
    return skia.Typeface.MakeDefault()


@functools.lru_cache(maxsize=16)
def _bundled(category: str, weight: str) -> skia.Typeface | None:
    path = _FONT_DIR / f"Liberation{category}-{weight}.ttf"
    if not path.is_file():
        return None
    return skia.Typeface.MakeFromFile(str(path))
