"""50 concurrent uploads on loopback: every one answered with its DICOM, memory bounded by the pool.

Timings are not checked here (they are in benchmarks/serve_load.py and docs/serve.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .server_process import REPO, ServerProcess

sys.path.insert(0, str(REPO / "benchmarks"))


def test_fifty_concurrent_uploads(start_server: Callable[..., ServerProcess]) -> None:
    from serve_load import load

    server = start_server("load", {"limits": {"workers": 2, "max_pending": 100}})
    result = load(server, uploads=50, side=1200)
    assert result.statuses == {200: 50}
    assert result.ok == 50
    # Each 1200x900 RGB picture is 3 MB decoded; with 2 workers the server holds a few at
    # once, not 50 (which would be far above this bound: uploads wait on disk, not in memory).
    assert result.rss_peak_mb - result.rss_before_mb < 250, result
    assert not any(Path(server.temp).rglob("upload-*"))  # every upload deleted after use
