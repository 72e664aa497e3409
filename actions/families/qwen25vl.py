"""Qwen2.5-VL as the official cookbooks run it: one tool (``mobile_use`` or ``computer_use``), called in
``<tool_call>`` JSON, with coordinates in pixels of the image after ``smart_resize``.

The system prompt is qwen-agent's NousFnCallPrompt with the tool's JSON definition, rendered here byte for
byte (the stock chat template has no tools branch). The user turn is the cookbook's: the task, then the
history as ``Step N: {tool call JSON}; `` and the current screenshot.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from ..errors import ActionParseError
from ..geometry import Size
from ..messages import ImageSlot, Message, TextPart
from ..types import (
    Action,
    Answer,
    Click,
    DoubleClick,
    Drag,
    Key,
    LongPress,
    MiddleClick,
    Move,
    OpenApp,
    RightClick,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from ._text import as_number, as_point, find_json_objects, find_literal_lists, in_model_terms, strip_fences
from .base import HistoryStep, ModelFamily, ParsedReply, load_prompt, wrap_validation

__all__ = ["PIXELS_PER_NOTCH", "Qwen25VLComputer", "Qwen25VLMobile"]

SYSTEM_TEXT = "You are a helpful assistant."
PIXELS_PER_NOTCH = 100
"""``computer_use`` scrolls by ``pixels`` (the schema gives no bound; public agents send ±300 and -500), while
guiagent scrolls by wheel notches. One notch moves a page about 100 px in common browsers, so ``pixels`` is
read as ``round(|pixels| / 100)`` notches (at least 1) and a scroll of N notches is written as ``N * 100``
pixels: parse and format are inverses on whole notches."""
MAX_SCROLL_PIXELS = 100 * PIXELS_PER_NOTCH
"""The largest scroll a reply may ask for (100 notches, ``Scroll.amount``'s limit), in the model's unit."""
_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
GROUNDING_TOOL_FILE = "qwen25vl_computer_use.json"
"""The tool the computer-use cookbook's grounding recipe offers, whatever the agent's platform."""
GROUNDING_SOURCE = (
    "; grounding: QwenLM/Qwen2.5-VL cookbooks/computer_use.ipynb perform_gui_grounding_with_api (the notebook "
    "is absent from the upstream mirror at every commit; read from the fork yooneo/Qwen2.5-VL@"
    "2bd5ed5f2e77bd4a631abd3e3e1256df1695b0bc), cookbooks/utils/agent_function_call.py ComputerUse "
    "(QwenLM/Qwen2.5-VL@f0af2996e843cf46aa5f778c38d6694500c2ca81); cross-checked with ZJU-REAL/ClawGUI "
    "clawgui-eval (inference/qwen25vl_inferencer.py, scripts/infer/*/qwen25vl_run_*.sh, judge/grounding_judge.py "
    "qwen25vl_parse)"
)
GROUNDING_CHOICES = (
    "Grounding ('official' prompt): the computer_use cookbook's GUI grounding recipe "
    "(perform_gui_grounding_with_api), the Qwen2.5-VL authors' only GUI grounding example, for both the mobile "
    "and the computer family (there is no mobile grounding recipe; the mobile notebook is the agent): a system "
    "turn of two text parts, 'You are a helpful assistant.' and qwen-agent's NousFnCallPrompt tools text for "
    "the computer_use tool stating the smart_resized resolution, then a user turn with the image first and the "
    "instruction as it is. The same notebook's local-model variant (perform_gui_grounding) puts the text before "
    "the image; the API variant is followed because ClawGUI-Eval, which reproduces the published numbers, pins "
    "image first (vt) with the tool-call system prompt. The spatial-understanding notebook's bbox_2d JSON is a "
    "general detection recipe, not the GUI one; its answers are read too. Pixel limits: the recipe's 3136 to "
    "12845056 (the family's defaults), factor 28, temperature 0. The answer is the tool call's coordinate in "
    "absolute pixels of the resized image (any action, either tool name); else a bbox_2d/point_2d object or a "
    "bare [x, y] / [x1, y1, x2, y2] (box centre), as ClawGUI's qwen25vl_parse falls back to the numbers."
)


@cache
def _tool_definition(file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(load_prompt(file))
    return loaded


def _system_prompt(tool_file: str, resolution: Size) -> str:
    function = dict(_tool_definition(tool_file))
    function["description"] = function["description"].replace("{resolution}", str(resolution))
    tools = json.dumps({"type": "function", "function": function}, ensure_ascii=False)
    return load_prompt("nous_fncall_system.txt").replace("{system}", SYSTEM_TEXT).replace("{tools}", tools)


@dataclass(frozen=True)
class _Qwen25VLToolFamily(ModelFamily):
    """Shared logic of the two tool-call families; subclasses give the tool and its verbs.

    History is the cookbook's text (``Step 1: {tool call}; ``). When the agent keeps earlier screenshots,
    each one is placed right after its ``Step N: `` — the screen that action was taken on.
    """

    space_kind: ClassVar[str] = "pixels"
    tool_name: ClassVar[str]
    tool_file: ClassVar[str]
    default_history_images: ClassVar[int] = 0

    def system_prompt(self, screen: Size) -> str:
        """The system turn, naming the resolution the model sees."""
        return _system_prompt(self.tool_file, self.model_size(screen))

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        head = f"The user query:  {task}\nTask progress (You have done the following operation on the current device): "
        content: list[TextPart | ImageSlot] = []
        text = head
        for i, step in enumerate(history, start=1):
            done = "; ".join(self.history_text(a) for a in step.actions) or "no valid action"
            if step.image is not None:  # an earlier screenshot sits between "Step N: " and what was done on it
                content += [TextPart(f"{text}Step {i}: "), step.image]
                text = f"{done}; "
            else:
                text += f"Step {i}: {done}; "
        content += [TextPart(text), self.current_image(screen)]
        if feedback:
            content.append(TextPart(f"\nYour previous reply was not a valid action: {feedback}"))
        return [
            Message.text("system", self.system_prompt(screen)),
            Message("user", tuple(content)),
        ]

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        space = self.space(screen).name
        calls, thought = self._tool_calls(text)
        actions: list[Action] = []
        for call in calls:
            actions.extend(self._to_actions(call, text, space))
        if not actions:
            raise ActionParseError("the tool call holds no action", text)
        return ParsedReply(text, tuple(actions), thought)

    def _tool_calls(self, text: str) -> tuple[list[dict[str, Any]], str | None]:
        blocks = _TOOL_CALL.findall(text)
        head = text.split("<tool_call>", 1)[0] if blocks else ""
        sources = blocks if blocks else [text]
        calls: list[dict[str, Any]] = []
        truncated = False
        for source in sources:
            found, cut = find_json_objects(strip_fences(source))
            truncated = truncated or cut
            calls.extend(obj for obj in found if "name" in obj or "arguments" in obj or "action" in obj)
        if not calls:
            if truncated:
                raise ActionParseError(
                    "the tool call JSON is cut off; reply with one complete <tool_call> JSON object", text
                )
            raise ActionParseError(
                f'no tool call found; reply with <tool_call>{{"name": "{self.tool_name}", '
                f'"arguments": {{"action": ...}}}}</tool_call>',
                text,
            )
        thought = strip_fences(head).strip() or None
        return calls, thought

    def _to_actions(self, call: dict[str, Any], raw: str, space: str) -> list[Action]:
        name = call.get("name", self.tool_name)
        if name != self.tool_name:
            raise ActionParseError(f"unknown tool {name!r}; the only tool is {self.tool_name!r}", raw)
        args = call.get("arguments", call if "action" in call else None)
        if isinstance(args, str):
            found, _ = find_json_objects(args)
            args = found[0] if found else None
        if not isinstance(args, dict):
            raise ActionParseError('"arguments" must be a JSON object with an "action" key', raw)
        verb = args.get("action")
        builder = self._builders().get(verb) if isinstance(verb, str) else None
        if builder is None:
            raise ActionParseError(f"unknown action {verb!r}; use one of {', '.join(sorted(self._builders()))}", raw)
        try:
            return builder(args, raw, space)
        except ValidationError as exc:
            reason = wrap_validation(raw, f"{verb} action", exc).reason
            raise ActionParseError(in_model_terms(reason, self.argument_names), raw) from None

    argument_names: ClassVar[dict[str, str]] = {}
    """Our action fields → the tool argument the model wrote them in, so no error names a field it never saw."""

    def _builders(self) -> dict[str, Callable[[dict[str, Any], str, str], list[Action]]]:
        raise NotImplementedError

    def _call_json(self, arguments: dict[str, Any]) -> str:
        return json.dumps({"name": self.tool_name, "arguments": arguments}, ensure_ascii=False)

    def format_action(self, action: Action, thought: str | None = None) -> str:
        body = f"<tool_call>\n{self._call_json(self._arguments(action))}\n</tool_call>"
        return f"{thought}\n{body}" if thought else body

    def history_text(self, action: Action) -> str:
        return self._call_json(self._arguments(action))

    def _arguments(self, action: Action) -> dict[str, Any]:
        raise NotImplementedError

    # --- grounding (computer_use.ipynb's recipe) ---------------------------------------------------------

    choices: ClassVar[str] = GROUNDING_CHOICES

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """The cookbook's GUI grounding request: the computer_use tool at the resized size, image then text."""
        tools = _system_prompt(GROUNDING_TOOL_FILE, self.model_size(screen))
        if not tools.startswith(SYSTEM_TEXT):
            raise AssertionError("the NousFnCallPrompt template must start with the system text")
        system = Message("system", (TextPart(SYSTEM_TEXT), TextPart(tools[len(SYSTEM_TEXT) :])))
        return [system, Message("user", (self.current_image(screen), TextPart(instruction)))]

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """The point of a grounding answer, in absolute pixels of the resized image.

        Raises:
            ActionParseError: the answer names no point.
        """
        self.check_reply(text)
        body = strip_fences(text)
        for source in _TOOL_CALL.findall(body) or [body]:
            found, _ = find_json_objects(source)
            for obj in found:
                args = obj.get("arguments", obj)
                if isinstance(args, str):
                    inner, _ = find_json_objects(args)
                    args = inner[0] if inner else None
                if isinstance(args, dict) and args.get("coordinate") is not None:
                    return as_point(args["coordinate"], "coordinate", text)
        candidates: list[Any] = list(find_json_objects(body)[0])
        for found_list in find_literal_lists(body):
            candidates.extend(found_list if all(isinstance(i, dict) for i in found_list) else [found_list])
        for item in candidates:
            if isinstance(item, dict):
                for key in ("point_2d", "bbox_2d"):
                    if item.get(key) is not None:
                        return as_point(item[key], key, text)
            elif isinstance(item, list) and len(item) in (2, 4) and all(_is_number(v) for v in item):
                return as_point(item, "the point", text)
        raise ActionParseError(
            'the answer names no point; reply with <tool_call>{"name": "computer_use", "arguments": '
            '{"action": "left_click", "coordinate": [x, y]}}</tool_call>',
            text,
        )

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """The recipe's answer: a computer_use left_click at the point (pixels of the resized image)."""
        arguments = {"action": "left_click", "coordinate": _int_pair(x, y)}
        call = json.dumps({"name": "computer_use", "arguments": arguments}, ensure_ascii=False)
        return f"<tool_call>\n{call}\n</tool_call>"


def _point(args: dict[str, Any], key: str, raw: str, verb: str) -> tuple[float, float]:
    if key not in args:
        raise ActionParseError(f"{verb} needs {key!r}: [x, y]", raw)
    return as_point(args[key], key, raw)


def _text(args: dict[str, Any], key: str, raw: str, verb: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise ActionParseError(f"{verb} needs {key!r} as a non-empty string", raw)
    return value


def _seconds(args: dict[str, Any], raw: str, default: float) -> float:
    return as_number(args["time"], "time", raw) if args.get("time") is not None else default


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _int_pair(x: float, y: float) -> list[int | float]:
    return [int(x) if float(x).is_integer() else x, int(y) if float(y).is_integer() else y]


@dataclass(frozen=True)
class Qwen25VLMobile(_Qwen25VLToolFamily):
    """Qwen2.5-VL with the cookbook's ``mobile_use`` tool: phones."""

    name: ClassVar[str] = "qwen2.5-vl-mobile"
    summary: ClassVar[str] = "Qwen2.5-VL mobile_use tool calls (cookbook mobile agent)"
    source: ClassVar[str] = (
        "QwenLM/Qwen2.5-VL cookbooks/mobile_agent.ipynb, cookbooks/utils/agent_function_call.py; qwen-agent "
        "NousFnCallPrompt" + GROUNDING_SOURCE
    )
    tool_name: ClassVar[str] = "mobile_use"
    tool_file: ClassVar[str] = "qwen25vl_mobile_use.json"
    default_platform = "mobile"
    argument_names: ClassVar[dict[str, str]] = {
        "x": "coordinate",
        "y": "coordinate",
        "x2": "coordinate2",
        "y2": "coordinate2",
        "duration": "time",
        "seconds": "time",
        "keys": "text",
        "name": "text",
    }

    def _builders(self) -> dict[str, Callable[[dict[str, Any], str, str], list[Action]]]:
        def click(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "click")
            return [Click(x=x, y=y, space=s)]

        def long_press(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "long_press")
            return [LongPress(x=x, y=y, duration=_seconds(a, raw, 1.0), space=s)]

        def swipe(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "swipe")
            x2, y2 = _point(a, "coordinate2", raw, "swipe")
            return [Swipe(x=x, y=y, x2=x2, y2=y2, space=s)]

        def system_button(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            return [SystemButton.model_validate({"button": _text(a, "button", raw, "system_button"), "space": s})]

        def terminate(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            return [Terminate(status=a.get("status", "success"), space=s)]

        return {
            "key": lambda a, raw, s: [Key(keys=[_text(a, "text", raw, "key")], space=s)],
            "click": click,
            "long_press": long_press,
            "swipe": swipe,
            "type": lambda a, raw, s: [Type(text=_text(a, "text", raw, "type"), space=s)],
            "system_button": system_button,
            "open": lambda a, raw, s: [OpenApp(name=_text(a, "text", raw, "open"), space=s)],
            "wait": lambda a, raw, s: [Wait(seconds=_seconds(a, raw, 1.0), space=s)],
            "terminate": terminate,
            "answer": lambda a, raw, s: [Answer(text=_text(a, "text", raw, "answer"), space=s)],
        }

    def _arguments(self, action: Action) -> dict[str, Any]:
        if isinstance(action, Click) and action.x is not None and action.y is not None:
            return {"action": "click", "coordinate": _int_pair(action.x, action.y)}
        if isinstance(action, LongPress):
            return {"action": "long_press", "coordinate": _int_pair(action.x, action.y), "time": action.duration}
        if isinstance(action, Swipe):
            return {
                "action": "swipe",
                "coordinate": _int_pair(action.x, action.y),
                "coordinate2": _int_pair(action.x2, action.y2),
            }
        if isinstance(action, Key):
            return {"action": "key", "text": "+".join(action.keys)}
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, SystemButton) and action.button != "recents":
            return {"action": "system_button", "button": action.button.capitalize()}
        if isinstance(action, OpenApp):
            return {"action": "open", "text": action.name}
        if isinstance(action, Wait):
            return {"action": "wait", "time": action.seconds}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        if isinstance(action, Answer):
            return {"action": "answer", "text": action.text}
        raise ValueError(f"mobile_use cannot express {action.type}")


@dataclass(frozen=True)
class Qwen25VLComputer(_Qwen25VLToolFamily):
    """Qwen2.5-VL with the cookbook's ``computer_use`` tool: desktops."""

    name: ClassVar[str] = "qwen2.5-vl-computer"
    summary: ClassVar[str] = "Qwen2.5-VL computer_use tool calls (cookbook computer use)"
    source: ClassVar[str] = (
        "QwenLM/Qwen2.5-VL cookbooks/computer_use.ipynb, cookbooks/utils/agent_function_call.py; qwen-agent "
        "NousFnCallPrompt" + GROUNDING_SOURCE
    )
    tool_name: ClassVar[str] = "computer_use"
    tool_file: ClassVar[str] = "qwen25vl_computer_use.json"
    default_platform = "computer"
    argument_names: ClassVar[dict[str, str]] = {
        "x": "coordinate",
        "y": "coordinate",
        "x2": "coordinate",
        "y2": "coordinate",
        "amount": "pixels",
        "seconds": "time",
    }

    def _builders(self) -> dict[str, Callable[[dict[str, Any], str, str], list[Action]]]:
        def optional_point(a: dict[str, Any], raw: str) -> dict[str, Any]:
            if a.get("coordinate") is None:
                return {}
            x, y = as_point(a["coordinate"], "coordinate", raw)
            return {"x": x, "y": y}

        def clicker(kind: type[Click | DoubleClick | RightClick | MiddleClick]) -> Callable[..., list[Action]]:
            return lambda a, raw, s: [kind(space=s, **optional_point(a, raw))]

        def key(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            keys = a.get("keys", a.get("text"))
            if isinstance(keys, str):
                keys = [k for k in re.split(r"[+ ]", keys) if k]
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise ActionParseError('key needs "keys": a list of key names, e.g. ["ctrl", "c"]', raw)
            return [Key(keys=keys, space=s)]

        def mouse_move(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "mouse_move")
            return [Move(x=x, y=y, space=s)]

        def drag(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            x2, y2 = _point(a, "coordinate", raw, "left_click_drag")
            start: dict[str, Any] = {}
            if a.get("start_coordinate") is not None:
                sx, sy = as_point(a["start_coordinate"], "start_coordinate", raw)
                start = {"x": sx, "y": sy}
            return [Drag(x2=x2, y2=y2, space=s, **start)]

        def scroll(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            if a.get("pixels") is None:
                raise ActionParseError('scroll needs "pixels": positive scrolls up, negative down', raw)
            pixels = as_number(a["pixels"], "pixels", raw)
            if pixels == 0:
                raise ActionParseError('scroll "pixels" must not be 0', raw)
            if abs(pixels) > MAX_SCROLL_PIXELS:
                raise ActionParseError(
                    f'scroll "pixels" must be between -{MAX_SCROLL_PIXELS} and {MAX_SCROLL_PIXELS}, got {pixels:g}', raw
                )
            direction: Literal["up", "down"] = "up" if pixels > 0 else "down"
            notches = max(1, math.floor(abs(pixels) / PIXELS_PER_NOTCH + 0.5))  # halves up, as to_device rounds
            return [Scroll(direction=direction, amount=notches, space=s, **optional_point(a, raw))]

        def terminate(a: dict[str, Any], raw: str, s: str) -> list[Action]:
            return [Terminate(status=a.get("status", "success"), space=s)]

        return {
            "key": key,
            "type": lambda a, raw, s: [Type(text=_text(a, "text", raw, "type"), space=s)],
            "mouse_move": mouse_move,
            "left_click": clicker(Click),
            "left_click_drag": drag,
            "right_click": clicker(RightClick),
            "middle_click": clicker(MiddleClick),
            "double_click": clicker(DoubleClick),
            "scroll": scroll,
            "wait": lambda a, raw, s: [Wait(seconds=_seconds(a, raw, 1.0), space=s)],
            "terminate": terminate,
            "answer": lambda a, raw, s: [Answer(text=_text(a, "text", raw, "answer"), space=s)],
        }

    def _arguments(self, action: Action) -> dict[str, Any]:
        verbs = {"click": "left_click", "double_click": "double_click", "right_click": "right_click"}
        verbs["middle_click"] = "middle_click"
        if isinstance(action, (Click, DoubleClick, RightClick, MiddleClick)):
            args: dict[str, Any] = {"action": verbs[action.type]}
            if action.x is not None and action.y is not None:
                args["coordinate"] = _int_pair(action.x, action.y)
            return args
        if isinstance(action, Move):
            return {"action": "mouse_move", "coordinate": _int_pair(action.x, action.y)}
        if isinstance(action, Drag):
            args = {"action": "left_click_drag", "coordinate": _int_pair(action.x2, action.y2)}
            if action.x is not None and action.y is not None:
                args["start_coordinate"] = _int_pair(action.x, action.y)
            return args
        if isinstance(action, Scroll) and action.direction in ("up", "down"):
            pixels = action.amount * PIXELS_PER_NOTCH
            args = {"action": "scroll", "pixels": pixels if action.direction == "up" else -pixels}
            if action.x is not None and action.y is not None:
                args["coordinate"] = _int_pair(action.x, action.y)
            return args
        if isinstance(action, Key):
            return {"action": "key", "keys": list(action.keys)}
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Wait):
            return {"action": "wait", "time": action.seconds}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        if isinstance(action, Answer):
            return {"action": "answer", "text": action.text}
        raise ValueError(f"computer_use cannot express {action.type}")
