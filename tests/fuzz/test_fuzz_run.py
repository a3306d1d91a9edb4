"""A bounded fuzzing run of every harness (fuzz/), part of the suite: ~2 minutes in all.

Longer runs by hand: ``python fuzz/run.py --seconds 600`` (see docs/limits.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import atheris  # noqa: F401  (declared in the test extra: missing is a failure, not a skip)

REPO = Path(__file__).resolve().parents[2]
SECONDS_PER_TARGET = 15


def test_every_harness_runs_without_findings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "fuzz" / "run.py"), "--seconds", str(SECONDS_PER_TARGET), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60 * 10,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    runs = dict(re.findall(r"^(\w+): (\d+) executions", done.stdout, re.MULTILINE))
    assert set(runs) == {"pillow", "jpeg", "tiff", "metafile", "metadata", "manifest"}, report
    assert all(int(count) > 0 for count in runs.values()), report
