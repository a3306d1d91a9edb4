"""Answers the API streams from files: one DICOM object, several (multipart/related), a zip."""

from __future__ import annotations

import re
import secrets
import zipfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio

__all__ = ["download_name", "multipart_related", "write_zip"]

_CHUNK = 256 * 1024


def download_name(name: str, index: int) -> str:
    """A safe file name for a download: the source's stem, ASCII letters, digits, ._- only."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or f"picture-{index + 1}"
    return f"{index + 1:03d}-{stem[:80]}.dcm"


def related_boundary() -> str:
    return "dicomify-" + secrets.token_hex(16)


async def multipart_related(paths: Sequence[Path], boundary: str) -> AsyncIterator[bytes]:
    """``multipart/related; type="application/dicom"`` (PS3.18 8.6.1.2), read file by file."""
    for path in paths:
        yield f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode("ascii")
        async with await anyio.open_file(path, "rb") as file:
            while chunk := await file.read(_CHUNK):
                yield chunk
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode("ascii")


def write_zip(target: Path, files: Sequence[tuple[Path, str]]) -> None:
    """A zip (stored, DICOM does not shrink much) of ``(path, name in the zip)``."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, name in files:
            archive.write(path, arcname=name)
