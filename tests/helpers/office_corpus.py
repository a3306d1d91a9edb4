"""Real WMF and EMF files written by Microsoft Office, GDI+ (and LibreOffice), fetched from the
test documents of public Office and metafile libraries on PyPI, never copied into this
repository.

Each source is a pinned source distribution, checked against its SHA-256. The metafiles are
the loose ``.wmf``/``.emf`` files in it, the pictures inside its Office documents
(``*.docx``, ``*.pptx``, ``*.xlsx`` ... ``media/*.wmf|emf``, and an OpenDocument file's
``ObjectReplacements/``), and the thumbnails of its binary Office files (``.ppt``, ``.doc``
... : the SummaryInformation property PIDSI_THUMBNAIL, a WMF in CF_METAFILEPICT form, read
with olefile): OLE object icons, logos, charts, slides. Files are deduplicated by content.

Run it on its own to fetch and list the corpus::

    python tests/helpers/office_corpus.py [CACHE_DIR]
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import olefile

WMF_MAGICS = (b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00", b"\x02\x00\x09\x00")
OFFICE_SUFFIXES = (".docx", ".docm", ".pptx", ".pptm", ".xlsx", ".xlsm", ".odt", ".odp", ".ods", ".odg")
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a binary Office file (OLE compound file)
PIDSI_THUMBNAIL, CF_METAFILEPICT = 17, 3
DOWNLOAD_SECONDS = 300


@dataclass(frozen=True)
class Source:
    """A pinned sdist and the least number of metafiles it must add to the corpus (those
    not already given by an earlier source)."""

    name: str
    version: str
    sha256: str
    archive: str
    licence: str
    at_least: int


SOURCES = (
    # tests/test_files/CVS_LOGO.WMF, a placeable WMF logo (MIT).
    Source(
        "python-docx",
        "1.2.0",
        "7bc9d7b7d8a69c9c02ca09216118c86552704edc23bac179283f2e38f86220ce",
        "python_docx-1.2.0.tar.gz",
        "MIT",
        1,
    ),
    # Office's OLE icons (Word, Excel, PowerPoint, generic), a matplotlib EMF, and the
    # pictures of OLE objects in PowerPoint files (MIT).
    Source(
        "python-pptx",
        "1.0.2",
        "479a8af0eaf0f0d76b6f00b0887732874ad2e3188230315290cd1f9dd9cc7095",
        "python_pptx-1.0.2.tar.gz",
        "MIT",
        7,
    ),
    # EMF+ files written by GDI+ itself (EMF+ only and dual) for geometry, state, images,
    # text, brushes and EMF+ mixed with GDI through GetDC (MIT).
    Source(
        "metafile-render",
        "0.3.1",
        "ff1998b8cffbc47a4db50f4b4e9001c03488a944330ae9503f9c4712da9db912",
        "metafile_render-0.3.1.tar.gz",
        "MIT",
        12,
    ),
    # Documents with embedded OLE objects written by Office 2007 and LibreOffice: their
    # icons as WMF (PowerPoint, LibreOffice's ObjectReplacements) and EMF (Word, Excel),
    # and PowerPoint's WMF slide thumbnails (BSD-2-Clause).
    Source(
        "oletools",
        "0.60.2",
        "ad452099f4695ffd8855113f453348200d195ee9fa341a09e197d66ee7e0b2c3",
        "oletools-0.60.2.zip",
        "BSD-2-Clause",
        8,
    ),
)


class FetchError(RuntimeError):
    """A source could not be downloaded (no network, registry down) or did not match."""


def cache_dir() -> Path:
    """Where the sdists are kept between runs: ``$DICOMIFY_TEST_CACHE`` or ~/.cache."""
    root = os.environ.get("DICOMIFY_TEST_CACHE") or Path.home() / ".cache" / "dicomify-tests"
    return Path(root) / "office-corpus"


def download(source: Source, into: Path) -> Path:
    """The sdist, downloaded with pip unless the cache already holds the right bytes."""
    into.mkdir(parents=True, exist_ok=True)
    path = into / source.archive
    if not (path.is_file() and _sha256(path) == source.sha256):
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--timeout",
            "30",
            "--retries",
            "2",
            "--dest",
            str(into),
            f"{source.name}=={source.version}",
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_SECONDS)
        except subprocess.TimeoutExpired:
            raise FetchError(f"pip download {source.name}=={source.version} took over {DOWNLOAD_SECONDS} s") from None
        if result.returncode != 0 or not path.is_file():
            last = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise FetchError(f"pip download {source.name}=={source.version} failed: {last}")
    digest = _sha256(path)
    if digest != source.sha256:
        raise FetchError(f"{path.name} has SHA-256 {digest}, not the pinned {source.sha256}")
    return path


def metafiles(archive: Path) -> dict[str, bytes]:
    """The metafiles in an sdist (tar.gz or zip), named ``member`` or ``document!member``."""
    found: dict[str, bytes] = {}
    for name, data in _members(archive):
        lower = name.lower()
        if lower.endswith((".wmf", ".emf")):
            found[name] = data
        elif lower.endswith(OFFICE_SUFFIXES):
            try:
                document = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile:
                continue  # an encrypted or binary Office file: no pictures to take
            for inner in document.namelist():
                if inner.lower().endswith((".wmf", ".emf")) or inner.startswith("ObjectReplacements/"):
                    picture = document.read(inner)
                    if kind(picture):
                        found[f"{name}!{inner}"] = picture
        elif data[:8] == CFB_MAGIC:
            thumbnail = _thumbnail(data)
            if thumbnail is not None:
                found[f"{name}!thumbnail.wmf"] = thumbnail
    return found


def _thumbnail(data: bytes) -> bytes | None:
    """The WMF thumbnail of a binary Office file: a VT_CF value holding the clipboard format
    (-1, CF_METAFILEPICT), a 16-bit METAFILEPICT (mapping mode, extents, handle), the WMF."""
    try:
        with olefile.OleFileIO(data) as ole:
            if not ole.exists("\x05SummaryInformation"):
                return None
            value = ole.getproperties("\x05SummaryInformation", convert_time=False).get(PIDSI_THUMBNAIL)
    except OSError:
        return None  # encrypted or damaged: no thumbnail to take
    if not isinstance(value, bytes) or len(value) < 16 + 18:
        return None
    tag, fmt = struct.unpack_from("<iI", value, 0)
    wmf = value[16:]
    if tag != -1 or fmt != CF_METAFILEPICT or kind(wmf) != "wmf":
        return None
    return wmf[: struct.unpack_from("<I", wmf, 6)[0] * 2]


def kind(data: bytes) -> str | None:
    """``"wmf"``, ``"emf"`` or None, from the file's first bytes."""
    if data[:4] in WMF_MAGICS:
        return "wmf"
    if data[:4] == b"\x01\x00\x00\x00" and data[40:44] == b" EMF":
        return "emf"
    return None


def corpus(into: Path | None = None) -> dict[str, bytes]:
    """Every distinct metafile of every source, as ``"package/member" -> bytes``.

    Raises
    ------
    FetchError
        When a source cannot be downloaded, does not match its hash, or gives fewer
        metafiles than it should.
    """
    into = into or cache_dir()
    seen: set[str] = set()
    files: dict[str, bytes] = {}
    for source in SOURCES:
        found = metafiles(download(source, into))
        distinct = 0
        for name, data in sorted(found.items()):
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            distinct += 1
            files[f"{source.name}/{name.split('/', 1)[-1]}"] = data
        if distinct < source.at_least:
            raise FetchError(f"{source.archive} gave {distinct} distinct metafiles, expected {source.at_least}")
    return files


def _members(archive: Path) -> list[tuple[str, bytes]]:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            return [(n, z.read(n)) for n in z.namelist() if not n.endswith("/")]
    out = []
    with tarfile.open(archive) as t:
        for member in t.getmembers():
            handle = t.extractfile(member) if member.isfile() else None
            if handle is not None:
                out.append((member.name, handle.read()))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    for name, data in corpus(target).items():
        print(f"{kind(data)}  {len(data):8d}  {name}")
