"""Screenshots → the exact images a model sees, resized exactly once, and encoded for the wire.

The filter follows the size change, because the cost of resizing a phone screenshot is most of a step's
framework time: a near-identity upscale (smart_resize rounding 1080×2400 up to 1092×2408) uses nearest
neighbour, which duplicates a few rows and columns and costs ~1 ms instead of ~50 ms for bicubic; real
downscales use PIL's box filter (area averaging, like OpenCV's INTER_AREA: sharp text, no aliasing);
larger upscales (tiny screens under ``min_pixels``) use bicubic. A padded plan pastes the screenshot into
a black canvas and resizes nothing.

Typed secrets are painted over here too (``SecretMask``), before a screenshot is saved or resized for the
model, so the step PNG, the model's image, the history images made from it and the report all lack them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from guiagent.actions.geometry import IMAGE_FACTOR, ImagePlan, Size
from guiagent.envs.hierarchy import UiNode, focused_node

__all__ = [
    "SECRET_MASK_COLOUR",
    "ImageFormat",
    "SecretMask",
    "encode_image",
    "image_data_url",
    "mask_boxes",
    "prepare_image",
    "shrink_for_history",
]

ImageFormat = Literal["png", "jpeg"]
Box = tuple[int, int, int, int]
"""left, top, right, bottom in screenshot pixels; right and bottom exclusive (Android's bounds)."""

SECRET_MASK_COLOUR = (128, 128, 128)
"""The paint over a view holding a typed secret: one flat colour, so no trace of the glyphs survives a resize
or JPEG, and a person reading the report sees at once that something was hidden."""


def prepare_image(image: Image.Image, plan: ImagePlan) -> Image.Image:
    """The model's view of ``image`` under ``plan``: exactly ``plan.model`` pixels, RGB.

    Raises:
        ValueError: the screenshot is not the size the plan was made for.
    """
    if image.size != (plan.screen.width, plan.screen.height):
        raise ValueError(f"screenshot is {image.size[0]}x{image.size[1]}, the plan expects {plan.screen}")
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    target = plan.model
    if plan.padded:
        canvas = Image.new("RGB", (target.width, target.height))
        canvas.paste(rgb, (0, 0))
        return canvas
    if (target.width, target.height) == rgb.size:
        return rgb
    return rgb.resize((target.width, target.height), _filter(plan.screen, target))


def _filter(source: Size, target: Size) -> Image.Resampling:
    grow_x, grow_y = target.width - source.width, target.height - source.height
    if 0 <= grow_x < IMAGE_FACTOR and 0 <= grow_y < IMAGE_FACTOR:
        return Image.Resampling.NEAREST
    if target.width <= source.width and target.height <= source.height:
        return Image.Resampling.BOX
    return Image.Resampling.BICUBIC


def shrink_for_history(image: Image.Image, scale: float, factor: int = IMAGE_FACTOR) -> Image.Image:
    """An earlier step's model image scaled by ``scale`` (sides kept multiples of ``factor``), to save tokens."""
    if scale >= 1.0:
        return image
    width = max(factor, round(image.width * scale / factor) * factor)
    height = max(factor, round(image.height * scale / factor) * factor)
    return image.resize((width, height), Image.Resampling.BOX)


def encode_image(image: Image.Image, fmt: ImageFormat = "png", quality: int = 95) -> bytes:
    """Encode for sending: PNG (lossless, level 1: nearly as small as the default, twice as fast) or JPEG."""
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, "PNG", compress_level=1)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality)
    else:
        raise ValueError(f"unknown image format {fmt!r}; use 'png' or 'jpeg'")
    return buffer.getvalue()


def image_data_url(image: Image.Image, fmt: ImageFormat = "png", quality: int = 95) -> str:
    """A ``data:image/...;base64,...`` URL, the form OpenAI-compatible servers take inline."""
    payload = base64.b64encode(encode_image(image, fmt, quality)).decode("ascii")
    return f"data:image/{fmt};base64,{payload}"


def mask_boxes(
    image: Image.Image, boxes: Iterable[Box], colour: tuple[int, int, int] = SECRET_MASK_COLOUR
) -> Image.Image:
    """A copy of ``image`` with each box filled with ``colour`` (boxes are clipped to the image).

    A copy, because devices may hand out a cached frame (the virtual phone does) that must stay as it is.
    """
    masked = image.convert("RGB") if image.mode != "RGB" else image.copy()
    for left, top, right, bottom in boxes:
        box = (max(0, left), max(0, top), min(masked.width, right), min(masked.height, bottom))
        if box[0] < box[2] and box[1] < box[3]:
            masked.paste(colour, box)
    return masked


def _field_key(node: UiNode) -> tuple[str, ...]:
    """What names one field across dumps: its resource id, else (no id) its class and place on screen."""
    if node.resource_id:
        return (node.package, node.class_name, node.resource_id)
    return (node.package, node.class_name, ",".join(map(str, node.bounds)))


@dataclass
class SecretMask:
    """Where typed secrets are on the screen, from the device's UI hierarchy, so they can be painted over.

    Two rules, applied to every screenshot after a secret was typed, for the rest of the run:

    * the field that had input focus when the secret was typed is masked while the screen shows it (matched
      by resource id); once a screen without it is seen, that field is no longer followed. This covers
      password fields, whose hierarchy text never shows the value, and fields before their text is reported;
    * any view whose text or content description contains a typed secret is masked, wherever it appears
      (the note list showing the saved note, a summary screen).

    Where the device has no hierarchy (desktop), nothing can be located and the agent never calls ``typed``:
    its screenshots are not masked, and the step notes say so. When one dump fails, the last located boxes are
    masked again (the screen rarely moves between two steps, and a wrong box hides a little too much rather
    than too little).
    """

    values: list[str] = field(default_factory=list)
    fields: set[tuple[str, ...]] = field(default_factory=set)
    last: list[Box] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether a secret was typed where it can be located (only then is the hierarchy read each step)."""
        return bool(self.values)

    def typed(self, values: Sequence[str], nodes: list[UiNode]) -> bool:
        """Note secrets just typed, with the hierarchy read right after typing; False if nothing locates them
        yet (no focused field, no view showing them): later dumps still look for views showing them."""
        self.values.extend(v for v in values if v and v not in self.values)
        focused = focused_node(nodes)
        if focused is not None:
            self.fields.add(_field_key(focused))
        return focused is not None or any(self._shows(n) for n in nodes)

    def locate(self, nodes: list[UiNode] | None) -> list[Box]:
        """The boxes to mask on the screen these nodes describe (None: the dump failed, use the last boxes)."""
        if nodes is None:
            return list(self.last)
        boxes: list[Box] = []
        present: set[tuple[str, ...]] = set()
        for node in nodes:
            key = _field_key(node)
            followed = key in self.fields
            if followed:
                present.add(key)
            if (followed or self._shows(node)) and node.area > 0:
                boxes.append(node.bounds)
        self.fields &= present
        self.last = boxes
        return boxes

    def _shows(self, node: UiNode) -> bool:
        return any(v in node.text or v in node.content_desc for v in self.values)
