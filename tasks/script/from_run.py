"""From a run to a script: a successful agent run becomes a YAML script and its locator cache.

An exploratory ``guiagent run`` found the way once; ``script_from_run`` writes that way down as steps a
person can read and change, and pre-fills the cache so the script's first run needs no model where the
screens still look as they did. Only what reached the device is written (``StepRecord.executed``); a
run that did not succeed is refused, since its path did not finish the task.

Each tap becomes ``tap: DESCRIPTION``, a tap on a text field followed by typing ``type: {text, into}``,
keys, app launches, swipes, scrolls and waits their own steps, and anything else an ``act:`` in device
pixels. Descriptions come from the UI node at the tap point where one is known, else from the model's
thought for that step (its leading verb dropped: "Tap 'Save'." → ``Save``); the file says which, so a
person can improve the wording. A trajectory holds no UI hierarchy, so the nodes come from replaying the
run on a device first (``nodes_by_replay``: a verified replay, whose confirm-policy hook reports what is
under each tap). Cache entries take their point from the recorded action and their patch from the
recorded screenshot; typed text keeps its ``<secret:name>`` placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from PIL import Image
from pydantic import ValidationError

from guiagent.actions.errors import ConfigError
from guiagent.actions.geometry import Size
from guiagent.actions.types import Action, parse_action_json
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.safety import ActionContext
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.base import NON_DEVICE_ACTIONS, Env

from .cache import CacheEntry, LocatorCache, NodeRef, Patch, cache_path_for
from .locate import node_at

__all__ = ["ScriptDraft", "describe_node", "nodes_by_replay", "script_from_run"]

_POINTING = {"click": "tap", "double_click": "double_tap", "long_press": "long_press"}
_KINDS = {
    "Button": "button",
    "ImageButton": "button",
    "EditText": "field",
    "TextView": "text",
    "Switch": "switch",
    "CheckBox": "checkbox",
    "ImageView": "image",
}
_MAX_DESCRIPTION = 160
_LEADING_VERB = re.compile(
    r"^(?:i (?:will|need to|should) |let me |now )?(?:tap|click|press|select|touch|choose|hit|open|"
    r"long[- ]press|double[- ](?:tap|click))(?: on)?\s+",
    re.IGNORECASE,
)


def describe_node(node: NodeRef) -> str:
    """How a person would name a node: ``the "Save" button``, ``the search field`` (empty when it says nothing)."""
    short = node.class_name.rsplit(".", 1)[-1]
    kind = _KINDS.get(short, "")
    label = node.label.strip().splitlines()[0][:80] if node.label.strip() else ""
    if short == "EditText" and node.resource_id:  # a field's text is what was typed; its id says what it is
        name = node.resource_id.rsplit("/", 1)[-1].replace("_", " ")
        return f'the {name} field ("{label}")' if label else f"the {name} field"
    if label:
        return f'the "{label}" {kind}'.strip() if kind else f'"{label}"'
    if node.resource_id:
        name = node.resource_id.rsplit("/", 1)[-1].replace("_", " ")
        return f"the {name} {kind}".strip()
    return ""


@dataclass
class _Step:
    """One script step being drafted: its YAML data, the comment above it, and its cache entry."""

    data: dict[str, Any]
    comment: str
    verb: str = ""
    target: str = ""
    entry: CacheEntry | None = None
    field: bool = False
    """The tap's node is a text field: typing that follows it is typing into it."""


@dataclass(frozen=True)
class ScriptDraft:
    """What ``script_from_run`` wrote."""

    script: Path
    cache: Path
    steps: int
    from_nodes: int
    from_thoughts: int


