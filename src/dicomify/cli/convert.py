"""`dicomify convert`: flags onto one library call."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

from .._text import printable
from .._warnings import WARNING_PREFIX, library_notes
from ..errors import DicomifyError, OutputError
from ..iod.metadata import FIELDS, from_reference, load_json, validate
from ..options import Compression, ConvertOptions, Iod, VideoKind, parse_color
from ..outcome import ConvertStatus, Outcome
from .exitcodes import ExitCode, UsageError, for_counts
from .order import add_order_arguments, order_metadata_from_args

if TYPE_CHECKING:
    from ..batch import BatchRun, Step
    from ..net import Destination

__all__ = [
    "add_batch_arguments",
    "add_conversion_arguments",
    "add_delivery_arguments",
    "metadata_from_args",
    "options_from_args",
    "register",
    "run",
    "run_command",
]

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
    "DocumentTitle": "--document-title",
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
    group.add_argument("--dpi", type=float, help="rendering resolution for EMF/WMF and --pdf-as-images")
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
        "--max-records", type=int, help="most records in one EMF/WMF, counted before drawing (default 1000000)"
    )
    group.add_argument(
        "--max-seconds", type=float, help="seconds one file may take before it is reported failed (default 600)"
    )
    group.add_argument(
        "--pdf-as-images",
        action="store_true",
        help="render PDF pages (at --dpi, default 150) into a multi-frame Secondary Capture "
        "instead of keeping the PDF as Encapsulated PDF",
    )
    group.add_argument(
        "--video",
        choices=[kind.value for kind in VideoKind],
        default=VideoKind.PHOTOGRAPHIC.value,
        help="video sources: Video Photographic (default), Endoscopic or Microscopic Image",
    )
    group.add_argument(
        "--transcode",
        action="store_true",
        help="re-encode a video no DICOM transfer syntax allows to H.264 High Profile / Level 4.1 (lossy)",
    )
    group.add_argument(
        "--all-images",
        action="store_true",
        help="HEIF/HEIC with several images (burst, Live Photo): every image as a frame, not only the primary one",
    )

    meta = parser.add_argument_group("metadata (checked against each attribute's VR)")
    meta.add_argument("--metadata", metavar="FILE.json", help="JSON object of DICOM keywords and values")
    meta.add_argument("--study-from", metavar="FILE.dcm", help="copy patient and study from an existing DICOM")
    meta.add_argument("--series-from", metavar="FILE.dcm", help="copy patient, study and series from an existing DICOM")
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
    parser.add_argument("sources", nargs="*", metavar="SRC", help="picture file or folder (recursive); '-' reads stdin")
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
    from .send import add_commit_arguments, add_destination_arguments

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
    add_commit_arguments(parser)


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of batch mode (several files, folders, a manifest)."""
    group = parser.add_argument_group("batch")
    group.add_argument("-j", "--jobs", type=int, metavar="N", help="parallel worker processes (default: all cores)")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    group.add_argument(
        "--report", metavar="FILE", help="write one row per input: JSON lines, or CSV when FILE ends in .csv"
    )
    group.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave outputs that already exist alone (resumes an interrupted batch)",
    )
    # Two ways of saying the same thing: both at once is a contradiction, not an override.
    grouping = group.add_mutually_exclusive_group()
    grouping.add_argument(
        "--group",
        choices=["run", "folder", "file"],
        default="run",
        help="run: one study and series per run (default); folder: one series per input folder; "
        "file: every file its own study and series",
    )
    grouping.add_argument(
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
    """The conversion options the flags give; a bad value is a :class:`UsageError`."""
    try:
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
            max_records=args.max_records,
            max_seconds=args.max_seconds,
            all_images=args.all_images,
            pdf_as_images=args.pdf_as_images,
            video=VideoKind(args.video),
            transcode=args.transcode,
        )
    except DicomifyError as error:
        raise UsageError(str(error)) from None


