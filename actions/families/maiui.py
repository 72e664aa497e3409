"""MAI-UI (Tongyi-MAI, on Qwen3-VL): ``<thinking>`` then one ``mobile_use`` call in ``<tool_call>`` JSON.

Coordinates are integers 0–999 across the image (``SCALE_FACTOR = 999``), mapped onto the screenshot as
``int(c / 999 * width)`` — truncated, as MobileWorld's executor does. The conversation is the authors'
``MAIUINaivigationAgent._build_messages``: a system turn, the task as its own user turn, then for every
earlier step its screenshot (the last ``history_n - 1 = 2`` only) as a user turn and the step's reply rebuilt
as ``<thinking>\\n…\\n</thinking>\\n<tool_call>\\n{compact JSON}\\n</tool_call>``, and the current screenshot
as the last user turn. Images are Qwen3-VL's: ``smart_resize`` to multiples of 32.

Two prompts, two families: ``mai-ui`` is the navigation agent's default ``MAI_MOBILE_SYS_PROMPT``;
``mai-ui-ask-user`` is ``MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP`` rendered without MCP tools (as MobileWorld's
MAI-UI agent sends it), which adds ``ask_user`` and ``double_click``. Both parsers read every verb.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from ..errors import ActionParseError
from ..geometry import CoordinateSpace, Rounding, Size
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
    OpenApp,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from ._text import as_number, as_point, find_json_objects, find_literal_objects, strip_fences
from ._thinking import split_thinking
from .base import HistoryStep, ModelFamily, ParsedReply, load_prompt, wrap_validation

__all__ = ["MaiUI", "MaiUIAskUser"]

SCALE_FACTOR = 999
"""MAI-UI's coordinate divisor (``src/mai_naivigation_agent.py``)."""
GROUNDING_SCALE = 1000
"""The divisor of MAI-UI's grounding answers in the authors' grounding evaluation."""
QWEN3VL_FACTOR = 32
PROCESSOR_MIN_PIXELS = 65536
PROCESSOR_MAX_PIXELS = 16777216
TOOL_NAME = "mobile_use"
SWIPE_SECONDS = 0.4
DRAG_SECONDS = 0.4

_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)
_GROUNDING_THINK = re.compile(r"<grounding_think>.*?(?:</grounding_think>|$)", re.DOTALL)
_PAIR = re.compile(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]")
_POINT_KEYS = ("coordinate", "start_coordinate", "end_coordinate")
_EXAMPLE = '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [x, y]}}</tool_call>'
_VERBS = "click long_press double_click type swipe open drag system_button wait terminate answer ask_user".split()
_FINGER_FOR_SCROLL = {"up": "down", "down": "up", "left": "right", "right": "left"}
"""MAI-UI's swipe names the finger's way; ``Scroll`` names the content's (``down`` shows what is below)."""

SOURCE = (
    "Tongyi-MAI/MAI-UI @ 4dd07b9e910a294f001452e888514d912b96cc41: src/prompt.py (MAI_MOBILE_SYS_PROMPT, "
    "MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP, MAI_MOBILE_SYS_PROMPT_GROUNDING), src/mai_naivigation_agent.py "
    "(SCALE_FACTOR, parse_tagged_text, parse_action_to_structure_output, _prepare_images, _build_messages, "
    "mem2response, history_n=3), src/mai_grounding_agent.py, evaluation/grounding/eval_server.py and "
    "models/MAI_UI.py (grounding prompt, divisor, image order, pixel bounds), tests/output_messages/*.json; "
    "Tongyi-MAI/MobileWorld src/mobile_world/agents/implementations/mai_ui_agent.py, "
    "agents/utils/action_translation.py and helpers.py (reverse_swipe_direction) @ d42de47, "
    "core/server.py /step @ b23d1a8, runtime/controller.py AndroidController.swipe (executor); "
    "ZJU-REAL/ClawGUI clawgui-eval (inference/maiui_inferencer.py, judge/grounding_judge.py maiui_parse, "
    "scripts/infer/*/maiui_run_*.sh) as cross-check"
)

