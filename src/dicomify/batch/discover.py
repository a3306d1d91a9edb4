"""Finding the pictures of a batch and choosing where each output goes.

Rules (documented in docs/batch.md):

* A file argument is always an input, whatever its name. A folder argument is walked
  recursively (sorted, so every run sees the same order); there only files with a
  picture extension count, and hidden files and folders (``.name``) are skipped, so
  ``.DS_Store``, ``Thumbs.db`` or our own ``.NAME.*.part`` temporaries never become inputs.
* Every real picture is converted once, under its real path when it has one inside the
  input folders; every other path to it (a link, a file named twice) gets a ``skipped``
  report row. Symbolic links that lead out of the folder arguments are not followed
  unless asked (``follow_links``): a link to ``/usr`` must not add thousands of files.
  A link loop or a folder that cannot be listed is a ``failed`` row, and the walk goes
  on; so is a broken link that could have led to pictures (a picture name at either
  end, or a target without an extension: a folder on a share that is not mounted).
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

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._files import os_reason
from ..errors import InputError
from ..outcome import ConvertStatus

__all__ = ["PICTURE_EXTENSIONS", "Discovery", "Input", "Passed", "assign_outputs", "discover", "scan"]

PICTURE_EXTENSIONS = frozenset(
    {
        ".jpg", ".jpeg", ".jpe", ".jfif",
        ".png", ".apng",
        ".bmp", ".dib",
        ".tif", ".tiff",
        ".gif",
        ".webp",
        ".emf", ".wmf",
        ".heic", ".heif", ".hif", ".avif",
        ".pdf",
        ".mp4", ".m4v", ".mov", ".mpg", ".mpeg",
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


@dataclass(frozen=True)
class Passed:
    """A path found in the inputs that is not converted; it still gets a report row.

    ``status`` is ``skipped`` (the same picture reached another way, a link leading out
    of the input folders) or ``failed`` (a broken link, a link loop, an unreadable folder).
    """

    path: str
    status: ConvertStatus
    message: str


@dataclass
class Discovery:
    """What :func:`scan` found: the inputs in order, and the paths passed over."""

    inputs: list[Input] = field(default_factory=list)
    passed: list[Passed] = field(default_factory=list)


SKIPPED, FAILED = ConvertStatus.SKIPPED, ConvertStatus.FAILED


@dataclass(frozen=True)
class _Candidate:
    path: str
    root: str | None
    real: str
    linked: bool  # found through a symbolic link (a real path is preferred)


def _is_picture_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in PICTURE_EXTENSIONS


def _may_hold_pictures(name: str, target: str) -> bool:
    """Whether a broken link could have led to pictures: a picture name at either end,
    or a target without an extension (a folder, say an unmounted share)."""
    target_name = os.path.basename(target)
    return _is_picture_name(name) or _is_picture_name(target_name) or not os.path.splitext(target_name)[1]


def _inside(real: str, trees: Sequence[str]) -> bool:
    return any(real == tree or real.startswith(tree.rstrip(os.sep) + os.sep) for tree in trees)


class _Walker:
    """Walks the folder arguments; see :func:`scan` for the rules."""

    def __init__(self, exclude: str | None, trees: Sequence[str], follow_links: bool) -> None:
        self.exclude = exclude
        self.trees = trees
        self.follow_links = follow_links
        self.visited: set[str] = set()
        self.candidates: list[_Candidate] = []
        self.passed: list[Passed] = []
        # Linked folders are walked after every real one, so that a picture reachable
        # both ways is found under its real path.
        self.linked_folders: list[tuple[str, str, str]] = []

    def walk(self, folder: str, root: str, real: str) -> None:
        if real in self.visited:
            return
        self.visited.add(real)
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as error:
            self.passed.append(Passed(folder, FAILED, f"cannot list the folder ({os_reason(error)})"))
            return
        subfolders: list[tuple[str, str]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    self._link(entry, root)
                elif entry.is_dir(follow_symlinks=False):
                    if self.exclude is None or os.path.abspath(entry.path) != self.exclude:
                        subfolders.append((entry.path, os.path.join(real, entry.name)))
                elif _is_picture_name(entry.name) and entry.is_file(follow_symlinks=False):
                    self.candidates.append(_Candidate(entry.path, root, os.path.join(real, entry.name), False))
            except OSError as error:
                self.passed.append(Passed(entry.path, FAILED, f"cannot read ({os_reason(error)})"))
        for path, real_path in subfolders:
            self.walk(path, root, real_path)

    def _link(self, entry: os.DirEntry[str], root: str) -> None:
        target = os.path.realpath(entry.path)
        try:
            status = os.stat(entry.path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                self.passed.append(Passed(entry.path, FAILED, "the symbolic link loops back on itself"))
            elif _may_hold_pictures(entry.name, target):
                self.passed.append(
                    Passed(entry.path, FAILED, f"broken symbolic link (to {target}: {os_reason(error)})")
                )
            return
        is_folder = stat.S_ISDIR(status.st_mode)
        if not is_folder and not _is_picture_name(entry.name):
            return
        if not self.follow_links and not _inside(target, self.trees):
            self.passed.append(
                Passed(
                    entry.path,
                    SKIPPED,
                    f"symbolic link to {target}, outside the input folders (not followed without --follow-links)",
                )
            )
            return
        if is_folder:
            if self.exclude is None or target != os.path.realpath(self.exclude):
                self.linked_folders.append((entry.path, root, target))
        elif stat.S_ISREG(status.st_mode):
            self.candidates.append(_Candidate(entry.path, root, target, True))

    def walk_linked_folders(self) -> None:
        while self.linked_folders:
            pending, self.linked_folders = self.linked_folders, []
            for path, root, real in pending:
                self.walk(path, root, real)


def scan(
    arguments: Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str] | None = None,
    *,
    follow_links: bool = False,
) -> Discovery:
    """The inputs named by file and folder arguments, and the paths passed over.

    Every real picture is an input once; a path that reaches it again (a link, a file
    named twice) and every path that cannot be an input (a broken link, a loop, an
    unreadable folder, a link leading out of the input folders unless ``follow_links``)
    is in ``passed`` with the reason, so a report can give it a row. Folders are walked
    sorted, a folder's files before its subfolders, folders reached through links last.

    Parameters
    ----------
    arguments
        Picture files and folders.
    output_dir
        Never walked into.
    follow_links
        Follow symbolic links that lead out of the folder arguments.

    Returns
    -------
    Discovery
        The inputs, in argument order, and the paths passed over.

    Raises
    ------
    InputError
        An argument does not exist: a typo on the command line, not a bad picture.
    """
    exclude = os.path.abspath(output_dir) if output_dir is not None else None
    paths = [os.fspath(argument) for argument in arguments]
    trees = [os.path.realpath(path) for path in paths if os.path.isdir(path)]
    walker = _Walker(exclude, trees, follow_links)
    for path in paths:
        if os.path.isdir(path):
            walker.walk(path, path, os.path.realpath(path))
        elif os.path.exists(path):
            walker.candidates.append(_Candidate(path, None, os.path.realpath(path), False))
        elif os.path.islink(path):
            walker.passed.append(Passed(path, FAILED, f"broken symbolic link (to {os.path.realpath(path)})"))
        else:
            raise InputError(f"{path}: no such file or folder")
    walker.walk_linked_folders()
    return _choose(walker.candidates, walker.passed)


def _choose(candidates: Sequence[_Candidate], passed: list[Passed]) -> Discovery:
    """One input per real picture: the first real path to it, else the first link."""
    chosen: dict[str, _Candidate] = {}
    for candidate in candidates:
        if candidate.real not in chosen or (chosen[candidate.real].linked and not candidate.linked):
            chosen[candidate.real] = candidate
    found = Discovery(passed=list(passed))
    for candidate in candidates:
        winner = chosen[candidate.real]
        if candidate is winner:
            found.inputs.append(Input(candidate.path, candidate.root, candidate.real))
        elif candidate.path != winner.path:
            found.passed.append(Passed(candidate.path, SKIPPED, f"the same picture as {winner.path}"))
    return found


def discover(
    arguments: Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str] | None = None,
    *,
    follow_links: bool = False,
) -> list[Input]:
    """The inputs of :func:`scan`, without the paths passed over."""
    return scan(arguments, output_dir, follow_links=follow_links).inputs


def anchor_of(inputs: Iterable[Input]) -> str:
    """The deepest folder holding every folder argument and every file argument's folder."""
    places = {
        os.path.abspath(i.root) if i.root is not None else os.path.dirname(os.path.abspath(i.path)) for i in inputs
    }
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
