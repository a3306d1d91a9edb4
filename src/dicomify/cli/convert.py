"""`dicomify convert`: flags onto one library call."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._text import printable
from ..errors import DicomifyError
from ..iod.metadata import FIELDS, from_reference, load_json, validate
from ..options import Compression, ConvertOptions, Iod, parse_color
from .order import add_order_arguments, order_metadata_from_args

if TYPE_CHECKING:
    from ..batch import BatchResult

OnConverted = Callable[["BatchResult"], "BatchResult | None"]

__all__ = ["add_batch_arguments", "add_conversion_arguments", "metadata_from_args", "options_from_args", "register", "run", "run_batch"]

# Metadata flags: --patient-name → PatientName, and so on for every field.
_FLAG_NAMES = {
    "PatientName": "--patient-name",
    "PatientID": "--patient-id",
    "IssuerOfPatientID": "--issuer-of-patient-id",
    "PatientBirthDate": "--birth-date",
    "PatientSex": "--sex",
    "StudyInstanceUID": "--study-uid",
    "StudyDate": "--study-date",
    "StudyTime": "--study-time",
    "StudyDescription": "--study-description",
    "StudyID": "--study-id",
    "AccessionNumber": "--accession-number",
    "ReferringPhysicianName": "--referring-physician",
    "SeriesInstanceUID": "--series-uid",
    "SeriesNumber": "--series-number",
    "SeriesDescription": "--series-description",
    "SeriesDate": "--series-date",
    "SeriesTime": "--series-time",
    "Modality": "--modality",
    "BodyPartExamined": "--body-part",
    "Laterality": "--laterality",
    "InstanceNumber": "--instance-number",
    "ContentDate": "--content-date",
    "ContentTime": "--content-time",
    "InstitutionName": "--institution",
    "InstitutionalDepartmentName": "--department",
    "OperatorsName": "--operator",
    "ImageComments": "--comments",
    "ConversionType": "--conversion-type",
}
assert set(_FLAG_NAMES) == set(FIELDS), "every metadata field has a flag"


def add_conversion_arguments(parser: argparse.ArgumentParser) -> None:
    """Conversion options and metadata flags (shared with the batch mode)."""
    group = parser.add_argument_group("conversion")
    group.add_argument(
        "--iod",
        choices=[i.value for i in Iod],
        default=Iod.SECONDARY_CAPTURE.value,
        help="sc: Secondary Capture (default; multi-frame SC for several frames); "
        "photo: VL Photographic Image for clinical photos",
    )
    group.add_argument(
        "--compress",
        choices=[c.value for c in Compression],
        default=Compression.NONE.value,
        help="lossless compression of decoded pixels (JPEG passthrough is never re-encoded)",
    )
    group.add_argument("--decode-jpeg", action="store_true", help="store JPEG decoded instead of byte-exact")
    group.add_argument(
        "--keep-jpeg-metadata",
        action="store_true",
        help="keep EXIF/XMP/IPTC/comment segments inside a JPEG stored byte-exact (removed by default: "
        "they can hold GPS positions and serial numbers)",
    )
    group.add_argument(
        "--keep-orientation",
        action="store_true",
        help="ignore EXIF orientation: keep the JPEG bytes as they are even when rotated",
    )
    group.add_argument(
        "--background", default="white", help="colour transparent pixels are composited over (default white)"
    )
    group.add_argument("--dpi", type=float, help="rendering resolution for EMF/WMF")
    group.add_argument("--page", type=int, help="convert only this page/frame (0-based) of a multi-page source")
    group.add_argument(
        "--max-pixels",
        type=int,
        help="decompression-bomb limit in pixels per frame (default: Pillow's, about 89 million)",
    )
    group.add_argument(
        "--max-frames", type=int, help="most frames (animation frames, TIFF pages) in one object (default 10000)"
    )
    group.add_argument(
        "--max-bytes", type=int, help="most decoded pixel bytes in one object (default 1 GiB; never over 4 GiB)"
    )
    group.add_argument(
        "--all-images",
        action="store_true",
        help="HEIF/HEIC with several images (burst, Live Photo): every image as a frame, not only the primary one",
    )

    meta = parser.add_argument_group("metadata (checked against each attribute's VR)")
    meta.add_argument("--metadata", metavar="FILE.json", help="JSON object of DICOM keywords and values")
    meta.add_argument("--study-from", metavar="FILE.dcm", help="copy patient and study from an existing DICOM")
    meta.add_argument(
        "--series-from", metavar="FILE.dcm", help="copy patient, study and series from an existing DICOM"
    )
    meta.add_argument(
        "--set",
        metavar="KEYWORD=VALUE",
        action="append",
        default=[],
        help="any metadata field by DICOM keyword (repeatable)",
    )
    for keyword, flag in _FLAG_NAMES.items():
        meta.add_argument(flag, dest=f"meta_{keyword}", metavar="VALUE", help=f"({keyword})")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert pictures to DICOM",
        description="Convert pictures (JPEG, PNG, BMP, TIFF, GIF, WebP, EMF, WMF) to DICOM: one file "
        "(SRC -o FILE.dcm, '-' for stdin/stdout) or many files and folders (SRC... -o OUTDIR).",
        epilog="Exit codes: 0 every file converted (or skipped); 1 nothing converted; "
        "2 bad command line; 3 some files failed (see --report).",
    )
    parser.add_argument(
        "sources", nargs="*", metavar="SRC", help="picture file or folder (recursive); '-' reads stdin"
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DST",
        help="output file ('-' writes stdout), or the output folder for several SRCs, folders or a manifest",
    )
    add_batch_arguments(parser)
    add_conversion_arguments(parser)
    add_delivery_arguments(parser)
    add_order_arguments(parser)
    parser.set_defaults(func=run_command)


def add_delivery_arguments(parser: argparse.ArgumentParser) -> None:
    """``--send`` and the destination flags shared with ``dicomify send``."""
    from .send import add_destination_arguments

    group = parser.add_argument_group("delivery (--send)")
    group.add_argument(
        "--send",
        action="store_true",
        help="send each file as soon as it is converted, to --host (C-STORE) or --stow (STOW-RS)",
    )
    group.add_argument(
        "--skip-sent",
        metavar="REPORT",
        help="with --send: do not send again outputs an earlier --report says were stored "
        "(outputs kept by --skip-existing are sent otherwise)",
    )
    add_destination_arguments(parser)


def run_command(args: argparse.Namespace) -> int:
    """`dicomify convert`, with delivery when --send is given."""
    from .send import destination_from_args

    destination = destination_from_args(args)
    if not args.send:
        if destination is not None or args.skip_sent:
            raise DicomifyError("--host/--stow/--skip-sent only apply with --send")
        return run(args)
    if destination is None:
        raise DicomifyError("--send needs a destination: --host HOST (C-STORE) or --stow URL (STOW-RS)")
    if args.output == "-":
        raise DicomifyError("--send sends output files: give -o FILE.dcm or -o OUTDIR, not '-'")
    delivered = _delivered_outputs(args.skip_sent) if args.skip_sent else set()
    from ..net import open_sender

    with open_sender(destination) as sender:
        return run(args, on_converted=_send_hook(sender, delivered))


def _delivered_outputs(report: str) -> set[tuple[str, str]]:
    """(real output path, SOP Instance UID) of the rows an earlier run delivered."""
    from ..report import read_report

    if not os.path.isfile(report):
        raise DicomifyError(f"--skip-sent {report}: no such report")
    try:
        return {
            (os.path.realpath(row.get("output", "")), row.get("sop_instance_uid", ""))
            for row in read_report(report)
            if row.get("send_status") in ("stored", "stored-decoded", "skipped") and row.get("output")
        }
    except (ValueError, OSError) as error:
        raise DicomifyError(f"--skip-sent {report}: cannot read the report ({error})") from None


def _send_hook(sender: Any, delivered: set[tuple[str, str]]) -> OnConverted:
    """Send each converted (or kept) output in this process, over the sender's association."""
    import dataclasses

    def on_converted(result: BatchResult) -> BatchResult | None:
        if result.status not in ("converted", "skipped"):
            return None
        if (os.path.realpath(result.output), result.sop_instance_uid) in delivered:
            return dataclasses.replace(result, send_status="skipped")
        sent = sender.send(result.output)
        message = "; ".join(text for text in (result.message, sent.message) if text)
        return dataclasses.replace(
            result,
            send_status=sent.status.value,
            send_transfer_syntax=sent.sent_transfer_syntax,
            message=message,
        )

    return on_converted


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of batch mode (several files, folders, a manifest)."""
    group = parser.add_argument_group("batch")
    group.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="parallel worker processes (default: all cores)"
    )
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    group.add_argument(
        "--report", metavar="FILE", help="write one row per input: JSON lines, or CSV when FILE ends in .csv"
    )
    group.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave outputs that already exist alone (resumes an interrupted batch)",
    )
    group.add_argument(
        "--group",
        choices=["run", "folder", "file"],
        default="run",
        help="run: one study and series per run (default); folder: one series per input folder; "
        "file: every file its own study and series",
    )
    group.add_argument(
        "--series-per-folder",
        dest="group",
        action="store_const",
        const="folder",
        help="same as --group folder",
    )
    group.add_argument(
        "--follow-links",
        action="store_true",
        help="follow symbolic links that lead out of the input folders (not followed by default)",
    )
    group.add_argument(
        "--manifest",
        metavar="FILE.csv",
        help="CSV with a 'path' column and metadata columns by DICOM keyword (PatientID, ...) per file",
    )
    group.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run the conversions on a Dask cluster (tcp://host:8786); needs pip install 'dicomify[dask]'",
    )


def options_from_args(args: argparse.Namespace) -> ConvertOptions:
    return ConvertOptions(
        iod=Iod(args.iod),
        compression=Compression(args.compress),
        decode_jpeg=args.decode_jpeg,
        keep_orientation=args.keep_orientation,
        keep_jpeg_metadata=args.keep_jpeg_metadata,
        background=parse_color(args.background),
        dpi=args.dpi,
        page=args.page,
        max_pixels=args.max_pixels,
        max_frames=args.max_frames,
        max_bytes=args.max_bytes,
        all_images=args.all_images,
    )


def metadata_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Merge metadata sources; later ones win: --order / --study-in-pacs, reference DICOM, JSON file, --set, flags."""
    metadata: dict[str, Any] = order_metadata_from_args(args)
    if args.study_from and args.series_from:
        raise DicomifyError("give either --study-from or --series-from, not both")
    if args.study_from:
        metadata.update(from_reference(args.study_from, include_series=False))
    if args.series_from:
        metadata.update(from_reference(args.series_from, include_series=True))
    if args.metadata:
        metadata.update(load_json(args.metadata))
    for item in args.set:
        keyword, separator, value = item.partition("=")
        if not separator:
            raise DicomifyError(f"--set {item!r} is not KEYWORD=VALUE")
        metadata[keyword.strip()] = value
    for keyword in FIELDS:
        value = getattr(args, f"meta_{keyword}")
        if value is not None:
            metadata[keyword] = value
    return validate(metadata)


