"""Conversion functions for serve's worker processes that misbehave on purpose (importable
in a spawned worker, which unpickles them by name)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dicomify.serve.service import Converted


def convert_or_die(source: Path, name: str, *rest: Any) -> Converted:
    """Kill the worker process for a file named ``poison*`` (a crash in a C decoder does
    the same); convert the others as the server does."""
    from dicomify.serve.isolation import _convert_in_worker

    if name.startswith("poison"):
        os._exit(70)
    return _convert_in_worker(source, name, *rest)
