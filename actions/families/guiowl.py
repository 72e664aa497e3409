"""GUI-Owl-1.5 (mPLUG, on Qwen3-VL) as its authors' own agents run it: one ``mobile_use`` or
``computer_use`` tool, a short ``Action:`` line and one ``<tool_call>`` JSON, coordinates 0–1000.

Everything follows X-PLUG/MobileAgent ``Mobile-Agent-v3.5/`` (``mobile_use/utils.py`` and
``run_gui_owl_1_5_for_mobile.py`` for phones, ``computer_use/utils.py`` and ``run_gui_owl_1_5_for_pc.py``
for desktops; the grounding prompt from ``grounding_and_kb/eval_grounding_benchmarks.py``):

* **Prompt.** A fixed system prompt (``guiowl15_mobile_system.txt``, ``guiowl15_computer_system.txt``,
  byte for byte; it says "The screen's resolution is 1000x1000" whatever the screen). The first user
  turn: "Please generate the next move ...", the task (phones: prefixed with "Today's date is:
  YYYY-MM-DD Weekday."), and "Previous actions:" — ``Step N: <the reply's Action line>`` for steps older
  than the image window, ``None`` when there are none.
* **History.** The last four earlier screenshots go back as multi-turn history: the first user turn
  carries the text and the oldest kept screenshot, each later screenshot is a user turn of its own,
  each followed by that step's whole reply as an assistant turn; the current screenshot is the last
  user turn. With no kept screenshots the first user turn holds the text and the current screenshot.
* **Image.** The client resizes with smart_resize (phones factor 28, desktops factor 16 with the long
  side capped at 8192; 3136 to 10 035 200 pixels), then Qwen3-VL's processor resizes again to multiples
  of 32 (its defaults: 65 536 to 16 777 216 pixels). The model sees the second size; this family sends
  exactly that size, so no server resizes anything (on ~10 MP screens, where rounding to 32 overshoots
  ``max_pixels``, the size is floored back within the family's limits).
* **Coordinates.** ``int(x / 1000 * W16)`` where ``W16 × H16`` is the *screenshot* smart_resized to
  multiples of 16 (3136 to 200 704 000 pixels): the authors map onto that canvas and tap the result as a
  device pixel, truncating. On a 1080×2400 phone the canvas is 1088×2400, so x = 1000 lands at pixel 1088,
  off the screen: a ``CoordinateError``, never a clamp (a point exactly on the screen's far edge is its
  last pixel, as in every family). ``_CanvasSpace`` reproduces this to the pixel, float expression
  included. The desktop agent's 8192-px long-side cap is not applied to the canvas (see ``choices``).

The authors' own sources disagree in many places (the AndroidWorld and OSWorld-MCP agents divide by 999
on the raw screenshot, the cookbooks write other history text); ``choices`` on each class lists them.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from ..errors import ActionParseError, CoordinateError
from ..geometry import CoordinateSpace, ImagePlan, Size, smart_resize
from ..messages import ImageSlot, Message, TextPart
from ..types import (
    Action,
    Answer,
    CallUser,
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
from ._text import as_number, as_point, find_json_objects, find_literal_objects, strip_fences
from ._thinking import split_thinking
from .base import HistoryStep, ModelFamily, ParsedReply, load_prompt, wrap_validation

__all__ = ["GUIOwl15Computer", "GUIOwl15Mobile", "canvas_size", "sent_size"]

UNITS = 1000
"""The model's coordinates run from 0 to 1000 ("The screen's resolution is 1000x1000")."""
CANVAS_FACTOR = 16
CANVAS_MIN_PIXELS = 3136
CANVAS_MAX_PIXELS = 1003520 * 200
"""``smart_resize(h, w, factor=16, min_pixels=3136, max_pixels=1003520 * 200)``: the size the authors map
0–1000 onto (``run_gui_owl_1_5_for_mobile.py`` and ``run_gui_owl_1_5_for_pc.py``, step 4)."""
SENT_MIN_PIXELS = 3136
SENT_MAX_PIXELS = 10035200
"""``image_to_base64``'s ``MIN_PIXELS``/``MAX_PIXELS`` (both platforms): the client-side resize limits."""
MOBILE_SENT_FACTOR = 28
COMPUTER_SENT_FACTOR = 16
COMPUTER_MAX_LONG_SIDE = 8192
PROCESSOR_FACTOR = 32
PROCESSOR_MIN_PIXELS = 65536
PROCESSOR_MAX_PIXELS = 16777216
"""Qwen3-VL's image processor (patch 16, merge 2; ``size`` 65 536 to 16 777 216): the second resize."""

