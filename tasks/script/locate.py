"""Finding a described element: a cached locator that verifies on the screen now, or the model's grounding.

Verification is what makes a cache safe to use unattended. A cached point is scaled to the current screen
and used only when one of two things still holds there:

* the patch around it looks as it did when it was grounded: at most ``threshold`` of its pixels changed,
  the check verified replay makes before each tapped point, and as little of its core, the label right
  under the point (``Patch.difference``); it costs one crop of a frame already taken. A patch without
  edges at every size (``Patch.featureless``) proves nothing and never verifies by itself;
* or, where the device has a UI hierarchy, the node under it is the same element (resource id, class,
  label): pixels may change (a pressed state, a new wallpaper) while the element stays. Reading the
  hierarchy costs a ``uiautomator dump``, so it is read only when the pixels disagree.

Anything else is a refusal with the reason in words; the caller grounds again or stops. Grounding asks
with the family's own grounding prompt (``ModelFamily.grounding_messages``) on the image the family's
plan makes, reads the answer with the family's own ``parse_grounding`` and maps it with its coordinate
space: the same path as the grounding evaluation, so a family's ScreenSpot numbers are what a script gets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guiagent.actions.errors import ActionError
from guiagent.actions.families import ModelFamily
from guiagent.actions.messages import CURRENT_IMAGE, Message
from guiagent.agent.backends.base import ModelBackend, ModelRequest
from guiagent.agent.images import prepare_image
from guiagent.agent.records import message_json
from guiagent.envs.base import Observation
from guiagent.envs.hierarchy import UiNode

from .cache import CacheEntry, NodeRef, Patch
from .errors import GroundingFailed

__all__ = ["Grounding", "Verdict", "ground", "node_at", "verify"]

GROUNDING_TOKENS = 256
"""A grounding answer is one point or box: far fewer tokens than an agent step."""


@dataclass(frozen=True)
class Verdict:
    """Whether a cached locator holds on the screen now, and what was found there.

    Args:
        ok: the locator verified; ``point`` may be acted on.
        point: the cached point scaled to the current screen.
        by: what verified it: ``"patch"`` or ``"node"`` (empty when it did not).
        difference: fraction of the patch's pixels that changed.
        actual: the patch around ``point`` now.
        node: the node under ``point`` now, when the hierarchy was read.
        reason: in words, why it verified or not.
    """

    ok: bool
    point: tuple[int, int]
    by: str
    difference: float
    actual: Patch
    node: NodeRef | None
    reason: str


def node_at(nodes: list[UiNode] | None, point: tuple[int, int]) -> NodeRef | None:
    """The node a tap at ``point`` hits, as a reference: the labelled one nearest the top of what is drawn there.

    A dump lists nodes in drawing order, so the last node under the point is the one on top, and the nodes
    before it that enclose it are its ancestors. The answer is the smallest labelled node of that chain
    (a button, rather than the icon drawn inside it), else the top node itself. Unlike ``element_at``, a
    dialog's scrim drawn over a button hides the button: the tap would land on the scrim.
    """
    if not nodes:
        return None
    hits = [n for n in nodes if n.contains(*point) and n.area > 0]
    if not hits:
        return None
    top = hits[-1]
    chain = [n for n in hits if _encloses(n.bounds, top.bounds)]
    labelled = [n for n in chain if n.label]
    return NodeRef.of(min(labelled, key=lambda n: n.area) if labelled else top)


def _encloses(outer: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def verify(
    entry: CacheEntry,
    observation: Observation,
    read_nodes: Callable[[], list[UiNode] | None],
    threshold: float,
) -> Verdict:
    """Check a cached locator against the screen in ``observation`` (see the module docstring).

    ``read_nodes`` is called only when the pixels disagree and the cached node can be told apart.
    """
    screen = observation.geometry.size
    point = entry.scaled_point(screen)
    actual = Patch.of(observation.image, point, entry.patch.radius)
    difference = entry.patch.difference(actual)
    scaled = "" if screen == entry.screen else f" (scaled from {entry.point} on {entry.screen})"
    if entry.patch.featureless:
        pixels = f"the patch at {point}{scaled} shows no edges at any size, so its pixels cannot tell"
    else:
        pixels = f"the patch at {point}{scaled} differs by {difference:.0%} (threshold {threshold:.0%})"
        if difference <= threshold:
            return Verdict(True, point, "patch", difference, actual, None, pixels)
    cached = entry.node
    if cached is None or not cached.identifiable:
        return Verdict(False, point, "", difference, actual, None, f"{pixels}, and no UI node was cached to check")
    now = node_at(read_nodes(), point)
    if now is not None and now.identity() == cached.identity():
        return Verdict(True, point, "node", difference, actual, now, f"{pixels}; the node there is the same")
    found = now.describe() if now else "nothing the device can name"
    return Verdict(
        False, point, "", difference, actual, now, f"{pixels}, and the node there is {found}, not {cached.describe()}"
    )


@dataclass(frozen=True)
class Grounding:
    """The model's answer for one description, and what asking cost.

    Args:
        point: the target in device pixels.
        model_point: the same point in the family's space, as the model wrote it.
        answer: the model's last reply.
        prompt: the messages sent (images by slot), as trajectories record prompts.
        model_image: the size of the image the model saw.
        timings: ``preprocess``, ``model`` and ``parse`` seconds.
        prompt_tokens: as the backend counted them, over every attempt.
        completion_tokens: likewise.
        attempts: 1, or 2 when the first answer named no usable point and the model was asked again.
        model: the model's id.
    """

    point: tuple[int, int]
    model_point: tuple[float, float]
    answer: str
    prompt: list[dict[str, Any]]
    model_image: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1
    model: str = ""


def ground(
    model: ModelBackend,
    family: ModelFamily,
    description: str,
    observation: Observation,
    max_new_tokens: int = GROUNDING_TOKENS,
    on_request: Callable[[], None] | None = None,
) -> Grounding:
    """Ask the model where ``description`` is on this screen; one re-ask when the answer names no point.

    ``on_request`` is called before each request is sent (the session counts model calls with it).

    Raises:
        GroundingFailed: both answers were unusable (no point, or a point outside the screen).
        ModelError: the backend failed (``ModelUnavailable``, ``ModelRequestError``).
    """
    started = time.perf_counter()
    screen = observation.geometry.size
    plan = family.image_plan(screen)
    image = prepare_image(observation.image, plan)
    messages = list(family.grounding_messages(description, screen))
    timings = {"preprocess": time.perf_counter() - started, "model": 0.0, "parse": 0.0}
    tokens: list[int | None] = [None, None]
    reason, reply_text = "", ""
    for attempt in (1, 2):
        if on_request is not None:
            on_request()
        reply = model.complete(
            ModelRequest(
                messages,
                {CURRENT_IMAGE: image},
                max_new_tokens=max_new_tokens,
                temperature=0.0,
                keep_special_tokens=family.needs_special_tokens,
            )
        )
        timings["preprocess"] += reply.prepare_seconds
        timings["model"] += max(0.0, reply.seconds - reply.prepare_seconds)
        tokens = [_add(tokens[0], reply.prompt_tokens), _add(tokens[1], reply.completion_tokens)]
        reply_text = reply.text
        parsing = time.perf_counter()
        try:
            mx, my = family.parse_grounding(reply.text, screen)
            x, y = family.space(screen).to_device(mx, my, screen, reply.text)
        except ActionError as exc:
            reason = exc.reason
            messages += [Message.text("assistant", reply.text), Message.text("user", f"{exc.reason}")]
            continue
        finally:
            timings["parse"] += time.perf_counter() - parsing
        return Grounding(
            (x, y),
            (mx, my),
            reply.text,
            [message_json(m) for m in messages],
            {"width": plan.model.width, "height": plan.model.height, "padded": plan.padded},
            timings,
            tokens[0],
            tokens[1],
            attempt,
            reply.model or model.model_id,
        )
    raise GroundingFailed(
        f"the model named no usable point for {description!r}, asked twice: {reason}",
        what=description,
        raw_text=reply_text,
        reason=reason,
    )


def _add(total: int | None, more: int | None) -> int | None:
    return more if total is None else total + (more or 0)
