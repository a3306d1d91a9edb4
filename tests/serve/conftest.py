"""A real ``dicomify serve`` process per configuration, and a real Orthanc to publish to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from net.orthanc_server import DICOMWEB_PLUGIN, ORTHANC, ORTHANC_AET, Orthanc
from net.worklist_servers import WORKLIST_PLUGIN
from PIL import Image

from .server_process import ServerProcess

TOKEN = "serve-token-for-the-tests-0123456789"


@pytest.fixture(scope="session")
def serve_orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Orthanc as the PACS (C-STORE, Study Root C-FIND, STOW-RS) and the worklist (``*.wl`` in ``worklists``).

    Our AE title is a known modality: Orthanc answers queries only from those.
    """
    assert Path(ORTHANC).exists(), "Orthanc is missing: apt-get install -y orthanc orthanc-dicomweb"
    assert DICOMWEB_PLUGIN.exists(), "The DICOMweb plugin is missing: apt-get install -y orthanc-dicomweb"
    assert WORKLIST_PLUGIN.exists(), "The worklist plugin is missing: apt-get install -y orthanc"
    folder = tmp_path_factory.mktemp("serve-orthanc")
    worklists = folder / "worklists"
    worklists.mkdir()
    server = Orthanc(
        folder,
        aet=ORTHANC_AET,
        DicomCheckCalledAet=True,
        Plugins=[str(DICOMWEB_PLUGIN), str(WORKLIST_PLUGIN)],
        Worklists={"Enable": True, "Database": str(worklists)},
        DicomModalities={"dicomify": ["DICOMIFY", "127.0.0.1", 104]},
        DefaultEncoding="Utf8",
    ).start()
    server.worklists = worklists  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(name: str, sections: dict[str, dict[str, Any]] | None = None, *extra: str) -> ServerProcess:
        server = ServerProcess(tmp_path_factory.mktemp(name), sections or {}, *extra)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def pacs_section(serve_orthanc: Orthanc) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": serve_orthanc.dicom_port, "called_aet": ORTHANC_AET, "calling_aet": "DICOMIFY"}


@pytest.fixture(scope="session")
def open_server(start_server: Callable[..., ServerProcess], pacs_section: dict[str, Any]) -> ServerProcess:
    """Loopback without authentication, publishing to Orthanc by C-STORE, its worklist and studies configured."""
    return start_server(
        "open",
        {
            "pacs": pacs_section,
            "worklist": pacs_section,
            "studies": pacs_section,
            "limits": {"max_upload_mb": 5, "max_files": 4, "max_pixels": 1_000_000},
        },
    )


def rgb_picture(seed: int, h: int = 60, w: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.zeros((h, w, 3), dtype=np.uint8)
    base[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    base[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    base[..., 2] = rng.integers(0, 256, (h, w), dtype=np.uint8)
    return base


def write_png(path: Path, seed: int = 1) -> np.ndarray:
    pixels = rgb_picture(seed)
    Image.fromarray(pixels).save(path)
    return pixels


def write_tiff(path: Path, pages: int = 3) -> list[np.ndarray]:
    frames = [
        np.full((40, 50), 40 * (k + 1), dtype=np.uint8) + np.arange(50, dtype=np.uint8)[None, :] for k in range(pages)
    ]
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:])
    return frames
