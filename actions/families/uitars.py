"""UI-TARS (v1, on Qwen2-VL) and UI-TARS-1.5 (on Qwen2.5-VL): ``Thought: ...\\nAction: click(...)``.

Prompts (``uitars_*.txt``): v1 mobile is README_v1's mobile template (its raw string's literal ``\\n``
inside the output-format fence written as the newlines they stand for); v1 computer is OSWorld's
``UITARS_USR_PROMPT_THOUGHT`` with ``UITARS_CALL_USR_ACTION_SPACE`` (README_v1's computer template, cleanly
formatted); 1.5 uses ``MOBILE_USE_DOUBAO``/``COMPUTER_USE_DOUBAO`` from ``codes/ui_tars/prompt.py``
verbatim. ``{language}`` is English (README_v1's computer template says Chinese).

The conversation is UI-TARS' own multi-turn layout (OSWorld's ``uitars_agent``): the prompt and task in a
first user turn, then for each earlier step its screenshot (when kept) as a user turn and the model's reply
as an assistant turn, then the current screenshot as the last user turn. OSWorld keeps ``history_n=5``
screenshots counting the current one, hence four earlier images by default.

Coordinates: v1 writes ``[0, 1000)`` relative units, 1.5 absolute pixels of the smart_resized image
(UI-TARS' own limits: 100·28² to 16384·28² pixels). The parser reads every form either has been seen to
write: ``(x,y)``, ``(x1,y1,x2,y2)``, ``<|box_start|>(x,y)<|box_end|>``, ``<point>x y</point>``,
``<bbox>x1 y1 x2 y2</bbox>``, ``[x, y]``; several actions in one reply; replies copied from logs with
escaped quotes; ``type(content='it's')`` with an unescaped quote. Choices:

* ``type(content='text\\n')`` — a trailing newline means "submit" in UI-TARS' prompts: it becomes
  ``Type("text")`` then ``Key(["enter"])``, the key UI-TARS' own executor presses (``pyautogui.press('enter')``),
  which phones and desktops both have.
* ``finished(content=...)`` ends the task: with content it is an ``Answer`` (UI-TARS-1.5 puts answers to
  questions there), without a ``Terminate(success)``. UI-TARS has no failure verb; ``call_user()`` asks the
  person for help.
* ``scroll(start_box, end_box)`` (v1's mobile prompt) is a ``Swipe``; ``drag`` is a ``Drag`` on every platform
  (phone drivers perform it as a swipe).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pydantic import ValidationError

from ..errors import ActionParseError
from ..geometry import Size
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
    RightClick,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from ._text import as_number, in_model_terms, parse_call, point_in_text, strip_fences
from .base import HistoryStep, ModelFamily, ParsedReply, Platform, load_prompt, wrap_validation

__all__ = ["UITars", "UITars15"]

SYSTEM_TEXT = "You are a helpful assistant."
UITARS_MIN_PIXELS = 100 * 28 * 28
UITARS_MAX_PIXELS = 16384 * 28 * 28

_Args = dict[str, str]
_Builder = Callable[[_Args, str, str], list[Action]]

_NOISE = re.compile(r"<\|(?:im_end|endoftext)\|>|\[EOS\]")
_COLON = "[:\uff1a]"
"""A label's colon, ASCII or full-width (``Action：``, as UI-TARS writes after Chinese text; UI-TARS-desktop #825)."""
_ACTION_AT_LINE = re.compile(rf"(?m)^[ \t]*Action[ \t]*{_COLON}[ \t]*")
_ACTION_ANYWHERE = re.compile(rf"Action[ \t]*{_COLON}[ \t]*")
_THOUGHT_LABEL = re.compile(rf"^\s*Thought\s*{_COLON}\s*")
_NEXT_CALL = re.compile(rf"(?<=\))[ \t]*\n\s*(?:Action[ \t]*{_COLON}[ \t]*)?(?=[A-Za-z_]\w*\s*\()")
_LEADING_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(")
_BARE_BOX = re.compile(r"(start_box|end_box)=(['\"])\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)\2")
_KEY_NAMES = {"arrowleft": "left", "arrowright": "right", "arrowup": "up", "arrowdown": "down"}
_START_KEYS = ("start_box", "point", "start_point", "box")
_END_KEYS = ("end_box", "end_point")


def _arg(args: _Args, *names: str) -> str | None:
    for name in names:
        value = args.get(name)
        if value is not None and value.strip():
            return value
    return None


def _point(args: _Args, raw: str, verb: str, names: tuple[str, ...] = _START_KEYS) -> tuple[float, float]:
    value = _arg(args, *names)
    if value is None:
        where = "an end point (end_box='(x,y)')" if names == _END_KEYS else "a point (start_box='(x,y)')"
        raise ActionParseError(f"{verb} needs {where}", raw)
    return point_in_text(value, names[0], raw)


def _pointer(kind: type[Click | DoubleClick | RightClick | Move], verb: str) -> _Builder:
    def build(a: _Args, raw: str, s: str) -> list[Action]:
        x, y = _point(a, raw, verb)
        return [kind(x=x, y=y, space=s)]

    return build


def _type(a: _Args, raw: str, s: str) -> list[Action]:
    content = a.get("content", a.get("text"))
    if not content:
        raise ActionParseError("type needs content='the text' (to submit it, end the content with '\\n')", raw)
    actions: list[Action] = []
    if _arg(a, *_START_KEYS) is not None:  # type(content, start_box): click the field first
        x, y = _point(a, raw, "type")
        actions.append(Click(x=x, y=y, space=s))
    submit = content.endswith("\n") or content.endswith("\\n")
    text = content[:-1] if content.endswith("\n") else content[:-2] if submit else content
    if text:
        actions.append(Type(text=text, space=s))
    if submit:
        actions.append(Key(keys=["enter"], space=s))
    return actions


def _scroll(a: _Args, raw: str, s: str) -> list[Action]:
    if _arg(a, *_END_KEYS) is not None:
        x, y = _point(a, raw, "scroll")
        x2, y2 = _point(a, raw, "scroll", _END_KEYS)
        return [Swipe(x=x, y=y, x2=x2, y2=y2, space=s)]
    direction = (a.get("direction") or "").strip().strip("'\"").lower()
    if direction not in ("up", "down", "left", "right"):
        raise ActionParseError(f"scroll needs direction='down', 'up', 'left' or 'right', got {direction[:20]!r}", raw)
    if _arg(a, *_START_KEYS) is None:
        return [Scroll(direction=direction, space=s)]  # type: ignore[arg-type]
    x, y = _point(a, raw, "scroll")
    return [Scroll(direction=direction, x=x, y=y, space=s)]  # type: ignore[arg-type]


def _drag(a: _Args, raw: str, s: str) -> list[Action]:
    x, y = _point(a, raw, "drag")
    if _arg(a, *_END_KEYS) is None:
        return [Click(x=x, y=y, space=s)]  # select(start_box) opens a dropdown: a click
    x2, y2 = _point(a, raw, "drag", _END_KEYS)
    return [Drag(x=x, y=y, x2=x2, y2=y2, space=s)]


def _long_press(a: _Args, raw: str, s: str) -> list[Action]:
    x, y = _point(a, raw, "long_press")
    time = _arg(a, "time")
    duration = as_number(time, "time", raw) if time is not None else 1.0
    return [LongPress(x=x, y=y, duration=duration, space=s)]


def _keys(a: _Args, raw: str, s: str) -> list[Action]:
    value = _arg(a, "key", "hotkey", "keys", "press")
    keys = [k for k in re.split(r"[\s+]+", value or "") if k]
    if not keys:
        raise ActionParseError("hotkey needs key='ctrl c' (key names split by spaces)", raw)
    return [Key(keys=[_KEY_NAMES.get(k.lower(), k) for k in keys], space=s)]


def _finished(a: _Args, raw: str, s: str) -> list[Action]:
    content = (_arg(a, "content", "answer") or "").strip()
    return [Answer(text=content, space=s)] if content else [Terminate(status="success", space=s)]


def _open_app(a: _Args, raw: str, s: str) -> list[Action]:
    name = _arg(a, "app_name", "content", "name")
    if name is None:
        raise ActionParseError("open_app needs app_name='the app'", raw)
    return [OpenApp(name=name.strip(), space=s)]


BUILDERS: dict[str, _Builder] = {
    "click": _pointer(Click, "click"),
    "left_double": _pointer(DoubleClick, "left_double"),
    "right_single": _pointer(RightClick, "right_single"),
    "hover": _pointer(Move, "hover"),
    "drag": _drag,
    "long_press": _long_press,
    "type": _type,
    "scroll": _scroll,
    "hotkey": _keys,
    "press": _keys,
    "keydown": _keys,
    "keyup": lambda a, raw, s: [],  # our Key presses and releases; a release alone means nothing
    "wait": lambda a, raw, s: [Wait(seconds=5, space=s)],
    "finished": _finished,
    "call_user": lambda a, raw, s: [CallUser(message=_arg(a, "content") or "", space=s)],
    "open_app": _open_app,
    "press_home": lambda a, raw, s: [SystemButton(button="home", space=s)],
    "press_back": lambda a, raw, s: [SystemButton(button="back", space=s)],
}
ALIASES = {
    "left_single": "click",
    "tap": "click",
    "double_click": "left_double",
    "right_click": "right_single",
    "mouse_move": "hover",
    "move_to": "hover",
    "select": "drag",
    "release": "keyup",
    "finish": "finished",
}
_POSITIONAL = {"type": "content", "hotkey": "key", "press": "key", "keydown": "key", "scroll": "start_box"}
_POSITIONAL |= {"open_app": "app_name", "finished": "content", "call_user": "content"}


def add_box_token(reply: str) -> str:
    """Wrap ``start_box='(x,y)'`` in ``<|box_start|>``/``<|box_end|>``, as UI-TARS v1 writes it unstripped.

    OSWorld does the same to earlier replies before sending them back as history.
    """
    return _BARE_BOX.sub(r"\1=\2<|box_start|>(\3,\4)<|box_end|>\2", reply)


@dataclass(frozen=True)
class _UITarsFamily(ModelFamily):
    """What UI-TARS v1 and 1.5 share: the conversation, the parser, the verbs."""

    platforms: ClassVar[tuple[Platform, ...]] = ("mobile", "computer")
    version: ClassVar[str]
    language: ClassVar[str] = "English"
    default_min_pixels: ClassVar[int] = UITARS_MIN_PIXELS
    default_max_pixels: ClassVar[int] = UITARS_MAX_PIXELS
    default_history_images: ClassVar[int] = 4
    example: ClassVar[str]
    model_words: ClassVar[dict[str, str]]
    """Our words in refusals → the prompt's (the builders speak v1's ``start_box``; fields are ours)."""

    def prompt(self, task: str) -> str:
        """The first user turn: the platform's prompt with the language and the task filled in."""
        template = load_prompt(f"uitars_{self.version}_{self.active_platform}.txt")
        return template.replace("{language}", self.language).replace("{instruction}", task)

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        messages = [Message.text("system", SYSTEM_TEXT), Message.text("user", self.prompt(task))]
        for step in history:
            reply = self._history_reply(step)
            if reply is None:
                continue  # a refused reply: the next screenshot is the same screen
            if step.image is not None:
                messages.append(Message("user", (step.image,)))
            messages.append(Message.text("assistant", reply))
        last: list[TextPart | ImageSlot] = [self.current_image(screen)]
        if feedback:
            last.append(
                TextPart(
                    f"Your previous reply was not a valid action: {feedback}\nReply in the format:\n{self.reply_form}"
                )
            )
        messages.append(Message("user", tuple(last)))
        return messages

    @property
    def reply_form(self) -> str:
        """The reply's two lines, as the feedback after a refused reply shows them (real line breaks)."""
        return f"Thought: ...\nAction: {self.example}"

    @property
    def reply_hint(self) -> str:
        """The same form in one line, for an error reason (reasons are one line; the form follows in feedback)."""
        return f"reply with a 'Thought: ...' line, then an 'Action: ...' line such as Action: {self.example}"

    def _history_reply(self, step: HistoryStep) -> str | None:
        if step.reply.strip() and step.error is None:
            return add_box_token(step.reply.strip()) if self.version == "v1" else step.reply.strip()
        calls = []
        for action in step.actions:
            try:
                calls.append(self.history_text(action))
            except ValueError:
                continue
        return "Action: " + "\n\n".join(calls) if calls else None

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        space = self.space(screen).name
        thought, calls = self._split(self._clean(text), text)
        actions: list[Action] = []
        for call in calls:
            actions.extend(self._to_actions(call, text, space))
        if not actions:
            raise ActionParseError(f"the reply holds no action; {self.reply_hint}", text)
        return ParsedReply(text, tuple(actions), thought)

    @staticmethod
    def _clean(text: str) -> str:
        """Drop end tokens and fences; undo one level of escaping when the reply was copied from a log."""
        body = strip_fences(_NOISE.sub("", text)).strip()
        if len(body) > 1 and body[0] == body[-1] == '"':
            body = body[1:-1]
            body = body.replace('\\"', '"')
        if "\n" not in body and "\\n" in body:
            body = body.replace("\\n", "\n").replace('\\"', '"')
        return body

    def _split(self, body: str, raw: str) -> tuple[str | None, list[str]]:
        """``(thought, call texts)``; the calls follow the first ``Action:`` line."""
        marker = _ACTION_AT_LINE.search(body)
        if marker is None:
            found = list(_ACTION_ANYWHERE.finditer(body))
            marker = found[-1] if found else None
        if marker is not None:
            head, tail = body[: marker.start()], body[marker.end() :]
        elif _starts_with_call(body):
            head, tail = "", body
        elif _bare_point(body) is not None:
            head, tail = "", f"click(start_box='{body}')"
        else:
            raise ActionParseError(f"no 'Action:' line found; {self.reply_hint}", raw)
        thought = _THOUGHT_LABEL.sub("", head).strip() or None
        calls = [c.strip() for c in _NEXT_CALL.split(tail) if c.strip()]
        if not calls:
            raise ActionParseError(f"the Action line is empty; write e.g. Action: {self.example}", raw)
        return thought, calls

    def _to_actions(self, call_text: str, raw: str, space: str) -> list[Action]:
        if ")" in call_text:
            call_text = call_text[: call_text.rindex(")") + 1]
        call = parse_call(call_text.replace("\n", "\\n"), raw)
        verb = _canonical(call.name)
        builder = BUILDERS.get(verb)
        if builder is None:
            raise ActionParseError(f"unknown action {call.name[:30]!r}; use one of {', '.join(self.verbs)}", raw)
        args = dict(call.kwargs)
        if call.args and verb in _POSITIONAL:
            args.setdefault(_POSITIONAL[verb], call.args[0])
        args = {_rename(k): v for k, v in args.items()}
        try:
            return builder(args, raw, space)
        except ValidationError as exc:
            reason = wrap_validation(raw, f"{call.name} action", exc).reason
        except ActionParseError as exc:
            reason = exc.reason
        raise ActionParseError(in_model_terms(reason, self.model_words), raw) from None

    @property
    def verbs(self) -> tuple[str, ...]:
        """The verbs the active prompt offers (for error messages)."""
        template = load_prompt(f"uitars_{self.version}_{self.active_platform}.txt")
        return tuple(dict.fromkeys(re.findall(r"(?m)^([a-z_]+)\(", template)))

    def format_action(self, action: Action, thought: str | None = None) -> str:
        body = f"Action: {self.history_text(action)}"
        return f"Thought: {thought}\n{body}" if thought else body

    def history_text(self, action: Action) -> str:
        v1 = self.version == "v1"
        one = "start_box" if v1 else "point"
        start, end = ("start_box", "end_box") if v1 else ("start_point", "end_point")
        pointers = {"click": "click", "double_click": "left_double", "right_click": "right_single", "move": "hover"}
        points = list(action.points())
        if action.type in pointers and points:
            return f"{pointers[action.type]}({one}={self._box(*points[0][2:])})"
        if isinstance(action, LongPress):
            time = "" if action.duration == 1.0 else f", time='{_num(action.duration)}'"
            return f"long_press({one}={self._box(action.x, action.y)}{time})"
        if isinstance(action, (Drag, Swipe)) and action.x is not None and action.y is not None:
            verb = "scroll" if v1 and isinstance(action, Swipe) else "drag"  # v1's phone prompt swipes by scroll
            return f"{verb}({start}={self._box(action.x, action.y)}, {end}={self._box(action.x2, action.y2)})"
        if isinstance(action, Scroll):
            if action.x is None or action.y is None:
                return f"scroll(direction='{action.direction}')"
            return f"scroll({one}={self._box(action.x, action.y)}, direction='{action.direction}')"
        if isinstance(action, Type):
            return f"type(content='{_quote(action.text)}')"
        if isinstance(action, Key):
            return f"hotkey(key='{_quote(' '.join(action.keys))}')"
        if isinstance(action, SystemButton) and action.button in ("home", "back"):
            return f"press_{action.button}()"
        if isinstance(action, SystemButton) and action.button == "enter":
            return "hotkey(key='enter')"
        if isinstance(action, OpenApp):
            return f"open_app(app_name='{_quote(action.name)}')"
        if isinstance(action, Wait):
            return "wait()"
        if isinstance(action, Answer):
            return f"finished(content='{_quote(action.text)}')"
        if isinstance(action, Terminate) and action.status == "success":
            return "finished()"
        if isinstance(action, CallUser):
            return "call_user()"
        raise ValueError(f"UI-TARS has no action for {action.type}")

    # --- grounding ------------------------------------------------------------------------------------

    grounding_file: ClassVar[str]
    grounding_form: ClassVar[str]
    """The grounding answer's shape, for refusals."""
    grounding_answer: ClassVar[str]
    """The grounding answer with ``{x}`` and ``{y}`` for the point (model units)."""

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """The authors' grounding request: one user turn, the screenshot, then the grounding prompt."""
        template = load_prompt(self.grounding_file)
        text = template.replace("{instruction}", instruction) if "{instruction}" in template else template + instruction
        return [Message("user", (self.current_image(screen), TextPart(text)))]

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """The point of a grounding answer: an ``Action: click(...)`` line or a bare point, in any box form.

        Raises:
            ActionParseError: the answer names no point.
        """
        self.check_reply(text)
        try:
            return super().parse_grounding(text, screen)
        except ActionParseError:
            pass
        try:
            return point_in_text(_NOISE.sub("", text).strip(), "the grounding answer", text, label=True)
        except ActionParseError:
            raise ActionParseError(f"the answer names no point; reply with {self.grounding_form}", text) from None

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        return self.grounding_answer.format(x=_num(x), y=_num(y))

    def _box(self, x: float, y: float) -> str:
        if self.version == "v1":
            return f"'<|box_start|>({_num(x)},{_num(y)})<|box_end|>'"
        return f"'<point>{_num(x)} {_num(y)}</point>'"


def _canonical(name: str) -> str:
    name = name.lower()
    return ALIASES.get(name, name)


def _rename(key: str) -> str:
    return "start_box" if key in ("point", "start_point", "box") else "end_box" if key == "end_point" else key


def _starts_with_call(body: str) -> bool:
    match = _LEADING_CALL.match(body)
    return match is not None and _canonical(match.group(1)) in BUILDERS


def _bare_point(body: str) -> tuple[float, float] | None:
    try:
        return point_in_text(body, "point", body)
    except ActionParseError:
        return None


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class UITars(_UITarsFamily):
    """UI-TARS-2B/7B/72B (SFT, DPO), on Qwen2-VL: ``[0, 1000)`` relative coordinates."""

    name: ClassVar[str] = "ui-tars"
    summary: ClassVar[str] = "UI-TARS v1: Thought/Action, click(start_box='(x,y)'), relative 0-1000"
    source: ClassVar[str] = (
        "bytedance/UI-TARS README_v1.md; xlang-ai/OSWorld mm_agents/uitars_agent.py; grounding: "
        "bytedance/UI-TARS@582f3a7ea5d285ee8ed9e2e84048d1ab01453c49 README_v1.md (the single step grounding script, "
        "Coordinate Mapping)"
    )
    choices: ClassVar[str] = (
        "Grounding ('official' prompt): README_v1's script 'for single step grounding task or inference on "
        "grounding dataset such as Seeclick': one user turn, the screenshot first, then 'Output only the "
        "coordinate of one point in your response. What element matches the following task: ' + instruction; no "
        "system turn. The answer is a point '(x,y)' in relative 0-1000 (README_v1 Coordinate Mapping: "
        "round(v / 1000 * side)); box tokens, a box (its centre) and an 'Action: click(...)' line are read too. "
        "The script also sends frequency_penalty=1 and max_tokens=128, which eval-grounding does not (it sends "
        "temperature 0, the greedy decoding ClawGUI-Eval pins for every model); the image is resized once on the "
        "client with UI-TARS' limits (100*28*28 to 16384*28*28), where the script lets the server resize it."
    )
    space_kind: ClassVar[str] = "relative-1000"
    version: ClassVar[str] = "v1"
    example: ClassVar[str] = "click(start_box='(x,y)')"
    grounding_file: ClassVar[str] = "uitars_v1_grounding.txt"
    grounding_form: ClassVar[str] = "(x,y)"
    grounding_answer: ClassVar[str] = "({x},{y})"
    model_words: ClassVar[dict[str, str]] = {"duration": "time", "keys": "key"}


@dataclass(frozen=True)
class UITars15(_UITarsFamily):
    """UI-TARS-1.5-7B, on Qwen2.5-VL: absolute pixels of the smart_resized screenshot."""

    name: ClassVar[str] = "ui-tars-1.5"
    summary: ClassVar[str] = "UI-TARS-1.5: Thought/Action, click(point='<point>x y</point>'), resized pixels"
    source: ClassVar[str] = (
        "bytedance/UI-TARS codes/ui_tars/prompt.py, codes/ui_tars/action_parser.py; grounding: "
        "bytedance/UI-TARS@582f3a7ea5d285ee8ed9e2e84048d1ab01453c49 codes/ui_tars/prompt.py GROUNDING_DOUBAO, "
        "README.md (Prompt Usage Guide: GROUNDING), README_coordinates.md; ZJU-REAL/ClawGUI@"
        "d990d3e3f2390ced708771d9681d3c4f9a6cbef5 clawgui-eval/inference/uitars_inferencer.py and "
        "qwen25vl_inferencer.py (_build_prompt), scripts/infer/*/uitars_run_*.sh, judge/grounding_judge.py "
        "uitars_parse"
    )
    choices: ClassVar[str] = (
        "Grounding ('official' prompt): GROUNDING_DOUBAO from codes/ui_tars/prompt.py, the template the README "
        "recommends for evaluating grounding (README_v1's 'Output only the coordinate...' script is v1's), byte "
        "for byte including its doubled quote in click(point='<point>x1 y1</point>''), with the instruction "
        "filled in. The authors give no message layout for it; ClawGUI-Eval's UI-TARS-1.5 setting is followed: "
        "one user turn, image first then the prompt (vt), no system prompt, 78400 to 12845056 pixels (the "
        "family's limits), temperature 0. The answer 'Action: click(point='<point>x y</point>')' is in absolute "
        "pixels of the smart_resized image; bare points and v1 box forms are read too. README_coordinates' code "
        "and ClawGUI's uitars_parse truncate the device pixel (int(v / resized * side)); this family rounds to "
        "the nearest pixel (at most 1 px apart), as the authors' own parser package does (codes/ui_tars/"
        "action_parser.py, whose tests expect 200/1932*1920 = 198.76 -> 199)."
    )
    space_kind: ClassVar[str] = "pixels"
    version: ClassVar[str] = "15"
    example: ClassVar[str] = "click(point='<point>x y</point>')"
    grounding_file: ClassVar[str] = "uitars_15_grounding.txt"
    grounding_form: ClassVar[str] = "Action: click(point='<point>x y</point>')"
    grounding_answer: ClassVar[str] = "Action: click(point='<point>{x} {y}</point>')"
    model_words: ClassVar[dict[str, str]] = {
        "duration": "time",
        "keys": "key",
        "start_box='(x,y)'": "point='<point>x y</point>'",
        "end_box='(x,y)'": "end_point='<point>x y</point>'",
        "start_box": "point",
        "end_box": "end_point",
    }
