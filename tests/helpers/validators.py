"""The real validators (dciodvfy, dcmtk, GDCM) and pixel access, shared by the tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def require_tool(name: str) -> str:
    """The path of a validator; its absence is a failure, never a skip."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run the README's test command (it installs it)")
    return path


def dciodvfy_errors(path: Path) -> list[str]:
    """Lines dciodvfy starts with "Error" for the file (empty list = valid).

    A missing file, or dciodvfy not running to the end (an "Abort" line, a failing exit
    status without any error named), fails the test: "no errors" must mean it checked.
    """
    if not Path(path).is_file():
        pytest.fail(f"dciodvfy was asked to check {path}, which is not a file")
    result = subprocess.run([require_tool("dciodvfy"), str(path)], capture_output=True, text=True, timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    aborted = [line for line in lines if line.startswith("Abort")]
    if aborted or (result.returncode != 0 and not errors):
        pytest.fail(f"dciodvfy did not check {path} (exit status {result.returncode}): {' '.join(lines)[:300]}")
    return errors


def dcmtk_decodes(path: Path, tmp_path: Path) -> np.ndarray | None:
    """Decode with dcmtk; return the pixels it renders (8-bit PNM), or None if it can only dump.

    dcmj2pnm decodes native, JPEG and RLE; dcmdjpls decodes JPEG-LS first; JPEG 2000
    is not in the free dcmtk, so for it we only check dcmdump parses the file.
    """
    dump = subprocess.run([require_tool("dcmdump"), str(path)], capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, dump.stderr
    syntax = str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    source = path
    if syntax == "1.2.840.10008.1.2.4.90":
        return None
    if syntax.startswith("1.2.840.10008.1.2.4.8"):
        source = tmp_path / "dcmtk-decoded.dcm"
        result = subprocess.run(
            [require_tool("dcmdjpls"), str(path), str(source)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    out = tmp_path / "dcmtk.pnm"
    frames = int(pydicom.dcmread(source, stop_before_pixels=True).get("NumberOfFrames", 1) or 1)
    args = [require_tool("dcmj2pnm"), "--write-raw-pnm", "--frame", str(frames), str(source), str(out)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as image:
        return np.asarray(image)


def gdcm_decodes(path: Path, tmp_path: Path) -> np.ndarray:
    """Decode with GDCM (gdcmconv --raw writes native pixels), read back with pydicom."""
    out = tmp_path / "gdcm-raw.dcm"
    result = subprocess.run(
        [require_tool("gdcmconv"), "--raw", str(path), str(out)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return pydicom.dcmread(out).pixel_array


def decoded_pixels(path: Path, plugin: str = "") -> np.ndarray:
    """pydicom's decode, colour converted to RGB, all frames."""
    ds = pydicom.dcmread(path)
    from pydicom.pixels import pixel_array

    return pixel_array(ds, decoding_plugin=plugin) if plugin else ds.pixel_array