def metadata_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Merge metadata sources; later ones win: --order / --study-in-pacs, reference DICOM, JSON file, --set, flags.

    A bad value in a flag or ``--set`` is a :class:`UsageError`; a bad file is not.
    """
    if args.study_from and args.series_from:
        raise UsageError("give either --study-from or --series-from, not both")
    given: dict[str, Any] = {}
    for item in args.set:
        keyword, separator, value = item.partition("=")
        if not separator:
            raise UsageError(f"--set {item!r} is not KEYWORD=VALUE")
        given[keyword.strip()] = value
    for keyword in FIELDS:
        value = getattr(args, f"meta_{keyword}")
        if value is not None:
            given[keyword] = value
    try:
        validate(given)
    except DicomifyError as error:
        raise UsageError(str(error)) from None
    metadata: dict[str, Any] = order_metadata_from_args(args)
    if args.study_from:
        metadata.update(from_reference(args.study_from, include_series=False))
        # A new series in that study: numbered after the reference's, not 1 again.
        metadata.update(_number_after(args.study_from, "SeriesNumber"))
    if args.series_from:
        metadata.update(from_reference(args.series_from, include_series=True))
        # More objects in that series: numbered after the reference's, not 1 again.
        metadata.update(_number_after(args.series_from, "InstanceNumber"))
    if args.metadata:
        metadata.update(load_json(args.metadata))
    metadata.update(given)
    return validate(metadata)


def _number_after(reference: str, keyword: str) -> dict[str, int]:
    """``{keyword: the reference's number + 1}`` (the first of the new ones), or nothing.

    Batch grouping counts on from it (docs/batch.md), so the new objects do not repeat
    numbers the reference's series or study already has.
    """
    import pydicom

    try:
        value = pydicom.dcmread(reference, stop_before_pixels=True, specific_tags=[keyword]).get(keyword)
        return {keyword: int(value) + 1} if value not in (None, "") else {}
    except (OSError, ValueError, TypeError, pydicom.errors.InvalidDicomError):
        return {}  # from_reference has read it already; a bad number is simply not used


def _is_batch(args: argparse.Namespace) -> bool:
    if args.manifest or len(args.sources) != 1:
        return True
    source = args.sources[0]
    if source != "-" and os.path.isdir(source):
        return True
    return args.output != "-" and (args.output.endswith(("/", os.sep)) or os.path.isdir(args.output))


def _check_usage(args: argparse.Namespace, sending: bool) -> None:
    """Refuse flags that do not fit together, before anything is read or written."""
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs} must be 1 or more")
    if sending and args.output == "-":
        raise UsageError("--send sends output files: give -o FILE.dcm or -o OUTDIR, not '-'")
    engine = _is_batch(args) or args.report or args.skip_existing or sending
    if args.sources == ["-"] and engine:
        raise UsageError(
            "stdin ('-') converts one picture to -o; batch flags (--report, --skip-existing ...) need files"
        )
    if "-" in args.sources and len(args.sources) > 1:
        raise UsageError("'-' (stdin) converts one picture; it cannot be mixed with other sources or a folder")
    if engine and args.output == "-":
        raise UsageError("several pictures need an output folder (-o OUTDIR), not '-'")
    if not args.sources and not args.manifest:
        raise UsageError("give pictures, folders or --manifest FILE.csv")
    if args.dask_scheduler and not _is_batch(args):
        raise UsageError("--dask-scheduler needs several pictures, a folder or a manifest")


def _destination(args: argparse.Namespace) -> Destination | None:
    """The --send destination, None without --send."""
    from .send import destination_from_args

    destination = destination_from_args(args)
    if not args.send:
        if destination is not None or args.skip_sent or args.commit:
            raise UsageError("--host/--stow/--skip-sent/--commit only apply with --send")
        return None
    if destination is None:
        raise UsageError("--send needs a destination: --host HOST (C-STORE) or --stow URL (STOW-RS)")
    return destination


def run_command(args: argparse.Namespace) -> int:
    """`dicomify convert`, with delivery when --send is given."""
    return run(args, destination=_destination(args))


def run(args: argparse.Namespace, on_converted: Step | None = None, destination: Destination | None = None) -> int:
    """Convert as the flags say; with ``destination``, send each output as it is written.

    ``on_converted`` is a step run on every converted file (see
    :meth:`dicomify.batch.BatchRun.then`); with one, the batch engine is used even for
    one file, as with ``--send``.
    """
    _check_usage(args, sending=destination is not None or on_converted is not None)
    options = options_from_args(args)
    try:
        metadata = metadata_from_args(args)
    except UsageError:
        raise
    except DicomifyError as error:
        # No order (or several), a worklist or PACS that cannot be asked: nothing is
        # converted under a wrong or missing patient, and each input gets its row.
        if args.report and (getattr(args, "order", None) or getattr(args, "study_in_pacs", None)):
            _report_not_converted(args, f"not converted: {error}")
        raise
    engine = _is_batch(args) or args.report or args.skip_existing or on_converted or destination
    if not engine:
        return _convert_one(args, options, metadata)
    from ..batch import convert_and_send, convert_file, convert_many, dask_executor, deliver
    from .send import commit_from_args

    commit = commit_from_args(args) if destination is not None else None

    with contextlib.ExitStack() as stack:
        executor = stack.enter_context(dask_executor(args.dask_scheduler)) if args.dask_scheduler else None
        batch: BatchRun
        if _is_batch(args):
            settings: dict[str, Any] = {
                "manifest": args.manifest,
                "options": options,
                "metadata": metadata,
                "executor": executor,
                "jobs": args.jobs,
                "group": args.group,
                "skip_existing": args.skip_existing,
                "on_converted": on_converted,
                "tune_allocator": True,  # this process is the batch's own
                "follow_links": args.follow_links,
            }
            if destination is not None:
                batch = convert_and_send(
                    args.sources, args.output, destination, skip_sent=args.skip_sent, commit=commit, **settings
                )
            else:
                batch = convert_many(args.sources, args.output, **settings)
        else:  # one file to an explicit output path, with --report, --skip-existing or --send
            batch = convert_file(
                args.sources[0],
                args.output,
                options=options,
                metadata=metadata,
                skip_existing=args.skip_existing,
                on_converted=on_converted,
            )
            if destination is not None:
                batch = deliver(batch, destination, skip_sent=args.skip_sent, commit=commit)
        return _show(batch, args.report, args.quiet)


def _convert_one(args: argparse.Namespace, options: ConvertOptions, metadata: dict[str, Any]) -> int:
    from ..api import DicomImage
    from ..batch.plan import same_file

    source_arg = args.sources[0]
    source: Any = sys.stdin.buffer if source_arg == "-" else source_arg
    target: Any = sys.stdout.buffer if args.output == "-" else args.output
    if source_arg != "-" and args.output != "-" and same_file(source_arg, args.output):
        raise OutputError(f"{args.output}: refusing to overwrite the input")
    said: list[str] = []
    try:
        with library_notes() as heard, DicomImage(source, options=options, **metadata) as image:
            image.save(target)
            # What the reader warns about (text drawn as boxes ...), as the batch shows it.
            said = [note for note in image.notes if note.startswith(WARNING_PREFIX)]
    except DicomifyError:
        if target is sys.stdout.buffer:
            _drop_stdout()
        raise
    finally:
        for note in [*heard, *said]:
            print(printable(f"dicomify: {source_arg}: {note}"), file=sys.stderr)
    return ExitCode.OK


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


def _report_not_converted(args: argparse.Namespace, reason: str) -> None:
    """A FAILED report row for every input, when the run stops before converting."""
    from ..batch.discover import scan
    from ..report import ReportWriter

    output = None if args.output == "-" else args.output
    sources = [source for source in args.sources if source != "-"]
    report = ReportWriter(args.report)
    try:
        found = scan(sources, output if _is_batch(args) else None, follow_links=args.follow_links)
        for item in found.inputs:
            report.write(Outcome(str(item.path), ConvertStatus.FAILED, message=reason))
        for passed in found.passed:
            report.write(Outcome(str(passed.path), passed.status, message=getattr(passed, "message", "") or reason))
    finally:
        report.close()


def _show(batch: BatchRun, report_path: str | None, quiet: bool) -> int:
    """Run the batch: progress on a terminal, one line per failure, the report, the exit code."""
    from ..report import ReportWriter
    from .progress import Progress

    report = ReportWriter(report_path) if report_path else None
    progress = Progress(batch.total, enabled=not quiet and sys.stderr.isatty())
    try:
        for outcome in batch:
            if report is not None:
                report.write(outcome)
            if outcome.status is ConvertStatus.FAILED:
                progress.clear()
                print(printable(f"dicomify: {outcome.source}: {outcome.message}"), file=sys.stderr)
            elif outcome.send_status is not None and not outcome.send_status.delivered:
                progress.clear()
                print(printable(f"dicomify: {outcome.output}: not sent: {outcome.message}"), file=sys.stderr)
            elif WARNING_PREFIX in outcome.message:
                progress.clear()
                for note in outcome.message.split("; "):
                    if note.startswith(WARNING_PREFIX):
                        print(printable(f"dicomify: {outcome.source}: {note}"), file=sys.stderr)
            progress.update(outcome.status.value)
    finally:
        progress.close()
        if report is not None:
            report.close()
    tally = batch.tally
    if not quiet:
        summary = progress.summary(report_path)
        if tally.not_sent:
            summary = summary.replace(" of ", f", {tally.not_sent} not sent of ", 1)
        print(summary, file=sys.stderr)
    return for_counts(tally.total, tally.unsuccessful)
