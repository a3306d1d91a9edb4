"""Fuzz the Pillow reader (PNG, APNG, BMP, GIF, WebP) through the whole conversion."""

from _common import reader_target, run

if __name__ == "__main__":
    run(reader_target((b"\x89PNG", b"BM", b"GIF8", b"RIFF")))
