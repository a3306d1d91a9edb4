"""Hostile and broken input: a typed error from the stage that knows why, fast, in little memory.

Each input here is a few hundred bytes that used to hang, exhaust memory or end in a
traceback (or in the api's old catch-all "cannot be decoded").
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from helpers.pictures import photo, pil_bytes, png_chunk
from PIL import GifImagePlugin, Image

import dicomify
from dicomify.readers.pixels import composite_alpha

# The read stage's catch-all message: a test input reaching it means no reader knew why.
SAFETY_NET = "does not recognise"


def convert_error(data: bytes, **options: object) -> dicomify.DicomifyError:
    with pytest.raises(dicomify.InputError) as raised:
        dicomify.convert(data, io.BytesIO(), **options)  # type: ignore[arg-type]
    assert SAFETY_NET not in str(raised.value)
    return raised.value


# -- TIFF: a page chain that loops back -----------------------------------------------


def _looping_tiff(pages: int, back_to: int) -> bytes:
    images = [Image.new("L", (4, 4), i % 250) for i in range(pages)]
    data = bytearray(pil_bytes(images[0], "TIFF", save_all=True, append_images=images[1:]))
    offsets = [page.offset for page in tifffile.TiffFile(io.BytesIO(bytes(data))).pages]
    last = offsets[-1]
    entries = struct.unpack_from("<H", data, last)[0]
    struct.pack_into("<I", data, last + 2 + 12 * entries, offsets[back_to])
    return bytes(data)


@pytest.mark.parametrize(("pages", "back_to"), [(1, 0), (3, 1), (300, 200)])
def test_tiff_page_loop_ends_at_once(pages: int, back_to: int, tmp_path: Path) -> None:
    # In a subprocess with a timeout: before the fix this never ended (and grew to GBs).
    source = tmp_path / "loop.tif"
    source.write_bytes(_looping_tiff(pages, back_to))
    Image.new("L", (4, 4)).save(tmp_path / "warm.tif")
    script = textwrap.dedent(
        f"""
        import io, time, dicomify
        dicomify.convert({str(source.with_name("warm.tif"))!r}, io.BytesIO())  # imports done
        start = time.perf_counter()
        try:
            dicomify.convert({str(source)!r}, io.BytesIO())
        except dicomify.CorruptImageError as error:
            print(error)
        print(time.perf_counter() - start)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    message, seconds = done.stdout.splitlines()
    assert "loops back" in message
    assert float(seconds) < 1.0


def test_tiff_page_count_limit() -> None:
    images = [Image.new("L", (4, 4), i) for i in range(12)]
    data = pil_bytes(images[0], "TIFF", save_all=True, append_images=images[1:])
    assert "--max-frames" in str(convert_error(data, max_frames=5))
    assert dicomify.convert(data, io.BytesIO(), max_frames=12).NumberOfFrames == 12


# -- GIF: frames larger than the canvas, tiny frames on a huge canvas ----------------------


def _frame_blocks(width: int, height: int) -> bytes:
    """A valid GIF image (descriptor, colour table, LZW data) of one colour, from Pillow."""
    data = pil_bytes(Image.new("P", (width, height), 1), "GIF")
    start = data.index(b"\x2c" + struct.pack("<HHHH", 0, 0, width, height))
    return data[start:-1]  # without the trailer


