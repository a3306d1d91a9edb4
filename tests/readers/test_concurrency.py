"""Many conversions sharing one process: no conversion may disturb another.

Run in a fresh subprocess so the reader registry and Pillow's plugins start cold,
the way a web server or a Dask worker meets its first requests.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import tifffile
from helpers.emf_build import emf, ext_text_out_w, font, rectangle, select
from helpers.pictures import gray8, gray16, photo, pil_bytes
from PIL import Image

_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from PIL import Image

    import dicomify

    folder = Path(sys.argv[1])
    sources = sorted(p for p in folder.iterdir() if p.name.startswith("in-"))
    before = Image.MAX_IMAGE_PIXELS
    seen = set()
    stop = threading.Event()

    def watch():  # Pillow's limit as other threads see it, while conversions run
        while not stop.is_set():
            seen.add(Image.MAX_IMAGE_PIXELS)

    watcher = threading.Thread(target=watch)
    watcher.start()

    def one(path):
        try:
            dicomify.convert(path, folder / (path.stem + ".dcm"))
            return None
        except Exception as error:
            return f"{path.name}: {type(error).__name__}: {error}"

    with ThreadPoolExecutor(8) as pool:
        failures = [f for f in pool.map(one, sources) if f]
    stop.set()
    watcher.join()
    try:
        dicomify.convert(folder / "bomb.png", folder / "bomb.dcm")
        bomb = "converted"
    except dicomify.DicomifyError as error:
        bomb = type(error).__name__
    print(json.dumps({
        "failures": failures,
        "outputs": len(list(folder.glob("in-*.dcm"))),
        "bomb": bomb,
        "limit_before": before,
        "limit_after": Image.MAX_IMAGE_PIXELS,
        "limits_seen": sorted(seen, key=str),
    }))
    """
)


def _apng(i: int) -> bytes:
    frames = [Image.fromarray(photo()).convert("RGBA") for _ in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:], duration=40)
    return buffer.getvalue()


def _float_rgb_tiff(i: int) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, (photo() / 255.0).astype(np.float32), photometric="rgb")
    return buffer.getvalue()


def _emf_with_text(i: int) -> bytes:
    # Text goes through fontconfig and skia's font manager: shared by every thread.
    return emf(font(1, -30, "Arial"), select(1), ext_text_out_w(5, 5, f"page {i} \u2713"), rectangle(10, 40, 80, 90))


def _mixed_sources(folder: Path, count: int) -> None:
    makers = [
        lambda i: pil_bytes(Image.fromarray(photo()), "JPEG"),
        lambda i: pil_bytes(Image.fromarray(photo()), "PNG"),
        lambda i: pil_bytes(Image.fromarray(gray8()), "BMP"),
        lambda i: pil_bytes(Image.fromarray(gray16()), "TIFF"),
        lambda i: pil_bytes(Image.fromarray(photo()).convert("P"), "GIF"),
        lambda i: pil_bytes(Image.fromarray(photo()), "WEBP", lossless=True),
        _apng,
        _float_rgb_tiff,
        _emf_with_text,
    ]
    for i in range(count):
        (folder / f"in-{i:03d}.pic").write_bytes(makers[i % len(makers)](i))


def _bomb_png() -> bytes:
    """A valid PNG header declaring 20000x20000 pixels (over Pillow's default limit)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


def test_threads_in_a_cold_process_share_nothing(tmp_path: Path) -> None:
    _mixed_sources(tmp_path, 200)
    (tmp_path / "bomb.png").write_bytes(_bomb_png())
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["failures"] == []
    assert result["outputs"] == 200
    assert result["bomb"] == "ImageTooLargeError"
    assert result["limit_before"] == result["limit_after"] == Image.MAX_IMAGE_PIXELS
    # Nobody else may ever see the limit switched off or changed, even for a moment.
    assert result["limits_seen"] == [Image.MAX_IMAGE_PIXELS]
