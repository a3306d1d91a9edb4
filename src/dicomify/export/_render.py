"""A DICOM image's frames as pixels: what a viewer shows, or the stored values."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from ..errors import CorruptImageError

__all__ = ["display_frames", "stored_frames"]


def _all_frames(dataset: Dataset) -> np.ndarray:
    """Every frame, shape (frames, rows, columns[, samples]); colour converted to RGB."""
    from pydicom.pixels import pixel_array

    try:
        # pydicom converts YBR (and YBR-labelled JPEG) to RGB by default.
        array = pixel_array(dataset)
    except Exception as error:  # pydicom raises many types for damaged pixel data
        reason = " ".join(str(error).split())  # one line, whatever the decoders said
        raise CorruptImageError(f"the pixel data cannot be decoded ({type(error).__name__}: {reason})") from None
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames == 1:
        array = array[np.newaxis]
    return array


def stored_frames(dataset: Dataset) -> np.ndarray:
    """The stored values unchanged (no LUT applied); palette indices stay indices."""
    return _all_frames(dataset)


def _window_of(dataset: Dataset, window: tuple[float, float] | None) -> tuple[float, float] | None:
    if window is not None:
        return window
    if "WindowCenter" in dataset and "WindowWidth" in dataset:
        # Multi-valued: the first window is the default one (PS3.3 C.11.2.1.2).
        return float(_first(dataset.WindowCenter)), float(_first(dataset.WindowWidth))
    return None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, MultiValue) else value


def _linear_window(values: np.ndarray, center: float, width: float, top: int) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1 linear VOI function, scaled to 0..top."""
    width = max(width, 1.0)
    scaled = ((values - (center - 0.5)) / (width - 1.0) + 0.5) * top
    return np.clip(np.rint(scaled), 0, top)


def display_frames(dataset: Dataset, *, window: tuple[float, float] | None = None, bits: int = 8) -> np.ndarray:
    """The frames as a viewer shows them, as uint8 (``bits=8``) or uint16 (``bits=16``).

    Grayscale: Modality LUT, then the VOI window (the one given, else the stored window
    or VOI LUT, else: 8-bit data as it is, deeper data from its minimum to its maximum),
    then MONOCHROME1 inverted.
    Colour: palette expanded, YBR converted to RGB, scaled to the output depth.
    """
    from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

    top = (1 << bits) - 1
    dtype = np.uint8 if bits == 8 else np.uint16
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2"))
    frames = _all_frames(dataset)
    bits_stored = int(dataset.get("BitsStored", dataset.get("BitsAllocated", 8)))

    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(frames, dataset)
        lut_bits = int(dataset.RedPaletteColorLookupTableDescriptor[2])
        return _rescale(rgb, (1 << lut_bits) - 1, top).astype(dtype)
    if frames.ndim == 4:  # RGB (YBR already converted by pydicom)
        return _rescale(frames, (1 << bits_stored) - 1, top).astype(dtype)

    values = apply_modality_lut(frames, dataset).astype(np.float64)
    chosen = _window_of(dataset, window)
    if chosen is not None:
        shown = _linear_window(values, chosen[0], chosen[1], top)
    elif "VOILUTSequence" in dataset:
        voi = apply_voi_lut(values.astype(np.int64), dataset).astype(np.float64)
        descriptor = dataset.VOILUTSequence[0].LUTDescriptor
        shown = _rescale(voi, (1 << int(descriptor[2])) - 1, top)
    else:
        signed = int(dataset.get("PixelRepresentation", 0)) == 1
        has_rescale = "RescaleSlope" in dataset or "ModalityLUTSequence" in dataset
        if bits_stored <= 8 and not has_rescale:
            # 8-bit pictures are shown as they are, like every viewer does.
            low = -(1 << (bits_stored - 1)) if signed else 0.0
            high = low + (1 << bits_stored) - 1.0
        else:
            # No window for deeper data: the range of the values (dcmtk's +Wm, most viewers).
            low, high = float(values.min()), float(values.max())
        shown = np.clip(np.rint((values - low) / max(high - low, 1) * top), 0, top)
    if photometric == "MONOCHROME1":
        shown = top - shown
    return shown.astype(dtype)


def _rescale(values: np.ndarray, source_top: int, top: int) -> np.ndarray:
    if source_top == top:
        return values
    return np.clip(np.rint(values.astype(np.float64) * top / max(source_top, 1)), 0, top)
