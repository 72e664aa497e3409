"""ShowUI (on Qwen2-VL): one Python-literal dict per action, positions as fractions of the screenshot.

The prompt follows ShowUI's QUICK_START navigation recipe, in one user turn: ``_NAV_SYSTEM`` with the
``phone`` action map (platform ``mobile``) or the ``web`` map (``computer``), then ``_NAV_FORMAT``, then
``Task: ...``, the past actions (text parts, as ShowUI's navigation datasets write them), then the image.
The model answers ``{'action': 'CLICK', 'value': None, 'position': [0.49, 0.42]}``, sometimes several
such dicts separated by commas or newlines, sometimes as JSON with ``null``; grounding answers are a bare
``[x, y]``. Dicts are read with ``ast.literal_eval`` only.

ShowUI's processor limits come from QUICK_START: 256·28² to 1344·28² pixels.

Verbs: ShowUI's web and phone maps, plus the AITW names its AITW model writes (``PRESS BACK``,
``STATUS TASK COMPLETE``, ``SCROLL UP``). ``INPUT`` with a position is a click there, then typing.
``ANSWER`` with the phone map's status value (``task complete``) ends the task as a success.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from ..errors import ActionParseError
from ..geometry import Size
from ..messages import ImageSlot, Message, TextPart
from ..types import (
    Action,
    Answer,
    Click,
    Drag,
    Key,
    Move,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
)
from ._text import as_point, find_literal_lists, find_literal_objects, strip_fences
from .base import HistoryStep, ModelFamily, ParsedReply, Platform, load_prompt, wrap_validation

__all__ = ["ShowUI"]

SHOWUI_MIN_PIXELS = 256 * 28 * 28
SHOWUI_MAX_PIXELS = 1344 * 28 * 28
EXPECTED = "{'action': 'CLICK', 'value': None, 'position': [x, y]}"
_DIRECTIONS = ("up", "down", "left", "right")
_DONE = re.compile(r"^\s*(?:status\s*)?task\s+complete(?:d)?\s*\.?\s*$", re.I)
_IMPOSSIBLE = re.compile(r"^\s*(?:status\s*)?task\s+impossible\s*\.?\s*$", re.I)

_Builder = Callable[[dict[Any, Any], str, str], list[Action]]


def _text(d: dict[Any, Any], verb: str, raw: str) -> str:
    value = d.get("value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ActionParseError(f"{verb} needs 'value': the text, as a string", raw)
    return value


def _position(d: dict[Any, Any], verb: str, raw: str) -> tuple[float, float]:
    if d.get("position") is None:
        raise ActionParseError(f"{verb} needs 'position': [x, y] with x and y between 0 and 1", raw)
    return as_point(d["position"], "position", raw)


def _two_points(d: dict[Any, Any], verb: str, raw: str) -> tuple[float, float, float, float]:
    value = d.get("position")
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(p, (list, tuple)) for p in value):
        (x, y), (x2, y2) = as_point(value[0], "position[0]", raw), as_point(value[1], "position[1]", raw)
        return x, y, x2, y2
    if isinstance(value, (list, tuple)) and len(value) == 4:
        x, y = as_point(list(value[:2]), "position", raw)
        x2, y2 = as_point(list(value[2:]), "position", raw)
        return x, y, x2, y2
    raise ActionParseError(f"{verb} needs 'position': [[x1, y1], [x2, y2]], the start and end", raw)


def _click(d: dict[Any, Any], raw: str, s: str) -> list[Action]:
    x, y = _position(d, "CLICK", raw)
    return [Click(x=x, y=y, space=s)]


def _input(d: dict[Any, Any], raw: str, s: str) -> list[Action]:
    text = _text(d, "INPUT", raw)
    if d.get("position") is None:
        return [Type(text=text, space=s)]
    x, y = _position(d, "INPUT", raw)
    return [Click(x=x, y=y, space=s), Type(text=text, space=s)]


def _scroll(direction: str | None) -> _Builder:
    def build(d: dict[Any, Any], raw: str, s: str) -> list[Action]:
        value = direction or str(d.get("value") or "").strip().lower()
        if value not in _DIRECTIONS:
            raise ActionParseError(f"SCROLL needs 'value': 'up', 'down', 'left' or 'right', got {value[:20]!r}", raw)
        if d.get("position") is None:
            return [Scroll(direction=value, space=s)]  # type: ignore[arg-type]
        x, y = _position(d, "SCROLL", raw)
        return [Scroll(direction=value, x=x, y=y, space=s)]  # type: ignore[arg-type]

    return build


def _answer(d: dict[Any, Any], raw: str, s: str) -> list[Action]:
    text = _text(d, "ANSWER", raw)
    if _DONE.match(text):
        return [Terminate(status="success", space=s)]
    if _IMPOSSIBLE.match(text):
        return [Terminate(status="failure", space=s)]
    return [Answer(text=text, space=s)]


def _swipe(kind: type[Swipe | Drag], verb: str) -> _Builder:
    def build(d: dict[Any, Any], raw: str, s: str) -> list[Action]:
        x, y, x2, y2 = _two_points(d, verb, raw)
        return [kind(x=x, y=y, x2=x2, y2=y2, space=s)]

    return build


def _hover(d: dict[Any, Any], raw: str, s: str) -> list[Action]:
    x, y = _position(d, "HOVER", raw)
    return [Move(x=x, y=y, space=s)]


BUILDERS: dict[str, _Builder] = {
    "CLICK": _click,
    "TAP": _click,
    "SELECT": _click,
    "INPUT": _input,
    "TYPE": _input,
    "SWIPE": _swipe(Swipe, "SWIPE"),
    "SELECT TEXT": _swipe(Drag, "SELECT_TEXT"),
    "SCROLL": _scroll(None),
    "HOVER": _hover,
    "ENTER": lambda d, raw, s: [SystemButton(button="enter", space=s)],
    "PRESS ENTER": lambda d, raw, s: [SystemButton(button="enter", space=s)],
    "PRESS BACK": lambda d, raw, s: [SystemButton(button="back", space=s)],
    "PRESS HOME": lambda d, raw, s: [SystemButton(button="home", space=s)],
    "ANSWER": _answer,
    "COPY": lambda d, raw, s: [Key(keys=["ctrl", "c"], space=s)],
    "STATUS TASK COMPLETE": lambda d, raw, s: [Terminate(status="success", space=s)],
    "STATUS TASK IMPOSSIBLE": lambda d, raw, s: [Terminate(status="failure", space=s)],
}
BUILDERS |= {f"SCROLL {d.upper()}": _scroll(d) for d in _DIRECTIONS}
_PROMPT_VERBS = {"mobile": ("INPUT", "SWIPE", "TAP", "ANSWER", "ENTER"), "computer": ("CLICK", "INPUT", "SELECT")}
_PROMPT_VERBS["computer"] += ("HOVER", "ANSWER", "ENTER", "SCROLL", "SELECT_TEXT", "COPY")


GROUNDING_FILE = "showui_grounding.txt"
"""QUICK_START's grounding ``_SYSTEM`` text (= screenspot_to_qwen's system text for fractions)."""


@dataclass(frozen=True)
class ShowUI(ModelFamily):
    """ShowUI-2B: QUICK_START's navigation prompt, dict actions, fractions in ``[0, 1]``."""

    platforms: ClassVar[tuple[Platform, ...]] = ("mobile", "computer")
    name: ClassVar[str] = "showui"
    summary: ClassVar[str] = "ShowUI: {'action': 'CLICK', 'value': None, 'position': [x, y]}, fractions 0-1"
    source: ClassVar[str] = (
        "showlab/ShowUI QUICK_START.md (navigation and grounding recipes); grounding: "
        "showlab/ShowUI@21ed7cb24be0cc877bb8352ee34d58a9aea2c876 QUICK_START.md (2. GUI Grounding), "
        "data/template/screenspot.py (screenspot_to_qwen), main/eval_screenspot.py"
    )
    choices: ClassVar[str] = (
        "Grounding ('official' prompt): QUICK_START's GUI Grounding recipe, which is also what the ScreenSpot "
        "evaluation builds (data/template/screenspot.py screenspot_to_qwen, xy_int=False: _SCREENSPOT_SYSTEM + ' ' "
        "+ _SYSTEM_point equals QUICK_START's _SYSTEM): one user turn, the _SYSTEM text, the image, then the "
        "instruction; no system turn; QUICK_START's 256*28*28 to 1344*28*28 pixels. The answer is '[x, y]' in "
        "fractions 0-1 of the image, read with ast.literal_eval as main/eval_screenspot.py does; a box is its "
        "centre; an action dict with a position is read too. The xy_int variant (1 to 1000) is a training "
        "option, not the released model's."
    )
    space_kind: ClassVar[str] = "fraction"
    default_min_pixels: ClassVar[int] = SHOWUI_MIN_PIXELS
    default_max_pixels: ClassVar[int] = SHOWUI_MAX_PIXELS
    default_history_images: ClassVar[int] = 0

    def system_prompt(self) -> str:
        """``_NAV_SYSTEM`` for this platform's action map, followed by ``_NAV_FORMAT``."""
        app = "phone" if self.active_platform == "mobile" else "web"
        system = load_prompt("showui_nav_system.txt").replace("{_APP}", app)
        system = system.replace("{_ACTION_SPACE}", load_prompt(f"showui_actions_{app}.txt"))
        return system + load_prompt("showui_nav_format.txt")

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        content: list[TextPart | ImageSlot] = [TextPart(self.system_prompt()), TextPart(f"Task: {task}\n")]
        for step in history:
            texts = []
            for action in step.actions:
                try:
                    texts.append(self.history_text(action))
                except ValueError:
                    continue
            if not texts:
                continue
            if step.image is not None:
                content.append(step.image)
            content.append(TextPart(",".join(texts)))
        content.append(self.current_image(screen))
        if feedback:
            content.append(TextPart(f"\nYour previous reply was not a valid action: {feedback}\nReply as {EXPECTED}"))
        return [Message("user", tuple(content))]

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        space = self.space(screen).name
        body = strip_fences(text)
        objects, truncated = find_literal_objects(body)
        actions: list[Action] = []
        for obj in objects:
            actions.extend(self._to_actions(obj, text, space))
        if not objects:
            if truncated:
                raise ActionParseError(f"the action dict is cut off; reply with one complete {EXPECTED}", text)
            actions = self._grounding(body, text, space)
        thought = body.split("{", 1)[0].strip() if objects else None
        return ParsedReply(text, tuple(actions), thought or None)

    # --- grounding (QUICK_START / screenspot_to_qwen) ----------------------------------------------------

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """QUICK_START's grounding request: the ``_SYSTEM`` text, the screenshot, then the instruction."""
        parts = (TextPart(load_prompt(GROUNDING_FILE)), self.current_image(screen), TextPart(instruction))
        return [Message("user", parts)]

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """``[x, y]`` (or a box, its centre) in fractions of the image; an action dict's position also.

        Raises:
            ActionParseError: the answer names no point.
        """
        self.check_reply(text)
        body = strip_fences(text)
        lists = [v for v in find_literal_lists(body) if v]
        if len(lists) == 1 and not find_literal_objects(body)[0]:
            return as_point(lists[0], "the position", text)
        try:
            return super().parse_grounding(text, screen)
        except ActionParseError:
            raise ActionParseError(
                "the answer names no point; reply with its relative position [x, y], each from 0 to 1", text
            ) from None

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        return f"[{_n(x)}, {_n(y)}]"

    def _grounding(self, body: str, raw: str, space: str) -> list[Action]:
        """A grounding answer, ``[x, y]`` (or a box ``[x1, y1, x2, y2]``): click there."""
        lists = [v for v in find_literal_lists(body) if v]
        if len(lists) != 1:
            raise ActionParseError(f"no action found; reply with {EXPECTED}", raw)
        x, y = as_point(lists[0], "position", raw)
        try:
            return [Click(x=x, y=y, space=space)]
        except ValidationError as exc:
            raise wrap_validation(raw, "position", exc) from None

    def _to_actions(self, obj: dict[Any, Any], raw: str, space: str) -> list[Action]:
        data = {str(k).lower(): v for k, v in obj.items()}
        verb = data.get("action", data.get("action_type"))
        if not isinstance(verb, str):
            raise ActionParseError(f"each action needs 'action': a name such as 'CLICK'; reply with {EXPECTED}", raw)
        name = re.sub(r"[\s_]+", " ", verb.strip().upper())
        builder = BUILDERS.get(name)
        if builder is None:
            verbs = ", ".join(_PROMPT_VERBS[self.active_platform])
            raise ActionParseError(f"unknown action {verb[:30]!r}; use one of {verbs}", raw)
        try:
            return builder(data, raw, space)
        except ValidationError as exc:
            raise wrap_validation(raw, f"{name} action", exc) from None

    def format_action(self, action: Action, thought: str | None = None) -> str:
        body = self.history_text(action)
        return f"{thought}\n{body}" if thought else body

    def history_text(self, action: Action) -> str:
        return str(self._as_dict(action))

    def _as_dict(self, action: Action) -> dict[str, Any]:
        mobile = self.active_platform == "mobile"
        if isinstance(action, Click) and action.x is not None and action.y is not None:
            return _d("TAP" if mobile else "CLICK", None, [_n(action.x), _n(action.y)])
        if isinstance(action, Move):
            return _d("HOVER", None, [_n(action.x), _n(action.y)])
        if isinstance(action, Swipe):
            return _d("SWIPE", None, [[_n(action.x), _n(action.y)], [_n(action.x2), _n(action.y2)]])
        if isinstance(action, Drag) and action.x is not None and action.y is not None:
            return _d("SELECT_TEXT", None, [[_n(action.x), _n(action.y)], [_n(action.x2), _n(action.y2)]])
        if isinstance(action, Type):
            return _d("INPUT", action.text, None)
        if isinstance(action, Scroll):
            return _d("SCROLL", action.direction, None)
        if isinstance(action, SystemButton) and action.button in ("enter", "back", "home"):
            return _d("ENTER" if action.button == "enter" else f"PRESS {action.button.upper()}", None, None)
        if isinstance(action, Answer):
            return _d("ANSWER", action.text, None)
        if isinstance(action, Terminate):
            if action.status == "success" and mobile:
                return _d("ANSWER", "task complete", None)
            return _d(f"STATUS TASK {'COMPLETE' if action.status == 'success' else 'IMPOSSIBLE'}", None, None)
        if isinstance(action, Key) and [k.lower() for k in action.keys] == ["ctrl", "c"]:
            return _d("COPY", None, None)
        raise ValueError(f"ShowUI has no action for {action.type}")


def _d(action: str, value: str | None, position: list[Any] | None) -> dict[str, Any]:
    return {"action": action, "value": value, "position": position}


def _n(value: float) -> float:
    return round(float(value), 4)
