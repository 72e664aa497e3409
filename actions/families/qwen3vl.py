"""Qwen3-VL as its official cookbooks run it: one tool call per step, relative coordinates.

Two families, one per cookbook of QwenLM/Qwen3-VL:

* ``qwen3-vl-mobile`` — ``cookbooks/mobile_agent.ipynb``. The system turn is the notebook's hand-written
  prompt (``qwen3vl_mobile_system.txt``): a ``mobile_use`` tool whose description says "The screen's
  resolution is 999x999", then a "# Response format" section asking for ``Thought:``, ``Action:`` and a
  single ``<tool_call>``. The user turn is text then the screenshot; history is text only, each earlier
  step's ``Action:`` line: ``Step 1: ...; Step 2: ...; ``. The notebook maps ``round(x/999*W)`` on the
  original screenshot, so the space is ``relative-999``.
* ``qwen3-vl-computer`` — ``cookbooks/computer_use.ipynb`` (``perform_gui_grounding_with_api``). The system
  turn is qwen-agent's NousFnCallPrompt output for "You are a helpful assistant." and the ``computer_use``
  tool of ``cookbooks/utils/agent_function_call.py`` configured at 1000x1000 (two text parts, as the notebook
  sends them). The user turn is the screenshot then the task. The notebook maps ``x/1000*W``: the space
  is ``relative-1000``. Its verbs are Qwen2.5-VL's ``computer_use`` set plus ``triple_click``, ``hscroll``
  and ``answer``.

Qwen3-VL's vision patch is 16 with a 2x2 merge, so images are resized to multiples of 32.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    TripleClick,
    Type,
    Wait,
)
from ._text import as_number, as_point, find_json_objects, find_literal_lists, strip_fences
from ._thinking import split_thinking
from .base import HistoryStep, ModelFamily, ParsedReply, load_prompt, wrap_validation

__all__ = ["Qwen3VLComputer", "Qwen3VLMobile"]

QWEN3VL_FACTOR = 32
"""Pixels per merged vision token side: patch 16 x spatial merge 2 (qwen-vl-utils ``image_patch_size=16``)."""
SYSTEM_TEXT = "You are a helpful assistant."
PROGRESS = "Task progress (You have done the following operation on the current device): "
GROUNDING_UNITS = 1000.0
"""The computer-use grounding recipe answers in 0-1000 units of the image."""

_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_ACTION_LINE = re.compile(r"^[ \t*]*Action[ \t*]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_SOURCE = (
    "QwenLM/Qwen3-VL@96588727e44c78b25ba03ea03b8e12f7e64fd0da: cookbooks/mobile_agent.ipynb (hand-written "
    "system_prompt, user_query and Step history, rescale_coordinates), cookbooks/utils/agent_function_call.py "
    "(ComputerUse, MobileUse), qwen-vl-utils/src/qwen_vl_utils/vision_process.py (smart_resize, "
    "IMAGE_MIN/MAX_TOKEN_NUM); cookbooks/computer_use.ipynb is over 4 MB and absent from the mirror: read "
    "from its copy in the fork Firefly-llm/Qwen3-VL@08254a9479ce9a7946f106150e124b071cd91f2c "
    "(perform_gui_grounding_with_api); qwen-agent 0.0.34 NousFnCallPrompt renders its system turn."
)
_CHOICES_COMMON = (
    "Prompts are rendered by us, as both cookbooks do, never through the chat template's tools branch. "
    "999 vs 1000: the sources disagree (QwenLM/Qwen3-VL#1741: README says 0-1000, Alibaba Cloud's docs "
    "0-999; #1521: the cookbooks' prompts differ from agent_function_call.py; #1859: 2d_grounding divides "
    "by 1000, mobile_agent by 999; OSWorld's mm_agents/qwen3vl_agent.py states 1000x1000 but divides by "
    "999). Each family follows its own cookbook: mobile 999, computer 1000, about 3 px apart on a 3120-px "
    "side. Grounding (tasks' 'official' prompt) uses computer_use.ipynb's perform_gui_grounding_with_api, "
    "the Qwen3-VL GUI grounding recipe (ClawGUI-Eval pins the same kind of tool-call system prompt, image "
    "first, [0, 1000]); the answer's 0-1000 point is scaled into the family's space. parse_grounding also "
    "reads 2d_grounding.ipynb's JSON ({'point_2d': [x, y]} / {'bbox_2d': [...]}, 0-1000) and bare [x, y]. "
    "Thinking variants' <think>/</think> text and the Thought:/Action: lines are the reply's thought. A "
    "reply with more than one <tool_call> is refused: the response format asks for a single one. "
    "format_action writes 'Thought: ...' (when given), 'Action: <a short description>' and the tool call. "
    "Qwen3.5/Qwen3.6 model ids map to these families as midscene does; the authors publish no GUI "
    "cookbook for them, so that mapping is unverified."
)


def _point(args: dict[str, Any], key: str, raw: str, verb: str) -> tuple[float, float]:
    if args.get(key) is None:
        raise ActionParseError(f"{verb} needs {key!r}: [x, y]", raw)
    return as_point(args[key], key, raw)


def _text(args: dict[str, Any], key: str, raw: str, verb: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise ActionParseError(f"{verb} needs {key!r} as a non-empty string", raw)
    return value


def _seconds(args: dict[str, Any], raw: str, default: float) -> float:
    return as_number(args["time"], "time", raw) if args.get("time") is not None else default


def _pair(x: float, y: float) -> list[int | float]:
    return [int(v) if float(v).is_integer() else v for v in (x, y)]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _at(x: float | None, y: float | None) -> str:
    return f" at ({_fmt(x)}, {_fmt(y)})" if x is not None and y is not None else ""


Builder = Callable[[dict[str, Any], str, str], list[Action]]


@dataclass(frozen=True)
class _Qwen3VLFamily(ModelFamily):
    """What both cookbooks share: one tool call per reply, Thought/Action lines, text-only Step history."""

    factor: ClassVar[int] = QWEN3VL_FACTOR
    default_history_images: ClassVar[int] = 0
    source: ClassVar[str] = _SOURCE
    tool_name: ClassVar[str]
    units: ClassVar[float]
    tap_word: ClassVar[str] = "Click"

    # --- prompt -------------------------------------------------------------------------------------

    def _system(self) -> Message:
        raise NotImplementedError

    def _progress(self, task: str, history: Sequence[HistoryStep]) -> list[TextPart | ImageSlot]:
        """The mobile notebook's user text: ``The user query: {task}.\\nTask progress (...): Step 1: ...; .\\n``.

        Each entry is cleaned as the notebook cleans it (newlines and double quotes removed). An earlier
        screenshot, when the history keeps one, sits right after its ``Step N: ``.
        """
        parts: list[TextPart | ImageSlot] = []
        text = f"The user query: {task}.\n{PROGRESS}"
        for i, step in enumerate(history, start=1):
            entry = self.history_entry(step).replace("\n", "").replace('"', "")
            if step.image is not None:
                parts += [TextPart(f"{text}Step {i}: "), step.image]
                text = f"{entry}; "
            else:
                text += f"Step {i}: {entry}; "
        parts.append(TextPart(f"{text}.\n"))
        return parts

    def history_entry(self, step: HistoryStep) -> str:
        """What one earlier step says in the history: its reply's ``Action:`` line, as in the cookbook.

        A reply without that line is described from its actions; a refused step says so.
        """
        if not step.actions:
            return "no valid action"
        line = _action_line(step.reply)
        return line if line else ", then ".join(self.history_text(a) for a in step.actions)

    @staticmethod
    def _feedback(feedback: str | None) -> list[TextPart]:
        return [TextPart(f"\nYour previous reply was not a valid action: {feedback}")] if feedback else []

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """computer_use.ipynb's GUI grounding request: the computer_use tool at 1000x1000, image then text."""
        return [_computer_system(), Message("user", (self.current_image(screen), TextPart(instruction)))]

    # --- replies ------------------------------------------------------------------------------------

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        thinking, rest = split_thinking(text)
        call, head = self._tool_call(rest, text)
        thought = "\n\n".join(t for t in (thinking, strip_fences(head).strip()) if t) or None
        actions = self._to_actions(call, text, self.space(screen).name)
        return ParsedReply(text, tuple(actions), thought)

    def _tool_call(self, rest: str, raw: str) -> tuple[dict[str, Any], str]:
        """The reply's one tool call and the text before it."""
        blocks = _TOOL_CALL.findall(rest)
        if len(blocks) > 1:
            raise ActionParseError(
                f"the reply has {len(blocks)} <tool_call> blocks; reply with a single <tool_call> for the next step",
                raw,
            )
        source = blocks[0] if blocks else rest
        found, cut = find_json_objects(strip_fences(source))
        calls = [obj for obj in found if "name" in obj or "arguments" in obj or "action" in obj]
        if not calls:
            if cut:
                raise ActionParseError(
                    "the tool call JSON is cut off; reply with one complete <tool_call> JSON object", raw
                )
            raise ActionParseError(
                f'no tool call found; reply with Thought:, Action: and <tool_call>{{"name": "{self.tool_name}", '
                f'"arguments": {{"action": ...}}}}</tool_call>',
                raw,
            )
        if len(calls) > 1:
            raise ActionParseError("the reply holds several tool calls; reply with a single one", raw)
        if blocks:
            head = rest.split("<tool_call>", 1)[0]
        else:
            head = rest[: rest.find("{")] if "{" in rest else ""
        return calls[0], head

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
        builders = self._builders()
        builder = builders.get(verb) if isinstance(verb, str) else None
        if builder is None:
            raise ActionParseError(f"unknown action {verb!r}; use one of {', '.join(builders)}", raw)
        try:
            return builder(args, raw, space)
        except ValidationError as exc:
            raise wrap_validation(raw, f"{verb} action", exc) from None

    def _builders(self) -> dict[str, Builder]:
        raise NotImplementedError

    def _arguments(self, action: Action) -> dict[str, Any]:
        raise NotImplementedError

    def format_action(self, action: Action, thought: str | None = None) -> str:
        call = json.dumps({"name": self.tool_name, "arguments": self._arguments(action)}, ensure_ascii=False)
        lines = [f"Thought: {thought}"] if thought else []
        lines += [f"Action: {self.history_text(action)}", f"<tool_call>\n{call}\n</tool_call>"]
        return "\n".join(lines)

    def history_text(self, action: Action) -> str:
        """A short description of one action, for the ``Action:`` line and for history without one."""
        return _describe(action, self.tap_word)

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """The point of a grounding answer (0-1000 of the image), in this family's space.

        Reads the computer-use recipe's ``<tool_call>`` (any verb with a ``coordinate``), 2d_grounding's
        ``point_2d``/``bbox_2d`` JSON (a box is its centre) and a bare ``[x, y]``/``[x1, y1, x2, y2]``.
        """
        self.check_reply(text)
        _, rest = split_thinking(text)
        point = _grounding_point(rest, text)
        if point is None:
            raise ActionParseError(
                'the answer names no point; reply with <tool_call>{"name": "computer_use", "arguments": '
                '{"action": "left_click", "coordinate": [x, y]}}</tool_call>',
                text,
            )
        scale = self.units / GROUNDING_UNITS
        return point[0] * scale, point[1] * scale

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """The recipe's answer: a computer_use left_click at the point, in its 0-1000 units (whole numbers)."""
        scale = GROUNDING_UNITS / self.units
        coordinate = [round(x * scale), round(y * scale)]
        call = json.dumps({"name": "computer_use", "arguments": {"action": "left_click", "coordinate": coordinate}})
        return f"<tool_call>\n{call}\n</tool_call>"