_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_ACTION_LABEL = re.compile(r"^\s*action\s*:\s*", re.IGNORECASE)
_ARROWS = {"arrowleft": "left", "arrowright": "right", "arrowup": "up", "arrowdown": "down"}
_KEY_PREFIXES = ("keys=[", "['", '["')
_KEY_SUFFIXES = ("]", "']", '"]')
_ENUM = re.compile(r'"enum": \[([^\]]*)\]')
_GROUND_PAREN = re.compile(r"\((\d+),\s*(\d+)\)")
_GROUND_BRACKET = re.compile(r"\[(\d+), (\d+)\]")

_Args = dict[str, Any]
_Builder = Callable[[_Args, str, str, str], list[Action]]


def canvas_size(screen: Size) -> Size:
    """The canvas the authors map 0–1000 onto: the screenshot smart_resized to multiples of 16."""
    height, width = smart_resize(screen.height, screen.width, CANVAS_FACTOR, CANVAS_MIN_PIXELS, CANVAS_MAX_PIXELS)
    return Size(width, height)


def sent_size(
    screen: Size, platform: str, min_pixels: int = SENT_MIN_PIXELS, max_pixels: int = SENT_MAX_PIXELS
) -> Size:
    """The size the authors' ``image_to_base64`` resizes a screenshot to before sending it.

    Phones: factor 28 (``mobile_use/utils.py``); desktops: factor 16 after capping the long side at 8192
    px with ``int`` division (``computer_use/utils.py``'s smart_resize).
    """
    height, width = screen.height, screen.width
    if platform == "computer":
        if max(height, width) > COMPUTER_MAX_LONG_SIDE:
            beta = max(height, width) / COMPUTER_MAX_LONG_SIDE
            height, width = int(height / beta), int(width / beta)
        factor = COMPUTER_SENT_FACTOR
    else:
        factor = MOBILE_SENT_FACTOR
    h_bar, w_bar = smart_resize(height, width, factor, min_pixels, max_pixels)
    return Size(w_bar, h_bar)


@dataclass(frozen=True)
class _CanvasSpace(CoordinateSpace):
    """0–1000 across a canvas whose pixels are device pixels, truncated: ``int(v / 1000 * canvas)``.

    ``extent_x``/``extent_y`` are where the screen's far edges fall in model units (``1000 * W / W16``),
    so a point past them — x = 1000 on a canvas wider than the screen — is a ``CoordinateError``.
    """

    canvas_width: int = 0
    canvas_height: int = 0

    @classmethod
    def on(cls, canvas: Size, screen: Size) -> _CanvasSpace:
        """The space for ``screen`` whose 0–1000 spans ``canvas``."""
        return cls(
            name=f"relative-1000/canvas-{canvas}",
            extent_x=UNITS * screen.width / canvas.width,
            extent_y=UNITS * screen.height / canvas.height,
            integer=True,
            rounding="floor",
            canvas_width=canvas.width,
            canvas_height=canvas.height,
        )

    def to_device(self, x: float, y: float, screen: Size, raw_text: str = "") -> tuple[int, int]:
        out: list[int] = []
        for value, canvas, side, extent, axis in (
            (x, self.canvas_width, screen.width, self.extent_x, "x"),
            (y, self.canvas_height, screen.height, self.extent_y, "y"),
        ):
            pixel = value / UNITS * canvas  # the authors' expression, in their order: same float, same pixel
            if value < 0 or pixel > side:
                raise CoordinateError(
                    f"{axis}={_fmt(value)} is outside the screen: on this screen {axis} runs from 0 to "
                    f"{math.floor(extent)} ({self.describe()})",
                    raw_text,
                    (x, y),
                )
            out.append(min(side - 1, int(pixel)))
        return out[0], out[1]

    def from_device(self, x: float, y: float, screen: Size) -> tuple[float, float]:
        return (
            _nearest_unit(x, self.canvas_width, screen.width),
            _nearest_unit(y, self.canvas_height, screen.height),
        )

    def round_trip_error(self, screen: Size) -> tuple[float, float]:
        """As the base space's, but a canvas shorter than the screen leaves its last pixels out of reach.

        The canvas is the screen rounded to 16 px, sometimes down: on a 2533-px side it is 2528, the
        largest unit the model may write (1001) truncates to pixel 2530, and 2531–2532 cannot be named.
        That is a limit of the authors' format, so the bound includes the unreachable band.
        """
        base_x, base_y = super().round_trip_error(screen)
        return (
            max(base_x, _unreachable(self.canvas_width, screen.width)),
            max(base_y, _unreachable(self.canvas_height, screen.height)),
        )

    def describe(self) -> str:
        return (
            f"relative units, 0 to 1000 across a {self.canvas_width}x{self.canvas_height} canvas, "
            f"truncated to whole pixels"
        )