def script_from_run(
    run_dir: str | Path,
    output: str | Path,
    *,
    cache: str | Path | None = None,
    nodes: Mapping[int, NodeRef] | None = None,
    force: bool = False,
) -> ScriptDraft:
    """Write the script (``output``) and its cache (``cache``, default beside it) for a successful run.

    Args:
        run_dir: the run folder.
        output: the YAML file to write.
        cache: the cache file (default ``output`` with ``.cache.json``).
        nodes: the UI node at the tap point of recorded steps, by step index, where known.
        force: replace files that exist.

    Raises:
        ConfigError: the run did not succeed (or was a dry run), holds no performed step, or a file exists.
    """
    trajectory = Trajectory.load(run_dir)
    if trajectory.status != "success" or trajectory.run.settings.get("dry_run"):
        raise ConfigError(
            f"{trajectory.folder} ended {trajectory.status!r}: only a successful run becomes a script (its path "
            "finished the task)"
        )
    script_path = Path(output)
    cache_path = Path(cache) if cache is not None else cache_path_for(script_path)
    for path in (script_path, cache_path):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; pass --force to replace it")
    drafted: list[_Step] = []
    counts = {"node": 0, "thought": 0}
    for recorded in trajectory.steps:
        for action in _performed(trajectory, recorded):
            step = _draft(trajectory, recorded, action, dict(nodes or {}), counts)
            if step is None:
                continue
            if step.data.get("type") and drafted and _mergeable(drafted[-1], step):
                drafted[-1] = _merge(drafted[-1], step)
            else:
                drafted.append(step)
    if not drafted:
        raise ConfigError(f"{trajectory.folder} performed no action that a script step can repeat")
    locators = LocatorCache(cache_path)
    seen: dict[str, int] = {}
    for step in drafted:
        if step.entry is not None:
            base = f"{step.verb.replace('_', ' ')} {step.target}"
            seen[base] = seen.get(base, 0) + 1
            locators.put(base if seen[base] == 1 else f"{base} #{seen[base]}", step.entry)
    script_path.parent.mkdir(parents=True, exist_ok=True)
    script_path.write_text(_yaml(trajectory, drafted, cache_path), encoding="utf-8")
    locators.save(cache_path)
    return ScriptDraft(script_path, cache_path, len(drafted), counts["node"], counts["thought"])


def _performed(trajectory: Trajectory, recorded: Any) -> list[Action]:
    """The device actions a recorded step performed (``executed`` of them, from the first)."""
    actions: list[Action] = []
    for position, data in enumerate(recorded.actions_device[: max(0, recorded.executed)], start=1):
        try:
            action = parse_action_json(data)
        except ValidationError:
            raise ConfigError(
                f"{trajectory.folder}: step {recorded.index}, action {position} is not a valid action"
            ) from None
        if action.type in NON_DEVICE_ACTIONS:
            break
        actions.append(action)
    return actions


def _draft(
    trajectory: Trajectory, recorded: Any, action: Action, nodes: dict[int, NodeRef], counts: dict[str, int]
) -> _Step | None:
    thought = " ".join((recorded.thought or "").split())
    comment = f"step {recorded.index}: {thought[:200]}" if thought else f"step {recorded.index}"
    kind = action.type
    if kind in _POINTING:
        point = next(iter(action.points()))
        x, y = int(point[2]), int(point[3])
        node = nodes.get(recorded.index)
        description = describe_node(node) if node is not None else ""
        if description:
            counts["node"] += 1
            comment += "  [described by the UI node]"
        else:
            counts["thought"] += 1
            description = _from_thought(thought) or f"the element at ({x}, {y})"
            comment += "  [described by the model's thought: reword it as what to look for]"
        verb = _POINTING[kind]
        data: dict[str, Any] = {verb: description}
        if kind == "long_press" and getattr(action, "duration", 1.0) != 1.0:
            data = {verb: {"target": description, "duration": action.duration}}  # type: ignore[union-attr]
        entry = _entry(trajectory, recorded, description, (x, y), node)
        step = _Step(data, comment, verb, description, entry)
        step.field = node is not None and node.class_name.endswith("EditText")
        return step
    if kind == "type":
        return _Step({"type": action.text}, comment)  # type: ignore[union-attr]
    if kind == "key":
        keys = list(action.keys)  # type: ignore[union-attr]
        return _Step({"key": "+".join(keys)}, comment)
    if kind == "system_button":
        return _Step({"key": action.button}, comment)  # type: ignore[union-attr]
    if kind == "open_app":
        return _Step({"open_app": action.name}, comment)  # type: ignore[union-attr]
    if kind == "scroll":
        return _Step({"scroll": action.direction}, comment)  # type: ignore[union-attr]
    if kind == "wait":
        return _Step({"wait": action.seconds}, comment)  # type: ignore[union-attr]
    if kind == "swipe":
        return _Step(_swipe_step(recorded, action), comment)
    return _Step({"act": action.to_json_dict()}, comment + "  [device pixels: not verified]")


def _from_thought(thought: str) -> str:
    """A description from a thought: its first sentence, without the leading verb or the quotes."""
    first = re.split(r"(?<=[.!?])\s", thought.strip(), maxsplit=1)[0].rstrip(".!? ")
    bare = _LEADING_VERB.sub("", first).strip()
    if len(bare) > 2 and bare[0] == bare[-1] and bare[0] in "'\"":
        bare = bare[1:-1]
    return (bare or first)[:_MAX_DESCRIPTION]