def _action_line(reply: str) -> str | None:
    """The ``Action:`` line of a reply (before its tool call), if it has one."""
    try:
        _, rest = split_thinking(reply)
    except ActionParseError:
        rest = reply
    match = _ACTION_LINE.search(rest.split("<tool_call>", 1)[0])
    if match is None:
        return None
    return match.group(1).strip() or None


def _describe(action: Action, tap: str) -> str:
    if isinstance(action, Click):
        return f"{tap}{_at(action.x, action.y)}."
    if isinstance(action, (DoubleClick, TripleClick, RightClick, MiddleClick)):
        verb = {"double_click": "Double-click", "triple_click": "Triple-click"}.get(action.type)
        verb = verb or {"right_click": "Right-click", "middle_click": "Middle-click"}[action.type]
        return f"{verb}{_at(action.x, action.y)}."
    if isinstance(action, LongPress):
        return f"Long-press{_at(action.x, action.y)} for {_fmt(action.duration)} seconds."
    if isinstance(action, Move):
        return f"Move the pointer to ({_fmt(action.x)}, {_fmt(action.y)})."
    if isinstance(action, Swipe):
        return f"Swipe from ({_fmt(action.x)}, {_fmt(action.y)}) to ({_fmt(action.x2)}, {_fmt(action.y2)})."
    if isinstance(action, Drag):
        return f"Drag to ({_fmt(action.x2)}, {_fmt(action.y2)})."
    if isinstance(action, Scroll):
        return f"Scroll {action.direction} by {action.amount}{_at(action.x, action.y)}."
    if isinstance(action, Type):
        return f"Type '{action.text}'."
    if isinstance(action, Key):
        return f"Press {'+'.join(action.keys)}."
    if isinstance(action, SystemButton):
        return f"Press the {action.button.capitalize()} button."
    if isinstance(action, OpenApp):
        return f"Open {action.name}."
    if isinstance(action, Wait):
        return f"Wait {_fmt(action.seconds)} seconds."
    if isinstance(action, Answer):
        return f"Answer: {action.text}"
    if isinstance(action, Terminate):
        return f"The task is finished ({action.status})."
    return f"{action.type}."


