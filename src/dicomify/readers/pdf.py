"""PDF documents: kept byte-identical for Encapsulated PDF, or rendered to pages.

pypdfium2 (PDFium) reads the document's metadata and page count, and renders the
pages with ``pdf_as_images``. PDFium is not thread-safe, so every call into it holds
one lock; conversions of other formats never wait for it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from ..errors import CorruptImageError, ImageTooLargeError, UnsupportedFormatError
from ..options import ConvertOptions
from ..picture import Document, Picture
from . import Reader, register
from .opening import check_size
from .pixels import layout_of

__all__ = ["DEFAULT_PDF_DPI", "MAX_DOCUMENT_BYTES", "render_first_page"]

# PDFium keeps global state; one call at a time (pypdfium2's documentation). Re-entrant:
# an abandoned page generator may be collected, and close its document, while this
# thread is inside PDFium already; a plain Lock would deadlock there.
_PDFIUM_LOCK = threading.RLock()

# Pages rendered for --pdf-as-images: 150 dpi reads well on screen, an A4 page is 1240x1754.
DEFAULT_PDF_DPI = 150.0

# Encapsulated Document is OB with a 32-bit length: 2^32 - 2 bytes at most (even length).
MAX_DOCUMENT_BYTES = 0xFFFF_FFFE

_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")


def sniff(head: bytes) -> bool:
    # The header may follow a few bytes of junk (PDF 32000-1 7.5.2 tolerates it; so do viewers).
    return b"%PDF-" in head


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        reason = str(error)
        if "password" in reason.lower():
            raise UnsupportedFormatError("the PDF is encrypted (it needs a password to open)") from None
        raise CorruptImageError(f"the PDF is damaged or not a PDF ({reason})") from None


def _pdf_date(value: str) -> dt.datetime | None:
    """A PDF date string (``D:YYYYMMDDHHmmSS...``) as a datetime, None if malformed."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (
        int(part) if part else default for part, default in zip(match.groups(), (0, 1, 1, 0, 0, 0), strict=True)
    )
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _title(text: str) -> str:
    """The PDF's title as a DICOM LO value: one line, no backslash (the value separator), 64 characters."""
    return " ".join(text.replace("\\", "/").split())[:64].strip()


def read(stream: BinaryIO, options: ConvertOptions) -> Picture | Document:
    data = stream.read()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ImageTooLargeError(f"the PDF has {len(data)} bytes; DICOM's Encapsulated Document holds at most 4 GiB")
    with _PDFIUM_LOCK:
        document = _open(data)
        try:
            pages = len(document)
            metadata = document.get_metadata_dict(skip_empty=True)
        finally:
            document.close()
    if pages == 0:
        raise CorruptImageError("the PDF has no pages")
    if options.pdf_as_images:
        return _rendered(data, pages, options)
    moment = _pdf_date(metadata.get("CreationDate", "")) or _pdf_date(metadata.get("ModDate", ""))
    return Document(
        data=data,
        mime_type="application/pdf",
        title=_title(str(metadata.get("Title", ""))),
        page_count=pages,
        content_datetime=moment,
    )


def _render_page(document: Any, index: int, scale: float) -> np.ndarray:
    page = document[index]
    try:
        # White paper under the page, as a viewer shows it; RGB byte order.
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), rev_byteorder=True, may_draw_forms=True)
        array = bitmap.to_numpy()[..., :3].copy()
        bitmap.close()
        return array
    finally:
        page.close()


def _rendered(data: bytes, pages: int, options: ConvertOptions) -> Picture:
    if options.page is not None and not 0 <= options.page < pages:
        raise CorruptImageError(f"there is no page {options.page} (the PDF has {pages})")
    chosen = [options.page] if options.page is not None else list(range(pages))
    scale = (options.dpi or DEFAULT_PDF_DPI) / 72.0
    with _PDFIUM_LOCK:
        document = _open(data)
        try:
            sizes = [document.get_page_size(index) for index in chosen]
        finally:
            document.close()
    # PDFium rounds the page size times the scale to the nearest whole pixel.
    shapes = [(int(height * scale + 0.5), int(width * scale + 0.5)) for width, height in sizes]
    for rows, columns in shapes:
        check_size(columns, rows, options, len(chosen))
    if len(set(shapes)) == 1:
        return _pages_picture(data, chosen, scale, options)
    # Pages of different sizes: one object per page, all in one series (Picture.more).
    parts = [_pages_picture(data, [index], scale, options) for index in chosen]
    parts[0].more = tuple(parts[1:])
    return parts[0]


def _pages_picture(data: bytes, pages: list[int], scale: float, options: ConvertOptions) -> Picture:
    """The pages ``pages`` (all of one size) as the frames of one picture, rendered lazily."""

    def frames() -> Iterator[np.ndarray]:
        with _PDFIUM_LOCK:
            document = _open(data)
        try:
            for index in pages:
                with _PDFIUM_LOCK:
                    frame = _render_page(document, index, scale)
                yield frame  # never while holding the lock: the consumer may render too
        finally:
            with _PDFIUM_LOCK:
                document.close()

    first = next(frames())
    return Picture(
        source_format="PDF",
        layout=layout_of(first),
        number_of_frames=len(pages),
        frames=frames,
        notes=[f"PDF rendered at {options.dpi or DEFAULT_PDF_DPI:g} dpi"],
    )


def render_first_page(data: bytes, height: int) -> np.ndarray:
    """The first page of a PDF as RGB pixels about ``height`` high (previews)."""
    with _PDFIUM_LOCK:
        document = _open(data)
        try:
            _, page_height = document.get_page_size(0)
            return _render_page(document, 0, height / max(page_height, 1.0))
        finally:
            document.close()


register(Reader(name="PDF", sniff=sniff, read=read))
