"""The one-way package rules of docs/architecture.md, checked with import-linter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    # import-linter imports the package's modules from this path, not from site-packages.
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filenames=(sys.argv[1],), no_cache=True))"
    return subprocess.run(
        [sys.executable, "-c", code, str(config)], capture_output=True, text=True, env=env, timeout=120
    )


def test_package_imports_follow_the_architecture() -> None:
    result = _lint(REPO / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_reversed_layer_is_caught(tmp_path: Path) -> None:
    # The checker must be able to fail: the readers do import the picture model.
    config = tmp_path / "reversed.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "dicomify"\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "reversed"\ntype = "layers"\n'
        'layers = ["dicomify.picture", "dicomify.readers"]\n'
    )
    result = _lint(config)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