def _grounding_point(rest: str, raw: str) -> tuple[float, float] | None:
    cleaned = strip_fences(rest)
    blocks = _TOOL_CALL.findall(cleaned)
    for source in blocks or [cleaned]:
        found, _ = find_json_objects(source)
        for obj in found:
            args = obj.get("arguments", obj)
            if isinstance(args, str):
                inner, _ = find_json_objects(args)
                args = inner[0] if inner else None
            if isinstance(args, dict) and args.get("coordinate") is not None:
                return as_point(args["coordinate"], "coordinate", raw)
    candidates: list[Any] = []
    for found_list in find_literal_lists(cleaned):
        candidates.extend(found_list if all(isinstance(i, dict) for i in found_list) else [found_list])
    candidates.extend(find_json_objects(cleaned)[0])
    for item in candidates:
        if isinstance(item, dict):
            for key in ("point_2d", "bbox_2d"):
                if item.get(key) is not None:
                    return as_point(item[key], key, raw)
        elif isinstance(item, list) and len(item) in (2, 4) and all(isinstance(v, (int, float)) for v in item):
            return as_point(item, "point", raw)
    return None


def _computer_system() -> Message:
    return Message("system", (TextPart(SYSTEM_TEXT), TextPart(load_prompt("qwen3vl_computer_tools.txt"))))