def _swipe_step(recorded: Any, action: Any) -> dict[str, Any]:
    dx, dy = action.x2 - action.x, action.y2 - action.y
    width = int(recorded.screen.get("width") or 1)
    height = int(recorded.screen.get("height") or 1)
    if abs(dy) >= abs(dx):
        direction, distance = ("down" if dy > 0 else "up"), abs(dy) / height
    else:
        direction, distance = ("right" if dx > 0 else "left"), abs(dx) / width
    distance = round(min(1.0, max(0.05, distance)), 2)
    return {"swipe": direction} if distance == 0.5 else {"swipe": {"direction": direction, "distance": distance}}


def _entry(
    trajectory: Trajectory, recorded: Any, description: str, point: tuple[int, int], node: NodeRef | None
) -> CacheEntry | None:
    """A cache entry from the recorded screenshot, or None when the step has none to take a patch from."""
    path = trajectory.screenshot_path(recorded)
    if path is None or not path.exists():
        return None
    with Image.open(path) as file:
        image = file.convert("RGB")
    width = int(recorded.screen.get("width") or image.width)
    height = int(recorded.screen.get("height") or image.height)
    screen = Size(width, height)
    if image.size != (width, height):
        image = image.resize((width, height))
    return CacheEntry(
        asked=description,
        answer=recorded.reply or "",
        point=point,
        screen=screen,
        patch=Patch.of(image, point),
        node=node,
        model=str(trajectory.run.model.get("id", "")),
    )


def _mergeable(previous: _Step, typed: _Step) -> bool:
    """A tap on a text field directly followed by typing is one ``type: {text, into}`` step."""
    return previous.verb == "tap" and previous.field


def _merge(tap: _Step, typed: _Step) -> _Step:
    data = {"type": {"text": typed.data["type"], "into": tap.target}}
    return _Step(data, f"{tap.comment}; then {typed.comment}", "type_into", tap.target, tap.entry)


def _yaml(trajectory: Trajectory, steps: list[_Step], cache_path: Path) -> str:
    run = trajectory.run
    head = [
        f"# Made by `guiagent script from-run` from {trajectory.folder.name} ({run.model.get('id', 'a model')}, "
        f"{run.device.get('kind', 'a device')}).",
        f"# Its locators are in {cache_path.name}: each is verified on the screen before it is used.",
        "# Descriptions come from the UI node at each tap point where one was known, else from the model's",
        "# thought: make each say what a person would look for; an edited description is grounded again.",
        yaml.safe_dump({"name": run.task[:200]}, allow_unicode=True, width=1000).rstrip(),
        "steps:",
    ]
    body: list[str] = []
    for step in steps:
        body.append(f"  # {step.comment}")
        ((key, value),) = step.data.items()
        flow = isinstance(value, dict)
        text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=flow, width=1000)
        text = text.removesuffix("...\n").strip()  # a bare scalar ends the document with "..."
        body.append(f"  - {key}: {text}")
    return "\n".join(head + body) + "\n"


class _NodeReader(AgentHooks):
    """A replay's hooks that note the UI node under each action the confirm policy inspects, and say yes.

    The replay asks ``action_context`` for every tap, key and typing it is about to perform (the risky
    policy wants to know the target); nothing else is changed: each screen is still checked as usual.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, NodeRef | None]] = []

    def action_context(self, env: Env, action: Action, thought: str | None) -> ActionContext:
        nodes = env.ui_nodes()
        points = list(action.points())
        node = node_at(nodes, (int(points[0][2]), int(points[0][3]))) if nodes and points else None
        self.seen.append((action.type, node))
        return ActionContext(thought=thought, target_label=node.label if node else None)

    def confirm(self, action: Action, reason: str) -> bool:
        return True


def nodes_by_replay(run_dir: str | Path, env: Env, out_dir: str | Path) -> dict[int, NodeRef]:
    """Replay the run on ``env`` (verified, as ``guiagent replay``) and return the UI node under each tap.

    Keys are the recorded steps' indexes. A replay that diverges stops early: the steps before it have
    their nodes, the rest are described from their thoughts.
    """
    from guiagent.agent.safety import ConfirmPolicy

    from ..replay import ReplayConfig, replay

    trajectory = Trajectory.load(run_dir)
    reader = _NodeReader()
    replay(run_dir, env, out_dir, ReplayConfig(confirm=ConfirmPolicy("risky")), hooks=reader)
    inspected = iter(reader.seen)
    found: dict[int, NodeRef] = {}
    for recorded in trajectory.steps:
        for action in _performed(trajectory, recorded):
            if action.type not in _INSPECTED:
                continue
            kind, node = next(inspected, ("", None))
            if kind != action.type:
                return found  # the replay stopped before this action
            if node is not None and action.type in _POINTING:
                found.setdefault(recorded.index, node)
    return found


_INSPECTED = {"click", "double_click", "long_press", "key", "system_button", "type"}
"""The action types the risky confirm policy inspects (``agent/safety.py``), so the reader sees them all."""
