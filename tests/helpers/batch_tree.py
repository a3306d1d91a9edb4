"""Small pictures for the batch tests, written where a test wants them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def picture(path: Path, kind: str = "jpg", size: tuple[int, int] = (48, 32), seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if kind == "png16":
        Image.fromarray(rng.integers(0, 4096, size[::-1], dtype=np.uint16)).save(path, format="PNG")
    else:
        array = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(array).save(path, format={"jpg": "JPEG", "png": "PNG", "bmp": "BMP", "tif": "TIFF"}[kind])
    return path


def tree(root: Path) -> dict[str, Path]:
    """photos/a/one.jpg, photos/a/two.png, photos/b/three.jpg, photos/b/bad.png (not a picture)."""
    files = {
        "one": picture(root / "photos" / "a" / "one.jpg", "jpg", seed=1),
        "two": picture(root / "photos" / "a" / "two.png", "png", seed=2),
        "three": picture(root / "photos" / "b" / "three.jpg", "jpg", seed=3),
    }
    bad = root / "photos" / "b" / "bad.png"
    bad.write_bytes(b"this is not a picture")
    files["bad"] = bad
    return files
