"""``encode_png``: lossless for every image, the fast path for RGB screenshots and Pillow for the rest."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from guiagent.envs.imaging import encode_png


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("size", [(1080, 2400), (157, 301), (1, 1), (3, 1), (1, 4)])
def test_rgb_images_round_trip_exactly(size: tuple[int, int]) -> None:
    width, height = size
    pixels = np.random.default_rng(width + height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    pixels[: height // 2] = pixels[0]  # flat rows, where the Up filter leaves zeros
    back = decode(encode_png(Image.fromarray(pixels)))
    assert back.mode == "RGB" and back.size == size and np.array_equal(np.asarray(back), pixels)


def test_the_fast_path_is_a_plain_png_and_no_larger_than_pillows_by_much() -> None:
    from guiagent.envs.virtual_phone import VirtualPhone

    frame = VirtualPhone().screenshot()
    data = encode_png(frame)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")
    pillow = io.BytesIO()
    frame.save(pillow, "PNG", compress_level=1)
    assert len(data) < 1.25 * len(pillow.getvalue())


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "1", "I;16"])
def test_other_modes_go_through_pillow_and_keep_their_mode(mode: str) -> None:
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)).convert(mode)
    back = decode(encode_png(image))
    assert back.mode == image.mode and back.tobytes() == image.tobytes()


def test_an_icc_profile_is_kept() -> None:
    image = Image.new("RGB", (4, 4), (10, 20, 30))
    image.info["icc_profile"] = b"not really a profile, but bytes Pillow writes into iCCP"
    back = decode(encode_png(image))
    assert back.info.get("icc_profile") == image.info["icc_profile"]
