"""Ternary raster operations (MS-WMF 2.1.1.31 TernaryRasterOperation), bit for bit.

A raster operation combines three operands per bit: the selected brush (pattern, P), the
source bitmap (S) and the destination (D). Its index byte (bits 16-23 of the 32-bit code)
is the truth table: bit ``4*P + 2*S + D`` of the byte is the result for those input bits,
so ``P = 0xF0``, ``S = 0xCC``, ``D = 0xAA`` and, for example, SRCAND (``S & D``) is
``0xCC & 0xAA = 0x88``. Evaluating the table on whole bytes gives every one of the 256
operations exactly, including the nine that have names in Windows' headers.
"""

from __future__ import annotations

import numpy as np

# Index bytes of the named operations (the high word of the WMF/EMF 32-bit codes).
BLACKNESS = 0x00
NOTSRCERASE = 0x11
NOTSRCCOPY = 0x33
SRCERASE = 0x44
DSTINVERT = 0x55
PATINVERT = 0x5A
SRCINVERT = 0x66
SRCAND = 0x88
DEST = 0xAA
MERGEPAINT = 0xBB
MERGECOPY = 0xC0
SRCCOPY = 0xCC
SRCPAINT = 0xEE
PATCOPY = 0xF0
PATPAINT = 0xFB
WHITENESS = 0xFF


def index_of(rop: int) -> int:
    """The truth-table byte of a 32-bit raster operation code."""
    return (rop >> 16) & 0xFF


def uses_pattern(code: int) -> bool:
    return (code >> 4) & 0x0F != code & 0x0F


def uses_source(code: int) -> bool:
    return (code >> 2) & 0x33 != code & 0x33


def uses_dest(code: int) -> bool:
    return (code >> 1) & 0x55 != code & 0x55


def apply(code: int, pattern: np.ndarray, source: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """The result of raster operation ``code`` on uint8 arrays of one shape (any operand may
    be ignored by the operation; pass zeros for it)."""
    result = np.zeros_like(dest)
    if code == 0:
        return result
    if code == 0xFF:
        return result | 0xFF
    inverse = {"p": ~pattern, "s": ~source, "d": ~dest}
    # Sum of minterms: OR together the P/S/D bit patterns whose table entry is 1.
    for minterm in range(8):
        if not code >> minterm & 1:
            continue
        p = pattern if minterm & 4 else inverse["p"]
        s = source if minterm & 2 else inverse["s"]
        d = dest if minterm & 1 else inverse["d"]
        result |= p & s & d
    return result
