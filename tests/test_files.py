"""How outputs are written (dicomify._files): never destroy, never lose, never half-write."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers.mounts import read_only_folder, tmpfs

import dicomify
from dicomify import _files
from dicomify._files import atomic_output, check_output_folder, is_complete_dicom, remove_stale_temporaries
from dicomify.errors import OutputError

SRC = Path(__file__).resolve().parents[1] / "src"


def _gray(size: int = 32) -> np.ndarray:
    return np.random.default_rng(size).integers(0, 255, (size, size), dtype=np.uint8)


def _cli(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "dicomify", *argv], env=env, stderr=subprocess.PIPE, timeout=120, **kwargs
    )


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    dicomify.convert(_gray(), fifo)
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert pydicom.dcmread(io.BytesIO(received[0])).Rows == 32


def test_a_character_device_is_written_through(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    except PermissionError:
        pytest.skip("mknod needs root; the FIFO test covers writing through")
    dicomify.convert(_gray(), device)
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert not list(tmp_path.glob(".*.part"))


def test_a_symlink_keeps_being_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.dcm"
    real.write_bytes(b"old")
    link = tmp_path / "link.dcm"
    link.symlink_to(real)
    dicomify.convert(_gray(), link)
    assert link.is_symlink()
    assert pydicom.dcmread(real).Rows == 32


def test_a_folder_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        dicomify.convert(_gray(), tmp_path)


def test_a_read_only_output_is_not_replaced(tmp_path: Path) -> None:
    kept = tmp_path / "kept.dcm"
    kept.write_bytes(b"keep me")
    kept.chmod(0o444)
    with pytest.raises(OutputError, match="read-only"):
        dicomify.convert(_gray(), kept)
    assert kept.read_bytes() == b"keep me"


def test_a_250_character_name_works(tmp_path: Path) -> None:
    out = tmp_path / ("n" * 246 + ".dcm")
    dicomify.convert(_gray(), out)
    assert pydicom.dcmread(out).Rows == 32
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(("umask", "mode"), [(0o077, 0o600), (0o002, 0o664), (0o022, 0o644)])
def test_new_outputs_respect_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    picture = tmp_path / "in.png"
    from PIL import Image

    Image.fromarray(_gray()).save(picture)
    out = tmp_path / "out.dcm"
    result = _cli("convert", str(picture), "-o", str(out), preexec_fn=lambda: os.umask(umask))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == mode


def test_a_replaced_output_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out.dcm"
    out.write_bytes(b"old")
    out.chmod(0o640)
    dicomify.convert(_gray(), out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_data_is_on_disk_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(_files.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(_files.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    dicomify.convert(_gray(), tmp_path / "out.dcm")
    assert events[:2] == ["fsync", "replace"]


def test_a_full_disk_names_the_reason_and_leaves_nothing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", size="1m") as small:
        big = np.random.default_rng(1).integers(0, 255, (1200, 1200), dtype=np.uint8)
        with pytest.raises(OutputError, match="No space left on device"):
            dicomify.convert(big, small / "out.dcm")
        assert list(small.iterdir()) == []


def test_a_full_disk_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (1200, 1200), dtype=np.uint8)).save(picture)
    with tmpfs(tmp_path / "small", size="1m") as small:
        result = _cli("convert", str(picture), "-o", str(small / "out.dcm"))
        assert result.returncode == 1
        assert result.stderr.decode().splitlines() == [
            f"dicomify: error: {small / 'out.dcm'}: cannot write (No space left on device)"
        ]
        assert list(small.iterdir()) == []


def test_an_unwritable_folder_is_found_before_any_work(tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "ro") as folder:
        with pytest.raises(OutputError, match="cannot write output files here"):
            check_output_folder(folder / "sub")
        with pytest.raises(OutputError, match="cannot write here"):
            dicomify.convert(_gray(), folder / "x.dcm")


def test_stdout_closed_early_exits_non_zero(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (1500, 1500), dtype=np.uint8)).save(picture)
    env = dict(os.environ, PYTHONPATH=str(SRC))
    with subprocess.Popen(
        [sys.executable, "-m", "dicomify", "convert", str(picture), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(100)
        process.stdout.close()  # like `| head -c 100`
        error = process.stderr.read().decode()
        assert process.wait(60) == 1
    assert error.splitlines() == ["dicomify: error: the output stream was closed before the whole file was written"]


def test_a_short_write_to_stdout_is_an_error(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "in.png"
    Image.fromarray(_gray(256)).save(picture)
    with open("/dev/full", "wb") as full:
        result = _cli("convert", str(picture), "-o", "-", stdout=full)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        "dicomify: error: cannot write to the output stream (No space left on device)"
    ]


class _Trickle(io.RawIOBase):
    """A raw stream that takes at most 1000 bytes per call, as a pipe may."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        chunk = bytes(b)[:1000]
        self.data += chunk
        return len(chunk)


def test_partial_writes_are_completed() -> None:
    sink = _Trickle()
    dicomify.convert(_gray(64), sink)
    assert pydicom.dcmread(io.BytesIO(bytes(sink.data))).Rows == 64


def test_a_text_stream_is_misuse() -> None:
    with pytest.raises(OutputError, match="binary"):
        dicomify.convert(_gray(), io.StringIO())


def test_temporaries_of_long_names_are_found_and_removed(tmp_path: Path) -> None:
    output = tmp_path / ("x" * 250 + ".dcm")
    with pytest.raises(RuntimeError):
        with atomic_output(output) as file:
            file.write(b"half")
            (leftover,) = tmp_path.glob(".*.part")
            assert len(leftover.name.encode()) <= 255
            # What a killed process leaves behind: keep a copy of the temporary.
            os.link(leftover, tmp_path / (leftover.name[:-14] + ".abcdef12.part"))
            raise RuntimeError("killed")
    other = tmp_path / ".unrelated.abcdef12.part"
    other.write_bytes(b"not ours")
    assert len(list(tmp_path.glob(".*.part"))) == 2
    remove_stale_temporaries([str(output)])
    assert list(tmp_path.glob(".*.part")) == [other]


def test_complete_and_truncated_files(tmp_path: Path) -> None:
    from PIL import Image

    jpeg = tmp_path / "in.jpg"
    Image.fromarray(_gray(64)).save(jpeg)
    for source, name in ((_gray(64), "native.dcm"), (jpeg, "jpeg.dcm")):
        out = tmp_path / name
        dicomify.convert(source, out)
        assert is_complete_dicom(out)
        data = out.read_bytes()
        for cut in (1, 10, 300):
            (tmp_path / "cut.dcm").write_bytes(data[:-cut])
            assert not is_complete_dicom(tmp_path / "cut.dcm"), (name, cut)
    (tmp_path / "other").write_bytes(b"not dicom at all")
    assert not is_complete_dicom(tmp_path / "other")
    assert not is_complete_dicom(tmp_path / "missing")
