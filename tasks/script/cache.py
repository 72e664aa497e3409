"""The locator cache: what each step's description was grounded to, stored to be verified before reuse.

One JSON file next to the script (``flow.yaml`` → ``flow.cache.json``), written to read well in a diff:
entries in the order the script first met them, one field per line, and the patch around each target
drawn as 48 rows of characters (light pixels blank, dark ones ``@``), so a re-grounded step shows as a
changed point, a changed node and a changed little picture of the button::

    {
      "version": 1,
      "entries": {
        "tap the Save button": {
          "asked": "the Save button",
          "answer": "<tool_call>...</tool_call>",
          "point": [980, 158],
          "screen": [1080, 2400],
          "node": {"resource_id": "com.guiagent.notes:id/save", "text": "Save", "class": "android.widget.Button",
                   "content_desc": "", "bounds": [807, 105, 1038, 210]},
          "patch": {"radius": 0.06, "rows": ["                @@@@@@@@@@@@@@@@              ", ...]},
          ...

Nothing secret is ever stored: entries hold descriptions, points and pixels of the screen before a tap,
never typed text. The patch is sampled as verified replay's ``target_difference`` samples a target (a
square of ``radius`` × the screen's shorter side, box-filtered to 48 × 48 grey), so a cache made on one
screen size compares on another; unlike replay's it must decide alone, without a whole-screen check
beside it, which is why ``Patch`` grows a blank patch and compares core and edges too.

Why not reuse ``target_difference`` itself: it needs the whole recorded frame, and a cache that diffs
well cannot hold frames. The sampling is the same; the measure is stricter, for that reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from guiagent.actions.errors import ConfigError
from guiagent.actions.geometry import Size
from guiagent.agent.files import write_atomic
from guiagent.envs.hierarchy import UiNode

__all__ = [
    "CACHE_VERSION",
    "PATCH_RADIUS",
    "PATCH_SIZE",
    "RADII",
    "CacheChange",
    "CacheEntry",
    "LocatorCache",
    "NodeRef",
    "Patch",
    "cache_path_for",
]

CACHE_VERSION = 1
PATCH_SIZE = 48
"""Sides of the grey thumbnail of a target's patch (as ``tasks.replay.target_difference`` samples it)."""
PATCH_RADIUS = 0.06
"""Half the patch's side, as a fraction of the screen's shorter side (``target_difference``'s default)."""
RADII = (PATCH_RADIUS, 0.12, 0.24)
"""Patch sizes tried in turn until one shows detail."""
MIN_EDGES = 0.02
"""A patch shows something when at least this fraction of its pixels are edges."""
_RAMP = " .,:;~-=+*oxO#%@"
"""16 grey levels, light to dark: a light screen reads as blank space with its text and edges drawn."""
_LEVEL_STEP = 256 // len(_RAMP)
_DIFFERENT_LEVELS = 2
"""Two levels apart (≥ 32 of 255) is a changed pixel: replay's own threshold (24) rounded to a whole level."""

if TYPE_CHECKING:
    from collections.abc import Mapping


def cache_path_for(script: str | Path) -> Path:
    """Where a script's cache lives: beside it, ``flow.yaml`` → ``flow.cache.json``."""
    path = Path(script)
    return path.with_name(f"{path.stem}.cache.json")


