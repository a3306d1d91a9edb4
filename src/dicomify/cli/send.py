"""`dicomify send` and `dicomify echo`: presentation over :mod:`dicomify.net`.

``add_destination_arguments(parser)`` and ``destination_from_args(args)`` are also
what ``dicomify convert --send`` uses, so every command names a destination the
same way. Flag names follow DCMTK's storescu / echoscu where the idea exists
(``-aet``, ``-aec``, ``-to``, ``-pdu``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from .._text import printable
from ..errors import NetworkError
from ..net import (
    CommitOptions,
    Destination,
    DicomDestination,
    SendStatus,
    StowDestination,
    TLSOptions,
)
from ..report import ReportWriter
from .exitcodes import ExitCode, UsageError, for_counts

__all__ = [
    "add_commit_arguments",
    "add_destination_arguments",
    "commit_from_args",
    "destination_from_args",
    "register",
    "run_echo",
    "run_send",
]

PASSWORD_ENV = "DICOMIFY_PASSWORD"
TOKEN_ENV = "DICOMIFY_TOKEN"

# Options that only make sense for one kind of destination: (dest, flag) pairs.
_DICOM_ONLY = (
    ("port", "--port"),
    ("called_aet", "-aec"),
    ("calling_aet", "-aet"),
    ("max_pdu", "-pdu"),
    ("tls", "--tls"),
    ("tls_cert", "--tls-cert"),
    ("tls_key", "--tls-key"),
    ("no_hostname_check", "--tls-no-hostname-check"),
)
_STOW_ONLY = (
    ("user", "--user"),
    ("password", "--password"),
    ("password_file", "--password-file"),
    ("token", "--token"),
    ("token_file", "--token-file"),
    ("batch_size", "--batch-size"),
)
# PS3.8 D.1 lets a peer announce any size, but below DCMTK's minimum (ASC_MINIMUMPDUSIZE)
# every data set is cut into thousands of tiny PDUs: a typing mistake, not a wish.
MIN_PDU = 4096

# Seconds for each exchange when -to is not given (a worklist config file may say otherwise).
DEFAULT_TIMEOUT = 30.0


def add_destination_arguments(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """Add the flags that name a destination (DICOM peer or STOW-RS URL) to ``parser``."""
    group = parser.add_argument_group("destination (DICOM C-STORE, or DICOMweb STOW-RS with --stow)")
    where = group.add_mutually_exclusive_group(required=required)
    where.add_argument("--host", metavar="HOST", help="the DICOM peer's host name or IP address")
    where.add_argument("--stow", metavar="URL", help="send by STOW-RS to this DICOMweb root or .../studies URL")
    group.add_argument("--port", type=int, metavar="PORT", help="the DICOM peer's port (default 104)")
    group.add_argument("-aet", "--calling-aet", metavar="AETITLE", help="our AE title (default DICOMIFY)")
    group.add_argument("-aec", "--called-aet", metavar="AETITLE", help="the peer's AE title (default ANY-SCP)")
    group.add_argument(
        "-to",
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="deadline for each exchange: connecting, sending and the whole answer (default 30, or the "
        "worklist config file's; +1 s per MB sent)",
    )
    group.add_argument(
        "--retries",
        type=int,
        metavar="N",
        default=2,
        help="try a failed connection or request N more times (default 2)",
    )
    group.add_argument(
        "--backoff",
        type=float,
        metavar="SECONDS",
        default=1.0,
        help="wait before the first retry, doubled for each next one (default 1)",
    )
    group.add_argument(
        "-pdu", "--max-pdu", type=int, metavar="BYTES", help="maximum PDU size we receive (default: no limit)"
    )
    group.add_argument("--tls", action="store_true", help="use TLS for DICOM (implied by the other --tls-* options)")
    group.add_argument("--tls-ca", type=Path, metavar="PEM", help="certificates that may sign the peer's certificate")
    group.add_argument("--tls-cert", type=Path, metavar="PEM", help="our certificate, for peers that ask for one")
    group.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert")
    group.add_argument(
        "--tls-no-hostname-check",
        dest="no_hostname_check",
        action="store_true",
        help="do not compare the peer's certificate with --host",
    )
    group.add_argument("--user", metavar="NAME", help="HTTP basic authentication user for --stow")
    group.add_argument(
        "--password",
        metavar="SECRET",
        help=f"HTTP basic authentication password (default: the {PASSWORD_ENV} environment variable)",
    )
    group.add_argument(
        "--token", metavar="TOKEN", help=f"HTTP bearer token for --stow (default: the {TOKEN_ENV} environment variable)"
    )
    group.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="read the --user password from FILE (its first line): kept out of the process list",
    )
    group.add_argument(
        "--token-file", type=Path, metavar="FILE", help="read the bearer token from FILE (its first line)"
    )
    group.add_argument("--batch-size", type=int, metavar="N", help="instances per STOW-RS request (default 20)")


def add_commit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--commit`` (Storage Commitment after storing) and its options."""
    group = parser.add_argument_group("storage commitment (C-STORE)")
    group.add_argument(
        "--commit",
        action="store_true",
        help="after storing, ask the archive to commit every instance (N-ACTION) and wait for its report",
    )
    group.add_argument(
        "--commit-port",
        type=int,
        metavar="PORT",
        help="listen on PORT (under our -aet) for the report on an association the archive opens "
        "(default: wait on our own association)",
    )
    group.add_argument(
        "--commit-timeout",
        type=float,
        metavar="SECONDS",
        help="how long to wait for the archive's report (default 60)",
    )


