"""Drawing actions onto screenshots: a ring at a tap, an arrow for a swipe, a label for typed text.

Used by ``--dry-run`` (the decision drawn, the device untouched) and by HTML reports. Everything is in
device pixels of the screenshot, so what is drawn is exactly where the action lands.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = ["annotate", "marker_points"]

_COLOUR = (255, 40, 90)
_OUTLINE = (255, 255, 255)


def marker_points(action: dict[str, Any]) -> list[tuple[int, int]]:
    """The device points an action (as a JSON dict) touches: start, and end for swipes and drags."""
    points = []
    for fx, fy in (("x", "y"), ("x2", "y2")):
        if action.get(fx) is not None and action.get(fy) is not None:
            points.append((int(action[fx]), int(action[fy])))
    return points


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def annotate(image: Image.Image, actions: Iterable[dict[str, Any]]) -> Image.Image:
    """A copy of ``image`` with every action drawn on it."""
    canvas = image.convert("RGB").copy()
    draw = ImageDraw.Draw(canvas)
    scale = max(1.0, min(canvas.size) / 540)
    radius = int(18 * scale)
    width = max(2, int(4 * scale))
    font = _font(int(26 * scale))
    for action in actions:
        points = marker_points(action)
        kind = str(action.get("type", ""))
        if len(points) == 2:
            _arrow(draw, points[0], points[1], width, radius)
        for x, y in points[:1]:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=_OUTLINE, width=width + 2)
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=_COLOUR, width=width)
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=_COLOUR)
        label = _label(kind, action)
        if label:
            anchor = points[0] if points else (int(12 * scale), int(canvas.height * 0.08))
            _text_box(draw, anchor, label, font, radius, canvas.size)
    return canvas


def _label(kind: str, action: dict[str, Any]) -> str:
    if kind == "type":
        return f'type "{action.get("text", "")}"'
    if kind == "key":
        return "key " + "+".join(action.get("keys", []))
    if kind in ("system_button", "open_app", "scroll", "wait", "terminate", "answer", "call_user"):
        detail = action.get("button") or action.get("name") or action.get("direction") or action.get("status") or ""
        return f"{kind} {detail}".strip()
    if kind in ("long_press", "double_click", "triple_click", "right_click", "middle_click", "drag", "move"):
        return kind
    return ""


def _arrow(draw: ImageDraw.ImageDraw, start: tuple[int, int], end: tuple[int, int], width: int, head: int) -> None:
    draw.line([start, end], fill=_COLOUR, width=width)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    for side in (-0.5, 0.5):
        tip = (end[0] - head * math.cos(angle + side), end[1] - head * math.sin(angle + side))
        draw.line([end, tip], fill=_COLOUR, width=width)


def _text_box(
    draw: ImageDraw.ImageDraw,
    anchor: tuple[int, int],
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    offset: int,
    size: tuple[int, int],
) -> None:
    text = text if len(text) <= 60 else text[:57] + "..."
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 12, bottom - top + 10
    x = min(max(0, anchor[0] + offset), max(0, size[0] - w))
    y = min(max(0, anchor[1] - h // 2), max(0, size[1] - h))
    draw.rectangle((x, y, x + w, y + h), fill=(20, 20, 20))
    draw.text((x + 6 - left, y + 5 - top), text, fill=(255, 255, 255), font=font)