@dataclass(frozen=True)
class Patch:
    """A grey 48 × 48 thumbnail of the square around a target point, stored as rows of characters.

    A cache must verify a target on its own, where verified replay also compares the whole screen. So a
    patch that shows nothing (the blank middle of a field, the empty end of a list row) is grown until it
    shows edges (``RADII``), and ``difference`` is the worst of three measures, each of which catches what
    the others miss: the share of the patch's pixels that changed (replay's own measure), the share of its
    core that changed (the middle third, right under the point: the label that tells a button from its
    neighbour, which flat regions would outweigh), and the share of its edges that moved or vanished
    (text at the rim of an otherwise blank patch is most of what it shows). A patch without edges at every
    size is ``featureless`` and never verifies anything by itself.

    Args:
        rows: ``PATCH_SIZE`` strings of ``PATCH_SIZE`` characters from ``_RAMP``.
        radius: half the square's side as a fraction of the screen's shorter side.
    """

    rows: tuple[str, ...]
    radius: float = PATCH_RADIUS

    @classmethod
    def of(cls, image: Image.Image, point: tuple[int, int], radius: float | None = None) -> Patch:
        """The patch of ``image`` around ``point``: at ``radius``, or the smallest of ``RADII`` showing detail."""
        if radius is not None:
            return cls._sample(image, point, radius)
        patch = cls._sample(image, point, RADII[0])
        for bigger in RADII[1:]:
            if not patch.featureless:
                break
            patch = cls._sample(image, point, bigger)
        return patch

    @classmethod
    def _sample(cls, image: Image.Image, point: tuple[int, int], radius: float) -> Patch:
        r = max(8, int(radius * min(image.size)))
        x, y = point
        box = (max(0, x - r), max(0, y - r), min(image.width, x + r), min(image.height, y + r))
        grey = image.resize((PATCH_SIZE, PATCH_SIZE), Image.Resampling.BOX, box=box).convert("L")
        levels = (255 - np.asarray(grey, np.int16)) // _LEVEL_STEP
        return cls(tuple("".join(_RAMP[v] for v in row) for row in levels.tolist()), radius)

    @cached_property
    def levels(self) -> np.ndarray:
        """The patch as an array of grey levels (0 light … 15 dark)."""
        lookup = {char: index for index, char in enumerate(_RAMP)}
        return np.array([[lookup.get(c, 0) for c in row] for row in self.rows], np.int16)

    @cached_property
    def edges(self) -> np.ndarray:
        """Pixels where the grey changes noticeably from a neighbour (text, borders, icons)."""
        levels = self.levels
        found = np.zeros(levels.shape, bool)
        found[:, 1:] |= np.abs(levels[:, 1:] - levels[:, :-1]) >= _DIFFERENT_LEVELS
        found[1:, :] |= np.abs(levels[1:, :] - levels[:-1, :]) >= _DIFFERENT_LEVELS
        return found

    @property
    def featureless(self) -> bool:
        """Too few edges to tell this target from any other blank area."""
        return float(self.edges.mean()) < MIN_EDGES

    def difference(self, other: Patch) -> float:
        """How unlike ``other`` this patch is, 0 to 1: the worst of pixels, core and edges (see the class)."""
        a, b = self.levels, other.levels
        if a.shape != b.shape or a.size == 0:
            return 1.0
        changed = np.abs(a - b) >= _DIFFERENT_LEVELS
        third = PATCH_SIZE // 3
        core = changed[third : PATCH_SIZE - third, third : PATCH_SIZE - third]
        ours, theirs = self.edges, other.edges
        total = int(ours.sum() + theirs.sum())
        lost = int((ours & ~_near(theirs)).sum() + (theirs & ~_near(ours)).sum())
        return max(float(changed.mean()), float(core.mean()), lost / total if total else 0.0)

    def image(self, scale: int = 4) -> Image.Image:
        """The patch as a grey picture ``scale`` times its size (for divergence reports)."""
        pixels = (255 - self.levels * _LEVEL_STEP - _LEVEL_STEP // 2).clip(0, 255).astype(np.uint8)
        picture = Image.fromarray(pixels, "L")
        return picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)

    def to_json(self) -> dict[str, Any]:
        return {"radius": self.radius, "rows": list(self.rows)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Patch:
        rows = tuple(str(r) for r in data["rows"])
        if len(rows) != PATCH_SIZE or any(len(r) != PATCH_SIZE for r in rows):
            raise ValueError(f"a patch is {PATCH_SIZE} rows of {PATCH_SIZE} characters")
        return cls(rows, float(data.get("radius", PATCH_RADIUS)))


def _near(mask: np.ndarray) -> np.ndarray:
    """``mask`` grown by one pixel each way: an edge that moved by a pixel (a rescaled screen) still counts."""
    grown = mask.copy()
    grown[1:, :] |= mask[:-1, :]
    grown[:-1, :] |= mask[1:, :]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


@dataclass(frozen=True)
class NodeRef:
    """The UI node under a target, as the device reported it (Android's hierarchy).

    Its identity is what says "the same element": the resource id, the class and the label. An edit
    field's text is left out of its identity when it has a resource id, because that text is data the
    script (or a person) typed, not what the field is.
    """

    resource_id: str
    text: str
    class_name: str
    content_desc: str
    bounds: tuple[int, int, int, int]

    @classmethod
    def of(cls, node: UiNode) -> NodeRef:
        return cls(node.resource_id, node.text, node.class_name, node.content_desc, tuple(node.bounds))  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        return self.text or self.content_desc

    def identity(self) -> tuple[str, str, str]:
        editable = self.class_name.endswith("EditText") and bool(self.resource_id)
        return self.resource_id, self.class_name, "" if editable else self.label

    @property
    def identifiable(self) -> bool:
        """Whether the node says what it is (a resource id or a label); a bare container does not."""
        return bool(self.resource_id or self.label)

    def describe(self) -> str:
        short = self.class_name.rsplit(".", 1)[-1] or "view"
        parts = [short]
        if self.label:
            parts.append(repr(self.label[:60]))
        if self.resource_id:
            parts.append(f"({self.resource_id})")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "text": self.text,
            "class": self.class_name,
            "content_desc": self.content_desc,
            "bounds": list(self.bounds),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeRef:
        left, top, right, bottom = (int(v) for v in data["bounds"])
        return cls(
            str(data.get("resource_id", "")),
            str(data.get("text", "")),
            str(data.get("class", "")),
            str(data.get("content_desc", "")),
            (left, top, right, bottom),
        )


@dataclass(frozen=True)
class CacheEntry:
    """One step's locator.

    Args:
        asked: the description the model was asked to find.
        answer: the model's reply, exactly as written (or where the entry came from, for one made from a run).
        point: the target in device pixels of ``screen``.
        screen: the screen size the point was found on.
        patch: the target's patch on that screen, before the step acted.
        node: the UI node under the point, where the device has a hierarchy.
        model: the model that answered.
        updated: when the entry was written (local time, ISO 8601).
    """

    asked: str
    answer: str
    point: tuple[int, int]
    screen: Size
    patch: Patch
    node: NodeRef | None = None
    model: str = ""
    updated: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    def scaled_point(self, screen: Size) -> tuple[int, int]:
        """The point on a screen of another size (each axis scaled; the last pixel at most)."""
        if screen == self.screen:
            return self.point
        x = round(self.point[0] * screen.width / self.screen.width)
        y = round(self.point[1] * screen.height / self.screen.height)
        return min(screen.width - 1, x), min(screen.height - 1, y)

    def to_json(self) -> dict[str, Any]:
        return {
            "asked": self.asked,
            "answer": self.answer,
            "point": list(self.point),
            "screen": [self.screen.width, self.screen.height],
            "node": self.node.to_json() if self.node else None,
            "model": self.model,
            "updated": self.updated,
            "patch": self.patch.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CacheEntry:
        width, height = (int(v) for v in data["screen"])
        x, y = (int(v) for v in data["point"])
        node = data.get("node")
        return cls(
            asked=str(data["asked"]),
            answer=str(data.get("answer", "")),
            point=(x, y),
            screen=Size(width, height),
            patch=Patch.from_json(data["patch"]),
            node=NodeRef.from_json(node) if node else None,
            model=str(data.get("model", "")),
            updated=str(data.get("updated", "")),
        )


@dataclass(frozen=True)
class CacheChange:
    """An entry added or replaced during a run (shown in the run's report)."""

    key: str
    old: CacheEntry | None
    new: CacheEntry

    def describe(self) -> str:
        if self.old is None:
            return f"{self.key}: added at {self.new.point} on {self.new.screen}"
        return f"{self.key}: {self.old.point} on {self.old.screen} → {self.new.point} on {self.new.screen}"


class LocatorCache:
    """The entries of one cache file, by step key; ``save`` writes them back when something changed.

    Args:
        path: the JSON file, or None for a cache that lives only as long as the session.
        entries: entries to start with.
    """

    def __init__(self, path: str | Path | None = None, entries: Mapping[str, CacheEntry] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: dict[str, CacheEntry] = dict(entries or {})
        self.changes: list[CacheChange] = []

    @classmethod
    def load(cls, path: str | Path) -> LocatorCache:
        """Read a cache file; a file that does not exist yet is an empty cache.

        Raises:
            ConfigError: the file is not a locator cache (names the file and the entry); delete it to
                ground every step again.
        """
        file = Path(path)
        if not file.exists():
            return cls(file)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{file}: not a locator cache ({exc}); delete it to ground every step again") from None
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            raise ConfigError(f"{file}: not a locator cache (no 'entries' mapping); delete it to ground again")
        if data.get("version") != CACHE_VERSION:
            raise ConfigError(f"{file}: cache version {data.get('version')!r}, this guiagent reads {CACHE_VERSION}")
        entries: dict[str, CacheEntry] = {}
        for key, value in data["entries"].items():
            try:
                entries[str(key)] = CacheEntry.from_json(value)
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{file}: entry {key!r} is damaged ({type(exc).__name__}: {exc}); delete that entry to ground "
                    "the step again"
                ) from None
        return cls(file, entries)

    def get(self, key: str) -> CacheEntry | None:
        return self._entries.get(key)

    def put(self, key: str, entry: CacheEntry) -> CacheChange:
        """Add or replace an entry (in place, so the file keeps the script's order); recorded in ``changes``."""
        change = CacheChange(key, self._entries.get(key), entry)
        self._entries[key] = entry
        self.changes.append(change)
        return change

    def keys(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def to_json(self) -> str:
        """The file's text: two-space indents, nodes and points on one line each, patches a row per line."""
        body = []
        for key, entry in self._entries.items():
            data = entry.to_json()
            lines = [
                f"      {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)}" for name, value in data.items()
            ]
            patch = data["patch"]
            rows = ",\n".join(f"          {json.dumps(row)}" for row in patch["rows"])
            radius = f'        "radius": {patch["radius"]},'
            lines[-1] = f'      "patch": {{\n{radius}\n        "rows": [\n{rows}\n        ]\n      }}'
            body.append(f"    {json.dumps(key, ensure_ascii=False)}: {{\n" + ",\n".join(lines) + "\n    }")
        entries = "{\n" + ",\n".join(body) + "\n  }" if body else "{}"
        return f'{{\n  "version": {CACHE_VERSION},\n  "entries": {entries}\n}}\n'

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write the file (atomically) if anything changed or a new path is given; returns where, or None."""
        target = Path(path) if path is not None else self.path
        if target is None or (path is None and not self.changes):
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        return write_atomic(target, self.to_json())

    def without_changes(self) -> LocatorCache:
        """A copy with the same entries and no recorded changes (the start of another run)."""
        return LocatorCache(self.path, self._entries)
