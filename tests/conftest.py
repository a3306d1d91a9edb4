"""Fixtures shared by every test (helpers live in the ``helpers`` package)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def ci() -> bool:
    return bool(os.environ.get("CI"))
