"""PNG kinds that need more than Pillow's first look: tRNS colour keys on gray and RGB
(8 and 16-bit), and APNG (palette, transparency, disposal, blending, 16-bit, a frame
count that disagrees with the frames), each frame as a browser shows it.

Expected frames are derived by hand from the APNG rules (canvas starts transparent;
SOURCE replaces, OVER composites; BACKGROUND clears, PREVIOUS restores) and, for
8-bit RGBA, compared with Pillow's own composition too.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers.apng_build import BACKGROUND, OVER, PREVIOUS, Frame, apng_bytes
from helpers.pictures import RNG, composite, pil_bytes
from helpers.roundtrip import convert_and_check
from PIL import Image, ImageSequence

import dicomify

WHITE = (255, 255, 255)
H, W = 20, 30


# ---------------------------------------------------------------- tRNS colour key


def _keyed(values: np.ndarray, key: np.ndarray | int) -> np.ndarray:
    """Alpha for a colour key: 0 where the pixel is the key colour."""
    hit = np.all(values == key, axis=-1) if values.ndim == 3 else values == key
    full = np.iinfo(values.dtype).max
    return np.where(hit, 0, full).astype(values.dtype)


@pytest.mark.parametrize("background", [WHITE, (10, 20, 30)], ids=["white", "colour"])
def test_rgb8_colour_key(background: tuple[int, int, int], tmp_path: Path) -> None:
    values = (RNG.integers(0, 4, (H, W, 3)) * 60).astype(np.uint8)
    key = (60, 120, 0)
    values[:3, :3] = key
    data = pil_bytes(Image.fromarray(values), "PNG", transparency=key)
    expected = composite(values, _keyed(values, np.array(key)), background)
    convert_and_check(data, expected, tmp_path, name="key.png", background=background)


def test_gray8_colour_key(tmp_path: Path) -> None:
    values = (RNG.integers(0, 4, (H, W)) * 60).astype(np.uint8)
    data = pil_bytes(Image.fromarray(values), "PNG", transparency=60)
    convert_and_check(data, composite(values, _keyed(values, 60), WHITE), tmp_path, name="key.png")


def test_gray16_colour_key(tmp_path: Path) -> None:
    values = (RNG.integers(0, 4, (H, W)) * 6000).astype(np.uint16)
    data = pil_bytes(Image.fromarray(values), "PNG", transparency=6000)
    ds = convert_and_check(data, composite(values, _keyed(values, 6000), WHITE), tmp_path, name="key.png")
    assert ds.BitsStored == 16


def test_rgb16_colour_key(tmp_path: Path) -> None:
    import imagecodecs

    values = (RNG.integers(0, 4, (H, W, 3)) * 6000).astype(np.uint16)
    values[0, 0] = (6000, 12000, 0)
    plain = imagecodecs.png_encode(values)
    # tRNS goes before IDAT: after IHDR (33 bytes with the signature).
    trns = struct.pack(">HHH", 6000, 12000, 0)
    from helpers.pictures import png_chunk

    data = plain[:33] + png_chunk(b"tRNS", trns) + plain[33:]
    expected = composite(values, _keyed(values, np.array([6000, 12000, 0])), WHITE)
    convert_and_check(data, expected, tmp_path, name="key.png")


def test_pillow_image_with_colour_key(tmp_path: Path) -> None:
    values = (RNG.integers(0, 4, (H, W, 3)) * 60).astype(np.uint8)
    with Image.open(io.BytesIO(pil_bytes(Image.fromarray(values), "PNG", transparency=(60, 60, 60)))) as image:
        ds = dicomify.DicomImage(image).dataset
    assert np.array_equal(ds.pixel_array, composite(values, _keyed(values, np.array([60, 60, 60])), WHITE))


# ---------------------------------------------------------------- APNG


def _palette(count: int = 16) -> np.ndarray:
    return RNG.integers(0, 256, (count, 3), dtype=np.uint8)


def _check_frames(data: bytes, expected: list[np.ndarray], tmp_path: Path, tolerance: int = 0) -> None:
    ds = convert_and_check(data, np.stack(expected), tmp_path, tolerance=tolerance, name="anim.png")
    assert ds.NumberOfFrames == len(expected)


def test_palette_apng_frames_are_the_palette_colours(tmp_path: Path) -> None:
    palette = _palette()
    indices = [RNG.integers(0, 16, (H, W), dtype=np.uint8) for _ in range(3)]
    data = apng_bytes(W, H, 3, [Frame(i) for i in indices], palette=palette)
    _check_frames(data, [palette[i] for i in indices], tmp_path)


def test_palette_apng_with_transparency_and_disposal(tmp_path: Path) -> None:
    palette = _palette()
    alpha = np.full(16, 255, np.uint8)
    alpha[0] = 0  # index 0 is transparent
    base = RNG.integers(1, 16, (H, W), dtype=np.uint8)
    base[:4, :4] = 0
    patch = RNG.integers(0, 16, (6, 8), dtype=np.uint8)
    patch[0, :] = 0
    later = RNG.integers(0, 16, (5, 5), dtype=np.uint8)
    frames = [
        Frame(base),  # full frame, shown as is (index 0 shows the background)
        Frame(patch, x=10, y=4, blend=OVER, dispose=BACKGROUND),  # over frame 0, then cleared
        Frame(later, x=2, y=12, blend=OVER, dispose=PREVIOUS),  # over the cleared canvas
        Frame(RNG.integers(1, 16, (3, 3), dtype=np.uint8), x=0, y=0),  # after PREVIOUS restored
    ]
    data = apng_bytes(W, H, 3, frames, palette=palette, trns=alpha.tobytes())
    white = np.array(WHITE, np.uint8)

    def shown(index_canvas: np.ndarray) -> np.ndarray:
        # -1 marks a fully transparent canvas pixel.
        rgb = palette[np.clip(index_canvas, 0, 15)]
        transparent = (index_canvas < 0) | (index_canvas == 0)
        return np.where(transparent[..., None], white, rgb)

    canvas = base.astype(int)
    expected = [shown(canvas)]
    region = canvas[4:10, 10:18]
    region[:] = np.where(patch == 0, region, patch)  # OVER: transparent index keeps the canvas
    expected.append(shown(canvas))
    canvas[4:10, 10:18] = -1  # BACKGROUND: transparent black
    region = canvas[12:17, 2:7]
    saved = region.copy()
    region[:] = np.where(later == 0, region, later)
    expected.append(shown(canvas))
    canvas[12:17, 2:7] = saved  # PREVIOUS
    canvas[0:3, 0:3] = frames[3].pixels  # SOURCE
    expected.append(shown(canvas))
    _check_frames(data, expected, tmp_path)


@pytest.mark.parametrize("colour_type", [0, 2, 6], ids=["gray", "rgb", "rgba"])
def test_16bit_apng_keeps_every_frame(colour_type: int, tmp_path: Path) -> None:
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    frames = [RNG.integers(0, 65536, (H, W, channels), dtype=np.uint16).squeeze() for _ in range(3)]
    data = apng_bytes(W, H, colour_type, [Frame(f) for f in frames])
    expected = []
    for values in frames:
        if channels == 4:
            values = composite(values[..., :3], values[..., 3], WHITE)
        rgb = values if values.ndim == 3 else np.dstack([values] * 3)
        expected.append(np.rint(rgb / 257.0).astype(np.uint8))
    _check_frames(data, expected, tmp_path, tolerance=1)


def test_rgba_apng_matches_pillows_composition(tmp_path: Path) -> None:
    # Pillow composes 8-bit RGBA animations right on the first pass when alpha is 0 or
    # 255 (it pastes through a mask, which is OVER only for such alpha).
    pixels = RNG.integers(0, 256, (4, H, W, 4), dtype=np.uint8)
    pixels[..., 3] = np.where(pixels[..., 3] > 127, 255, 0)
    frames = [Image.fromarray(p, "RGBA") for p in pixels]
    data = pil_bytes(
        frames[0], "PNG", save_all=True, append_images=frames[1:], disposal=[0, 1, 2, 0], blend=[0, 1, 1, 0]
    )
    expected = []
    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            rgba = np.asarray(frame.convert("RGBA"))
            expected.append(composite(rgba[..., :3], rgba[..., 3], WHITE))
    _check_frames(data, expected, tmp_path, tolerance=1)


@pytest.mark.parametrize("declared", [1, 2, 7])
def test_apng_frame_count_that_disagrees_with_the_frames(declared: int, tmp_path: Path) -> None:
    palette = _palette()
    indices = [RNG.integers(0, 16, (H, W), dtype=np.uint8) for _ in range(3)]
    data = apng_bytes(W, H, 3, [Frame(i) for i in indices], palette=palette, declared=declared)
    _check_frames(data, [palette[i] for i in indices], tmp_path)


def test_apng_truncated_in_a_frame_keeps_the_frames_before(tmp_path: Path) -> None:
    frames = [RNG.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(3)]
    data = apng_bytes(W, H, 2, [Frame(f) for f in frames])
    cut = data[: data.rfind(b"fdAT") + 40]  # the last frame's data is cut short
    _check_frames(cut, frames[:2], tmp_path)


def test_apng_page_option_gives_one_composed_frame(tmp_path: Path) -> None:
    palette = _palette()
    indices = [RNG.integers(0, 16, (H, W), dtype=np.uint8) for _ in range(3)]
    data = apng_bytes(W, H, 3, [Frame(i) for i in indices], palette=palette)
    ds = convert_and_check(data, palette[indices[1]], tmp_path, name="anim.png", page=1)
    assert "NumberOfFrames" not in ds


def test_apng_over_blends_partial_alpha_as_porter_duff(tmp_path: Path) -> None:
    first = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
    second = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
    data = apng_bytes(W, H, 6, [Frame(first), Frame(second, blend=OVER)])
    sa, da = second[..., 3:] / 255.0, first[..., 3:] / 255.0
    alpha = sa + da * (1 - sa)
    color = (second[..., :3] * sa + first[..., :3] * da * (1 - sa)) / np.where(alpha > 0, alpha, 1)
    shown = color * alpha + 255 * (1 - alpha)
    expected = [composite(first[..., :3], first[..., 3], WHITE), np.rint(shown).astype(np.uint8)]
    _check_frames(data, expected, tmp_path, tolerance=1)


def test_apng_hidden_default_image_is_not_a_frame(tmp_path: Path) -> None:
    palette = _palette()
    hidden = np.zeros((H, W), np.uint8)
    indices = [RNG.integers(1, 16, (H, W), dtype=np.uint8) for _ in range(2)]
    data = apng_bytes(
        W, H, 3, [Frame(i) for i in indices], palette=palette, default_is_first_frame=False, hidden_default=hidden
    )
    _check_frames(data, [palette[i] for i in indices], tmp_path)


def test_apng_interlaced_frames_of_odd_sizes(tmp_path: Path) -> None:
    # Adam7 passes are empty or partial for frames this small: the size check must agree with libpng.
    first = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    small = RNG.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    data = apng_bytes(W, H, 2, [Frame(first), Frame(small, x=2, y=1)], interlaced=True)
    second = first.copy()
    second[1:4, 2:7] = small
    _check_frames(data, [first, second], tmp_path)


def test_apng_damaged_frame_data_keeps_the_frames_before(tmp_path: Path) -> None:
    frames = [RNG.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(3)]
    data = bytearray(apng_bytes(W, H, 2, [Frame(f) for f in frames]))
    last = data.rfind(b"fdAT")
    # Inside the zlib stream of the last frame (past the sequence number and zlib header).
    data[last + 12 : last + 40] = bytes(28)
    _check_frames(bytes(data), frames[:2], tmp_path)


def test_apng_bad_filter_type_keeps_the_frames_before(tmp_path: Path) -> None:
    frames = [RNG.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(3)]
    good = apng_bytes(W, H, 2, [Frame(f) for f in frames])
    raw = bytearray(b"".join(b"\x00" + row.tobytes() for row in frames[2].reshape(H, -1)))
    raw[(1 + W * 3) * 5] = 9  # row 5: no such filter type
    start = good.rfind(b"fcTL")
    head = good[: start - 4]
    from helpers.pictures import png_chunk

    fctl = good[start - 4 : start + 4 + 26 + 4]
    sequence = struct.unpack(">I", good[start + 4 : start + 8])[0] + 1
    data = head + fctl + png_chunk(b"fdAT", struct.pack(">I", sequence) + zlib.compress(bytes(raw)))
    data += png_chunk(b"IEND", b"")
    _check_frames(data, frames[:2], tmp_path)


def test_apng_frames_are_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import imagecodecs

    calls = []
    decode = imagecodecs.png_decode

    def counting(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(1)
        return decode(*args, **kwargs)

    monkeypatch.setattr(imagecodecs, "png_decode", counting)
    frames = [RNG.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(4)]
    source = tmp_path / "anim.png"
    source.write_bytes(apng_bytes(W, H, 2, [Frame(f) for f in frames]))
    dicomify.convert(source, tmp_path / "anim.dcm")
    assert len(calls) == 4


def test_apng_written_by_ffmpeg_matches_pillows_frames(tmp_path: Path) -> None:
    # FFmpeg's APNG encoder picks its own frame regions, blend and dispose operations.
    import av

    source = tmp_path / "ffmpeg.apng"
    with av.open(str(source), "w", format="apng") as output:
        stream = output.add_stream("apng", rate=5)
        stream.width, stream.height, stream.pix_fmt = W, H, "rgba"
        for _ in range(5):
            rgba = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
            rgba[:8, :8] = (10, 200, 30, 255)  # a region that does not change
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgba, format="rgba")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    with Image.open(source) as image:
        expected = [
            composite(np.asarray(f.convert("RGBA"))[..., :3], np.asarray(f.convert("RGBA"))[..., 3], WHITE)
            for f in ImageSequence.Iterator(image)
        ]
    _check_frames(source.read_bytes(), expected, tmp_path, tolerance=1)
