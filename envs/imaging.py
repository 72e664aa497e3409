"""Frame-by-frame imaging: Pillow memory reuse, and a fast lossless PNG for screenshots.

Memory: every capture, decode and resize makes a new 8–10 MB image. With Pillow's default of keeping no
freed blocks, each one lands on fresh pages and the page faults dominate: measured here, a 1080p desktop
capture went from 10.8 ms to 2.0 ms and a phone step's framework time from ~20 ms to ~8 ms once Pillow
kept a few blocks. The setting is process-wide, retains at most ``BLOCKS`` blocks (≤ 64 MB), is only
ever raised, and is left alone when ``PILLOW_BLOCKS_MAX`` says what the user wants.

PNG: every step's screenshot is saved losslessly, and Pillow's encoder was the largest framework cost of a
phone step (~27 ms of CPU for 1080×2400). It tries all five PNG filters on every row to pick one, then
deflates in many small calls, each taking and releasing the GIL, so with many episodes in one process the
saves also queue behind each other. ``encode_png`` gives every row the Up filter (the difference from the
row above: one numpy subtraction over the whole image) and deflates it in one ``zlib`` call, which runs
without the GIL: ~13 ms, the same pixels, about the same size (the Up filter is what suits screens, whose
flat areas repeat row after row).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from contextlib import suppress

import numpy as np
from PIL import Image

__all__ = ["BLOCKS", "encode_png", "reuse_image_memory"]

BLOCKS = 4
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2
_RGB_8BIT = (8, 2, 0, 0, 0)
"""IHDR after the size: bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace."""
_PILLOW_ONLY_INFO = ("icc_profile", "transparency")
"""Image info that Pillow's encoder writes into the file; images carrying it go through Pillow."""


def reuse_image_memory() -> None:
    """Let Pillow keep up to ``BLOCKS`` freed image blocks (see the module docstring)."""
    core = getattr(Image, "core", None)
    if "PILLOW_BLOCKS_MAX" in os.environ or core is None:
        return
    with suppress(AttributeError):
        if core.get_blocks_max() < BLOCKS:
            core.set_blocks_max(BLOCKS)


def encode_png(image: Image.Image, compress_level: int = 1) -> bytes:
    """``image`` as a lossless PNG file (see the module docstring for why not Pillow's encoder).

    8-bit RGB images are encoded here; any other mode, or an image whose info Pillow would write into the
    file (an ICC profile, a transparent colour), is saved by Pillow at the same compression level.
    """
    width, height = image.size
    if image.mode != "RGB" or width == 0 or height == 0 or any(k in image.info for k in _PILLOW_ONLY_INFO):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=compress_level)
        return buffer.getvalue()
    pixels = np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(height, width * 3)
    rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
    rows[:, 0] = _FILTER_UP
    rows[0, 1:] = pixels[0]  # the row above the first is all zeros
    np.subtract(pixels[1:], pixels[:-1], out=rows[1:, 1:])  # modulo 256, as the filter is defined
    header = struct.pack(">II5B", width, height, *_RGB_8BIT)
    data = zlib.compress(rows.data, compress_level)
    return b"".join((_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", data), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return b"".join((struct.pack(">I", len(data)), kind, data, struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))))
