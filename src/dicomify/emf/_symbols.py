"""Characters of symbol fonts as Unicode, so that any font with the glyphs can draw them.

Metafiles name the Symbol font for Greek letters and mathematics (chart axes: μ, σ, χ²) and
Wingdings for a few pictographs; their text holds the font's own codes, 0x20-0xFF, or the
same codes at U+F020-U+F0FF (what Windows' symbol fonts map there). Neither font is on most
systems: drawn from a stand-in, "c" would stay a "c" instead of the χ the author saw.
The Symbol table follows the Adobe Symbol encoding; of Wingdings only the faces are mapped.
"""

from __future__ import annotations

_GREEK_UPPER = "ΑΒΧΔΕΦΓΗΙϑΚΛΜΝΟΠΘΡΣΤΥςΩΞΨΖ"  # A..Z
_GREEK_LOWER = "αβχδεφγηιϕκλμνοπθρστυϖωξψζ"  # a..z

SYMBOL: dict[int, str] = {
    0x22: "∀",
    0x24: "∃",
    0x27: "∋",
    0x2A: "∗",
    0x2D: "−",
    0x40: "≅",
    0x5C: "∴",
    0x5E: "⊥",
    0x7E: "∼",
    **{0x41 + i: c for i, c in enumerate(_GREEK_UPPER)},
    **{0x61 + i: c for i, c in enumerate(_GREEK_LOWER)},
    0xA0: "€",
    **{0xA1 + i: c for i, c in enumerate("ϒ′≤⁄∞ƒ♣♦♥♠↔←↑→↓")},
    **{0xB0 + i: c for i, c in enumerate("°±″≥×∝∂•÷≠≡≈…⏐⎯↵")},
    **{0xC0 + i: c for i, c in enumerate("ℵℑℜ℘⊗⊕∅∩∪⊃⊇⊄⊂⊆∈∉")},
    **{0xD0 + i: c for i, c in enumerate("∠∇®©™∏√⋅¬∧∨⇔⇐⇑⇒⇓")},
    **{0xE0 + i: c for i, c in enumerate("◊〈®©™∑⎛⎜⎝⎡⎢⎣⎧⎨⎩⎪")},
    **{0xF1 + i: c for i, c in enumerate("〉∫⌠⎮⌡⎞⎟⎠⎤⎥⎦⎫⎬⎭")},
}

WINGDINGS: dict[int, str] = {0x4A: "☺", 0x4B: "😐", 0x4C: "☹"}

_TABLES = {"symbol": SYMBOL, "wingdings": WINGDINGS}


def symbol_text(face: str, text: str) -> str:
    """``text`` of a font named ``face`` with a symbol font's codes replaced by Unicode."""
    table = _TABLES.get(face.strip().lower())
    if table is None:
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if 0xF020 <= code <= 0xF0FF:
            code -= 0xF000
        # Symbol's other codes are ASCII; an unmapped Wingdings code keeps its private-use
        # character (a missing-glyph box rather than a misleading letter).
        out.append(table.get(code) or (chr(code) if table is SYMBOL and code < 0x100 else ch))
    return "".join(out)
