"""Metafile fonts: system faces through fontconfig, bundled Liberation faces otherwise, and no
third-party warning on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.emf_build import emf, ext_text_out_w, font, select

from dicomify.emf import render
from dicomify.emf._fonts import typeface

fontconfig = pytest.importorskip("fontconfig")

TESTS = Path(__file__).resolve().parents[1]


def test_text_rendering_prints_no_fontconfig_warning() -> None:
    # skia-python's own fontconfig (2.13) warns about the system configuration on first use;
    # the renderer must never start it.
    script = (
        "from helpers.emf_build import emf, font, select, ext_text_out_w\n"
        "from dicomify.emf import render\n"
        "import numpy as np\n"
        "img = np.asarray(render(emf(font(1, -20, 'Arial'), select(1), ext_text_out_w(10, 10, 'Hi'))))\n"
        "assert (img < 128).any()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TESTS,
        env=None,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "fontconfig" not in done.stderr.lower() and "warning" not in done.stderr.lower(), done.stderr


def test_missing_face_falls_back_to_the_bundled_metric_twin() -> None:
    # fontconfig would substitute its default sans for a missing face; a bundled Liberation
    # face with the same metrics is the better stand-in.
    assert typeface("No Such Face Anywhere", False, False).getFamilyName() == "Liberation Sans"
    assert typeface("Times New Roman", True, False).getFamilyName() == "Liberation Serif"
    assert typeface("Courier New", False, False).getFamilyName() == "Liberation Mono"


def test_installed_face_is_found_by_name() -> None:
    installed = sorted(
        {str(f["family"]) for f in fontconfig.list(select=("family",)) if f.get("family")} - {"Liberation Sans"}
    )
    if not installed:
        pytest.skip("no system fonts installed")
    name = installed[0]
    assert typeface(name, False, False).getFamilyName().lower() == name.lower()


def test_font_file_skia_cannot_load_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # fontconfig may name a file skia cannot read (a bitmap font): the bundled face stands in.
    broken = tmp_path / "Broken.pcf"
    broken.write_bytes(b"not a font")
    monkeypatch.setattr(fontconfig, "match", lambda **_: {"family": "Broken Face", "file": str(broken), "index": 0})
    typeface.cache_clear()
    try:
        assert typeface("Broken Face", False, False).getFamilyName() == "Liberation Sans"
    finally:
        typeface.cache_clear()


def test_character_the_face_lacks_is_drawn_from_an_installed_face() -> None:
    # Liberation Sans (Arial's stand-in) has no check mark (U+2713); DejaVu Sans (Debian's
    # fonts-dejavu-core, which scripts/test.sh installs) has one: the mark is drawn from it,
    # as GDI's font linking and LibreOffice do, not as a missing-glyph box.
    def draw(face: str) -> np.ndarray:
        return np.asarray(render(emf(font(1, -40, face), select(1), ext_text_out_w(10, 10, "\u2713"))))

    def ink(img: np.ndarray) -> np.ndarray:
        grey = img.min(axis=-1)
        rows, cols = np.flatnonzero((grey < 128).any(axis=1)), np.flatnonzero((grey < 128).any(axis=0))
        return grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(int)

    assert typeface("Arial", False, False).unicharToGlyph(0x2713) == 0
    # The same glyph at the same size; only the baseline differs (the line's ascent is Arial's).
    linked, direct = ink(draw("Arial")), ink(draw("DejaVu Sans"))
    assert linked.shape == direct.shape and np.abs(linked - direct).mean() < 16


def test_symbol_font_codes_are_drawn_as_their_characters() -> None:
    # A chart's axis title in the Symbol font: "c" is chi, "m" mu (codes 0x20-0xFF, or the
    # same at U+F020-U+F0FF); Wingdings "J" is a smiley. Neither font is installed: the
    # characters are drawn from the stand-in, as the author saw them, not as "c" and "m".
    def draw(face: str, text: str) -> np.ndarray:
        return np.asarray(render(emf(font(1, -30, face), select(1), ext_text_out_w(5, 10, text))))

    assert np.array_equal(draw("Symbol", "cm\uf073"), draw("Arial", "χμσ"))
    assert not np.array_equal(draw("Symbol", "cm"), draw("Arial", "cm"))
    assert np.array_equal(draw("Wingdings", "\uf04a"), draw("Arial", "☺"))


def test_characters_no_installed_font_has_are_said_not_silent() -> None:
    # A Yi syllable: no font this project installs has one. Text drawn as boxes is a
    # picture that is not what it shows elsewhere, so the conversion says so.
    import dicomify
    from dicomify.emf._fonts import fallback_typeface

    yi = "\ua000"
    data = emf(font(1, -40, "Arial"), select(1), ext_text_out_w(10, 10, f"ok {yi}"))
    notes = dicomify.DicomImage(data).notes
    warned = [note for note in notes if note.startswith("warning: ") and "drawn as boxes" in note]
    if fallback_typeface(yi, False, False) is None:
        assert warned == [
            f"warning: 1 character(s) of its text are in no installed font and are drawn as boxes ({yi}); "
            "install a font that has them (e.g. fonts-noto-cjk)"
        ]
    else:  # a machine with a font that has it draws it: nothing to say
        assert warned == []
    plain = dicomify.DicomImage(emf(font(1, -40, "Arial"), select(1), ext_text_out_w(10, 10, "ok"))).notes
    assert not [note for note in plain if note.startswith("warning: ")]
