"""Finding the pictures of a batch and choosing where each output goes.

Rules (documented in docs/batch.md):

* A file argument is always an input, whatever its name. A folder argument is walked
  recursively (sorted, so every run sees the same order); there only files with a
  picture extension count, and hidden files and folders (``.name``) are skipped, so
  ``.DS_Store``, ``Thumbs.db`` or our own ``.NAME.*.part`` temporaries never become inputs.
* Outputs mirror the input tree below the *anchor*: the deepest folder that holds every
  folder argument and the folder of every file argument. ``photos/`` alone gives
  ``OUT/a/b.dcm`` for ``photos/a/b.jpg``; ``day1/ day2/`` give ``OUT/day1/...`` and
  ``OUT/day2/...``.
* The output name is the source name with ``.dcm`` in place of its extension. When two
  sources would share an output (``b.jpg`` and ``b.png``), each keeps its full name
  (``b.jpg.dcm``, ``b.png.dcm``); any clash left gets ``-2``, ``-3`` ... in input order.
  An output never lands on an input file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

__all__ = ["PICTURE_EXTENSIONS", "Input", "assign_outputs", "discover"]

PICTURE_EXTENSIONS = frozenset(
    {
        ".jpg", ".jpeg", ".jpe", ".jfif",
        ".png", ".apng",
        ".bmp", ".dib",
        ".tif", ".tiff",
        ".gif",
        ".webp",
        ".emf", ".wmf",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Input:
    """One picture to convert: its path as the user wrote it (or found below a folder)."""

    path: str
    # The folder argument it was found in (None for a file argument).
    root: str | None = None
    # The path with every link resolved ("" = not known yet): how inputs are compared.
    real: str = field(default="", compare=False)

    def real_path(self) -> str:
        return self.real or os.path.realpath(self.path)


def _walk(folder: str, exclude: str | None, visited: set[str] | None = None) -> Iterable[tuple[str, str]]:
    """(path, real path) of the pictures below ``folder``.

    Symbolic links to folders are followed, each real folder once (a link to a parent
    would otherwise loop forever). The real path of a file is its real folder plus its
    name unless the file itself is a link: one realpath per folder, not per file.
    """
    visited = set() if visited is None else visited
    real = os.path.realpath(folder)
    if real in visited:
        return
    visited.add(real)
    entries: list[os.DirEntry[str]]
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as error:
        raise InputError(f"{folder}: cannot list the folder ({error.strerror})") from None
    subfolders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if exclude is None or os.path.abspath(entry.path) != exclude:
                subfolders.append(entry.path)
        elif os.path.splitext(entry.name)[1].lower() in PICTURE_EXTENSIONS and entry.is_file():
            linked = entry.is_symlink()
            yield entry.path, os.path.realpath(entry.path) if linked else os.path.join(real, entry.name)
    for subfolder in subfolders:
        yield from _walk(subfolder, exclude, visited)


def discover(arguments: Sequence[str | os.PathLike[str]], output_dir: str | os.PathLike[str] | None = None) -> list[Input]:
    """The inputs named by file and folder arguments, each file once, in argument order.

    A missing argument raises :class:`InputError` before anything is converted: it is a
    typo on the command line, not a bad picture. ``output_dir`` is never walked into.
    """
    exclude = os.path.abspath(output_dir) if output_dir is not None else None
    seen: set[str] = set()
    found: list[Input] = []

    def add(path: str, root: str | None, real: str) -> None:
        if real not in seen:
            seen.add(real)
            found.append(Input(path, root, real))

    for argument in arguments:
        path = os.fspath(argument)
        if os.path.isdir(path):
            for file, real in _walk(path, exclude):
                add(file, path, real)
        elif os.path.exists(path):
            add(path, None, os.path.realpath(path))
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def anchor_of(inputs: Iterable[Input]) -> str:
    """The deepest folder holding every folder argument and every file argument's folder."""
    places = {os.path.abspath(i.root) if i.root is not None else os.path.dirname(os.path.abspath(i.path)) for i in inputs}
    if not places:
        return os.path.abspath(os.curdir)
    return os.path.commonpath(sorted(places))


def assign_outputs(inputs: Sequence[Input], output_dir: str | os.PathLike[str], anchor: str | None = None) -> list[str]:
    """One output path per input, following the module's rules; never two alike."""
    out = Path(output_dir)
    anchor = anchor if anchor is not None else anchor_of(inputs)
    relative = []
    for item in inputs:
        absolute = os.path.abspath(item.path)
        rel = os.path.relpath(absolute, anchor)
        if rel.startswith(os.pardir):  # cannot happen with anchor_of; be safe for given anchors
            rel = os.path.basename(absolute)
        relative.append(Path(rel))

    def stem_name(rel: Path) -> Path:
        return rel.with_name((rel.stem or rel.name) + ".dcm")

    candidates = [stem_name(rel) for rel in relative]
    counts: dict[Path, int] = {}
    for candidate in candidates:
        counts[candidate] = counts.get(candidate, 0) + 1
    chosen = [
        rel.with_name(rel.name + ".dcm") if counts[candidate] > 1 else candidate
        for rel, candidate in zip(relative, candidates, strict=False)
    ]
    inputs_real = {item.real_path() for item in inputs}

    def is_input(target: Path) -> bool:
        # Only a path that exists can be an input; most outputs do not exist yet.
        return os.path.lexists(target) and os.path.realpath(target) in inputs_real

    taken: set[str] = set()
    outputs = []
    for path in chosen:
        target = out / path
        number = 1
        while str(target) in taken or is_input(target):
            number += 1
            target = out / path.with_name(f"{path.stem}-{number}{path.suffix}")
        taken.add(str(target))
        outputs.append(str(target))
    return outputs
