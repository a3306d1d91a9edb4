"""Typefaces for metafile text: the system's fonts first, bundled Liberation fonts as fallback.

The Liberation fonts (SIL OFL 1.1, ``dicomify/fonts/LICENSE-Liberation.txt``) are metric
compatible with Arial, Times New Roman and Courier New, the faces most metafiles name, so
text keeps its width even where the named face is missing.

System fonts are found with fontconfig through ``fontconfig-py`` (its own, current
fontconfig), and font files are loaded with a skia font manager that has no fontconfig of
its own. Skia's default font manager is never created: the fontconfig 2.13 built into the
skia-python wheel prints "Fontconfig warning: ... unknown element reset-dirs" for the
newer system configuration on every first use (it parses the system's template directory
whatever ``FONTCONFIG_FILE`` says, so a bundled fonts.conf cannot silence it), and
pointing it elsewhere would mean changing the process environment. Where fontconfig-py is
not installed (Windows, whose skia uses DirectWrite), skia's own font manager is used.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import skia

try:
    import fontconfig
except ImportError:  # pragma: no cover - Windows, or an install without it
    fontconfig = None  # type: ignore[assignment]

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


# Metric-compatible stand-ins that fontconfig's own configuration binds strongly to these
# faces (30-metric-aliases.conf): a match to one of them is as good as the face itself.
_METRIC_ALIASES = {
    "arial": ("liberation sans", "arimo", "albany amt"),
    "helvetica": ("liberation sans", "arimo", "nimbus sans", "nimbus sans l", "tex gyre heros"),
    "times new roman": ("liberation serif", "tinos", "thorndale amt"),
    "times": ("liberation serif", "tinos", "nimbus roman", "nimbus roman no9 l", "tex gyre termes"),
    "courier new": ("liberation mono", "cousine", "cumberland amt"),
    "courier": ("liberation mono", "cousine", "nimbus mono ps", "nimbus mono l", "tex gyre cursor"),
    "calibri": ("carlito",),
    "cambria": ("caladea",),
}
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _loader() -> skia.FontMgr:
    """A font manager that only loads files (no fontconfig, no system scan)."""
    return skia.FontMgr.New_Custom_Empty()


@functools.lru_cache(maxsize=256)
def typeface(face: str, bold: bool, italic: bool, pitch_and_family: int = 0) -> skia.Typeface:
    """The best typeface for a LOGFONT face name and style."""
    if face:
        found = _system(face, bold, italic)
        if found is not None:
            return found
    category = _category(face, pitch_and_family)
    weight = "Bold" if bold else "Regular"
    bundled = _bundled(category, weight) or _bundled("Sans", "Regular")
    if bundled is None:  # pragma: no cover - the package ships the fonts
        raise FileNotFoundError(f"the bundled fonts are missing from {_FONT_DIR}")
    return bundled


def _system(face: str, bold: bool, italic: bool) -> skia.Typeface | None:
    """The installed font of this family, or None when fontconfig would substitute another."""
    if fontconfig is None:  # pragma: no cover - Windows
        style = skia.FontStyle(
            skia.FontStyle.kBold_Weight if bold else skia.FontStyle.kNormal_Weight,
            skia.FontStyle.kNormal_Width,
            skia.FontStyle.kItalic_Slant if italic else skia.FontStyle.kUpright_Slant,
        )
        return skia.FontMgr().matchFamilyStyle(face, style)
    with _LOCK:
        match = fontconfig.match(
            properties={"family": face, "weight": 200 if bold else 80, "slant": 100 if italic else 0},
            select=("family", "file", "index"),
        )
    if not match or not match.get("file"):
        return None
    family = str(match.get("family", "")).lower()
    wanted = face.strip().lower()
    if family != wanted and family not in _METRIC_ALIASES.get(wanted, ()):
        return None  # fontconfig's best guess for a missing face: our own fallback is better
    # None when skia cannot load the file (a bitmap-only font): the fallback takes over.
    loaded: skia.Typeface | None = _loader().makeFromFile(str(match["file"]), int(match.get("index") or 0))
    return loaded


@functools.lru_cache(maxsize=16)
def _bundled(category: str, weight: str) -> skia.Typeface | None:
    path = _FONT_DIR / f"Liberation{category}-{weight}.ttf"
    if not path.is_file():
        return None
    return _loader().makeFromFile(str(path), 0)


@functools.lru_cache(maxsize=1024)
def fallback_typeface(char: str, bold: bool, italic: bool) -> skia.Typeface | None:
    """An installed typeface with a glyph for ``char`` (a symbol, an ideograph the chosen
    face lacks), as GDI's font linking and LibreOffice's glyph fallback find one; None when
    no installed font has it (the missing-glyph box is drawn then)."""
    if fontconfig is None:  # pragma: no cover - Windows: skia's own manager falls back
        return None
    with _LOCK:
        match = fontconfig.match(
            f":charset={ord(char):x}:weight={200 if bold else 80}:slant={100 if italic else 0}",
            select=("family", "file", "index"),
        )
    if not match or not match.get("file"):
        return None
    loaded: skia.Typeface | None = _loader().makeFromFile(str(match["file"]), int(match.get("index") or 0))
    # fontconfig names its best face even when none has the character: check that it does.
    if loaded is None or not loaded.unicharToGlyph(ord(char)):
        return None
    return loaded