def _gif(screen: tuple[int, int], frames: list[tuple[int, int, int, int]], delay: int = 0) -> bytes:
    """A GIF89a with frames (x, y, w, h) of one colour each, placed anywhere on the screen."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + bytes([0, 0, 0, 255, 255, 255]))
    for x, y, w, h in frames:
        out += b"\x21\xf9\x04\x00" + struct.pack("<H", delay) + b"\x00\x00"  # graphic control
        blocks = bytearray(_frame_blocks(w, h))
        struct.pack_into("<HH", blocks, 1, x, y)
        out += blocks
    return bytes(out + b"\x3b")


def test_gif_frame_growing_past_pillows_bomb_limit_is_too_large() -> None:
    # Pillow raised its own DecompressionBombError (a traceback) from the second frame.
    data = _gif((10, 10), [(0, 0, 10, 10), (0, 0, 30000, 30000)])
    assert "decompression-bomb limit" in str(convert_error(data))


def test_gif_first_frame_past_the_canvas_is_too_large() -> None:
    assert isinstance(convert_error(_gif((10, 10), [(0, 0, 30000, 30000)])), dicomify.ImageTooLargeError)


def test_gif_frames_growing_the_canvas_are_sized_from_the_headers() -> None:
    data = _gif((10, 10), [(0, 0, 10, 10), (0, 0, 10, 10), (5, 5, 40, 20)], delay=5)
    image = dicomify.DicomImage(data)
    shapes = [(int(ds.get("NumberOfFrames", 1)), ds.Rows, ds.Columns) for ds in image.datasets]
    assert shapes == [(2, 10, 10), (1, 25, 45)]


def test_tiny_gif_frames_on_a_huge_canvas_are_refused_before_decoding() -> None:
    # 8 frames of a 9000x9000 canvas: 1.9 GB decoded from ~250 bytes.
    data = _gif((9000, 9000), [(0, 0, 1, 1)] * 8)
    assert len(data) < 300
    tracemalloc.start()
    error = convert_error(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "--max-bytes" in str(error)
    assert peak < 20_000_000


def test_frame_limit() -> None:
    data = _gif((4, 4), [(0, 0, 4, 4)] * 12, delay=3)
    assert "--max-frames" in str(convert_error(data, max_frames=11))
    assert dicomify.convert(data, io.BytesIO(), max_frames=12).NumberOfFrames == 12


def test_animated_frames_are_decoded_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    frames = [Image.fromarray(photo(8, 8)).convert("P") for _ in range(5)]
    data = pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[40, 50, 60, 70, 80])
    decoded: list[int] = []
    original = GifImagePlugin.GifImageFile.load_end

    def counting(self: GifImagePlugin.GifImageFile) -> None:
        decoded.append(self.tell())
        original(self)

    monkeypatch.setattr(GifImagePlugin.GifImageFile, "load_end", counting)
    ds = dicomify.convert(data, tmp_path / "out.dcm")
    assert ds.NumberOfFrames == 5
    assert [float(t) for t in ds.FrameTimeVector] == [0, 40, 50, 60, 70]
    assert decoded == [0, 1, 2, 3, 4]


# -- WebP: a tiny animation on a huge canvas -------------------------------------------------


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)


def _webp_animation(canvas: tuple[int, int], frames: int) -> bytes:
    still = pil_bytes(Image.new("RGB", (1, 1), (200, 0, 0)), "WEBP", lossless=True)
    vp8l = still[12:]  # the VP8L chunk, header included
    vp8x = bytes([0x02, 0, 0, 0]) + (canvas[0] - 1).to_bytes(3, "little") + (canvas[1] - 1).to_bytes(3, "little")
    body = _riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"ANIM", b"\xff\xff\xff\xff\x00\x00")
    frame = bytes(12) + (100).to_bytes(3, "little") + b"\x00" + vp8l  # at 0,0, 1x1, 100 ms
    body += _riff_chunk(b"ANMF", frame) * frames
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def test_tiny_webp_on_a_huge_canvas_is_refused_before_pillow_allocates_it(tmp_path: Path) -> None:
    source = tmp_path / "canvas.webp"
    source.write_bytes(_webp_animation((9000, 9000), 8))
    script = textwrap.dedent(
        f"""
        import io, re, dicomify
        try:
            dicomify.convert({str(source)!r}, io.BytesIO())
        except dicomify.ImageTooLargeError as error:
            print(error)
        # Peak resident memory of this process (ru_maxrss would count the forking parent's).
        status = open("/proc/self/status").read()
        print(int(re.search("VmHWM:[ \\t]+([0-9]+) kB", status).group(1)) * 1024)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    message, peak = done.stdout.splitlines()
    assert "--max-bytes" in message
    assert int(peak) < 300_000_000  # the canvas alone would be 324 MB (RGBA)


