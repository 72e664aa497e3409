"""Wait for a screen to stop changing instead of sleeping a fixed time.

Peers sleep 1–10 s after every action. Here the screen is sampled until two consecutive frames agree
(within a tolerance that ignores a blinking cursor or a ticking clock), with a short minimum so the
input has time to register and a bounded maximum so an animation never hangs the run.

Frames are compared by a signature: a grey thumbnail of every 4th pixel of every 4th row, summed over the
colour channels. It is cheap by design, because a settle takes two frames or more after every action:
from a PIL image, Pillow samples the thumbnail in C (~0.1 ms for 1080×2400, where converting the image to
an array first costs ~6 ms); from a raw frame still in its capture buffer (``pixels_signature``), numpy
strides over the bytes without copying them. Both give the same array for the same pixels, and the
channel sum does not depend on the channel order, so RGBX and BGRX buffers need no conversion.
``settle_frames`` runs the wait over any kind of frame, so a device can compare frames it has not decoded
and decode only the one it keeps (``AndroidEnv.settle``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from .base import Observation

__all__ = [
    "SettleResult",
    "frame_difference",
    "frame_signature",
    "image_signature",
    "pixels_signature",
    "settle_frames",
    "wait_until_stable",
]

_SAMPLE_STRIDE = 4
_PIXEL_THRESHOLD = 24
_SAMPLED_MODES = ("RGB", "RGBA", "RGBX")
"""Modes whose first three bands are colours and that Pillow can sample to the same mode."""
_Frame = TypeVar("_Frame")


@dataclass(frozen=True)
class SettleResult:
    """The outcome of a settle wait.

    Args:
        observation: the last frame captured (stable if ``stable``).
        seconds: time spent waiting, captures included.
        stable: whether two frames agreed before ``max_wait``.
        frames: how many frames were captured.
    """

    observation: Observation
    seconds: float
    stable: bool
    frames: int


def pixels_signature(pixels: np.ndarray) -> np.ndarray:
    """The signature of an ``(height, width, channels >= 3)`` uint8 array (a view of a raw frame is fine).

    Only the sampled pixels are read and nothing else is copied, so a view straight over a capture buffer
    costs ~0.2 ms for 1080×2400.
    """
    return _grey(pixels[::_SAMPLE_STRIDE, ::_SAMPLE_STRIDE])


def image_signature(image: Image.Image) -> np.ndarray:
    """The signature of a PIL image: the same array ``pixels_signature(np.asarray(image))`` gives.

    Pillow picks the sampled pixels itself (an affine map with nearest-neighbour sampling lands exactly on
    every 4th pixel of every 4th row), so only the small thumbnail is ever turned into an array.
    """
    if image.mode not in _SAMPLED_MODES:
        return pixels_signature(np.asarray(image))
    width, height = image.size
    size = (-(-width // _SAMPLE_STRIDE), -(-height // _SAMPLE_STRIDE))
    # Output pixel (x, y) samples the input at stride*(x + 0.5) - 1.5 = stride*x + 0.5: half a pixel inside.
    offset = 0.5 - _SAMPLE_STRIDE / 2
    matrix = (_SAMPLE_STRIDE, 0, offset, 0, _SAMPLE_STRIDE, offset)
    thumbnail = image.transform(size, Image.Transform.AFFINE, matrix, Image.Resampling.NEAREST)
    return _grey(np.asarray(thumbnail))


def _grey(sample: np.ndarray) -> np.ndarray:
    """The sum of the first three channels, as int16 (differences of it must not wrap)."""
    total = sample[..., 0].astype(np.int16)
    total += sample[..., 1]
    total += sample[..., 2]
    return total


def frame_signature(observation: Observation) -> np.ndarray:
    """A cheap grey thumbnail: every 4th pixel of every 4th row, summed over channels."""
    return image_signature(observation.image)


def frame_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of sampled pixels whose brightness changed noticeably (1.0 when the sizes differ)."""
    if a.shape != b.shape:
        return 1.0
    changed = np.count_nonzero(np.abs(a - b) > _PIXEL_THRESHOLD)
    return changed / max(1, a.size)


def settle_frames(
    capture: Callable[[], _Frame],
    signature: Callable[[_Frame], np.ndarray],
    min_wait: float = 0.1,
    max_wait: float = 3.0,
    interval: float = 0.05,
    tolerance: float = 0.002,
    *,
    same: Callable[[_Frame, _Frame], bool] | None = None,
) -> tuple[_Frame, float, bool, int]:
    """``wait_until_stable`` over any kind of frame: (the last frame, seconds, stable, frames captured).

    For devices whose frames are cheaper to compare than to turn into an ``Observation``. ``same`` may say
    that two frames are identical more cheaply still (byte-equal files); only when it says no are their
    signatures computed, each frame's at most once.
    """
    start = time.monotonic()
    time.sleep(min_wait)
    previous = capture()
    previous_sig: np.ndarray | None = None
    frames = 1
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= max_wait:
            return previous, elapsed, False, frames
        time.sleep(min(interval, max(0.0, max_wait - elapsed)))
        current = capture()
        frames += 1
        if same is not None and same(previous, current):
            return current, time.monotonic() - start, True, frames
        if previous_sig is None:
            previous_sig = signature(previous)
        current_sig = signature(current)
        if frame_difference(previous_sig, current_sig) <= tolerance:
            return current, time.monotonic() - start, True, frames
        previous, previous_sig = current, current_sig


def wait_until_stable(
    observe: Callable[[], Observation],
    min_wait: float = 0.1,
    max_wait: float = 3.0,
    interval: float = 0.05,
    tolerance: float = 0.002,
) -> SettleResult:
    """Capture frames until two in a row differ by at most ``tolerance``, or ``max_wait`` passes."""
    observation, seconds, stable, frames = settle_frames(
        observe, frame_signature, min_wait, max_wait, interval, tolerance
    )
    return SettleResult(observation, seconds, stable, frames)
