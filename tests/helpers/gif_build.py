"""GIF files written block by block, so a frame can lie outside the logical screen
(Pillow's writer never makes one)."""

from __future__ import annotations

import struct

import numpy as np

PALETTE = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)


def _lzw(indices: list[int], minimum: int = 2) -> bytes:
    """LZW data that sends a clear code before every pixel: valid and simple."""
    clear, end, size = 1 << minimum, (1 << minimum) + 1, minimum + 1
    codes = [code for index in indices for code in (clear, index)] + [end]
    accumulator = bits = 0
    out = bytearray()
    for code in codes:
        accumulator |= code << bits
        bits += size
        while bits >= 8:
            out.append(accumulator & 0xFF)
            accumulator >>= 8
            bits -= 8
    if bits:
        out.append(accumulator & 0xFF)
    return bytes(out)


def gif_bytes(width: int, height: int, frames: list[tuple[int, int, np.ndarray]], delay_cs: int = 10) -> bytes:
    """An animated GIF with a 4-colour global palette; frames are (left, top, indices)."""
    out = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF1, 0, 0) + PALETTE.tobytes()
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for left, top, indices in frames:
        h, w = indices.shape
        out += b"\x21\xf9\x04\x00" + struct.pack("<H", delay_cs) + b"\x00\x00"
        out += b"\x2c" + struct.pack("<HHHHB", left, top, w, h, 0)
        data = _lzw(indices.reshape(-1).tolist())
        out += b"\x02" + b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255))
        out += b"\x00"
    return out + b"\x3b"