CHOICES = """\
Prompt: `mai-ui` sends MAI_MOBILE_SYS_PROMPT, the navigation agent's prompt when no MCP tools are configured
(its app list is AndroidWorld's, kept verbatim: the model was trained on it). `mai-ui-ask-user` sends
MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP rendered with no tools, as MobileWorld's MAI-UI agent does (MAI-UI's own
agent renders that template only with tools); it adds ask_user and double_click and lists MobileWorld's apps.
MCP tool calls are refused: a <tool_call> whose name is not mobile_use raises ActionParseError naming the
tool, because guiagent has no MCP action to run (the template is never rendered with tools).
History: MAI-UI's _build_messages (image turn, then the rebuilt reply as an assistant turn), not MobileWorld's
(raw reply text, and the ask_user answer in place of the next screenshot). The rebuilt reply reproduces
mem2response: thinking stripped of spaces and quotes, compact ASCII-escaped JSON, `coordinate` passed through
int(c / 999 * 999) (63, 126, 252, 504 and 509 come back one lower, as theirs do), a box written as its
centre. One deliberate difference: mem2response leaves drag's start/end_coordinate as the 0–1 fractions its
parser produced (a one-sided leftover of commit 76fc7ca); here they are written back in 0–999 like
`coordinate`. Refused replies are left out of the history (their agent never records them); `feedback`
(a refusal reason or the person's answer to ask_user) is a user text turn right before the current
screenshot, where their agent puts ask_user_response.
Images: their agent sends the raw screenshot and the Qwen3-VL processor resizes it (factor 32); the bounds
are the processor's, 65536..16777216 pixels, as ClawGUI-Eval pins them for MAI-UI (the agent's runtime_conf
mentions max_pixels but never uses it). Two earlier screenshots by default (history_n = 3 with the current).
Mapping: device = int(c / 999 * width), truncated like MobileWorld's _denorm_xy (guiagent rounds elsewhere);
the far edge 999 is the last pixel. Rendering a device point into this space takes its pixel centre.
Swipe: the model's direction is the finger's. MobileWorld turns `up` into SCROLL `down`
(reverse_swipe_direction) and its server turns SCROLL `down` back into a finger swipe `up`, which
AndroidController.swipe performs from the screen centre: up/down by 4*int(width/10) px, left/right by
2*int(width/10) px, 400 ms. The parser builds that Swipe, endpoints placed so they map to exactly those
pixels. The optional coordinate is the start (the prompt says it picks the element to swipe; MobileWorld's
server drops it for SCROLL); an end beyond the screen edge stops at the edge. A Scroll is written as the
swipe the other way; a Swipe with free endpoints is written as MAI-UI's drag.
Grounding: evaluation/grounding/eval_server.py, the script that measured the published numbers (newer
than src/mai_grounding_agent.py): its system prompt (the src prompt plus "\\n## Input instruction\\n"),
the instruction + "\\n" before the image, answers divided by 1000 (the src grounding agent divides by 999;
ClawGUI-Eval also uses 1000). The image is the agent's; the eval capped grounding at 6553600 pixels, which
changes nothing up to 6.5 MP screens (pass max_pixels=6553600 to match it on larger ones).
Parsing is more lenient than theirs: no <thinking> block is needed, </think> alone closes one, JSON with \\'
escapes (the prompt asks for them) is read, several <tool_call> blocks are refused rather than the first
taken. terminate "fail" is Terminate(failure); wait is 1 s and long_press 1 s (MobileWorld's executor)."""


def _int(value: float) -> int:
    return int(round(value))


def _pair(x: float, y: float) -> list[int]:
    return [_int(x), _int(y)]


def _load_call(source: str) -> dict[str, Any] | None:
    """The one JSON object of a ``<tool_call>`` body (also with the ``\\'`` escapes the prompt asks for)."""
    body = strip_fences(source).strip().strip('"')
    for candidate in (body, body.replace("\\'", "'")):
        found, _ = find_json_objects(candidate)
        if found:
            return found[0]
    found_literal, _ = find_literal_objects(body)
    return found_literal[0] if found_literal else None


