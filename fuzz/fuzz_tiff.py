"""Fuzz the TIFF reader (IFD chain, page kinds, tifffile/imagecodecs decoding)."""

from _common import reader_target, run

if __name__ == "__main__":
    run(reader_target((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")))
