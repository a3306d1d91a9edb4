"""Fuzz the EMF/WMF renderer (records, EMF+, embedded bitmaps) through the conversion."""

from _common import reader_target, run

if __name__ == "__main__":
    run(reader_target((b"\x01\x00\x00\x00", b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00", b"\x02\x00\x09\x00")))