@dataclass(frozen=True)
class Qwen3VLMobile(_Qwen3VLFamily):
    """Qwen3-VL with the mobile_agent cookbook's ``mobile_use`` prompt: phones, relative 0-999."""

    name: ClassVar[str] = "qwen3-vl-mobile"
    summary: ClassVar[str] = "Qwen3-VL mobile_use tool calls, 999x999 (cookbook mobile agent)"
    space_kind: ClassVar[str] = "relative-999"
    units: ClassVar[float] = 999.0
    tool_name: ClassVar[str] = "mobile_use"
    tap_word: ClassVar[str] = "Tap"
    default_platform = "mobile"
    default_min_pixels: ClassVar[int] = 4 * QWEN3VL_FACTOR**2
    default_max_pixels: ClassVar[int] = 16384 * QWEN3VL_FACTOR**2
    choices: ClassVar[str] = (
        "System prompt: the notebook's hand-written system_prompt string (HEAD 9e7b8cc 'fix typo'; the "
        "2025-09-24 version lacked the '# Response format' section and the leading blank lines), not "
        "agent_function_call.MobileUse, whose description and verb list differ (#1521). Its verbs: click, "
        "long_press, swipe, type, answer, system_button, wait, terminate; the parser also reads MobileUse's "
        "key and open, which the prompt no longer lists. History: the notebook's Step k text of each "
        "earlier reply's Action: line, newlines and double quotes removed, in 'The user query: {task}.' "
        "(the notebook's own '.' follows the task). Pixel limits: the notebook sends the raw screenshot "
        "and names none, so qwen-vl-utils 0.0.14's defaults for image_patch_size=16 apply: 4*32*32 to "
        "16384*32*32 (the HF processor's floor is 64*32*32; only images under 65536 pixels differ, and "
        "relative coordinates do not change). " + _CHOICES_COMMON
    )

    def _system(self) -> Message:
        return Message.text("system", load_prompt("qwen3vl_mobile_system.txt"))

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        content = [*self._progress(task, history), self.current_image(screen), *self._feedback(feedback)]
        return [self._system(), Message("user", tuple(content))]

    def _builders(self) -> dict[str, Builder]:
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

        return {
            "click": click,
            "long_press": long_press,
            "swipe": swipe,
            "type": lambda a, raw, s: [Type(text=_text(a, "text", raw, "type"), space=s)],
            "answer": lambda a, raw, s: [Answer(text=_text(a, "text", raw, "answer"), space=s)],
            "system_button": system_button,
            "wait": lambda a, raw, s: [Wait(seconds=_seconds(a, raw, 1.0), space=s)],
            "terminate": lambda a, raw, s: [Terminate(status=a.get("status", "success"), space=s)],
            "key": lambda a, raw, s: [Key(keys=[_text(a, "text", raw, "key")], space=s)],
            "open": lambda a, raw, s: [OpenApp(name=_text(a, "text", raw, "open"), space=s)],
        }

    def _arguments(self, action: Action) -> dict[str, Any]:
        if isinstance(action, Click) and action.x is not None and action.y is not None:
            return {"action": "click", "coordinate": _pair(action.x, action.y)}
        if isinstance(action, LongPress):
            return {"action": "long_press", "coordinate": _pair(action.x, action.y), "time": action.duration}
        if isinstance(action, Swipe):
            return {
                "action": "swipe",
                "coordinate": _pair(action.x, action.y),
                "coordinate2": _pair(action.x2, action.y2),
            }
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Answer) and action.text:
            return {"action": "answer", "text": action.text}
        if isinstance(action, SystemButton) and action.button != "recents":
            return {"action": "system_button", "button": action.button.capitalize()}
        if isinstance(action, Wait):
            return {"action": "wait", "time": action.seconds}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        if isinstance(action, Key) and len(action.keys) == 1:
            return {"action": "key", "text": action.keys[0]}
        if isinstance(action, OpenApp):
            return {"action": "open", "text": action.name}
        raise ValueError(f"mobile_use cannot express {action.type}")


