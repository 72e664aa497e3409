"""The action space: one vocabulary for every model family and every device.

Each action is a frozen pydantic model, validated when built, tagged by ``type``. Points are flat fields
(``x``, ``y`` and ``x2``, ``y2`` for the end of a swipe or drag) and every action says which coordinate
space its points are in (``space``): ``"device"`` means integer pixels of the screenshot, anything else
names a model's space (``"relative-1000"``, ``"pixels-1092x2408"``, ``"fraction"``). Devices accept
only ``space == "device"``, so a model-space point can never reach a screen unmapped.

The vocabulary covers Qwen2.5-VL's ``mobile_use``/``computer_use`` tools, UI-TARS, ShowUI, OS-Atlas and
android_world's names; family parsers translate their verbs into these.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

__all__ = [
    "DEVICE",
    "POINTING_TYPES",
    "Action",
    "ActionAdapter",
    "Answer",
    "CallUser",
    "Click",
    "DoubleClick",
    "Drag",
    "Key",
    "LongPress",
    "MiddleClick",
    "Move",
    "OpenApp",
    "RightClick",
    "Scroll",
    "Swipe",
    "SystemButton",
    "Terminate",
    "TripleClick",
    "Type",
    "Wait",
    "action_json_schema",
    "parse_action_json",
]

DEVICE = "device"
"""The coordinate space of device actions: integer pixels of the screenshot, origin top-left."""

Coordinate: TypeAlias = int | float
Direction: TypeAlias = Literal["up", "down", "left", "right"]
ButtonName: TypeAlias = Literal["back", "home", "menu", "enter", "recents"]

_POINT_FIELDS = (("x", "y"), ("x2", "y2"))


class _ActionBase(BaseModel):
    """Shared behaviour: frozen, no unknown fields, points checked against their space."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    space: str = DEVICE

    @model_validator(mode="after")
    def _check_points(self) -> _ActionBase:
        for fx, fy in _POINT_FIELDS:
            if fx not in type(self).model_fields:
                continue
            x, y = getattr(self, fx), getattr(self, fy)
            if (x is None) != (y is None):
                raise ValueError(f"{fx} and {fy} must be given together")
            if x is None:
                continue
            for name, value in ((fx, x), (fy, y)):
                if not math.isfinite(value):
                    raise ValueError(f"{name} must be a finite number, got {value!r}")
                if self.space == DEVICE:
                    if value < 0:
                        raise ValueError(f"{name} must be >= 0 in device pixels, got {value!r}")
                    if value != int(value):
                        raise ValueError(f"{name} must be a whole device pixel, got {value!r}")
                    object.__setattr__(self, name, int(value))
        return self

    def points(self) -> Iterator[tuple[str, str, Coordinate, Coordinate]]:
        """Yield ``(x_field, y_field, x, y)`` for every point this action carries."""
        for fx, fy in _POINT_FIELDS:
            if fx in type(self).model_fields and getattr(self, fx) is not None:
                yield fx, fy, getattr(self, fx), getattr(self, fy)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; device actions leave out ``space`` and unset optional points."""
        data = self.model_dump(mode="json")
        if data.get("space") == DEVICE:
            del data["space"]
        for fx, fy in _POINT_FIELDS:
            if fx in data and data[fx] is None:
                del data[fx], data[fy]
        return data


class Click(_ActionBase):
    """Left click or tap. Without a point (desktop only) it clicks where the cursor is."""

    type: Literal["click"] = "click"
    x: Coordinate | None = None
    y: Coordinate | None = None


class DoubleClick(_ActionBase):
    """Double left click. Without a point it clicks where the cursor is."""

    type: Literal["double_click"] = "double_click"
    x: Coordinate | None = None
    y: Coordinate | None = None


class TripleClick(_ActionBase):
    """Triple left click (selects a line or paragraph). Without a point it clicks where the cursor is."""

    type: Literal["triple_click"] = "triple_click"
    x: Coordinate | None = None
    y: Coordinate | None = None


class RightClick(_ActionBase):
    """Right click (context menu). Without a point it clicks where the cursor is."""

    type: Literal["right_click"] = "right_click"
    x: Coordinate | None = None
    y: Coordinate | None = None


class MiddleClick(_ActionBase):
    """Middle click. Without a point it clicks where the cursor is."""

    type: Literal["middle_click"] = "middle_click"
    x: Coordinate | None = None
    y: Coordinate | None = None


class LongPress(_ActionBase):
    """Touch and hold at a point for ``duration`` seconds."""

    type: Literal["long_press"] = "long_press"
    x: Coordinate
    y: Coordinate
    duration: float = Field(default=1.0, gt=0, le=60)


class Move(_ActionBase):
    """Move the pointer without pressing (hover)."""

    type: Literal["move"] = "move"
    x: Coordinate
    y: Coordinate


class Drag(_ActionBase):
    """Press, move to ``(x2, y2)``, release. Without a start point it starts where the cursor is."""

    type: Literal["drag"] = "drag"
    x: Coordinate | None = None
    y: Coordinate | None = None
    x2: Coordinate
    y2: Coordinate
    duration: float = Field(default=0.5, gt=0, le=60)


class Swipe(_ActionBase):
    """A touch gesture from ``(x, y)`` to ``(x2, y2)`` taking ``duration`` seconds."""

    type: Literal["swipe"] = "swipe"
    x: Coordinate
    y: Coordinate
    x2: Coordinate
    y2: Coordinate
    duration: float = Field(default=0.3, gt=0, le=60)


class Scroll(_ActionBase):
    """Scroll the content in ``direction`` (``up`` shows what is above) by ``amount`` wheel notches.

    Phones turn this into a swipe the opposite way; the point, when given, is where the scroll happens.
    """

    type: Literal["scroll"] = "scroll"
    direction: Direction
    amount: int = Field(default=5, ge=1, le=100)
    x: Coordinate | None = None
    y: Coordinate | None = None


class Type(_ActionBase):
    """Type text into whatever has focus. Text is data: it is never interpreted by a shell."""

    type: Literal["type"] = "type"
    text: str = Field(min_length=1)


class Key(_ActionBase):
    """Press one key, or a chord (``["ctrl", "c"]``: held in order, released in reverse)."""

    type: Literal["key"] = "key"
    keys: list[str] = Field(min_length=1, max_length=6)

    @field_validator("keys")
    @classmethod
    def _non_empty_names(cls, keys: list[str]) -> list[str]:
        cleaned = [k.strip() for k in keys]
        if any(not k for k in cleaned):
            raise ValueError("key names must be non-empty")
        return cleaned


class SystemButton(_ActionBase):
    """A navigation button: back, home, menu, enter or recents."""

    type: Literal["system_button"] = "system_button"
    button: ButtonName

    @field_validator("button", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class OpenApp(_ActionBase):
    """Open an app by its label ("Settings") or package name ("com.android.settings")."""

    type: Literal["open_app"] = "open_app"
    name: str = Field(min_length=1)


class Wait(_ActionBase):
    """Do nothing for ``seconds``, then look again."""

    type: Literal["wait"] = "wait"
    seconds: float = Field(default=1.0, ge=0, le=600)


class Answer(_ActionBase):
    """Reply to the person with ``text``; ends the run."""

    type: Literal["answer"] = "answer"
    text: str


class CallUser(_ActionBase):
    """Ask the person for help (a login, a captcha, a question); the run pauses until they answer.

    Every family's hand-over verb lands here: UI-TARS ``call_user``, MAI-UI ``ask_user``, GUI-Owl
    ``interact``, AutoGLM ``Take_over``/``Interact``, UI-Venus ``CallUser``. The answer goes back to the
    model and the run resumes.
    """

    type: Literal["call_user"] = "call_user"
    message: str = ""


class Terminate(_ActionBase):
    """End the run and report whether the task succeeded."""

    type: Literal["terminate"] = "terminate"
    status: Literal["success", "failure"] = "success"
    message: str = ""


Action: TypeAlias = Annotated[
    Click
    | DoubleClick
    | TripleClick
    | RightClick
    | MiddleClick
    | LongPress
    | Move
    | Drag
    | Swipe
    | Scroll
    | Type
    | Key
    | SystemButton
    | OpenApp
    | Wait
    | Answer
    | CallUser
    | Terminate,
    Field(discriminator="type"),
]
"""Any action; ``ActionAdapter.validate_python(data)`` builds one from a dict with a ``type`` key."""

ActionAdapter: TypeAdapter[Action] = TypeAdapter(Action)

POINTING_TYPES = frozenset(
    {
        "click",
        "double_click",
        "triple_click",
        "right_click",
        "middle_click",
        "long_press",
        "move",
        "drag",
        "swipe",
        "scroll",
    }
)
"""Action types that may carry a point and so need coordinate mapping."""


def parse_action_json(data: str | bytes | dict[str, Any]) -> Action:
    """Build one action from JSON text or a dict (the shape ``guiagent parse`` prints).

    Raises:
        pydantic.ValidationError: the data is not a valid action; its message names the field.
    """
    if isinstance(data, dict):
        return ActionAdapter.validate_python(data)
    return ActionAdapter.validate_json(data)


def action_json_schema() -> dict[str, Any]:
    """The JSON Schema of the action union, for tool definitions and structured output."""
    return ActionAdapter.json_schema()
