"""A run report's pictures: each step's screenshot with its actions drawn on it, and the timeline of steps.

What makes a marker readable on a 360-pixel thumbnail of a phone screen, without hiding what was tapped:

* a ring, not a disc or a dot: the point and ``GAP`` (17) CSS pixels around it stay clear, so the button
  or the word under a tap is still readable inside the ring;
* contrast on any background: a white band under the coloured ring, with a thin dark edge on both sides;
* a number badge outside the ring (up and to the right), the action's number in its step, matching the
  numbered list under the picture;
* no text on the picture: what each action was ("2 · key enter", "1 · tap (925, 405)") is listed under it,
  so a label never covers the target, the status bar or its clock.

Positions are percentages of the picture, radii CSS pixels: the marks sit on the action's device pixel at
any zoom. A click on a picture (or on a step of the timeline) opens it full size, by CSS ``:target``
alone: the report runs no script (its Content-Security-Policy forbids them).

Every marker keeps ``data-step``, ``data-index``, ``data-type`` and ``data-x``/``data-y`` (device pixels).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from guiagent.agent.annotate import marker_points
from guiagent.agent.describe import action_icon, describe_action, describe_actions
from guiagent.agent.records import StepRecord
from guiagent.agent.trajectory import Trajectory, TrajectoryError, read_image

__all__ = ["GAP", "MAX_IMAGE_WIDTH", "RING", "THUMB_HEIGHT", "embed", "figure_html", "timeline_html"]

MAX_IMAGE_WIDTH = 720
"""Screenshots wider than this are downscaled before embedding (keeps a 50-step report a few MB)."""
THUMB_HEIGHT = 96
"""Timeline thumbnails are at most this tall (and this wide): a few KB each."""
_JPEG_QUALITY = 85
_THUMB_QUALITY = 70
RING = 21
"""The ring's radius in CSS pixels; inside ``GAP`` pixels of the point nothing is drawn."""
GAP = RING - 4
_BADGE = 8
_BADGE_OFFSET = 21


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(value: float, size: int) -> str:
    return f"{100 * value / size:.4f}%" if size else "0%"


def _jpeg_uri(picture: Image.Image, quality: int) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def embed(path: Path, limit: int = MAX_IMAGE_WIDTH) -> tuple[str, tuple[int, int]]:
    """A screenshot as a JPEG data URI no wider than ``limit``, and its original size.

    Read through ``read_image``, which checks the size a file claims before decoding it: a report of a run
    folder holding a decompression bomb or a truncated file shows that step's picture as unavailable.

    Raises:
        TrajectoryError: the file is not a readable screenshot (missing, not a PNG or WebP, truncated, too large).
    """
    picture = read_image(path, "a step")
    size = picture.size
    if picture.width > limit:
        height = max(1, round(picture.height * limit / picture.width))
        picture = picture.resize((limit, height), Image.Resampling.LANCZOS)
    return _jpeg_uri(picture, _JPEG_QUALITY), size


def _thumbnail(path: Path) -> str:
    picture = read_image(path, "a step")
    picture.thumbnail((THUMB_HEIGHT, THUMB_HEIGHT), Image.Resampling.LANCZOS)
    return _jpeg_uri(picture, _THUMB_QUALITY)


def _marks(step: StepRecord, screen_w: int, screen_h: int) -> str:
    """SVG rings (each with a number badge) and swipe arrows for a step's device actions.

    Each ring is drawn in a nested ``<svg>`` placed at the action's point (in percent), so its radii and
    offsets are CSS pixels around that point whatever the picture's size.
    """
    marks: list[str] = []
    for number, action in enumerate(step.actions_device, start=1):
        points = marker_points(action)
        if not points:
            continue
        kind = str(action.get("type", "action"))
        pct = [(_pct(x, screen_w), _pct(y, screen_h)) for x, y in points]
        shapes = []
        if len(pct) == 2:
            (x1, y1), (x2, y2) = pct
            line = f'x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"'
            shapes.append(f'<line class="path-halo" {line}/><line class="path" {line} marker-end="url(#ga-arrow)"/>')
            shapes.append(f'<circle class="end" cx="{x2}" cy="{y2}" r="4"/>')
        cx, cy = pct[0]
        shapes.append(
            f'<svg class="at" x="{cx}" y="{cy}" overflow="visible">'
            f'<circle class="edge" r="{RING}"/><circle class="halo" r="{RING}"/><circle class="ring" r="{RING}"/>'
            f'<circle class="num-bg" cx="{_BADGE_OFFSET}" cy="{-_BADGE_OFFSET}" r="{_BADGE}"/>'
            f'<text class="num" x="{_BADGE_OFFSET}" y="{-_BADGE_OFFSET}">{number}</text></svg>'
        )
        marks.append(f'<g class="action {_e(kind)}" {_data(step, number, action)}>{"".join(shapes)}</g>')
    return "".join(marks)