def commit_from_args(args: argparse.Namespace) -> CommitOptions | None:
    """The ``--commit`` options, None without ``--commit``."""
    if not getattr(args, "commit", False):
        stray = [
            flag
            for dest, flag in (("commit_port", "--commit-port"), ("commit_timeout", "--commit-timeout"))
            if getattr(args, dest, None) is not None
        ]
        if stray:
            raise NetworkError(f"{stray[0]} applies with --commit.")
        return None
    if getattr(args, "stow", None) is not None:
        raise NetworkError("--commit needs a DICOM --host: STOW-RS has no storage commitment.")
    wait = 60.0 if args.commit_timeout is None else args.commit_timeout
    return CommitOptions(port=args.commit_port, wait=wait)


def _given(args: argparse.Namespace, dest: str) -> bool:
    value = getattr(args, dest, None)
    return value not in (None, False)


def destination_from_args(args: argparse.Namespace) -> Destination | None:
    """The destination the flags name, None when neither --host nor --stow is given.

    Raises :class:`UsageError` for flags that do not fit together or bad values.
    """
    try:
        return _destination(args)
    except NetworkError as error:  # the library's check of a value the flags gave
        raise UsageError(str(error)) from None


def _destination(args: argparse.Namespace) -> Destination | None:
    if args.host is None and args.stow is None:
        stray = [flag for dest, flag in _DICOM_ONLY + _STOW_ONLY if _given(args, dest)]
        if stray:
            raise UsageError(f"{stray[0]} needs a destination: add --host HOST or --stow URL.")
        return None
    if args.host is not None:
        stray = [flag for dest, flag in _STOW_ONLY if _given(args, dest)]
        if stray:
            raise UsageError(f"{stray[0]} applies to --stow, not to a DICOM --host.")
        tls = None
        if args.tls or args.tls_ca or args.tls_cert or args.tls_key or args.no_hostname_check:
            tls = TLSOptions(
                ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key, check_hostname=not args.no_hostname_check
            )
        if args.max_pdu is not None and args.max_pdu != 0 and not MIN_PDU <= args.max_pdu <= 0xFFFFFFFF:
            raise UsageError(f"--max-pdu {args.max_pdu} is outside {MIN_PDU}..4294967295 (0: no limit).")
        return DicomDestination(
            host=args.host,
            port=104 if args.port is None else args.port,
            called_aet=args.called_aet or "ANY-SCP",
            calling_aet=args.calling_aet or "DICOMIFY",
            timeout=DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
            retries=args.retries,
            backoff=args.backoff,
            tls=tls,
            max_pdu=args.max_pdu or 0,
        )
    stray = [flag for dest, flag in _DICOM_ONLY if _given(args, dest)]
    if stray:
        raise UsageError(f"{stray[0]} applies to a DICOM --host, not to --stow (use --tls-ca for https).")
    if args.tls_ca is not None and not str(args.stow).lower().startswith("https://"):
        raise UsageError(f"--tls-ca applies to an https:// STOW URL; {args.stow} is not encrypted.")
    password = _secret(args.password, args.password_file, "--password")
    if password is None and args.user:
        password = os.environ.get(PASSWORD_ENV)
    token = _secret(args.token, args.token_file, "--token")
    if token is None and not args.user:
        token = os.environ.get(TOKEN_ENV)
    return StowDestination(
        url=args.stow,
        username=args.user,
        password=password,
        token=token,
        timeout=DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
        retries=args.retries,
        backoff=args.backoff,
        ca=args.tls_ca,
        batch_size=args.batch_size or 20,
    )