def test_small_webp_animation_converts_with_its_frame_times() -> None:
    ds = dicomify.convert(_webp_animation((3, 2), 3), io.BytesIO())
    assert (ds.NumberOfFrames, ds.Rows, ds.Columns) == (3, 2, 3)
    assert float(ds.FrameTime) == 100


# -- APNG and TIFF decoder failures -------------------------------------------------------


def test_apng_frame_sequence_error_is_typed_or_converted() -> None:
    frames = [Image.fromarray(photo(8, 8)) for _ in range(3)]
    data = bytearray(pil_bytes(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=50))
    at = data.rfind(b"fcTL") - 4
    length = struct.unpack_from(">I", data, at)[0]
    body = bytearray(data[at + 8 : at + 8 + length])
    struct.pack_into(">I", body, 0, 99)  # sequence number out of order
    data[at : at + 12 + length] = png_chunk(b"fcTL", bytes(body))
    try:
        ds = dicomify.convert(bytes(data), io.BytesIO())
    except dicomify.InputError as error:
        assert SAFETY_NET not in str(error)
    else:
        assert ds.NumberOfFrames >= 2


def test_damaged_deflate_tiff_is_corrupt() -> None:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.random.default_rng(0).random((64, 64), dtype=np.float32), compression="zlib")
    data = bytearray(buffer.getvalue())
    page = tifffile.TiffFile(io.BytesIO(bytes(data))).pages[0]
    start, size = page.dataoffsets[0], page.databytecounts[0]
    data[start + 2 : start + size] = (bytes(range(256)) * (size // 256 + 1))[: size - 2]
    assert isinstance(convert_error(bytes(data)), dicomify.CorruptImageError)


# -- Size limits before decoding -----------------------------------------------------------


def test_pixel_data_over_4_gib_is_refused_up_front() -> None:
    # 40000 x 40000 RGB = 4.8 GB: beyond DICOM's 32-bit length whatever the limits.
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    error = convert_error(data + png_chunk(b"IEND", b""), max_pixels=2_000_000_000, max_bytes=1 << 40)
    assert "4 GiB" in str(error)


def test_limits_are_checked_options() -> None:
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(dicomify.DicomifyError, match="max_frames"):
            dicomify.ConvertOptions(max_frames=bad)  # type: ignore[arg-type]


def test_fewer_frames_than_announced_is_corrupt_not_zero_filled() -> None:
    # A GIF whose last frame descriptor is cut off: the frames Pillow finds are fewer.
    data = _gif((4, 4), [(0, 0, 4, 4)] * 3)[:-8]
    try:
        ds = dicomify.convert(data, io.BytesIO())
    except dicomify.InputError as error:
        assert SAFETY_NET not in str(error)
    else:
        assert ds.NumberOfFrames in (2, 3)


# -- Memory of the pixel policy -------------------------------------------------------------


def test_alpha_compositing_stays_near_the_output_size() -> None:
    rng = np.random.default_rng(5)
    color = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (1000, 1000), dtype=np.uint8)
    tracemalloc.start()
    out = composite_alpha(color, alpha, (10, 20, 30))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.dtype == np.uint8
    # The output (3 MB) and a few MB of row-block temporaries; int64 on the whole was ~72 MB.
    assert peak < 2 * out.nbytes + 16_000_000


def test_apng_blending_stays_near_the_canvas_size() -> None:
    from dicomify.readers.apng import _over

    rng = np.random.default_rng(6)
    source = rng.integers(0, 65536, (1000, 1000, 4), dtype=np.uint16)
    destination = rng.integers(0, 65536, (1000, 1000, 4), dtype=np.uint16)
    tracemalloc.start()
    out = _over(source, destination)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # The output (8 MB) and row-block temporaries; float64 on the whole canvas was ~150 MB.
    assert peak < out.nbytes + 40_000_000


@pytest.mark.parametrize("shape", [(), (5,), (2, 2, 2, 2, 2)])
def test_arrays_that_are_not_pictures_are_refused_by_the_reader(shape: tuple[int, ...]) -> None:
    with pytest.raises(dicomify.UnsupportedFormatError, match="not a picture") as raised:
        dicomify.convert(np.zeros(shape, np.uint8), io.BytesIO())
    assert SAFETY_NET not in str(raised.value)
