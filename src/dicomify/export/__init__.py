"""DICOM back to pictures and documents: ``dicomify export``.

Images become PNG, JPEG or TIFF as a viewer shows them (Modality LUT, VOI window,
MONOCHROME1 inversion, palette and YBR to RGB), or with their stored values unchanged
(``values=True``: the lossless round trip). Multi-frame objects become a multi-page
TIFF, an animated PNG or numbered files. Encapsulated PDF and CDA documents, and MPEG
video, are extracted byte-identical.
"""

from __future__ import annotations

from ._export import ExportOptions, FrameLayout, export, export_file, extract_content

__all__ = ["ExportOptions", "FrameLayout", "export", "export_file", "extract_content"]
