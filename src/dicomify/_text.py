"""Text that is safe to show: file names and messages can hold anything a file system allows.

A file name may contain a newline, an escape sequence or bytes that are not UTF-8. Shown
raw, it could forge a line on a terminal or in a log ("dicomify: x.jpg: converted") or
change the terminal's state; written raw to a UTF-8 report, it would fail.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls, DEL, C1 controls; and lone surrogates (undecodable file-name bytes).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters and undecodable bytes written as escapes (``\\n``, ``\\x1b``)."""
    return _UNSAFE.sub(_escape, text)