def _secret(given: str | None, file: Path | None, flag: str) -> str | None:
    """A secret from its flag or from the first line of its file (never both)."""
    if file is None:
        return given
    if given is not None:
        raise UsageError(f"give {flag} or {flag}-file, not both.")
    try:
        with open(file, encoding="utf-8") as handle:
            first = handle.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise UsageError(f"{flag}-file {file}: cannot read it ({reason}).") from None
    if not first:
        raise UsageError(f"{flag}-file {file}: the first line is empty.")
    return first


def register(subparsers: Any) -> None:  # argparse's _SubParsersAction is private
    send = subparsers.add_parser(
        "send",
        help="send DICOM files to a PACS (C-STORE or STOW-RS)",
        description="Send DICOM files, and the DICOM files under folders, to a PACS. "
        "Exit code 0 when every file is stored, 3 when some are not, 1 when none is, 2 for a bad command line.",
    )
    send.add_argument(
        "sources", nargs="+", metavar="FILE_OR_FOLDER", help="DICOM files and folders (searched recursively)"
    )
    add_destination_arguments(send, required=True)
    send.add_argument(
        "--report", type=Path, metavar="FILE", help="write one row per file (.csv, or JSON lines otherwise)"
    )
    send.add_argument(
        "--skip-sent",
        type=Path,
        metavar="REPORT",
        help="do not send again what this earlier report says was stored (may be the --report file)",
    )
    add_commit_arguments(send)
    send.add_argument("-q", "--quiet", action="store_true", help="print only failures")
    send.set_defaults(func=run_send)

    check = subparsers.add_parser(
        "echo",
        help="check the connection to a PACS (C-ECHO, or a QIDO-RS request for --stow)",
        description="Check that the PACS answers: C-ECHO for a DICOM peer, a one-study QIDO-RS search for --stow.",
    )
    add_destination_arguments(check, required=True)
    check.set_defaults(func=run_echo)


def run_send(args: argparse.Namespace) -> int:
    destination = destination_from_args(args)
    assert destination is not None  # the parser requires --host or --stow
    from ..net import send_files

    results = send_files(args.sources, destination, skip_sent=args.skip_sent, commit=commit_from_args(args))
    counts: Counter[SendStatus] = Counter()
    writer = ReportWriter(args.report) if args.report else None
    try:
        for result in results:
            counts[SendStatus(result.status)] += 1
            if writer is not None:
                writer.write(result.report_row())
            if not result.ok:  # failed, unconfirmed or not committed: not known to be kept
                print(
                    printable(f"dicomify: {result.source or result.sop_instance_uid}: {result.message}"),
                    file=sys.stderr,
                )
            elif not args.quiet:
                print(printable(f"{result.status.value}: {result.source}"), file=sys.stderr)
    finally:
        results.close()  # releases the association now, also after an error
        if writer is not None:
            writer.close()
    total = sum(counts.values())
    if total == 0:
        print("dicomify: error: no DICOM files found in " + ", ".join(map(repr, args.sources)) + ".", file=sys.stderr)
        return ExitCode.FAILED
    failed = sum(count for status, count in counts.items() if not status.delivered)
    if not args.quiet:
        committed = ""
        if args.commit:
            committed = f", {counts[SendStatus.COMMITTED]} committed, {counts[SendStatus.UNCOMMITTED]} not committed"
        stored = sum(counts[status] for status in (SendStatus.STORED, SendStatus.STORED_DECODED))
        stored += counts[SendStatus.COMMITTED] + counts[SendStatus.UNCOMMITTED]  # stored, then asked to commit
        print(
            f"{total} file(s): {stored} stored"
            f" ({counts[SendStatus.STORED_DECODED]} decoded first){committed}, {counts[SendStatus.SKIPPED]} skipped,"
            f" {counts[SendStatus.FAILED]} failed, {counts[SendStatus.UNCONFIRMED]} unconfirmed, to {destination}.",
            file=sys.stderr,
        )
    return for_counts(total, failed)


def run_echo(args: argparse.Namespace) -> int:
    destination = destination_from_args(args)
    assert destination is not None
    from ..net import echo

    outcome = echo(destination)
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return ExitCode.OK if outcome.ok else ExitCode.FAILED
