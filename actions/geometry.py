"""The coordinate contract: the sizes a model sees and the one mapping from its space to device pixels.

A model never sees the screen itself; it sees the screenshot resized by Qwen's ``smart_resize`` and
answers in its family's space (relative 0–1000, pixels of the resized image, fractions). Every space
here is linear in the screenshot: ``device = model / extent * screen``. A point exactly on the far edge
(``extent``) is the last pixel; anything beyond, or negative, is a ``CoordinateError``, never clamped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from .errors import CoordinateError, ImageSizeError
from .types import DEVICE, Action, ActionAdapter

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MIN_PIXELS",
    "IMAGE_FACTOR",
    "MAX_ASPECT_RATIO",
    "CoordinateSpace",
    "Rounding",
    "ImagePlan",
    "ScreenMapping",
    "Size",
    "smart_resize",
    "plan_image",
    "tokens_for_image",
]

IMAGE_FACTOR = 28
"""Qwen2-VL/2.5-VL pixels per merged vision token side (patch 14 × spatial merge 2)."""
DEFAULT_MIN_PIXELS = 4 * 28 * 28
DEFAULT_MAX_PIXELS = 16384 * 28 * 28
MAX_ASPECT_RATIO = 200


@dataclass(frozen=True)
class Size:
    """A width × height in pixels."""

    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Size:
        """Read ``"1080x2400"`` (also ``X`` or ``×``); a clear ``ConfigError`` otherwise."""
        parts = text.lower().replace("×", "x").split("x")
        try:
            width, height = (int(p) for p in parts)
        except ValueError:
            raise ImageSizeError(f"screen size {text!r} is not WIDTHxHEIGHT, e.g. 1080x2400") from None
        if width <= 0 or height <= 0:
            raise ImageSizeError(f"screen size {text!r} must be positive in both sides")
        return cls(width, height)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def smart_resize(
    height: int,
    width: int,
    factor: int = IMAGE_FACTOR,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """The ``(height, width)`` Qwen2-VL/2.5-VL resize an image to; equal to qwen-vl-utils' for every size.

    Each side is rounded to a multiple of ``factor``; if the area then exceeds ``max_pixels`` both sides
    shrink by the same ratio (floored to ``factor``), if below ``min_pixels`` they grow (ceiled). Argument
    order and results follow qwen-vl-utils so the two are interchangeable.

    Raises:
        ImageSizeError: a side is not positive, the aspect ratio exceeds 200, the limits are inverted, or
            shrinking to ``max_pixels`` would floor a side to 0 (where qwen-vl-utils returns 0).
    """
    if height <= 0 or width <= 0:
        raise ImageSizeError(f"image sides must be positive, got {width}x{height}")
    if max_pixels < min_pixels:
        raise ImageSizeError(f"max_pixels ({max_pixels}) must be >= min_pixels ({min_pixels})")
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        raise ImageSizeError(
            f"aspect ratio of {width}x{height} exceeds {MAX_ASPECT_RATIO}; Qwen vision models cannot take it"
        )
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    if h_bar <= 0 or w_bar <= 0:
        # qwen-vl-utils returns a zero side here; no model can take that image.
        raise ImageSizeError(
            f"{width}x{height} is too elongated for max_pixels={max_pixels}: one side would shrink to 0; "
            "raise max_pixels"
        )
    return h_bar, w_bar


def tokens_for_image(width: int, height: int, factor: int = IMAGE_FACTOR) -> int:
    """Vision tokens an image of this (already resized) size costs, plus its start and end tokens."""
    return (width // factor) * (height // factor) + 2


@dataclass(frozen=True)
class ImagePlan:
    """How a screenshot becomes the image a model sees.

    ``model`` is the smart_resize size. When that is the screenshot rounded *up* by less than one
    ``factor`` on each side, the screenshot is padded on the right and bottom instead of resized: no
    interpolation, no blur, and one model pixel is one device pixel. Otherwise it is scaled to ``model``.

    Args:
        screen: the screenshot size.
        model: the size of the image sent to the model.
        padded: whether the screenshot sits unscaled in the top-left corner of a ``model``-sized image.
    """

    screen: Size
    model: Size
    padded: bool = False

    @property
    def content(self) -> Size:
        """The part of the model image the screenshot occupies."""
        return self.screen if self.padded else self.model


def plan_image(
    screen: Size,
    factor: int = IMAGE_FACTOR,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    pad: bool = False,
) -> ImagePlan:
    """Decide the model image size (smart_resize) and whether padding can replace resizing."""
    height, width = smart_resize(screen.height, screen.width, factor, min_pixels, max_pixels)
    model = Size(width, height)
    grow_x, grow_y = width - screen.width, height - screen.height
    padded = pad and 0 <= grow_x < factor and 0 <= grow_y < factor and (grow_x or grow_y) > 0
    return ImagePlan(screen, model, padded)


Rounding: TypeAlias = Literal["nearest", "floor", "floor-scaled-first"]
"""How a model value becomes a device pixel: ``nearest`` (the pixel whose span holds the point, i.e.
``floor(v / extent * side + 0.5)``), or truncated as some authors' executors do it — ``floor`` is
``int(v / extent * side)``, ``floor-scaled-first`` is ``int(v * side / extent)``. The two truncations
differ only where floating point lands a hair under a whole pixel, but fidelity means the same pixel."""

_UNITS = {"pixels": None, "relative-1000": 1000.0, "relative-999": 999.0, "fraction": 1.0}


@dataclass(frozen=True)
class CoordinateSpace:
    """A model's coordinate space: ``extent_x`` by ``extent_y`` units spanning the whole screenshot.

    Args:
        name: how actions in this space are tagged (``Action.space``).
        extent_x: the value of x at the screenshot's right edge (1000 for relative-1000 of a scaled
            image, the resized width for pixels; less when the screenshot was padded).
        extent_y: likewise for y.
        integer: whether the family writes whole numbers (relative-1000, pixels) or decimals (fractions).
        rounding: how a value becomes a device pixel (``Rounding``): the family's executor's own rule.
    """

    name: str
    extent_x: float
    extent_y: float
    integer: bool = True
    rounding: Rounding = field(default="nearest", kw_only=True)

    @classmethod
    def relative(cls, extent: int) -> CoordinateSpace:
        """Qwen2-VL, UI-TARS v1 and OS-Atlas: ``[0, 1000)`` of the image in both axes."""
        return cls(f"relative-{extent}", extent, extent, True)

    @classmethod
    def pixels(cls, width: int, height: int) -> CoordinateSpace:
        """Qwen2.5-VL and UI-TARS-1.5: absolute pixels of the image as resized for the model."""
        return cls(f"pixels-{width}x{height}", width, height, True)

    @classmethod
    def fraction(cls) -> CoordinateSpace:
        """ShowUI: fractions of the image in ``[0, 1]``."""
        return cls("fraction", 1.0, 1.0, False)

    @classmethod
    def for_plan(cls, kind: str, plan: ImagePlan, rounding: Rounding = "nearest") -> CoordinateSpace:
        """The space of a family whose units are ``kind`` (``pixels``, ``relative-1000``, ``fraction``)
        across the model image described by ``plan``.

        The extents are where the *screenshot's* far edges fall in those units, so a padded image keeps
        the mapping exact and a point in the padding is out of range.
        """
        if kind not in _UNITS:
            raise ValueError(f"unknown coordinate kind {kind!r}; expected one of {', '.join(_UNITS)}")
        model, content = plan.model, plan.content
        units = _UNITS[kind]
        units_x = float(model.width) if units is None else units
        units_y = float(model.height) if units is None else units
        base = cls.pixels(model.width, model.height).name if units is None else kind
        name = f"{base}/pad-{content}" if plan.padded else base
        extent_x = units_x * content.width / model.width
        extent_y = units_y * content.height / model.height
        return cls(name, extent_x, extent_y, kind != "fraction", rounding=rounding)

    @property
    def quantum(self) -> float:
        """The finest step the family writes: 1 unit for integer spaces, 0.0001 for fractions."""
        return 1.0 if self.integer else 1e-4

    def from_device(self, x: float, y: float, screen: Size) -> tuple[float, float]:
        """Device pixel → this space, rounded as the family writes it.

        Under truncation the value aimed at is the pixel's centre, so it maps back onto the same pixel.
        """
        if self.rounding != "nearest" and self.integer:
            mx = (x + 0.5) / screen.width * self.extent_x
            my = (y + 0.5) / screen.height * self.extent_y
            return float(min(round(mx), math.floor(self.extent_x))), float(min(round(my), math.floor(self.extent_y)))
        mx = x / screen.width * self.extent_x
        my = y / screen.height * self.extent_y
        if self.integer:
            return float(round(mx)), float(round(my))
        return round(mx, 4), round(my, 4)

    def round_trip_error(self, screen: Size) -> tuple[float, float]:
        """The most a device point can move going to this space as text and back, in pixels per axis.

        Half a written step, scaled to the screen, plus half a pixel of final rounding: within 1 px
        wherever the model's grid is at least as fine as the screen's.
        """
        return (
            max(1.0, 0.5 * self.quantum * screen.width / self.extent_x + 0.5),
            max(1.0, 0.5 * self.quantum * screen.height / self.extent_y + 0.5),
        )

    def to_device(self, x: float, y: float, screen: Size, raw_text: str = "") -> tuple[int, int]:
        """This space → device pixel; a point outside ``[0, extent]`` raises ``CoordinateError``."""
        for value, extent, axis in ((x, self.extent_x, "x"), (y, self.extent_y, "y")):
            if not (0 <= value <= extent):
                raise CoordinateError(
                    f"{axis}={_fmt(value)} is outside the screen: coordinates run from 0 to {_fmt(extent)} "
                    f"in {axis} ({self.describe()})",
                    raw_text,
                    (x, y),
                )
        if self.rounding == "floor":
            dx, dy = math.floor(x / self.extent_x * screen.width), math.floor(y / self.extent_y * screen.height)
        elif self.rounding == "floor-scaled-first":
            dx, dy = math.floor(x * screen.width / self.extent_x), math.floor(y * screen.height / self.extent_y)
        else:
            dx = math.floor(x / self.extent_x * screen.width + 0.5)
            dy = math.floor(y / self.extent_y * screen.height + 0.5)
        return min(screen.width - 1, dx), min(screen.height - 1, dy)

    def describe(self) -> str:
        """Human wording of the space, used in error messages."""
        base, _, padding = self.name.partition("/pad-")
        tail = f"; the screen fills the top-left {padding} of the image" if padding else ""
        if base == "fraction":
            return f"fractions of the image from 0 to 1{tail}"
        if base.startswith("pixels-"):
            return f"pixels of the {base.removeprefix('pixels-')} image the model saw{tail}"
        return f"relative units, 0 to {base.rsplit('-', 1)[-1]} across the image{tail}"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class ScreenMapping:
    """Maps whole actions between a model's space and device pixels for one screenshot size."""

    space: CoordinateSpace
    screen: Size

    def to_device(self, action: Action, raw_text: str = "") -> Action:
        """The same action with every point in device pixels.

        Raises:
            CoordinateError: a point lies outside the model's space.
            ValueError: the action is already tagged with another model's space.
        """
        if action.space == DEVICE:
            return action
        if action.space != self.space.name:
            raise ValueError(f"action is in space {action.space!r}, mapping expects {self.space.name!r}")
        update: dict[str, object] = {"space": DEVICE}
        for fx, fy, x, y in action.points():
            update[fx], update[fy] = self.space.to_device(x, y, self.screen, raw_text)
        return ActionAdapter.validate_python({**action.model_dump(), **update})

    def to_model(self, action: Action) -> Action:
        """The same action with every point in the model's space (for history and replies we render)."""
        if action.space == self.space.name:
            return action
        if action.space != DEVICE:
            raise ValueError(f"action is in space {action.space!r}, expected device pixels")
        update: dict[str, object] = {"space": self.space.name}
        for fx, fy, x, y in action.points():
            update[fx], update[fy] = self.space.from_device(x, y, self.screen)
        return ActionAdapter.validate_python({**action.model_dump(), **update})
