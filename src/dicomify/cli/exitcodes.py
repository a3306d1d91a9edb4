"""The CLI's exit codes, decided here and nowhere else.

====  =====================================================================
0     every file converted (or skipped), stored (or skipped as stored)
1     nothing done: every file failed, or the command could not start
      (a missing input, an unreadable metadata file or manifest, a peer
      that cannot be reached)
2     bad command line: unknown, missing or conflicting flags, bad flag
      values (argparse's own code, and :class:`UsageError`)
3     some files done, some failed (see the report)
====  =====================================================================
"""

from __future__ import annotations

from enum import IntEnum

from ..errors import DicomifyError

__all__ = ["ExitCode", "UsageError", "for_counts"]


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    PARTIAL = 3


class UsageError(DicomifyError):
    """The command line itself is wrong: flags that do not fit together, or a bad flag value."""


def for_counts(total: int, unsuccessful: int) -> ExitCode:
    """The exit code of a command that handled ``total`` files, ``unsuccessful`` of them not done.

    A command that found nothing to do (``total`` 0) failed.
    """
    if total == 0 or unsuccessful >= total:
        return ExitCode.FAILED
    return ExitCode.PARTIAL if unsuccessful else ExitCode.OK
