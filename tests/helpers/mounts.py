"""Small real file systems for the tests: a full disk and a read-only folder.

``mount`` needs root; without it a test that needs a full disk is skipped, except
under CI (env ``CI`` set), where the missing check is a failure.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "1m", read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``where`` (created) for the duration."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        _unavailable(f"cannot mount a tmpfs ({mounted.stderr.strip() or 'mount refused'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


@contextlib.contextmanager
def read_only_folder(where: Path) -> Iterator[Path]:
    """A folder nobody may create files in (root included: a read-only mount)."""
    if os.geteuid() != 0:
        where.mkdir(parents=True, exist_ok=True)
        where.chmod(0o555)
        try:
            yield where
        finally:
            where.chmod(0o755)
        return
    with tmpfs(where, read_only=True) as mounted:
        yield mounted


def without_file_permissions_bypass() -> list[str]:
    """A command prefix that runs a child without root's permission bypass.

    Root reads unreadable folders; the child loses CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH so that file modes apply to it as to anyone.
    """
    if os.geteuid() != 0:
        return []
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", "--"]