@dataclass(frozen=True)
class _MaiUIFamily(ModelFamily):
    """Shared logic of the two MAI-UI prompts."""

    space_kind: ClassVar[str] = "relative-999"
    rounding: ClassVar[Rounding] = "floor"  # MAI-UI / MobileWorld executor: int(c / 999 * width)
    factor: ClassVar[int] = QWEN3VL_FACTOR
    default_min_pixels: ClassVar[int] = PROCESSOR_MIN_PIXELS
    default_max_pixels: ClassVar[int] = PROCESSOR_MAX_PIXELS
    default_platform = "mobile"
    default_history_images: ClassVar[int] = 2
    prompt_file: ClassVar[str]
    source: ClassVar[str] = SOURCE
    choices: ClassVar[str] = CHOICES

    # -- prompt ----------------------------------------------------------------------------------------

    def system_prompt(self) -> str:
        """The system turn (exact bytes of the authors' prompt)."""
        return load_prompt(self.prompt_file)

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        messages = [Message.text("system", self.system_prompt()), Message.text("user", task)]
        for step in history:
            reply = self._history_reply(step)
            if reply is None:
                continue  # a refused reply: their agent never records one
            if step.image is not None:
                messages.append(Message("user", (step.image,)))
            messages.append(Message.text("assistant", reply))
        if feedback:
            messages.append(Message.text("user", feedback))
        messages.append(Message("user", (self.current_image(screen),)))
        return messages

    def _history_reply(self, step: HistoryStep) -> str | None:
        """``mem2response``: the step's thinking and arguments, rebuilt as their agent rebuilds them."""
        if step.error is not None:
            return None
        thinking, arguments = "", None
        if step.reply.strip():
            try:
                thought, call = self._split(step.reply)
                arguments = self._arguments_of(call, step.reply) if call is not None else None
                thinking = (thought or "").strip().strip('"')
            except ActionParseError:
                arguments = None
        if arguments is None:
            for action in step.actions:
                try:
                    arguments = self._arguments(action)
                    break
                except ValueError:
                    continue
        if arguments is None:
            return None
        return f"<thinking>\n{thinking}\n</thinking>\n<tool_call>\n{self._history_json(arguments)}\n</tool_call>"

    @staticmethod
    def _history_json(arguments: dict[str, Any]) -> str:
        args = dict(arguments)
        for key in _POINT_KEYS:
            value = args.get(key)
            if isinstance(value, list) and len(value) in (2, 4):
                try:
                    x, y = as_point(value, key, "")
                except ActionParseError:
                    continue
                # their parser divides by 999, mem2response multiplies back and truncates
                args[key] = [int(x / SCALE_FACTOR * SCALE_FACTOR), int(y / SCALE_FACTOR * SCALE_FACTOR)]
        return json.dumps({"name": TOOL_NAME, "arguments": args}, separators=(",", ":"))

    def history_text(self, action: Action) -> str:
        return self._history_json(self._arguments(action))

    # -- parsing ---------------------------------------------------------------------------------------

    def _split(self, text: str) -> tuple[str | None, dict[str, Any] | None]:
        """``(thought, tool call)``; ``None`` for the call when the reply holds no ``<tool_call>`` JSON."""
        thought, rest = split_thinking(text)
        blocks = _TOOL_CALL.findall(rest)
        head = rest.split("<tool_call>", 1)[0]
        if len(blocks) > 1:
            raise ActionParseError(f"the reply holds {len(blocks)} tool calls; reply with exactly one {_EXAMPLE}", text)
        source = blocks[0] if blocks else rest
        call = _load_call(source)
        if call is None:
            _, truncated = find_json_objects(strip_fences(source))
            if truncated or (blocks and "</tool_call>" not in rest):
                raise ActionParseError(
                    "the tool call JSON is cut off; reply with one complete <tool_call> JSON object", text
                )
            return thought, None
        if blocks:
            extra = strip_fences(head).strip()
            if extra.lower().startswith("thought:"):
                extra = extra[len("thought:") :].strip()
            if extra:
                thought = f"{thought}\n\n{extra}" if thought else extra
        return thought, call

    def _arguments_of(self, call: dict[str, Any], raw: str) -> dict[str, Any]:
        name = call.get("name", TOOL_NAME)
        if name != TOOL_NAME and ("arguments" in call or "name" in call):
            raise ActionParseError(
                f"the reply calls the MCP tool {name!r}, which this agent does not provide; use a mobile_use action "
                f"such as {_EXAMPLE}",
                raw,
            )
        args = call.get("arguments", call if "action" in call else None)
        if isinstance(args, str):
            args = _load_call(args)
        if not isinstance(args, dict):
            raise ActionParseError('"arguments" must be a JSON object with an "action" key', raw)
        return args

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        thought, call = self._split(text)
        if call is None:
            raise ActionParseError(f"no tool call found; reply with <thinking>...</thinking> then {_EXAMPLE}", text)
        args = self._arguments_of(call, text)
        verb = args.get("action")
        try:
            action = self._build(verb, args, text, screen)
        except ValidationError as exc:
            raise wrap_validation(text, f"{verb} action", exc) from None
        return ParsedReply(text, (action,), thought)

    def _build(self, verb: Any, a: dict[str, Any], raw: str, screen: Size) -> Action:
        space = self.space(screen)
        s = space.name
        if verb in ("click", "long_press", "double_click"):
            x, y = self._point(a, "coordinate", raw, verb)
            if verb == "click":
                return Click(x=x, y=y, space=s)
            if verb == "double_click":
                return DoubleClick(x=x, y=y, space=s)
            return LongPress(x=x, y=y, duration=1.0, space=s)
        if verb == "swipe":
            return self._swipe(a, raw, screen, space)
        if verb == "drag":
            x, y = self._point(a, "start_coordinate", raw, verb)
            x2, y2 = self._point(a, "end_coordinate", raw, verb)
            return Drag(x=x, y=y, x2=x2, y2=y2, duration=DRAG_SECONDS, space=s)
        if verb == "type":
            return Type(text=self._text(a, raw, verb), space=s)
        if verb == "open":
            return OpenApp(name=self._text(a, raw, verb), space=s)
        if verb == "system_button":
            button = a.get("button")
            if not isinstance(button, str) or button.strip().lower() not in ("back", "home", "menu", "enter"):
                raise ActionParseError(f'system_button needs "button": back, home, menu or enter; got {button!r}', raw)
            return SystemButton.model_validate({"button": button, "space": s})
        if verb == "wait":
            seconds = as_number(a["time"], "time", raw) if a.get("time") is not None else 1.0
            return Wait(seconds=seconds, space=s)
        if verb == "terminate":
            status = str(a.get("status", "success")).strip().lower()
            if status not in ("success", "fail", "failure", "failed"):
                raise ActionParseError(f'terminate needs "status": "success" or "fail"; got {a.get("status")!r}', raw)
            return Terminate(status="success" if status == "success" else "failure", space=s)
        if verb == "answer":
            text = a.get("text")
            if not isinstance(text, str):
                raise ActionParseError('answer needs "text": the answer as a string', raw)
            return Answer(text=text, space=s)
        if verb == "ask_user":
            text = a.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ActionParseError('ask_user needs "text": the question for the user', raw)
            return CallUser(message=text, space=s)
        raise ActionParseError(f"unknown action {verb!r}; use one of {', '.join(_VERBS)}", raw)

    @staticmethod
    def _point(a: dict[str, Any], key: str, raw: str, verb: str) -> tuple[float, float]:
        if a.get(key) is None:
            raise ActionParseError(f'{verb} needs "{key}": [x, y] in 0-999', raw)
        return as_point(a[key], key, raw)

    @staticmethod
    def _text(a: dict[str, Any], raw: str, verb: str) -> str:
        value = a.get("text")
        if not isinstance(value, str) or not value:
            raise ActionParseError(f'{verb} needs "text" as a non-empty string', raw)
        return value

    def _swipe(self, a: dict[str, Any], raw: str, screen: Size, space: CoordinateSpace) -> Swipe:
        """MobileWorld's swipe gesture, endpoints in this space so they map to exactly its pixels."""
        direction = a.get("direction")
        if not isinstance(direction, str) or direction.strip().lower() not in _FINGER_FOR_SCROLL:
            raise ActionParseError(f'swipe needs "direction": up, down, left or right; got {direction!r}', raw)
        direction = direction.strip().lower()
        width, height = screen.width, screen.height
        if a.get("coordinate") is not None:
            mx, my = as_point(a["coordinate"], "coordinate", raw)
            sx, sy = space.to_device(mx, my, screen, raw)
        else:
            sx, sy = width // 2, height // 2
            mx, my = self._centre_of(sx, sy, screen, space)
        unit = int(width / 10) * 2
        dx, dy = {"up": (0, -2 * unit), "down": (0, 2 * unit), "left": (-unit, 0), "right": (unit, 0)}[direction]
        ex = min(width - 1, max(0, sx + dx))
        ey = min(height - 1, max(0, sy + dy))
        mx2, my2 = self._centre_of(ex, ey, screen, space)
        return Swipe(x=mx, y=my, x2=mx2, y2=my2, duration=SWIPE_SECONDS, space=space.name)

    @staticmethod
    def _centre_of(x: int, y: int, screen: Size, space: CoordinateSpace) -> tuple[float, float]:
        return (x + 0.5) / screen.width * space.extent_x, (y + 0.5) / screen.height * space.extent_y

    # -- writing ---------------------------------------------------------------------------------------

    def format_action(self, action: Action, thought: str | None = None) -> str:
        call = json.dumps({"name": TOOL_NAME, "arguments": self._arguments(action)}, ensure_ascii=False)
        return f"<thinking>\n{thought or ''}\n</thinking>\n<tool_call>\n{call}\n</tool_call>"

    def _arguments(self, action: Action) -> dict[str, Any]:
        if isinstance(action, (Click, DoubleClick)) and action.x is not None and action.y is not None:
            return {"action": action.type, "coordinate": _pair(action.x, action.y)}
        if isinstance(action, LongPress):
            return {"action": "long_press", "coordinate": _pair(action.x, action.y)}
        if isinstance(action, (Swipe, Drag)) and action.x is not None and action.y is not None:
            return {
                "action": "drag",
                "start_coordinate": _pair(action.x, action.y),
                "end_coordinate": _pair(action.x2, action.y2),
            }
        if isinstance(action, Scroll):
            args: dict[str, Any] = {"action": "swipe", "direction": _FINGER_FOR_SCROLL[action.direction]}
            if action.x is not None and action.y is not None:
                args["coordinate"] = _pair(action.x, action.y)
            return args
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, OpenApp):
            return {"action": "open", "text": action.name}
        if isinstance(action, SystemButton) and action.button != "recents":
            return {"action": "system_button", "button": action.button}
        if isinstance(action, Key) and [k.lower() for k in action.keys] == ["enter"]:
            return {"action": "system_button", "button": "enter"}
        if isinstance(action, Wait):
            return {"action": "wait"}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": "success" if action.status == "success" else "fail"}
        if isinstance(action, Answer):
            return {"action": "answer", "text": action.text}
        if isinstance(action, CallUser):
            return {"action": "ask_user", "text": action.message}
        raise ValueError(f"MAI-UI's mobile_use cannot express {action.type}")

    # -- grounding -------------------------------------------------------------------------------------

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """The authors' grounding evaluation: their system prompt, then the instruction and the image."""
        content: tuple[TextPart | ImageSlot, ...] = (TextPart(instruction + "\n"), self.current_image(screen))
        return [Message.text("system", load_prompt("maiui_grounding.txt")), Message("user", content)]

    def _agent_point(self, text: str, screen: Size) -> tuple[float, float] | None:
        try:
            reply = self.parse(text, screen)
        except ActionParseError:
            return None
        for action in reply.actions:
            for _, _, x, y in action.points():
                return float(x), float(y)
        return None

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """``<answer>{"coordinate": [x, y]}</answer>`` in 0–1000, returned in this family's 0–999 space.

        Like the authors' evaluation, a malformed answer still counts when a ``[x,y]`` pair can be read from
        it (their ``parse_coordinates`` takes the first in the reply); a reply in the agent's tool-call
        format is read as the agent would read it.
        """
        self.check_reply(text)
        rest = _GROUNDING_THINK.sub("\n", text)
        answers = _ANSWER.findall(rest)
        if not answers and "<grounding_think>" in text and "</grounding_think>" not in text:
            raise ActionParseError(
                "the reply was cut off inside <grounding_think>; raise max_new_tokens so the model can answer", text
            )
        if not answers:
            agent_point = self._agent_point(text, screen)
            if agent_point is not None:
                return agent_point  # already in 0-999
        point: tuple[float, float] | None = None
        obj = _load_call(answers[0]) if answers else None
        if obj is not None and obj.get("coordinate") is not None:
            point = as_point(obj["coordinate"], "coordinate", text)
        else:
            match = _PAIR.search(answers[0] if answers else rest)
            point = (float(match.group(1)), float(match.group(2))) if match else None
        if point is None:
            raise ActionParseError('the answer names no point; reply with <answer>{"coordinate": [x,y]}</answer>', text)
        scale = SCALE_FACTOR / GROUNDING_SCALE
        return point[0] * scale, point[1] * scale

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """The grounding prompt's answer: reasoning, then ``{"coordinate": [x,y]}`` in 0-1000 (whole numbers)."""
        scale = GROUNDING_SCALE / SCALE_FACTOR
        gx, gy = round(x * scale), round(y * scale)
        return (
            "<grounding_think>The element the instruction describes is here.</grounding_think>\n"
            f'<answer>\n{{"coordinate": [{gx},{gy}]}}\n</answer>'
        )


@dataclass(frozen=True)
class MaiUI(_MaiUIFamily):
    """MAI-UI with its navigation agent's default prompt (no ask_user, no MCP tools)."""

    name: ClassVar[str] = "mai-ui"
    summary: ClassVar[str] = "MAI-UI <thinking> + mobile_use tool call, 0-999 (navigation agent default prompt)"
    prompt_file: ClassVar[str] = "maiui_mobile.txt"


@dataclass(frozen=True)
class MaiUIAskUser(_MaiUIFamily):
    """MAI-UI with its ask_user prompt (MobileWorld's), which adds ask_user and double_click."""

    name: ClassVar[str] = "mai-ui-ask-user"
    summary: ClassVar[str] = "MAI-UI with ask_user and double_click (ASK_USER_MCP prompt without MCP tools)"
    prompt_file: ClassVar[str] = "maiui_mobile_ask_user.txt"
