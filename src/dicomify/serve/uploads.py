"""Multipart uploads streamed straight into the server's private temporary area.

Starlette's own form parser spools files into the system's shared temporary
folder and has no limit on a file's size; this one writes each part into a
folder of the request's own (mode 0700, under the server's private area),
counts every byte against the configured limit while it arrives, and names the
files itself: the name a browser sends is shown to people, never used as a path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

__all__ = ["UploadError", "Upload", "UploadedFile", "read_multipart"]

MAX_FIELD_BYTES = 256 * 1024  # a JSON metadata part is a few hundred bytes
MAX_FIELDS = 32
MAX_NAME = 200  # characters of a file name kept for display


class UploadError(Exception):
    """The request body is not an acceptable upload; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class UploadedFile:
    field: str
    filename: str  # as the client named it, for display only
    path: Path  # ours, inside the request's folder
    size: int = 0


@dataclass
class Upload:
    folder: Path
    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def display_name(raw: str, index: int) -> str:
    """The last path component of a client's file name, without control characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return (name or f"picture-{index + 1}")[:MAX_NAME]


class _Parts:
    """python-multipart callbacks collecting one request's parts."""

    def __init__(self, upload: Upload, max_files: int) -> None:
        self.upload = upload
        self.max_files = max_files
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.name = ""
        self.filename: str | None = None
        self.data = bytearray()
        self.file: IO[bytes] | None = None
        self.current: UploadedFile | None = None

    def on_part_begin(self) -> None:
        self.disposition, self.name, self.filename = b"", "", None
        self.data = bytearray()
        self.file, self.current = None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.disposition)
        if b"name" not in params:
            raise UploadError(400, "a multipart part has no name in its Content-Disposition header")
        self.name = params[b"name"].decode("utf-8", "replace")
        if b"filename" in params:
            if len(self.upload.files) >= self.max_files:
                raise UploadError(413, f"too many files in one request: at most {self.max_files}")
            index = len(self.upload.files)
            path = self.upload.folder / f"upload-{index:04d}"
            self.file = open(path, "xb")  # noqa: SIM115 - closed in on_part_end or by cleanup
            self.current = UploadedFile(
                self.name, display_name(params[b"filename"].decode("utf-8", "replace"), index), path
            )
            self.upload.files.append(self.current)
        elif len(self.upload.fields) >= MAX_FIELDS:
            raise UploadError(413, f"too many form fields in one request: at most {MAX_FIELDS}")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None and self.current is not None:
            self.file.write(data[start:end])
            self.current.size += end - start
            return
        self.data += data[start:end]
        if len(self.data) > MAX_FIELD_BYTES:
            raise UploadError(413, f"the form field {self.name!r} is longer than {MAX_FIELD_BYTES // 1024} KB")

    def on_part_end(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
            return
        try:
            self.upload.fields[self.name] = self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadError(400, f"the form field {self.name!r} is not UTF-8 text") from None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


async def read_multipart(
    content_type: str, body: AsyncIterator[bytes], parent: Path, max_bytes: int, max_files: int
) -> Upload:
    """Parse a ``multipart/form-data`` body into files in a new private folder under ``parent``.

    Parameters
    ----------
    content_type : str
        The request's Content-Type header (holds the boundary).
    body : async iterator of bytes
        The request body as it arrives.
    parent : Path
        The server's private area; the request's folder is made inside it.
    max_bytes, max_files : int
        Limits; exceeding one stops reading at once.

    Returns
    -------
    Upload
        Its ``folder`` is the caller's to delete (also on error: it is deleted here then).

    Raises
    ------
    UploadError
        Not multipart, malformed, or over a limit (413).
    """
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise UploadError(415, "send the pictures as multipart/form-data with one 'file' part per picture")
    folder = Path(tempfile.mkdtemp(prefix="req-", dir=parent))
    upload = Upload(folder)
    parts = _Parts(upload, max_files)
    callbacks = {
        name: getattr(parts, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > max_bytes:
                raise UploadError(413, f"the upload is larger than the limit of {max_bytes // (1024 * 1024)} MB")
            parser.write(chunk)
        parser.finalize()
        if parts.file is not None:
            raise UploadError(400, "the multipart body ends in the middle of a file")
    except MultipartParseError as error:
        parts.close()
        remove_tree(folder)
        raise UploadError(400, f"the multipart body is malformed ({error})") from None
    except BaseException:
        parts.close()
        remove_tree(folder)
        raise
    return upload


def remove_tree(folder: Path) -> None:
    """Delete a request's folder (files only one level deep: we made them)."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():  # pragma: no cover - a file still open on some platform
        os.replace(folder, folder.with_name(folder.name + ".stale"))
