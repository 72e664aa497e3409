"""Frame signatures and the settle wait: what a cheaper signature must keep equal, and the wait's contract."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from guiagent.envs.settle import image_signature, pixels_signature, settle_frames


def reference_signature(image: Image.Image) -> np.ndarray:
    """The signature as first defined: every 4th pixel of every 4th row of the array, channels summed."""
    return np.asarray(image)[::4, ::4, :3].astype(np.int16).sum(axis=2)


@pytest.mark.parametrize("size", [(1080, 2400), (2400, 1080), (1081, 2399), (1083, 7), (5, 3), (4, 4), (1, 1)])
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "RGBX"])
def test_the_image_signature_is_the_strided_array_signature(size: tuple[int, int], mode: str) -> None:
    width, height = size
    pixels = np.random.default_rng(width * height).integers(0, 256, (height, width, 4), dtype=np.uint8)
    image = Image.frombytes("RGBA", size, pixels.tobytes()).convert(mode)
    signature = image_signature(image)
    assert signature.dtype == np.int16
    assert np.array_equal(signature, reference_signature(image))
    assert np.array_equal(pixels_signature(np.asarray(image)), signature)


def test_the_signature_ignores_channel_order_and_the_fourth_byte() -> None:
    rgbx = np.random.default_rng(7).integers(0, 256, (9, 6, 4), dtype=np.uint8)
    bgrx = rgbx[..., [2, 1, 0, 3]].copy()
    bgrx[..., 3] = 0
    assert np.array_equal(pixels_signature(rgbx), pixels_signature(bgrx))


def frames(*values: int) -> list[np.ndarray]:
    return [np.full((8, 8), v, dtype=np.int16) for v in values]


def test_settle_frames_stops_at_two_frames_that_agree() -> None:
    sequence = iter(frames(0, 100, 100, 200))
    frame, seconds, stable, count = settle_frames(lambda: next(sequence), lambda f: f, 0.0, 3.0, 0.0)
    assert stable and count == 3 and int(frame[0, 0]) == 100 and seconds < 1.0


def test_settle_frames_waits_at_least_min_wait_and_gives_up_at_max_wait() -> None:
    counter = iter(range(0, 10_000, 100))
    started = time.monotonic()
    frame, seconds, stable, count = settle_frames(
        lambda: np.full((4, 4), next(counter), dtype=np.int16), lambda f: f, 0.2, 0.5, 0.05
    )
    assert not stable and 0.5 <= seconds < 1.5 and count >= 2
    assert time.monotonic() - started >= 0.5
    same = settle_frames(lambda: np.zeros((4, 4), dtype=np.int16), lambda f: f, 0.2, 3.0, 0.0)
    assert same[2] and same[1] >= 0.2


def test_frames_said_to_be_the_same_agree_without_their_signatures() -> None:
    sequence = iter([b"\x00", b"\xff", b"\xff"])
    signed: list[bytes] = []

    def signature(frame: bytes) -> np.ndarray:
        signed.append(frame)
        return np.full((4, 4), frame[0], dtype=np.int16)

    frame, _, stable, count = settle_frames(lambda: next(sequence), signature, 0.0, 3.0, 0.0, same=bytes.__eq__)
    assert stable and count == 3 and frame == b"\xff" and signed == [b"\x00", b"\xff"]  # the last was never signed
