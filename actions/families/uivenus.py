"""UI-Venus-1.5 (inclusionAI, on Qwen3-VL): ``<think>…</think><action>Click(box=(x,y))</action><conclusion>…``.

Phone (the default): the prompt of the 1.5 agent framework, ``Venus_framework/processor/uivenus_processor.py``
``USER_PROMPT`` (Chinese), sent as one user turn, prompt text first and the screenshot after it, with no
system turn (``policy/ui_venus_policy.py``). History is text only: every earlier step as
``Step i: <think>…</think><action>…</action>`` (or the bare action when the step had no thought), counted
from 0, one per line (``processor/uivenus_processor.py``, ``app/run_handler.py``).

Desktop/web (``platform="computer"``): the framework has no desktop prompt; this is ``WEB_USER_PROMPT`` of
``models/navigation/utils.py`` with that script's layout: a ``You are a helpful assistant.`` system turn, then
prompt and screenshot, and the last five steps as ``Step i: <think>…</think><action>…</action>`` numbered from
0 (``models/navigation/ui_venus_navi_agent.py``, ``HISTORY_LENGTH=5`` in ``scripts/run_navi.sh``).

Coordinates: integers from 0 to 1000 across the screenshot; the framework maps ``int(x * width / 1000)``
(truncation, not rounding) onto the raw screenshot, and so does this family. Qwen3-VL sees images in
multiples of 32 (patch 16 × merge 2).

Grounding: ``models/grounding/ui_venus1_5_gd.py``: image first, then "Output the center point …", with the
``[-1,-1]`` refusal clause; the answer is ``[x,y]`` (also ``[x1,y1,x2,y2]`` or ``[x1,y1],[x2,y2]``: the centre).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pydantic import ValidationError

from ..errors import ActionParseError
from ..geometry import Rounding, Size
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
    Move,
    OpenApp,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from ._text import parse_call, point_in_text, strip_fences
from ._thinking import split_thinking
from .base import HistoryStep, ModelFamily, ParsedReply, Platform, load_prompt, wrap_validation

__all__ = ["UIVenus15"]

SYSTEM_TEXT = "You are a helpful assistant."
VENUS_MIN_PIXELS = 3136
VENUS_MAX_PIXELS = 12845056
WEB_HISTORY_STEPS = 5
EXAMPLE = "<think>...</think>\n<action>Click(box=(x,y))</action>\n<conclusion>...</conclusion>"
EXAMPLE_LINE = EXAMPLE.replace("\n", " ")

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_ACTION = re.compile(r"<action>(.*?)</action>", re.DOTALL)
_ACTION_OPEN = re.compile(r"<action>", re.IGNORECASE)
_ACTION_BLOCK = re.compile(r"<action>(.*?)</action>", re.DOTALL | re.IGNORECASE)
_CONCLUSION = re.compile(r"<conclusion>.*?(?:</conclusion>|$)", re.DOTALL | re.IGNORECASE)
_BARE_CALL = re.compile(r"^[A-Za-z_]\w*\s*\(.*\)$", re.DOTALL)
_GROUND_BOX = re.compile(r"\[\s*-?\d+\s*,\s*-?\d+\s*,\s*-?\d+\s*,\s*-?\d+\s*\]")
_GROUND_POINT = re.compile(r"\[\s*-?\d+\s*,\s*-?\d+\s*\]")
_GROUND_TWO = re.compile(r"\[\s*-?\d+\s*,\s*-?\d+\s*\],\s*\[\s*-?\d+\s*,\s*-?\d+\s*\]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

_Args = dict[str, str]
_Builder = Callable[[_Args, str, str, bool], list[Action]]


def _point(args: _Args, name: str, verb: str, raw: str) -> tuple[float, float]:
    value = args.get(name)
    if value is None or not value.strip():
        raise ActionParseError(f"{verb} needs {name}=(x,y), e.g. {verb}({name}=(500,500))", raw)
    return point_in_text(value, name, raw)


def _pointer(kind: type[Click | DoubleClick | Move]) -> _Builder:
    def build(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
        x, y = _point(a, "box", kind.__name__, raw)
        return [kind(x=x, y=y, space=s)]

    return build


def _long_press(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
    x, y = _point(a, "box", "LongPress", raw)
    return [LongPress(x=x, y=y, duration=0.5, space=s)]  # adb_controller.longpress: 500 ms


def _drag(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
    x, y = _point(a, "start", "Drag", raw)
    x2, y2 = _point(a, "end", "Drag", raw)
    return [Drag(x=x, y=y, x2=x2, y2=y2, duration=1.0, space=s)]


def _scroll(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
    if (a.get("start") or "").strip() and (a.get("end") or "").strip():
        x, y = _point(a, "start", "Scroll", raw)
        x2, y2 = _point(a, "end", "Scroll", raw)
        return [Swipe(x=x, y=y, x2=x2, y2=y2, duration=1.0, space=s)]
    direction = (a.get("direction") or "").strip().strip("'\"").lower()
    if direction not in ("up", "down", "left", "right"):
        form = "Scroll(direction='down')" if web else "Scroll(start=(x1,y1), end=(x2,y2))"
        raise ActionParseError(f"Scroll needs start and end points or a direction; write {form}", raw)
    return [Scroll(direction=direction, space=s)]  # type: ignore[arg-type]


def _type(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
    content = a.get("content")
    if not content:
        raise ActionParseError("Type needs the text: Type(content='the text')", raw)
    actions: list[Action] = [Type(text=content, space=s)]
    if web:  # WEB_USER_PROMPT: "The system automatically presses ENTER afterward."
        actions.append(Key(keys=["enter"], space=s))
    return actions


def _launch(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
    name = (a.get("app") or "").strip() or (a.get("url") or "").strip()
    if not name:
        raise ActionParseError("Launch needs the app: Launch(app='Settings')", raw)
    return [OpenApp(name=name, space=s)]


def _hotkey(a: _Args, raw: str, s: str, web: bool) -> list[Action]:
    value = a.get("keys") or a.get("key") or ""
    keys = [k.strip().strip("'\"") for k in re.split(r"[,+\s]+", value.strip().strip("()[]")) if k.strip("'\" ")]
    if not keys:
        raise ActionParseError("Hotkey needs keys: Hotkey(keys=['ctrl', 'c'])", raw)
    return [Key(keys=keys, space=s)]


def _button(button: str) -> _Builder:
    return lambda a, raw, s, web: [SystemButton(button=button, space=s)]  # type: ignore[arg-type]


BUILDERS: dict[str, _Builder] = {
    "click": _pointer(Click),
    "doubleclick": _pointer(DoubleClick),
    "hover": _pointer(Move),
    "longpress": _long_press,
    "drag": _drag,
    "scroll": _scroll,
    "type": _type,
    "launch": _launch,
    "hotkey": _hotkey,
    "wait": lambda a, raw, s, web: [Wait(seconds=1.0, space=s)],  # the framework waits 1000 ms
    "finished": lambda a, raw, s, web: [Terminate(status="success", message=a.get("content") or "", space=s)],
    "calluser": lambda a, raw, s, web: [CallUser(message=a.get("content") or "", space=s)],
    "pressback": _button("back"),
    "presshome": _button("home"),
    "pressenter": _button("enter"),
    "pressrecent": _button("recents"),
}
_POSITIONAL = {
    "click": "box",
    "doubleclick": "box",
    "hover": "box",
    "longpress": "box",
    "type": "content",
    "launch": "app",
    "hotkey": "keys",
    "finished": "content",
    "calluser": "content",
    "scroll": "direction",
}
_WEB_ONLY = frozenset({"doubleclick", "hover", "hotkey"})


def _framework_step(reply: str) -> str:
    """One earlier step as the framework writes it (``ui_venus_policy._parse_response``'s ``result_new``)."""
    think_match = _THINK.search(reply)
    action_match = _ACTION.search(reply)
    think = think_match.group(1).strip() if think_match else None
    action = (action_match.group(1).strip() if action_match else None) or reply.strip()
    return f"<think>{think}</think><action>{action}</action>" if think else action


def _navigation_step(reply: str, fallback: str) -> str:
    """One earlier step as ``ui_venus_navi_agent`` writes it (split on the tags, newlines stripped)."""
    think = reply.split("<think>")[1].split("</think>")[0].strip("\n") if "<think>" in reply else ""
    action = reply.split("<action>")[1].split("</action>")[0].strip("\n") if "<action>" in reply else fallback
    return f"<think>{think}</think><action>{action}</action>"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _box(x: float, y: float) -> str:
    return f"({_num(x)},{_num(y)})"


@dataclass(frozen=True)
class UIVenus15(ModelFamily):
    """UI-Venus-1.5-2B/8B/30B-A3B: the Venus framework's DSL in 0–1000 relative coordinates."""

    platforms: ClassVar[tuple[Platform, ...]] = ("mobile", "computer")
    name: ClassVar[str] = "ui-venus-1.5"
    summary: ClassVar[str] = (
        "UI-Venus-1.5 (Qwen3-VL): <think>/<action>Click(box=(x,y))</action>/<conclusion>, relative 0-1000"
    )
    space_kind: ClassVar[str] = "relative-1000"
    rounding: ClassVar[Rounding] = "floor-scaled-first"  # UI-Venus framework: int(v * side / 1000)
    factor: ClassVar[int] = 32
    default_min_pixels: ClassVar[int] = VENUS_MIN_PIXELS
    default_max_pixels: ClassVar[int] = VENUS_MAX_PIXELS
    default_history_images: ClassVar[int] = 0
    source: ClassVar[str] = (
        "inclusionAI/UI-Venus@c3a1442c3c4501af18c124458dbbddcbda5c2c6f (branch UI-Venus-1.5): "
        "Venus_framework/processor/uivenus_processor.py (USER_PROMPT, history), Venus_framework/policy/"
        "ui_venus_policy.py (message layout, reply parsing, int(v*side/1000) mapping), Venus_framework/app/"
        "run_handler.py + app/runtime_context.py (history steps), Venus_framework/device/adb_controller.py "
        "(long press 500 ms, swipe 1-2 s, PressRecent = APP_SWITCH); models/navigation/utils.py "
        "(WEB_USER_PROMPT), models/navigation/ui_venus_navi_agent.py + ui_venus_navi_vllm.py (web layout, "
        "history), scripts/run_navi.sh (MIN_PIXELS 3136, MAX_PIXELS 12845056, HISTORY_LENGTH 5); "
        "models/grounding/ui_venus1_5_gd.py + eval_screenspot_pro.py (grounding prompt and answer); "
        "cross-check ZJU-REAL/ClawGUI@d990d3e3 clawgui-eval (uivenus15: Qwen3-VL, [0,1000], image first, "
        "no system prompt, 3136-12845056 pixels)"
    )
    choices: ClassVar[str] = (
        "Coordinates: the 1.5 framework (Venus_framework/policy/ui_venus_policy.py) maps 0-1000 relative "
        "values onto the raw screenshot with int(v*side/1000), as do the 1.5 grounding code and ClawGUI; the "
        "repo's models/navigation/ui_venus_navi_agent.py (unchanged from UI-Venus 1.0 on Qwen2.5-VL but for an "
        "added factor=28) still reads them as absolute pixels of a smart_resize(factor=28) image. This family "
        "follows the framework, including its truncation. The framework's prompt says (0,0)-(999,999); its "
        "code divides by 1000, which is what decides the pixel, so 1000 is the divisor. "
        "Prompt: phones use the framework's Chinese USER_PROMPT (the deployment code) rather than the English "
        "MOBILE_USER_PROMPT of models/navigation; computer uses WEB_USER_PROMPT, the only non-phone prompt "
        "published, with the navigation script's system turn and 5-step window. "
        "Pixels: the framework sends the raw screenshot and lets the server resize; the family resizes once on "
        "the client to smart_resize(factor=32) under the authors' pinned limits (3136-12845056, "
        "scripts/run_navi.sh and ClawGUI), which equals the server's resize for every common screen. "
        "Verbs: Finished(content) is Terminate(success) (answers go through CallUser, as the prompts say); "
        "Scroll(start,end) is a Swipe, Scroll(direction) a Scroll; Drag and Scroll swipes take 1 s (the "
        "framework's adb swipe lasts 1-2 s by distance), LongPress 0.5 s, Wait 1 s; on computer Type is followed "
        "by Enter, as WEB_USER_PROMPT promises; Launch(url=...) is OpenApp(url). The framework's own parser "
        "ignores a Scroll direction (always swipes up) and the navigation parser rejects Hover, DoubleClick "
        "and Hotkey although WEB_USER_PROMPT offers them: this parser reads them all. History keeps refused "
        "replies too, as both of the authors' agents do."
    )

    @property
    def web(self) -> bool:
        """Whether the desktop/web prompt (models/navigation WEB_USER_PROMPT) is in use."""
        return self.active_platform == "computer"

    def prompt(self, task: str, previous_actions: str) -> str:
        """The user text: the platform's template with the task and the history filled in."""
        template = load_prompt("uivenus15_computer.txt" if self.web else "uivenus15_mobile.txt")
        return template.format(user_task=task, previous_actions=previous_actions)

    def previous_actions(self, history: Sequence[HistoryStep]) -> str:
        """The ``{previous_actions}`` block: ``Step 0: …`` lines in the authors' own form."""
        entries: list[str] = []
        for step in history:
            calls = []
            for action in step.actions:
                try:
                    calls.append(self.history_text(action))
                except ValueError:
                    continue
            fallback = ",".join(calls)
            if self.web:
                if step.reply.strip() or fallback:
                    entries.append(_navigation_step(step.reply, fallback))
            elif step.reply.strip():
                entries.append(_framework_step(step.reply))
            elif fallback:
                entries.append(fallback)
        if self.web:
            entries = entries[-WEB_HISTORY_STEPS:]
        return "\n".join(f"Step {i}: {entry}" for i, entry in enumerate(entries))

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        parts: list[TextPart | ImageSlot] = [
            TextPart(self.prompt(task, self.previous_actions(history))),
            self.current_image(screen),
        ]
        if feedback:
            parts.append(
                TextPart(f"Your previous reply was not a valid action: {feedback}\nReply in the format:\n{EXAMPLE}")
            )
        user = Message("user", tuple(parts))
        return [Message.text("system", SYSTEM_TEXT), user] if self.web else [user]

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        space = self.space(screen).name
        thought, rest = split_thinking(text)
        call_text = self._action_text(rest, text)
        try:
            call = parse_call(call_text, text)
        except ActionParseError as exc:
            hint = "; write coordinates as numbers and text in quotes, e.g. Click(box=(500,500))"
            raise ActionParseError(exc.reason + hint, text) from None
        verb = call.name.lower()
        builder = BUILDERS.get(verb)
        if builder is None:
            raise ActionParseError(f"unknown action {call.name[:30]!r}; use one of {', '.join(self.verbs)}", text)
        args = dict(call.kwargs)
        if call.args and verb in _POSITIONAL:
            args.setdefault(_POSITIONAL[verb], call.args[0])
        if call.args and verb in ("drag", "scroll") and len(call.args) == 2:
            args.setdefault("start", call.args[0])
            args.setdefault("end", call.args[1])
        try:
            actions = builder(args, text, space, self.web)
        except ValidationError as exc:
            raise wrap_validation(text, f"{call.name} action", exc) from None
        return ParsedReply(text, tuple(actions), thought)

    @staticmethod
    def _action_text(rest: str, raw: str) -> str:
        """The call inside ``<action>…</action>`` (or the bare call the framework also accepts)."""
        blocks = _ACTION_BLOCK.findall(rest)
        if len(blocks) > 1:
            raise ActionParseError("the reply holds several <action> blocks; write exactly one action per step", raw)
        if blocks:
            body = blocks[0]
        else:
            opened = _ACTION_OPEN.search(rest)
            if opened:
                body = _CONCLUSION.sub("", rest[opened.end() :])
                if not _BARE_CALL.match(strip_fences(body).strip().strip("`").strip()):
                    raise ActionParseError(
                        "the reply was cut off inside its <action> block; close it: <action>Click(box=(x,y))</action>",
                        raw,
                    )
            else:
                body = _CONCLUSION.sub("", rest)
        body = strip_fences(body).strip().strip("`").strip()
        if not body:
            raise ActionParseError(f"the <action> block is empty; reply as {EXAMPLE_LINE}", raw)
        if not _BARE_CALL.match(body):
            raise ActionParseError(f"no action found; reply as {EXAMPLE_LINE}", raw)
        return body

    @property
    def verbs(self) -> tuple[str, ...]:
        """The verbs the active prompt offers (for error messages)."""
        template = load_prompt("uivenus15_computer.txt" if self.web else "uivenus15_mobile.txt")
        return tuple(dict.fromkeys(re.findall(r"(?m)^- ([A-Z]\w*)\(", template)))

    def format_action(self, action: Action, thought: str | None = None) -> str:
        body = f"<action>{self.history_text(action)}</action>"
        return f"<think>{thought}</think>\n{body}" if thought else body

    def history_text(self, action: Action) -> str:
        web = self.web
        if isinstance(action, Click) and action.x is not None and action.y is not None:
            return f"Click(box={_box(action.x, action.y)})"
        if isinstance(action, LongPress):
            return f"LongPress(box={_box(action.x, action.y)})"
        if web and isinstance(action, DoubleClick) and action.x is not None and action.y is not None:
            return f"DoubleClick(box={_box(action.x, action.y)})"
        if web and isinstance(action, Move):
            return f"Hover(box={_box(action.x, action.y)})"
        if isinstance(action, Drag) and action.x is not None and action.y is not None:
            return f"Drag(start={_box(action.x, action.y)}, end={_box(action.x2, action.y2)})"
        if not web and isinstance(action, Swipe):
            return f"Scroll(start={_box(action.x, action.y)}, end={_box(action.x2, action.y2)})"
        if web and isinstance(action, Scroll):
            return f"Scroll(direction='{action.direction}')"
        if isinstance(action, Type):
            return f"Type(content='{_quote(action.text)}')"
        if isinstance(action, Key) and [k.lower() for k in action.keys] == ["enter"]:
            return "PressEnter()"
        if web and isinstance(action, Key):
            return "Hotkey(keys=[" + ", ".join(f"'{_quote(k)}'" for k in action.keys) + "])"
        if isinstance(action, SystemButton) and action.button != "menu":
            name = {"back": "PressBack", "home": "PressHome", "enter": "PressEnter", "recents": "PressRecent"}
            return f"{name[action.button]}()"
        if isinstance(action, OpenApp):
            return f"Launch(app='{_quote(action.name)}')"
        if isinstance(action, Wait):
            return "Wait()"
        if isinstance(action, Terminate) and action.status == "success":
            return f"Finished(content='{_quote(action.message)}')"
        if isinstance(action, (CallUser, Answer)):
            text = action.message if isinstance(action, CallUser) else action.text
            return f"CallUser(content='{_quote(text)}')"
        where = "the web prompt" if web else "the phone prompt"
        raise ValueError(f"UI-Venus-1.5 has no action for {action.type} in {where}")

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """``ui_venus1_5_gd.UIVenusGroundV15.inference``: the screenshot, then the point prompt (refusal kept)."""
        if instruction.endswith("."):
            instruction = instruction[:-1]
        text = load_prompt("uivenus15_grounding.txt").format(instruction)
        return [Message("user", (self.current_image(screen), TextPart(text)))]

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """``[x,y]``, ``[x1,y1,x2,y2]`` or ``[x1,y1],[x2,y2]`` (centres), as ``_parse_point`` reads them.

        Raises:
            ActionParseError: no point, or ``[-1,-1]`` (the model says the target is not on the screen).
        """
        self.check_reply(text)
        _, body = split_thinking(text)
        body = body.strip()
        point: list[float]
        if _GROUND_BOX.fullmatch(body):
            x1, y1, x2, y2 = (float(n) for n in _NUMBER.findall(body))
            point = [(x1 + x2) / 2, (y1 + y2) / 2]
        elif _GROUND_POINT.fullmatch(body):
            point = [float(n) for n in _NUMBER.findall(body)]
        elif _GROUND_TWO.fullmatch(body.replace(" ", "")):
            x1, y1, x2, y2 = (float(n) for n in _NUMBER.findall(body))
            point = [(x1 + x2) / 2, (y1 + y2) / 2]
        else:
            start = body.find("[")
            end = body.find("]", start + 1) if start >= 0 else -1
            numbers = _NUMBER.findall(body[start + 1 : end]) if end > start >= 0 else []
            if len(numbers) < 2:
                raise ActionParseError("the answer names no point; reply with the coordinates [x,y]", text)
            point = [float(numbers[0]), float(numbers[1])]
        if point[0] == -1 and point[1] == -1:
            raise ActionParseError("the model answered [-1,-1]: it finds no such element on this screen", text)
        return point[0], point[1]

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """The grounding prompt's answer: the point as ``[x,y]``, 0-1000."""
        return f"[{_num(x)},{_num(y)}]"