def _is_batch(args: argparse.Namespace) -> bool:
    if args.manifest or len(args.sources) != 1:
        return True
    source = args.sources[0]
    if source != "-" and os.path.isdir(source):
        return True
    return args.output != "-" and (args.output.endswith(("/", os.sep)) or os.path.isdir(args.output))


def run(args: argparse.Namespace, on_converted: OnConverted | None = None) -> int:
    """``on_converted`` is the hook for delivery (``--send``): see :func:`run_batch`."""
    if args.jobs is not None and args.jobs < 1:
        raise DicomifyError(f"--jobs {args.jobs} must be 1 or more")
    options = options_from_args(args)
    metadata = metadata_from_args(args)
    if _is_batch(args) or args.report or args.skip_existing or on_converted is not None:
        return run_batch(args, options, metadata, on_converted)
    if args.dask_scheduler:
        raise DicomifyError("--dask-scheduler needs several pictures, a folder or a manifest")
    source_arg = args.sources[0]
    source: Any = sys.stdin.buffer if source_arg == "-" else source_arg
    target: Any = sys.stdout.buffer if args.output == "-" else args.output
    if source_arg != "-" and args.output != "-" and _same_file(source_arg, args.output):
        raise DicomifyError(f"{args.output}: refusing to overwrite the input")
    from ..api import convert

    try:
        convert(source, target, options=options, **metadata)
    except DicomifyError:
        if target is sys.stdout.buffer:
            _drop_stdout()
        raise
    return 0