def _unreachable(canvas: int, side: int) -> float:
    """How many of the last pixels of a side no model unit reaches (0 when the canvas covers the side)."""
    top_unit = math.floor(side * UNITS / canvas)
    while top_unit > 0 and top_unit / UNITS * canvas > side:
        top_unit -= 1
    return float(max(0, side - 1 - min(side - 1, int(top_unit / UNITS * canvas))))


def _nearest_unit(pixel: float, canvas: int, side: int) -> float:
    """The whole model unit whose truncated pixel is closest to ``pixel`` (and still on the screen)."""
    exact = pixel * UNITS / canvas
    base = math.floor(exact)
    best: tuple[float, float, int] | None = None
    for unit in range(max(0, base - 1), base + 3):
        mapped = unit / UNITS * canvas
        if mapped > side:
            continue
        key = (abs(min(side - 1, int(mapped)) - pixel), abs(unit - exact), unit)
        if best is None or key < best:
            best = key
    return float(best[2] if best is not None else 0)


@cache
def _offered_verbs(prompt_file: str) -> tuple[str, ...]:
    """The action names the system prompt offers (its first ``enum``), for error messages."""
    found = _ENUM.search(load_prompt(prompt_file))
    return tuple(re.findall(r'"([^"]+)"', found.group(1))) if found else ()


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _pair(x: float, y: float) -> list[int | float]:
    return [_number(x), _number(y)]


def _point(args: _Args, key: str, raw: str, verb: str) -> tuple[float, float]:
    if args.get(key) is None:
        raise ActionParseError(f'{verb} needs "{key}": [x, y] (0 to 1000)', raw)
    return as_point(args[key], key, raw)


def _optional_point(args: _Args, raw: str) -> dict[str, Any]:
    if args.get("coordinate") is None:
        return {}
    x, y = as_point(args["coordinate"], "coordinate", raw)
    return {"x": x, "y": y}


def _text(args: _Args, raw: str, verb: str, *keys: str) -> str:
    for key in keys or ("text",):
        value = args.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value:
            return value
    raise ActionParseError(f'{verb} needs "{(keys or ("text",))[0]}" as a non-empty string', raw)


def _seconds(args: _Args, raw: str, default: float) -> float:
    return as_number(args["time"], "time", raw) if args.get("time") is not None else default


def _status(args: _Args) -> Any:
    status = args.get("status", "success")
    return status.strip().lower() if isinstance(status, str) else status


def _summary(reply: str) -> str:
    """How the authors write an earlier step in "Previous actions": the reply's Action line."""
    if "Action:" in reply and "<tool_call>" in reply:
        return reply.split("Action:")[1].split("<tool_call>")[0].strip()
    return reply


