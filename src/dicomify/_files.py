"""Writing outputs so that a failure, a full disk or a kill never destroys or half-writes a file.

How an output path is written (docs/limits.md, "How outputs are written"):

* A regular file (new or existing) is written to a temporary ``.NAME.XXXXXXXX.part``
  beside it, flushed to disk (``fsync``) and renamed over the target; the folder is
  fsynced after the rename. Readers and a resumed batch see no file or the whole file.
  A new file gets the mode the umask allows (``0666 & ~umask``); a replaced file keeps
  its mode. On any error the temporary file is removed.
* An existing file without write permission is not replaced: that is an error.
* A symbolic link is followed: the file it points to is replaced, the link stays.
* A character device (``/dev/null``, a terminal) or a FIFO is written through, never
  replaced by a regular file. A block device, a socket or a folder is refused.
* The temporary name is shortened so that it fits the 255-byte name limit whatever
  the length of the target's name.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from .errors import OutputError

__all__ = [
    "atomic_output",
    "check_output_folder",
    "is_complete_dicom",
    "os_reason",
    "remove_stale_temporaries",
    "write_all",
]

# ".{name}.{8 random}.part" must fit NAME_MAX (255 bytes on every common file system).
_NAME_MAX = 255
_TOKEN = 8
_SUFFIX = ".part"
_KEEP = _NAME_MAX - len(".") - len(".") - _TOKEN - len(_SUFFIX)


def os_reason(error: BaseException) -> str:
    """The operating system's reason for ``error`` ("No space left on device" ...).

    Some libraries (pydicom) re-raise an ``OSError`` without its errno; the original
    is then found in the exception's cause or context.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return str(error) or type(error).__name__


def _temporary_stem(name: str) -> str:
    """``name`` cut to what a temporary name can hold (in bytes, as the file system counts)."""
    raw = os.fsencode(name)
    return name if len(raw) <= _KEEP else os.fsdecode(raw[:_KEEP])


def _is_temporary_of(entry: str, stem: str) -> bool:
    head = f".{stem}."
    return (
        entry.startswith(head)
        and entry.endswith(_SUFFIX)
        and len(os.fsencode(entry)) == len(os.fsencode(head)) + _TOKEN + len(_SUFFIX)
    )


def _create_temporary(folder: Path, name: str, mode: int) -> tuple[int, Path]:
    """A new file beside the target; ``mode`` passes through the umask like any new file."""
    stem = _temporary_stem(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = folder / f".{stem}.{secrets.token_hex(_TOKEN // 2)}{_SUFFIX}"
        try:
            return os.open(temporary, flags, mode), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; some file systems refuse fsync on a folder.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def _write_through(target: Path) -> Iterator[BinaryIO]:
    """A character device or FIFO: written in place, as a shell redirect would.

    Such a target cannot seek, so the object is assembled in memory first.
    """
    buffer = io.BytesIO()
    yield buffer
    try:
        file = open(target, "wb")
    except OSError as error:
        raise OutputError(f"cannot write ({os_reason(error)})", source=str(target)) from None
    with file:
        try:
            write_all(file, buffer.getbuffer())
        except OutputError as error:
            raise error.with_source(str(target)) from None


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], overwrite: bool = True) -> Iterator[BinaryIO]:
    """Yield a file to write the output to; it becomes ``path`` only once complete.

    See the module docstring for how each kind of target is treated.

    Parameters
    ----------
    path
        The output path.
    overwrite
        When false, an existing target is an error.

    Yields
    ------
    BinaryIO
        The (temporary) file to write to.

    Raises
    ------
    OutputError
        The target cannot be written; the message gives the reason. An ``OSError``
        raised while writing is passed on unchanged (the caller words it).
    """
    given = Path(path)
    try:
        status: os.stat_result | None = os.stat(given)  # follows links
    except FileNotFoundError:
        status = None
    except OSError as error:  # a link loop, a component that is not a folder ...
        raise OutputError(f"cannot write here ({os_reason(error)})", source=str(given)) from None
    if status is not None:
        if stat.S_ISDIR(status.st_mode):
            raise OutputError("is a folder, not a file", source=str(given))
        if stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
            with _write_through(given) as file:
                yield file
            return
        if not stat.S_ISREG(status.st_mode):
            raise OutputError("is a block device or socket; refusing to write a DICOM file onto it", source=str(given))
        if not overwrite:
            raise OutputError("already exists", source=str(given))
        if not status.st_mode & 0o222 or not os.access(given, os.W_OK):
            raise OutputError("the existing file is read-only; not replaced", source=str(given))
    # A link is followed (its target replaced, the link kept); a dangling link is
    # written where it points.
    target = Path(os.path.realpath(given)) if os.path.islink(given) else given
    mode = 0o666 if status is None else stat.S_IMODE(status.st_mode) & 0o777
    try:
        if target is given:
            target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = _create_temporary(target.parent, target.name, mode)
    except OSError as error:
        raise OutputError(f"cannot write here ({os_reason(error)})", source=str(given)) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            if status is not None:
                os.fchmod(file.fileno(), mode)  # a replaced file keeps its mode
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(target.parent)


