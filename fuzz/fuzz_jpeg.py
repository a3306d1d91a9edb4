"""Fuzz the JPEG reader (passthrough: segment parsing, repair, EXIF) through the conversion."""

from _common import reader_target, run

if __name__ == "__main__":
    run(reader_target((b"\xff\xd8\xff",)))