@dataclass(frozen=True)
class _GUIOwl15Family(ModelFamily):
    """What the phone and desktop variants share: the conversation, the tool-call parser, the spaces."""

    space_kind: ClassVar[str] = "relative-1000"
    factor: ClassVar[int] = PROCESSOR_FACTOR
    default_min_pixels: ClassVar[int] = SENT_MIN_PIXELS
    default_max_pixels: ClassVar[int] = SENT_MAX_PIXELS
    default_history_images: ClassVar[int] = 4
    tool_name: ClassVar[str]
    prompt_file: ClassVar[str]
    example: ClassVar[str]
    single_call: ClassVar[bool]

    # --- sizes and space -------------------------------------------------------------------------------

    def image_plan(self, screen: Size) -> ImagePlan:
        """The authors' client resize, then Qwen3-VL's processor resize: the image the model sees.

        Rounding to 32 can take the area just past ``max_pixels`` (screens of ~10 MP and more); such an
        image is brought back within the family's limits, so a processor held to them keeps it as it is.
        """
        low, high = self.pixel_limits
        sent = sent_size(screen, self.active_platform, low, high)
        height, width = smart_resize(
            sent.height, sent.width, PROCESSOR_FACTOR, PROCESSOR_MIN_PIXELS, PROCESSOR_MAX_PIXELS
        )
        height, width = smart_resize(height, width, PROCESSOR_FACTOR, low, high)
        grow_x, grow_y = width - screen.width, height - screen.height
        padded = (
            self.pad and 0 <= grow_x < PROCESSOR_FACTOR and 0 <= grow_y < PROCESSOR_FACTOR and (grow_x or grow_y) > 0
        )
        return ImagePlan(screen, Size(width, height), padded)

    def space(self, screen: Size) -> CoordinateSpace:
        """0–1000 across the authors' 16-px canvas (or across the padded image, whose pixels are the screen's)."""
        plan = self.image_plan(screen)
        return _CanvasSpace.on(plan.model if plan.padded else canvas_size(screen), screen)

    # --- prompt ----------------------------------------------------------------------------------------

    def system_prompt(self) -> str:
        """The fixed system turn (it states 1000x1000 whatever the screen)."""
        return load_prompt(self.prompt_file)

    def instruction_prefix(self) -> str:
        """Text the authors put before the task (phones: today's date)."""
        return ""

    def instruction_text(self, task: str, previous: str) -> str:
        """The first user turn's text."""
        return (
            "Please generate the next move according to the UI screenshot, instruction and previous actions.\n\n"
            f"Instruction: {self.instruction_prefix()}{task}\n\n"
            f"Previous actions:\n{previous}"
        )

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        steps = [(step.image, reply) for step in history if (reply := self._history_reply(step)) is not None]
        window: list[tuple[ImageSlot, str]] = []
        while steps and (image := steps[-1][0]) is not None:
            window.insert(0, (image, steps.pop()[1]))  # the trailing steps whose screenshots are kept
        lines = [f"Step {i}: {_summary(reply)}" for i, (_, reply) in enumerate(steps, start=1)]
        text = TextPart(self.instruction_text(task, "\n".join(lines) if lines else "None"))
        messages = [Message.text("system", self.system_prompt())]
        last: list[TextPart | ImageSlot] = [self.current_image(screen)]
        for i, (image, reply) in enumerate(window):
            messages.append(Message("user", (text, image) if i == 0 else (image,)))
            messages.append(Message.text("assistant", reply))
        if len(messages) == 1:
            last.insert(0, text)
        if feedback:
            last.append(TextPart(f"\nYour previous reply was not a valid action: {feedback}"))
        messages.append(Message("user", tuple(last)))
        return messages

    def _history_reply(self, step: HistoryStep) -> str | None:
        """The step's reply as the model wrote it; refused replies are left out (the screen did not change)."""
        if step.error is None and step.reply.strip():
            return step.reply
        calls = []
        for action in step.actions:
            try:
                calls.append(self.format_action(action))
            except ValueError:
                continue
        return "\n".join(calls) if calls else None

    # --- parsing ---------------------------------------------------------------------------------------

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        thinking, rest = split_thinking(text)
        space = self.space(screen).name
        calls, head = self._tool_calls(rest, text)
        if self.single_call:
            calls = calls[:1]  # the phone agent runs the first tool call only
        actions: list[Action] = []
        for call in calls:
            actions.extend(self._to_actions(call, text, space, head))
        if not actions:
            raise ActionParseError(f"the tool call holds no action; reply with {self.example}", text)
        thought = "\n\n".join(t for t in (thinking, head) if t) or None
        return ParsedReply(text, tuple(actions), thought)

    def _tool_calls(self, rest: str, raw: str) -> tuple[list[_Args], str]:
        """The tool-call objects and the Action line before them."""
        blocks = _TOOL_CALL.findall(rest)
        head = rest.split("<tool_call>", 1)[0] if blocks else ""
        calls: list[_Args] = []
        truncated = False
        for source in blocks or [rest]:
            body = strip_fences(source)
            found, cut = find_json_objects(body)
            if not found:
                found, cut = find_literal_objects(body)
            truncated = truncated or cut
            calls.extend(obj for obj in found if "name" in obj or "arguments" in obj or "action" in obj)
        if not calls:
            if truncated:
                raise ActionParseError("the tool call JSON is cut off; reply with one complete <tool_call> block", raw)
            raise ActionParseError(f"no tool call found; reply with {self.example}", raw)
        return calls, _ACTION_LABEL.sub("", strip_fences(head).strip()).strip()

    def _to_actions(self, call: _Args, raw: str, space: str, head: str) -> list[Action]:
        name = call.get("name", self.tool_name)
        if name not in ("mobile_use", "computer_use"):
            raise ActionParseError(f"unknown tool {str(name)[:40]!r}; the only tool is {self.tool_name!r}", raw)
        args = call.get("arguments", call if "action" in call else None)
        if isinstance(args, str):
            found, _ = find_json_objects(args)
            args = found[0] if found else None
        if not isinstance(args, dict):
            raise ActionParseError('"arguments" must be a JSON object with an "action" key', raw)
        verb = args.get("action")
        builders = self._builders()
        builder = builders.get(verb.strip().lower()) if isinstance(verb, str) else None
        if builder is None:
            offered = ", ".join(_offered_verbs(self.prompt_file))
            raise ActionParseError(f"unknown action {str(verb)[:40]!r}; use one of {offered}", raw)
        try:
            return builder(args, raw, space, head)
        except ValidationError as exc:
            raise wrap_validation(raw, f"{verb} action", exc) from None

    def _builders(self) -> dict[str, _Builder]:
        raise NotImplementedError

    # --- writing replies -------------------------------------------------------------------------------

    def format_action(self, action: Action, thought: str | None = None) -> str:
        body = f"<tool_call>\n{self.history_text(action)}\n</tool_call>"
        return f"Action: {thought}\n{body}" if thought else body

    def history_text(self, action: Action) -> str:
        """The tool call's JSON, as the model writes it between the ``<tool_call>`` tags."""
        return json.dumps({"name": self.tool_name, "arguments": self._arguments(action)}, ensure_ascii=False)

    def _arguments(self, action: Action) -> dict[str, Any]:
        raise NotImplementedError

    # --- grounding -------------------------------------------------------------------------------------

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """The authors' ScreenSpot prompt: a two-action ``computer_use`` system turn, then image and instruction."""
        return [
            Message.text("system", load_prompt("guiowl15_grounding_system.txt")),
            Message("user", (self.current_image(screen), TextPart(instruction))),
        ]

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """The answer's point, read as the authors' evaluators read it, 0–1000 of the *whole* image.

        The tool call's ``coordinate`` first (ClawGUI's judge), else the last ``(x, y)`` or ``[x, y]`` in the
        text (the authors' evaluator). The device pixel is ``int(v / 1000 * side)`` (ClawGUI's
        ``qwen3vl_parse``); the point returned is the one of this family's space that lands on it.

        Raises:
            ActionParseError: the answer names no point.
        """
        self.check_reply(text)
        _, rest = split_thinking(text)
        point: tuple[float, float] | None = None
        for block in _TOOL_CALL.findall(rest) or [rest]:
            found, _ = find_json_objects(strip_fences(block))
            for obj in found:
                args = obj.get("arguments", obj)
                if isinstance(args, dict) and args.get("coordinate") is not None:
                    point = as_point(args["coordinate"], "coordinate", text)
                    break
            if point is not None:
                break
        if point is None:
            matches = _GROUND_PAREN.findall(rest) or _GROUND_BRACKET.findall(rest)
            if matches:
                point = float(matches[-1][0]), float(matches[-1][1])
        if point is None:
            raise ActionParseError(
                'the answer names no point; reply with <tool_call>{"name": "computer_use", "arguments": '
                '{"action": "left_click", "coordinate": [x, y]}}</tool_call>',
                text,
            )
        space = self.space(screen)
        assert isinstance(space, _CanvasSpace)
        return (
            _image_relative(point[0], screen.width, space.canvas_width),
            _image_relative(point[1], screen.height, space.canvas_height),
        )

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """The grounding answer for a canvas-space point: a computer_use left_click in 0–1000 of the whole image.

        The unit written is the whole number whose pixel under the evaluators' ``int(v / 1000 * side)`` is
        closest to the point's device pixel.
        """
        pixel = self.space(screen).to_device(x, y, screen)
        units: list[int] = []
        for target, side in zip(pixel, (screen.width, screen.height), strict=True):
            base = math.floor(target * UNITS / side)
            candidates = range(max(0, base - 1), min(UNITS, base + 2) + 1)
            units.append(min(candidates, key=lambda v: (abs(min(side - 1, int(v / UNITS * side)) - target), v)))
        call = json.dumps({"name": "computer_use", "arguments": {"action": "left_click", "coordinate": units}})
        return f"<tool_call>\n{call}\n</tool_call>"


