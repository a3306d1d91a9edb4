"""Option values are checked, never coerced; misuse raises OptionError (a DicomifyError and ValueError)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from helpers.batch_tree import picture

import dicomify
from dicomify import ConvertOptions, OptionError
from dicomify.batch import convert_many
from dicomify.cli import EXIT_USAGE, main
from dicomify.errors import OutputError


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"background": (300, -1, 5)}, "background \\(300, -1, 5\\) is not a colour"),
        ({"background": (1, 2)}, "is not a colour"),
        ({"background": (1.5, 2, 3)}, "is not a colour"),
        ({"background": "nocolour"}, "'nocolour' is not a colour"),
        ({"decode_jpeg": "no"}, "decode_jpeg 'no' must be True or False"),
        ({"keep_orientation": 1}, "keep_orientation 1 must be True or False"),
        ({"keep_jpeg_metadata": None}, "must be True or False"),
        ({"compression": "zip"}, "compression 'zip' is not one of: none, rle"),
        ({"iod": "ct"}, "iod 'ct' is not one of: sc, photo"),
        ({"page": -1}, "page -1 must be"),
        ({"page": "1"}, "page '1' must be"),
        ({"page": True}, "page True must be"),
        ({"dpi": "x"}, "dpi 'x' must be a number"),
        ({"dpi": 0}, "dpi 0 must be"),
        ({"max_pixels": 0}, "max_pixels 0 must be"),
        ({"max_pixels": 2.5}, "max_pixels 2.5 must be"),
    ],
)
def test_bad_option_values_are_option_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        ConvertOptions(**options)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=message):
        dicomify.convert(np.zeros((8, 8), np.uint8), io.BytesIO(), **options)
    assert issubclass(OptionError, ValueError) and issubclass(OptionError, dicomify.DicomifyError)


def test_good_values_still_work() -> None:
    assert ConvertOptions(background=[0, 128, 255]).background == (0, 128, 255)
    assert ConvertOptions(background="#102030").background == (16, 32, 48)
    assert ConvertOptions(iod="photo", compression="rle", dpi=300, page=0).dpi == 300


def test_batch_misuse_is_an_option_error(tmp_path: Path) -> None:
    source = picture(tmp_path / "a.jpg")
    with pytest.raises(OptionError, match="group 'weekly' is not one of: run, folder, file"):
        convert_many([source], tmp_path / "out", group="weekly")
    with pytest.raises(OptionError, match="jobs 0"):
        convert_many([source], tmp_path / "out", jobs=0)


def test_a_text_stream_target_is_an_output_error() -> None:
    with pytest.raises(OutputError, match="binary"):
        dicomify.convert(np.zeros((8, 8), np.uint8), io.StringIO())


def test_a_bad_flag_value_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = picture(tmp_path / "a.jpg")
    assert main(["convert", str(source), "-o", str(tmp_path / "a.dcm"), "--background", "nocolour"]) == EXIT_USAGE
    assert (
        capsys.readouterr().err.strip()
        == "dicomify: error: background 'nocolour' is not a colour (try white, black or #rrggbb)"
    )