def _drop_stdout() -> None:
    """After a failed write to stdout, send what Python still holds for it to /dev/null.

    Otherwise the interpreter flushes it again at exit and prints a second, raw error.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run_batch(
    args: argparse.Namespace,
    options: ConvertOptions,
    metadata: dict[str, Any],
    on_converted: OnConverted | None = None,
) -> int:
    """Batch mode: plan, convert in parallel, report; the exit code says how it went.

    ``on_converted(result)`` runs in this process for each converted (or skipped) file
    as it finishes and may return a replacement result with the ``send_*`` fields set:
    that is where ``--send`` hands each output to the delivery step.
    """
    from ..batch import convert_many
    from ..batch.engine import BatchRun, Task, tune_allocator
    from ..report import ReportWriter
    from . import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
    from .progress import Progress

    if args.sources == ["-"]:
        raise DicomifyError("stdin ('-') converts one picture to -o; batch flags (--report, --skip-existing ...) need files")
    if "-" in args.sources:
        raise DicomifyError("'-' (stdin) converts one picture; it cannot be mixed with other sources or a folder")
    if args.output == "-":
        raise DicomifyError("several pictures need an output folder (-o OUTDIR), not '-'")
    if not args.sources and not args.manifest:
        raise DicomifyError("give pictures, folders or --manifest FILE.csv")
    client = None
    if not _is_batch(args):
        # One file to an explicit output path, with --report or --skip-existing.
        source = args.sources[0]
        if not os.path.isfile(source):
            raise DicomifyError(f"{source}: no such file")
        if _same_file(source, args.output):
            raise DicomifyError(f"{args.output}: refusing to overwrite the input")
        batch = BatchRun([Task(source, args.output, metadata)], [], options, None, 1, args.skip_existing, on_converted)
    else:
        executor = None
        if args.dask_scheduler:
            executor, client = _dask_executor(args.dask_scheduler)
        try:
            batch = convert_many(
                args.sources,
                args.output,
                manifest=args.manifest,
                options=options,
                executor=executor,
                jobs=args.jobs,
                group=args.group,
                skip_existing=args.skip_existing,
                on_converted=on_converted,
                follow_links=args.follow_links,
                **metadata,
            )
        except BaseException:
            if client is not None:
                client.close()
            raise
    tune_allocator()  # this process is ours: files converted here (--jobs 1) fault less
    report = ReportWriter(args.report) if args.report else None
    progress = Progress(batch.total, enabled=not args.quiet and sys.stderr.isatty())
    not_sent = 0  # converted, but the delivery step (on_converted) failed to send it
    try:
        for result in batch:
            if report is not None:
                report.write(result.as_row())
            if result.status == "failed":
                progress.clear()
                print(printable(f"dicomify: {result.source}: {result.message}"), file=sys.stderr)
            elif result.send_status == "failed":
                not_sent += 1
                progress.clear()
                print(printable(f"dicomify: {result.output}: not sent: {result.message}"), file=sys.stderr)
            progress.update(result.status)
    finally:
        progress.close()
        if report is not None:
            report.close()
        if client is not None:
            client.close()
    counts = progress.counts
    if not args.quiet:
        summary = progress.summary(args.report)
        print(summary.replace(" of ", f", {not_sent} not sent of ", 1) if not_sent else summary, file=sys.stderr)
    failed = counts["failed"] + not_sent
    if failed == 0:
        return EXIT_OK
    if failed >= batch.total:
        return EXIT_FAILED
    return EXIT_PARTIAL


# Seconds to wait for the Dask scheduler before giving up.
DASK_CONNECT_TIMEOUT = 30


def _dask_executor(address: str) -> tuple[Any, Any]:
    try:
        from distributed import Client
    except ImportError:
        raise DicomifyError(
            "--dask-scheduler needs dask.distributed: pip install 'dicomify[dask]'"
        ) from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise DicomifyError(f"cannot reach the Dask scheduler at {address} ({error})") from None
    # pure=False: two files are never "the same task" to Dask.
    return client.get_executor(pure=False), client


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
