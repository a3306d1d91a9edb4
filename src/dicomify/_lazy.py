"""Keeping out of start-up what pydicom imports but a conversion never uses."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["import_pydicom"]


class _Refuse(MetaPathFinder):
    """Makes ``import NAME`` fail while installed (only for names not imported yet)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in self.names:
            raise ImportError(f"{fullname} is not imported while pydicom starts (dicomify)")
        return None


def import_pydicom() -> None:
    """Import pydicom without ``requests``.

    ``pydicom.data.download`` imports ``requests`` (with urllib3, charset_normalizer,
    idna: ~70 ms of a ~370 ms start-up) on every start, only to download pydicom's
    test files, and falls back to ``urllib`` without it. The refusal lasts for pydicom's
    own import only: ``requests`` imports normally afterwards for whoever needs it.
    """
    if "pydicom" in sys.modules or "requests" in sys.modules:
        return
    refuse = _Refuse(["requests"])
    sys.meta_path.insert(0, refuse)
    try:
        import pydicom  # noqa: F401
    except ImportError:
        # Something pydicom loads needs requests after all: forget the half import and
        # import it as usual.
        for name in [n for n in sys.modules if n == "pydicom" or n.startswith("pydicom.")]:
            del sys.modules[name]
        sys.meta_path.remove(refuse)
        import pydicom  # noqa: F401, F811
    else:
        sys.meta_path.remove(refuse)