def write_all(stream: IO[bytes], data: bytes | memoryview) -> None:
    """Write every byte of ``data`` to ``stream`` and flush it.

    A raw stream may accept fewer bytes than offered: the rest is written again; one
    that accepts nothing is an error.

    Raises
    ------
    OutputError
        The stream refused the bytes (a closed pipe, a full disk behind a redirect).
    """
    view = memoryview(data).cast("B")
    try:
        while len(view):
            written = stream.write(view)
            if written is None:  # a non-blocking raw stream that would block
                raise OSError("the output stream accepts no more data")
            if written <= 0:
                raise OSError("the output stream accepts no more data")
            view = view[written:]
        stream.flush()
    except BrokenPipeError:
        raise OutputError("the output stream was closed before the whole file was written") from None
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write to the output stream ({os_reason(error)})") from None


def check_output_folder(folder: str | os.PathLike[str]) -> None:
    """Fail now, once, when files cannot be created in ``folder`` (created if missing).

    Raises
    ------
    OutputError
        The folder cannot be created or written to.
    """
    where = Path(folder)
    try:
        where.mkdir(parents=True, exist_ok=True)
        descriptor, probe = _create_temporary(where, "dicomify-write-check", 0o600)
    except OSError as error:
        raise OutputError(f"cannot write output files here ({os_reason(error)})", source=str(where)) from None
    os.close(descriptor)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def remove_stale_temporaries(outputs: Iterable[str]) -> None:
    """Delete the ``.part`` temporaries a killed run left beside these outputs.

    One folder listing per output folder, so this stays linear in the batch size. Only
    call it when nothing is writing to these outputs.
    """
    stems_by_folder: dict[str, set[str]] = {}
    for output in outputs:
        folder, name = os.path.split(output)
        stems_by_folder.setdefault(folder or os.curdir, set()).add(_temporary_stem(name))
    for folder, stems in stems_by_folder.items():
        try:
            with os.scandir(folder) as scan:
                entries = [e.name for e in scan if e.name.startswith(".") and e.name.endswith(_SUFFIX)]
        except OSError:
            continue  # the folder does not exist (yet)
        for entry in entries:
            # ".{stem}.{token}.part": the stem is what is left without the token.
            stem = os.fsdecode(os.fsencode(entry)[1 : -(1 + _TOKEN + len(_SUFFIX))])
            if stem in stems and _is_temporary_of(entry, stem):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, entry))


_ITEM, _SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
_IMPLICIT_LITTLE = "1.2.840.10008.1.2"


def is_complete_dicom(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a DICOM file whose Pixel Data is all there.

    The header is read with pydicom; the Pixel Data element is then checked against
    the file's size: a native value must fit, an encapsulated one must reach its
    sequence delimiter. A truncated copy (an interrupted ``cp``, a full disk) is
    therefore not complete, while one byte of damage inside the pixels is not noticed.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            dataset = pydicom.dcmread(file, stop_before_pixels=True)
            syntax = str(dataset.file_meta.get("TransferSyntaxUID", ""))
            head = file.read(12)
            if len(head) < 8 or struct.unpack("<HH", head[:4]) != (0x7FE0, 0x0010):
                return False
            if syntax == _IMPLICIT_LITTLE:
                (length,) = struct.unpack("<I", head[4:8])
                start = file.tell() - 4
            else:
                (length,) = struct.unpack("<I", head[8:12]) if len(head) == 12 else (None,)
                start = file.tell()
                if length is None:
                    return False
            if length != 0xFFFFFFFF:
                return start + length <= size
            file.seek(start)
            while True:  # encapsulated: items up to the sequence delimiter (PS3.5 A.4)
                item = file.read(8)
                if len(item) < 8:
                    return False
                group, element, item_length = struct.unpack("<HHI", item)
                if (group, element) == _SEQUENCE_END:
                    return True
                if (group, element) != _ITEM or file.tell() + item_length > size:
                    return False
                file.seek(item_length, os.SEEK_CUR)
    except (OSError, InvalidDicomError, ValueError, KeyError, TypeError, AttributeError, struct.error):
        return False
