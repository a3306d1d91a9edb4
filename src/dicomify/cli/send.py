"""`dicomify send` and `dicomify echo` (owned by the delivery work, issue 5)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:  # argparse's _SubParsersAction is private
    """Placeholder until the delivery commands land."""