@dataclass(frozen=True)
class Qwen3VLComputer(_Qwen3VLFamily):
    """Qwen3-VL with the computer_use cookbook's ``computer_use`` tool: desktops, relative 0-1000."""

    name: ClassVar[str] = "qwen3-vl-computer"
    summary: ClassVar[str] = "Qwen3-VL computer_use tool calls, 1000x1000 (cookbook computer use)"
    space_kind: ClassVar[str] = "relative-1000"
    units: ClassVar[float] = 1000.0
    tool_name: ClassVar[str] = "computer_use"
    default_platform = "computer"
    default_min_pixels: ClassVar[int] = 3136
    default_max_pixels: ClassVar[int] = 12845056
    choices: ClassVar[str] = (
        "System prompt: NousFnCallPrompt(system 'You are a helpful assistant.', functions=[ComputerUse "
        "at 1000x1000]) sent as its two text parts, checked against the prompt the notebook prints. The "
        "notebook is one step and has no history: with none, the user turn is exactly [screenshot, task]; "
        "with history, the text is the mobile notebook's layout ('The user query: {task}.\\nTask progress "
        "...: Step 1: ...; .\\n'), the only history layout the Qwen3-VL cookbooks publish (OSWorld's "
        "qwen3vl_agent.py uses another prompt with multi-turn screenshots; not followed). Pixel limits: "
        "the notebook's own smart_resize(factor=32, min_pixels=3136, max_pixels=12845056). scroll: pixels "
        "> 0 scrolls up (the tool's words); hscroll: pixels > 0 scrolls right, < 0 left (pyautogui.hscroll's "
        "sign; the tool only says 'horizontal scroll'); the amount is |pixels| wheel notches. "
        "left_click_drag drags from the cursor to 'coordinate', so a drag with its own start point cannot "
        "be written (ValueError); a 'start_coordinate' a model adds is read. " + _CHOICES_COMMON
    )

    def _system(self) -> Message:
        return _computer_system()

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        text: list[TextPart | ImageSlot] = self._progress(task, history) if history else [TextPart(task)]
        content = [self.current_image(screen), *text, *self._feedback(feedback)]
        return [self._system(), Message("user", tuple(content))]

    def _builders(self) -> dict[str, Builder]:
        def optional_point(a: dict[str, Any], raw: str) -> dict[str, Any]:
            if a.get("coordinate") is None:
                return {}
            x, y = as_point(a["coordinate"], "coordinate", raw)
            return {"x": x, "y": y}

        def clicker(kind: type[Click | DoubleClick | TripleClick | RightClick | MiddleClick]) -> Builder:
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

        def scroller(axis: Literal["scroll", "hscroll"]) -> Builder:
            def scroll(a: dict[str, Any], raw: str, s: str) -> list[Action]:
                if a.get("pixels") is None:
                    raise ActionParseError(f'{axis} needs "pixels": a positive or negative number', raw)
                amount = as_number(a["pixels"], "pixels", raw)
                if amount == 0:
                    raise ActionParseError(f'{axis} "pixels" must not be 0', raw)
                if axis == "scroll":
                    direction: Literal["up", "down", "left", "right"] = "up" if amount > 0 else "down"
                else:
                    direction = "right" if amount > 0 else "left"
                notches = max(1, round(abs(amount)))
                return [Scroll(direction=direction, amount=notches, space=s, **optional_point(a, raw))]

            return scroll

        return {
            "key": key,
            "type": lambda a, raw, s: [Type(text=_text(a, "text", raw, "type"), space=s)],
            "mouse_move": mouse_move,
            "left_click": clicker(Click),
            "left_click_drag": drag,
            "right_click": clicker(RightClick),
            "middle_click": clicker(MiddleClick),
            "double_click": clicker(DoubleClick),
            "triple_click": clicker(TripleClick),
            "scroll": scroller("scroll"),
            "hscroll": scroller("hscroll"),
            "wait": lambda a, raw, s: [Wait(seconds=_seconds(a, raw, 1.0), space=s)],
            "terminate": lambda a, raw, s: [Terminate(status=a.get("status", "success"), space=s)],
            "answer": lambda a, raw, s: [Answer(text=_text(a, "text", raw, "answer"), space=s)],
        }

    def _arguments(self, action: Action) -> dict[str, Any]:
        verbs = {
            "click": "left_click",
            "double_click": "double_click",
            "triple_click": "triple_click",
            "right_click": "right_click",
            "middle_click": "middle_click",
        }
        if isinstance(action, (Click, DoubleClick, TripleClick, RightClick, MiddleClick)):
            args: dict[str, Any] = {"action": verbs[action.type]}
            if action.x is not None and action.y is not None:
                args["coordinate"] = _pair(action.x, action.y)
            return args
        if isinstance(action, Move):
            return {"action": "mouse_move", "coordinate": _pair(action.x, action.y)}
        if isinstance(action, Drag) and action.x is None:
            return {"action": "left_click_drag", "coordinate": _pair(action.x2, action.y2)}
        if isinstance(action, Scroll):
            sign = 1 if action.direction in ("up", "right") else -1
            verb = "scroll" if action.direction in ("up", "down") else "hscroll"
            args = {"action": verb, "pixels": sign * action.amount}
            if action.x is not None and action.y is not None:
                args["coordinate"] = _pair(action.x, action.y)
            return args
        if isinstance(action, Key):
            return {"action": "key", "keys": list(action.keys)}
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Wait):
            return {"action": "wait", "time": action.seconds}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        if isinstance(action, Answer) and action.text:
            return {"action": "answer", "text": action.text}
        if isinstance(action, Drag):
            raise ValueError("computer_use drags from the cursor; it cannot start a drag at another point")
        raise ValueError(f"computer_use cannot express {action.type}")