def _image_relative(value: float, side: int, canvas: int) -> float:
    """The canvas-space unit that truncates to the pixel ``int(value / 1000 * side)`` (0–1000 of the image)."""
    if not 0 <= value <= UNITS:
        return value * side / canvas  # off the image: stays off the screen, so the mapping refuses it
    pixel = min(side - 1, int(value / UNITS * side))
    return (pixel + 0.5) * UNITS / canvas


@dataclass(frozen=True)
class GUIOwl15Mobile(_GUIOwl15Family):
    """GUI-Owl-1.5 on phones: the ``mobile_use`` tool of Mobile-Agent-v3.5's ``mobile_use`` agent.

    Args:
        today: the date the prompt states ("Today's date is: ..."); ``None`` for the day of rendering.
    """

    name: ClassVar[str] = "gui-owl-1.5-mobile"
    summary: ClassVar[str] = "GUI-Owl-1.5 mobile_use tool calls, 0-1000 on a 16-px canvas (Mobile-Agent-v3.5)"
    default_platform = "mobile"
    tool_name: ClassVar[str] = "mobile_use"
    prompt_file: ClassVar[str] = "guiowl15_mobile_system.txt"
    single_call: ClassVar[bool] = True
    example: ClassVar[str] = (
        'a line "Action: <what to do>", then <tool_call>{"name": "mobile_use", "arguments": {"action": '
        '"click", "coordinate": [x, y]}}</tool_call>'
    )
    source: ClassVar[str] = (
        "X-PLUG/MobileAgent@11cea575561fb7800b5fb6b6cafa56f7a91de11f Mobile-Agent-v3.5/mobile_use/utils.py "
        "(SYSTEM_PROMPT, build_messages, image_to_base64, smart_resize), "
        "Mobile-Agent-v3.5/mobile_use/run_gui_owl_1_5_for_mobile.py (parse_action, rescale_coordinates, main); "
        "grounding: Mobile-Agent-v3.5/grounding_and_kb/eval_grounding_benchmarks.py, cross-checked with "
        "ZJU-REAL/ClawGUI@d990d3e3f2390ced708771d9681d3c4f9a6cbef5 clawgui-eval (guiowl15_inferencer.py, "
        "scripts/infer/transformers/guiowl15_run_transformers.sh, judge/grounding_judge.py)"
    )
    choices: ClassVar[str] = (
        "The authors' sources disagree; this family follows the deployment agent (mobile_use/, HEAD), as the "
        "README's 'Deploy on your mobile device' does. Coordinates: int(v/1000*W16) on the screenshot "
        "smart_resized to multiples of 16 (run_gui_owl_1_5_for_mobile.py); the AndroidWorld agent "
        "(android_world_v3.5/.../gui_owl.py, src_format 'qwen-vl'), OSWorld-MCP's gui_owl_1_5_agent.py and "
        "ClawGUI's phone agent use int(v/999*W) on the raw screenshot instead (at most ~8 px apart on a 1080-px "
        "side). Prompt: mobile_use/utils.py at HEAD, including commit afc7102's 'Be brief: one sentence for "
        "Action.' (gui_owl.py and the cookbooks say 'one for Action.'; OSWorld-MCP says 'one sentence'); its "
        "action list has `interact` (gui_owl.py's has not). History: build_messages' 4 earlier screenshots and "
        "'Step N: ' / 'None' (the cookbooks and gui_owl.py keep 5 images counting the current one — the same "
        "4 — but write 'Step1:' and 'No previous action.' and no date). Image: image_to_base64 resizes with "
        "factor 28 at HEAD (the desktop copy was changed to 16 for issue #265; the phone copy never was), then "
        "Qwen3-VL's processor to 32 (an image that rounding takes past 10 035 200 px, only on screens of ~10 MP, "
        "is floored back within the limits so a processor held to them keeps it); gui_owl.py and the cookbooks "
        "send the raw screenshot. Replies: the first "
        "tool call only (parse_action); earlier replies go back verbatim, refused ones are left out; "
        "long_press lasts 'time' seconds (default 0.8 s, the agent's 800 ms), swipes 0.8 s, wait defaults to "
        "2 s; `key` is sent as a key name, `interact`/`call_user` ask the person. Grounding: the "
        "ScreenSpot prompt (system turn only_two_action_system_prompt, image before instruction), points 0-1000 "
        "of the whole image as both evaluators read them; the image uses this family's plan (the grounding "
        "eval's own limits are 196·32² to 9800·32², the same size for ordinary screens); OSWorld-G's "
        "infeasibility suffix is not added. The 'Thinking' models' <think>/<thinking> block becomes the thought."
    )

    today: _dt.date | None = None

    def instruction_prefix(self) -> str:
        day = self.today or _dt.date.today()
        weekdays = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        return f"Today's date is: {day:%Y-%m-%d} {weekdays[day.weekday()]}."

    def _builders(self) -> dict[str, _Builder]:
        def click(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "click")
            return [Click(x=x, y=y, space=s)]

        def long_press(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "long_press")
            return [LongPress(x=x, y=y, duration=_seconds(a, raw, 0.8), space=s)]

        def swipe(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "swipe")
            x2, y2 = _point(a, "coordinate2", raw, "swipe")
            return [Swipe(x=x, y=y, x2=x2, y2=y2, duration=0.8, space=s)]

        def system_button(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            button = _text(a, raw, "system_button", "button")
            return [SystemButton.model_validate({"button": button, "space": s})]

        def answer(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            text = a.get("text")
            if not isinstance(text, str) or not text.strip():
                text = head  # the agent shows the text before the tool call as the answer
            if not text:
                raise ActionParseError('answer needs "text": the answer to the question', raw)
            return [Answer(text=text, space=s)]

        def call_user(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            text = a.get("text")
            return [CallUser(message=text if isinstance(text, str) else "", space=s)]

        return {
            "click": click,
            "tap": click,
            "long_press": long_press,
            "swipe": swipe,
            "scroll": swipe,
            "type": lambda a, raw, s, h: [Type(text=_text(a, raw, "type"), space=s)],
            "key": lambda a, raw, s, h: [Key(keys=[_text(a, raw, "key")], space=s)],
            "system_button": system_button,
            "open": lambda a, raw, s, h: [OpenApp(name=_text(a, raw, "open", "text", "app_name"), space=s)],
            "open_app": lambda a, raw, s, h: [OpenApp(name=_text(a, raw, "open", "text", "app_name"), space=s)],
            "wait": lambda a, raw, s, h: [Wait(seconds=_seconds(a, raw, 2.0), space=s)],
            "answer": answer,
            "interact": call_user,
            "call_user": call_user,
            "calluser": call_user,
            "terminate": lambda a, raw, s, h: [Terminate(status=_status(a), space=s)],
        }

    def _arguments(self, action: Action) -> dict[str, Any]:
        if isinstance(action, Click) and action.x is not None and action.y is not None:
            return {"action": "click", "coordinate": _pair(action.x, action.y)}
        if isinstance(action, LongPress):
            return {"action": "long_press", "coordinate": _pair(action.x, action.y), "time": _number(action.duration)}
        if isinstance(action, Swipe):
            return {
                "action": "swipe",
                "coordinate": _pair(action.x, action.y),
                "coordinate2": _pair(action.x2, action.y2),
            }
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Key) and len(action.keys) == 1:
            return {"action": "key", "text": action.keys[0]}
        if isinstance(action, SystemButton) and action.button != "recents":
            return {"action": "system_button", "button": action.button.capitalize()}
        if isinstance(action, OpenApp):
            return {"action": "open", "text": action.name}
        if isinstance(action, Wait):
            return {"action": "wait", "time": _number(action.seconds)}
        if isinstance(action, Answer):
            return {"action": "answer", "text": action.text}
        if isinstance(action, CallUser):
            return {"action": "interact", "text": action.message}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        raise ValueError(f"mobile_use cannot express {action.type}")


@dataclass(frozen=True)
class GUIOwl15Computer(_GUIOwl15Family):
    """GUI-Owl-1.5 on desktops: the ``computer_use`` tool of Mobile-Agent-v3.5's ``computer_use`` agent."""

    name: ClassVar[str] = "gui-owl-1.5-computer"
    summary: ClassVar[str] = "GUI-Owl-1.5 computer_use tool calls, 0-1000 on a 16-px canvas (Mobile-Agent-v3.5)"
    default_platform = "computer"
    tool_name: ClassVar[str] = "computer_use"
    prompt_file: ClassVar[str] = "guiowl15_computer_system.txt"
    single_call: ClassVar[bool] = False
    example: ClassVar[str] = (
        'a line "Action: <what to do>", then <tool_call>{"name": "computer_use", "arguments": {"action": '
        '"left_click", "coordinate": [x, y]}}</tool_call>'
    )
    source: ClassVar[str] = (
        "X-PLUG/MobileAgent@11cea575561fb7800b5fb6b6cafa56f7a91de11f Mobile-Agent-v3.5/computer_use/utils.py "
        "(SYSTEM_PROMPT, build_messages, image_to_base64, smart_resize, extract_tool_calls), "
        "Mobile-Agent-v3.5/computer_use/run_gui_owl_1_5_for_pc.py (rescale_coordinates, execute_action, main); "
        "grounding: Mobile-Agent-v3.5/grounding_and_kb/eval_grounding_benchmarks.py, cross-checked with "
        "ZJU-REAL/ClawGUI@d990d3e3f2390ced708771d9681d3c4f9a6cbef5 clawgui-eval"
    )
    choices: ClassVar[str] = (
        "Follows the deployment agent (computer_use/, HEAD). Coordinates: int(v/1000*W16) on the screenshot "
        "smart_resized to multiples of 16 (run_gui_owl_1_5_for_pc.py); OSWorld-MCP's gui_owl_1_5_agent.py "
        "uses int(v/999*W) on the raw screenshot. One deviation: computer_use/utils.py's smart_resize first "
        "caps the long side at 8192 px, which on wider screens (three 4K monitors) shrinks the canvas and "
        "lands every click far left and up of its target; the canvas here is not capped (the image sent still "
        "is). Image: image_to_base64 with factor 16 (changed from 28 for issue #265), 3136 to 10 035 200 px, "
        "then Qwen3-VL's processor to multiples of 32 (OSWorld-MCP sends factor 32 up to 13 107 200 px). "
        "History: build_messages' 4 earlier screenshots, 'Step N: ' / 'None', no date. Prompt: "
        "computer_use/utils.py's SYSTEM_PROMPT ('Be brief: one for Action.'). Replies: every tool call runs, in "
        "order (the agent runs them all). The prompt offers left_click_drag but the agent runs 'drag': both "
        "parse (a drag from the pointer to 'coordinate'; 'coordinate1'/'coordinate2' give both ends, which "
        "rescale_coordinates maps too); hscroll, which the prompt offers and the agent cannot run, is a "
        "horizontal scroll (positive right). scroll's 'pixels' are wheel notches (pyautogui.scroll), "
        "positive up, 1 when missing, as the agent does; interact/call_user ask the person; 'open app' "
        "(app_name) opens an app. A drag with its own start point cannot be written in one reply. Grounding "
        "as in gui-owl-1.5-mobile."
    )

    def _builders(self) -> dict[str, _Builder]:
        def clicker(kind: type[Click | DoubleClick | TripleClick | RightClick | MiddleClick]) -> _Builder:
            return lambda a, raw, s, h: [kind(space=s, **_optional_point(a, raw))]

        def mouse_move(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            x, y = _point(a, "coordinate", raw, "mouse_move")
            return [Move(x=x, y=y, space=s)]

        def drag(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            if a.get("coordinate1") is not None and a.get("coordinate2") is not None:
                x, y = _point(a, "coordinate1", raw, "left_click_drag")
                x2, y2 = _point(a, "coordinate2", raw, "left_click_drag")
                return [Drag(x=x, y=y, x2=x2, y2=y2, space=s)]
            x2, y2 = _point(a, "coordinate", raw, "left_click_drag")
            return [Drag(x2=x2, y2=y2, space=s)]

        def scroller(axis: Literal["vertical", "horizontal"]) -> _Builder:
            def build(a: _Args, raw: str, s: str, head: str) -> list[Action]:
                amount = as_number(a["pixels"], "pixels", raw) if a.get("pixels") is not None else 1.0
                if amount == 0:
                    raise ActionParseError('scroll "pixels" must not be 0 (positive scrolls up, negative down)', raw)
                if axis == "vertical":
                    direction: Literal["up", "down", "left", "right"] = "up" if amount > 0 else "down"
                else:
                    direction = "right" if amount > 0 else "left"
                notches = max(1, round(abs(amount)))
                return [Scroll(direction=direction, amount=notches, space=s, **_optional_point(a, raw))]

            return build

        def key(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            keys = a.get("keys", a.get("key", a.get("text")))
            if isinstance(keys, str):
                keys = [k for k in keys.split("+") if k.strip()] or [keys]
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise ActionParseError('key needs "keys": a list of key names, e.g. ["ctrl", "c"]', raw)
            return [Key(keys=[_clean_key(k) for k in keys], space=s)]

        def answer(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            return [Answer(text=_text(a, raw, "answer"), space=s)]

        def call_user(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            text = a.get("text")
            return [CallUser(message=text if isinstance(text, str) else "", space=s)]

        def terminate(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            return [Terminate(status=_status(a), space=s)]

        def open_app(a: _Args, raw: str, s: str, head: str) -> list[Action]:
            return [OpenApp(name=_text(a, raw, "open app", "app_name", "text"), space=s)]

        return {
            "key": key,
            "hotkey": key,
            "type": lambda a, raw, s, h: [Type(text=_text(a, raw, "type"), space=s)],
            "mouse_move": mouse_move,
            "left_click": clicker(Click),
            "click": clicker(Click),
            "left_click_drag": drag,
            "drag": drag,
            "right_click": clicker(RightClick),
            "right click": clicker(RightClick),
            "middle_click": clicker(MiddleClick),
            "double_click": clicker(DoubleClick),
            "computer_double_click": clicker(DoubleClick),
            "triple_click": clicker(TripleClick),
            "scroll": scroller("vertical"),
            "hscroll": scroller("horizontal"),
            "wait": lambda a, raw, s, h: [Wait(seconds=_seconds(a, raw, 2.0), space=s)],
            "terminate": terminate,
            "stop": terminate,
            "done": terminate,
            "answer": answer,
            "interact": call_user,
            "call_user": call_user,
            "open app": open_app,
            "open_app": open_app,
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
            signed = action.amount if action.direction in ("up", "right") else -action.amount
            args = {"action": "scroll" if action.direction in ("up", "down") else "hscroll", "pixels": signed}
            if action.x is not None and action.y is not None:
                args["coordinate"] = _pair(action.x, action.y)
            return args
        if isinstance(action, Key):
            return {"action": "key", "keys": list(action.keys)}
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Wait):
            return {"action": "wait", "time": _number(action.seconds)}
        if isinstance(action, Answer):
            return {"action": "answer", "text": action.text}
        if isinstance(action, CallUser):
            return {"action": "interact", "text": action.message}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        raise ValueError(f"computer_use cannot express {action.type}")


def _clean_key(key: str) -> str:
    """The agent's key clean-up: wrapper debris (``keys=[``, ``['``) removed, arrow names shortened."""
    key = key.strip()
    for prefix in _KEY_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    for suffix in _KEY_SUFFIXES:
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    key = key.strip()
    return _ARROWS.get(key.lower(), key)
