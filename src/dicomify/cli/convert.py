"""`dicomify convert`: flags onto one library call."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..api import convert
from ..build.metadata import FIELDS, from_reference, load_json, validate
from ..errors import DicomifyError
from ..options import Compression, ConvertOptions, Iod, parse_color

__all__ = ["metadata_from_args", "options_from_args", "register"]

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
        description="Convert pictures (JPEG, PNG, BMP, TIFF, GIF, WebP, EMF, WMF) to DICOM.",
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", help="picture file ('-' reads stdin)")
    parser.add_argument("-o", "--output", required=True, metavar="DST", help="output file ('-' writes stdout)")
    add_conversion_arguments(parser)
    parser.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> ConvertOptions:
    return ConvertOptions(
        iod=Iod(args.iod),
        compression=Compression(args.compress),
        decode_jpeg=args.decode_jpeg,
        keep_orientation=args.keep_orientation,
        background=parse_color(args.background),
        dpi=args.dpi,
        page=args.page,
        max_pixels=args.max_pixels,
    )


def metadata_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Merge metadata sources; later ones win: reference DICOM, JSON file, --set, flags."""
    metadata: dict[str, Any] = {}
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


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    metadata = metadata_from_args(args)
    if len(args.sources) != 1:
        raise DicomifyError("give exactly one SRC (batch conversion of many files is not available yet)")
    source_arg = args.sources[0]
    source: Any = sys.stdin.buffer if source_arg == "-" else source_arg
    target: Any = sys.stdout.buffer if args.output == "-" else args.output
    if source_arg != "-" and args.output != "-" and _same_file(source_arg, args.output):
        raise DicomifyError(f"{args.output}: refusing to overwrite the input")
    convert(source, target, options=options, **metadata)
    if target is sys.stdout.buffer:
        sys.stdout.buffer.flush()
    return 0


def _same_file(a: str, b: str) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
