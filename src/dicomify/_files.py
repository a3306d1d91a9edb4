"""Writing DICOM files so that a failure or a kill never leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError

__all__ = ["atomic_output"]


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], overwrite: bool = True) -> Iterator[BinaryIO]:
    """Yield a temporary file beside ``path``; rename it over ``path`` only on success.

    The rename is atomic on POSIX, so readers (and a resumed batch) see either no file
    or the complete one. On any error the temporary file is removed.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise OutputError("already exists", source=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as error:
        raise OutputError(f"cannot write here ({error.strerror})", source=str(target)) from None
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