def _data(step: StepRecord, number: int, action: dict[str, Any]) -> str:
    attrs = f'data-step="{step.index}" data-index="{number}" data-type="{_e(action.get("type", "action"))}"'
    for name in ("x", "y", "x2", "y2"):
        if action.get(name) is not None:
            attrs += f' data-{name}="{_e(action[name])}"'
    return attrs


def _caption(step: StepRecord) -> str:
    """The numbered list of a step's actions, under its picture (the numbers match the badges)."""
    if not step.actions_device:
        return ""
    items = []
    for number, action in enumerate(step.actions_device, start=1):
        icon = _e(action_icon(action))
        kind = _e(action.get("type", "action"))
        items.append(
            f'<li class="label {kind}" {_data(step, number, action)}><span class="n">{number}</span>'
            f'<span class="icon">{icon}</span> <span class="what">{_e(describe_action(action))}</span></li>'
        )
    return f'<ol class="acts">{"".join(items)}</ol>'


def figure_html(trajectory: Trajectory, step: StepRecord, previous: int | None, following: int | None) -> str:
    """The step's picture with its marks (click: full size), the full-size bar, and the action list."""
    path = trajectory.screenshot_path(step)
    if path is None:
        missing = '<div class="noshot">no screenshot recorded for this step</div>'
        return f'<div class="shot-wrap">{missing}{_caption(step)}</div>'
    try:
        uri, (width, height) = embed(path)
    except TrajectoryError as exc:
        reason = _e(exc)
        unavailable = f'<div class="noshot">screenshot {_e(step.screenshot)} unavailable: {reason}</div>'
        return f'<div class="shot-wrap">{unavailable}{_caption(step)}</div>'
    screen_w = int(step.screen.get("width") or width)
    screen_h = int(step.screen.get("height") or height)
    index = step.index
    figure = (
        f'<figure class="shot" data-step="{index}" data-screen-width="{screen_w}" data-screen-height="{screen_h}" '
        f'style="--ratio: {screen_w / max(1, screen_h):.4f}"><img src="{uri}" alt="step {index} screenshot">'
        f'<svg class="overlay" xmlns="http://www.w3.org/2000/svg">{_marks(step, screen_w, screen_h)}</svg></figure>'
    )
    links = [f'<a class="zoom-close" href="#step-{index}" title="close">✕ close</a>']
    if previous is not None:
        links.insert(0, f'<a href="#full-{previous}" title="previous step">‹ step {previous}</a>')
    if following is not None:
        links.insert(len(links) - 1, f'<a href="#full-{following}" title="next step">step {following} ›</a>')
    bar = (
        f'<div class="zoom-bar"><b>Step {index}</b> <span>{_e(describe_actions(step.actions_device))}</span>'
        f'<span class="zoom-links">{" ".join(links)}</span></div>'
    )
    return (
        f'<div class="shot-wrap"><span class="zoom-anchor" id="full-{index}"></span>{bar}'
        f'<a class="zoom-open" href="#full-{index}" title="open full size">{figure}</a>{_caption(step)}</div>'
    )


def timeline_html(trajectory: Trajectory, steps: Sequence[StepRecord]) -> str:
    """One small card per step across the top: thumbnail, action symbol, time since the start; click opens it."""
    if not steps:
        return ""
    start = trajectory.run.started_at
    cards = []
    for step in steps:
        path = trajectory.screenshot_path(step)
        picture = '<span class="tl-none">no screenshot</span>'
        if path is not None:
            try:
                picture = f'<img src="{_thumbnail(path)}" alt="">'
            except TrajectoryError:
                picture = '<span class="tl-none">unavailable</span>'
            else:
                picture += _thumb_dots(step)
        icons = "".join(action_icon(a) for a in step.actions_device[:3]) or "·"
        if step.error:
            icons = "⚠" + icons
        elapsed = max(0.0, step.started_at - start)
        summary = describe_actions(step.actions_device)
        title = f"step {step.index}: {summary} ({step.total_seconds:.1f} s)"
        classes = "tl-step has-error" if step.error else "tl-step"
        cards.append(
            f'<li><a class="{classes}" href="#full-{step.index}" title="{_e(title)}" data-step="{step.index}">'
            f'<span class="tl-pic">{picture}</span><span class="tl-meta"><span class="tl-n">{step.index}</span>'
            f'<span class="tl-icon">{_e(icons)}</span><span class="tl-time">{_clock(elapsed)}</span></span></a></li>'
        )
    return f'<nav class="timeline" id="timeline" aria-label="steps"><ol>{"".join(cards)}</ol></nav>'


def _thumb_dots(step: StepRecord) -> str:
    """A dot on the thumbnail where each action with a point landed."""
    width, height = int(step.screen.get("width") or 0), int(step.screen.get("height") or 0)
    dots = []
    for action in step.actions_device:
        for x, y in marker_points(action)[:1]:
            dots.append(f'<span class="tl-dot" style="left:{_pct(x, width)};top:{_pct(y, height)}"></span>')
    return "".join(dots)


def _clock(seconds: float) -> str:
    """Time since the run started: ``0:07``, ``12:40``."""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"
