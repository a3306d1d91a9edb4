"""Video: PyAV writes the clips; the stream is stored unchanged under the transfer syntax it satisfies."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import av
import pydicom
import pytest
from helpers.validators import dciodvfy_errors, require_tool
from helpers.video import clip
from pydicom.encaps import generate_frames
from pydicom.uid import (
    HEVCMP51,
    MPEG2MPML,
    MPEG4HP41,
    VideoEndoscopicImageStorage,
    VideoPhotographicImageStorage,
)

import dicomify
from dicomify.errors import UnsupportedFormatError
from dicomify.export import export_file

REGION = [{"CodeValue": "85050009", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Upper arm"}]


def _stored_stream(path: Path) -> bytes:
    ds = pydicom.dcmread(path)
    return next(generate_frames(ds.PixelData, number_of_frames=1))


def _check_plays(data: bytes, frames: int) -> None:
    """FFmpeg decodes every frame of what the object carries."""
    with av.open(io.BytesIO(data)) as container:
        assert sum(1 for _ in container.decode(video=0)) == frames


def test_h264_mp4_kept_byte_identical(tmp_path: Path) -> None:
    source = clip(tmp_path / "wound.mp4", options={"profile": "high", "level": "4.1"})
    ds = dicomify.convert(source, tmp_path / "wound.dcm", PatientID="P1", AnatomicRegionSequence=REGION)
    stored = pydicom.dcmread(tmp_path / "wound.dcm")
    assert stored.file_meta.TransferSyntaxUID == MPEG4HP41
    assert stored.SOPClassUID == VideoPhotographicImageStorage and stored.Modality == "XC"
    assert (stored.NumberOfFrames, float(stored.FrameTime), stored.CineRate) == (12, 40.0, 25)
    assert stored.PhotometricInterpretation == "YBR_PARTIAL_420"
    assert (stored.Rows, stored.Columns) == (240, 320)
    assert stored.LossyImageCompression == "01" and stored.LossyImageCompressionMethod == "ISO_14496_10"
    data = source.read_bytes()
    assert _stored_stream(tmp_path / "wound.dcm").rstrip(b"\0") == data.rstrip(b"\0")
    assert dciodvfy_errors(tmp_path / "wound.dcm") == []
    dump = subprocess.run([require_tool("dcmdump"), str(tmp_path / "wound.dcm")], capture_output=True, text=True)
    assert dump.returncode == 0 and "MPEG-4 AVC/H.264 High Profile / Level 4.1" in dump.stdout
    [back] = export_file(tmp_path / "wound.dcm", tmp_path)
    assert back.suffix == ".mp4" and back.read_bytes() == data
    _check_plays(back.read_bytes(), 12)
    assert ds.SOPInstanceUID == stored.SOPInstanceUID


def test_mpeg2_program_stream_and_endoscopic(tmp_path: Path) -> None:
    source = clip(tmp_path / "scope.mpg", codec="mpeg2video", container="mpeg")
    dicomify.convert(source, tmp_path / "scope.dcm", video="endoscopic", AnatomicRegionSequence=REGION)
    stored = pydicom.dcmread(tmp_path / "scope.dcm")
    assert stored.file_meta.TransferSyntaxUID == MPEG2MPML
    assert stored.SOPClassUID == VideoEndoscopicImageStorage and stored.Modality == "ES"
    assert stored.NumberOfFrames == 12
    assert _stored_stream(tmp_path / "scope.dcm").rstrip(b"\0") == source.read_bytes().rstrip(b"\0")
    assert dciodvfy_errors(tmp_path / "scope.dcm") == []


def test_quicktime_is_remuxed_not_reencoded(tmp_path: Path) -> None:
    source = clip(tmp_path / "phone.mov", container="mov", options={"profile": "main"})
    dicomify.convert(source, tmp_path / "phone.dcm", AnatomicRegionSequence=REGION)
    stored = _stored_stream(tmp_path / "phone.dcm")
    assert stored[4:8] == b"ftyp" and stored[8:12] != b"qt  "
    with av.open(str(source)) as original, av.open(io.BytesIO(stored)) as copy:
        before = [bytes(p) for p in original.demux(video=0) if p.size]
        after = [bytes(p) for p in copy.demux(video=0) if p.size]
    assert before == after  # the same compressed frames
    assert dciodvfy_errors(tmp_path / "phone.dcm") == []


def test_hevc_main(tmp_path: Path) -> None:
    source = clip(tmp_path / "clip.mp4", codec="libx265", options={"x265-params": "log-level=none"})
    dicomify.convert(source, tmp_path / "hevc.dcm", AnatomicRegionSequence=REGION)
    stored = pydicom.dcmread(tmp_path / "hevc.dcm")
    assert stored.file_meta.TransferSyntaxUID == HEVCMP51
    assert stored.LossyImageCompressionMethod == "ISO_23008_2"
    _check_plays(_stored_stream(tmp_path / "hevc.dcm"), 12)
    # Debian's dciodvfy predates the HEVC transfer syntaxes (it reads them as native):
    # dcmtk, which knows them, must parse the object.
    dump = subprocess.run([require_tool("dcmdump"), str(tmp_path / "hevc.dcm")], capture_output=True, text=True)
    assert dump.returncode == 0 and "HEVC/H.265 Main Profile / Level 5.1" in dump.stdout


def test_stream_no_transfer_syntax_allows_is_refused_or_transcoded(tmp_path: Path) -> None:
    source = clip(tmp_path / "big.mp4", size=(2048, 1152), frames=6, options={"profile": "high", "level": "5.1"})
    with pytest.raises(
        UnsupportedFormatError, match=r"big\.mp4: H\.264 High Profile / Level 5\.1: 2048x1152 is larger than"
    ):
        dicomify.convert(source, tmp_path / "big.dcm")
    assert not (tmp_path / "big.dcm").exists()
    dicomify.convert(source, tmp_path / "big.dcm", transcode=True, AnatomicRegionSequence=REGION)
    stored = pydicom.dcmread(tmp_path / "big.dcm")
    assert stored.file_meta.TransferSyntaxUID == MPEG4HP41
    assert (stored.Columns, stored.Rows) == (1920, 1080)
    assert list(stored.ImageType[:2]) == ["DERIVED", "SECONDARY"]
    _check_plays(_stored_stream(tmp_path / "big.dcm"), 6)
    assert dciodvfy_errors(tmp_path / "big.dcm") == []


def test_other_codecs_name_what_dicom_takes(tmp_path: Path) -> None:
    source = clip(tmp_path / "old.mp4", codec="mpeg4")
    with pytest.raises(UnsupportedFormatError, match="DICOM takes MPEG-2, H.264 or HEVC video"):
        dicomify.convert(source, tmp_path / "old.dcm")
    baseline = clip(
        tmp_path / "base.mp4", options={"profile": "baseline", "level": "3.0", "x264-params": "constrained-intra=0"}
    )
    # Constrained Baseline: a High Profile decoder plays it.
    ds = dicomify.convert(baseline, tmp_path / "base.dcm", BodyPartExamined="HAND")
    assert ds.AnatomicRegionSequence[0].CodeMeaning == "Hand"  # from Body Part Examined via CID 4031
    assert dciodvfy_errors(tmp_path / "base.dcm") == []


def test_a_video_needs_its_anatomic_region(tmp_path: Path) -> None:
    from dicomify.errors import MetadataError

    source = clip(tmp_path / "c.mp4", options={"profile": "high", "level": "4.1"})
    with pytest.raises(MetadataError, match=r"c\.mp4: a video object needs its anatomic region .*--body-part"):
        dicomify.convert(source, tmp_path / "c.dcm")
    assert not (tmp_path / "c.dcm").exists()
