"""AutoGLM-Phone (zai-org, on GLM-4.1V): ``<think>…</think><answer>do(action="Tap", element=[x,y])``.

The conversation is Open-AutoGLM's ``PhoneAgent``: a system prompt (Chinese by default, English with
``lang="en"``; both begin with today's date), then one user turn per step holding the screenshot and a
text, ``{task}\\n\\n{"current_app": …}`` in the first and ``** Screen Info **\\n\\n{"current_app": …}`` after;
each model reply comes back as an assistant turn ``<think>{thinking}</think><answer>{action}</answer>``
built from the reply as the agent split it. After every step the agent strips the image from the user
turn it sent, so only the current screenshot is an image and earlier steps are text.

Coordinates are relative, 0–1000 across the screenshot in both axes (the Chinese prompt says the grid runs
to 999,999); the agent maps them with ``int(v / 1000 * side)`` on the raw screenshot, a floor, reproduced
here exactly. The agent sends the raw PNG and lets the server's GLM-4.1V processor resize it; this family
sends the size that processor would produce (factor 28 = patch 14 × merge 2), so the server resizes
nothing, and relative coordinates are the same on either image.

Verbs: ``Launch``, ``Tap`` (with ``message=…`` for a sensitive operation: ``ParsedReply.sensitive``),
``Type``/``Type_Name``, ``Swipe``, ``Long Press``, ``Double Tap``, ``Back``, ``Home``, ``Wait``, ``Take_over``
and ``Interact`` (both ``CallUser``), ``Note`` and ``Call_API`` (no device action: ``Wait(0)``), and
``finish(message=…)``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import ValidationError

from ..errors import ActionParseError, ConfigError
from ..geometry import CoordinateSpace, Rounding, Size
from ..messages import ImageSlot, Message, TextPart
from ..types import (
    Action,
    Answer,
    CallUser,
    Click,
    DoubleClick,
    Drag,
    LongPress,
    OpenApp,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from ._text import numbers_in, parse_call, strip_fences
from ._thinking import split_thinking
from .base import HistoryStep, ModelFamily, ParsedReply, load_prompt, wrap_validation

__all__ = ["AUTOGLM_MAX_PIXELS", "AUTOGLM_MIN_PIXELS", "AutoGLMPhone", "split_reply"]

Lang = Literal["cn", "en"]

GLM_TEMPORAL_FACTOR = 2
AUTOGLM_MIN_PIXELS = 112 * 112 // GLM_TEMPORAL_FACTOR
"""GLM-4.1V's ``shortest_edge`` (12544) as a per-image area: its smart_resize compares ``2·h·w``."""
AUTOGLM_MAX_PIXELS = 14 * 14 * 2 * 2 * 2 * 6144 // GLM_TEMPORAL_FACTOR
"""GLM-4.1V's ``longest_edge`` (9633792) as a per-image area (4816896 = 6144·28²)."""

UNKNOWN_APP = "System Home"
"""What Open-AutoGLM reports as the current app when the foreground package is not in its app list."""
LONG_PRESS_SECONDS = 3.0
"""Open-AutoGLM's ``long_press(duration_ms=3000)``."""
WAIT_DEFAULT_SECONDS = 1.0
"""Open-AutoGLM's handler waits this long when ``duration`` is missing or not ``"x seconds"``."""

_WEEKDAYS_CN = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PROMPT_FILES = {"cn": "autoglm_system_zh.txt", "en": "autoglm_system_en.txt"}

_NOISE = re.compile(r"<\|(?:user|assistant|observation|system|endoftext|end_of_box|begin_of_box)\|>")
_HEAD = re.compile(r"(?<![\w.])(?:(do)\s*\(\s*action\s*=|(finish)\s*\()")
"""Where a call starts: the authors' markers ``do(action=`` and ``finish(``."""
_LOOSE_HEAD = re.compile(r"(?<![\w.])do\s*\(")
_NEXT_HEAD = re.compile(r"\n\s*(?:do\s*\(\s*action\s*=|finish\s*\()")
_ACTION_NAME = re.compile(r"""\baction\s*=\s*(["'])(.*?)\1""", re.DOTALL)
_EXAMPLE = 'do(action="Tap", element=[x,y])'


def format_date(day: _dt.date, lang: Lang) -> str:
    """The date as the authors' prompts write it: ``2025年12月11日 星期四`` / ``2025-12-11, Thursday``."""
    if lang == "cn":
        return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日 {_WEEKDAYS_CN[day.weekday()]}"
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}, {_WEEKDAYS_EN[day.weekday()]}"


def split_reply(content: str) -> tuple[str, str]:
    """``(thinking, action)`` of a raw reply, split the way Open-AutoGLM's client splits it.

    The agent writes the earlier replies back into the conversation from these two parts, so history must
    use the same split: everything before ``finish(message=`` (looked for first) or else ``do(action=`` is
    the thinking, tags included; failing both, the text after ``<answer>``; failing that, all is action.
    """
    for marker in ("finish(message=", "do(action="):
        if marker in content:
            before, after = content.split(marker, 1)
            return before.strip(), marker + after
    if "<answer>" in content:
        before, after = content.split("<answer>", 1)
        return before.replace("<think>", "").replace("</think>", "").strip(), after.replace("</answer>", "").strip()
    return "", content


_Args = dict[str, str]
_Builder = Callable[[_Args, str, str, CoordinateSpace, Size], Action]


def _point(args: _Args, key: str, verb: str, raw: str) -> tuple[float, float]:
    value = args.get(key)
    if value is None or not value.strip():
        raise ActionParseError(f'{verb} needs {key}=[x,y], e.g. do(action="{verb}", {key}=[500,500])', raw)
    numbers = numbers_in(value)
    if len(numbers) != 2:
        raise ActionParseError(f"{verb}'s {key} must be two numbers [x,y] from 0 to 999, got {value[:40]!r}", raw)
    return numbers[0], numbers[1]


def _swipe_seconds(start: tuple[float, float], end: tuple[float, float], space: CoordinateSpace, screen: Size) -> float:
    """Open-AutoGLM's swipe duration: squared device distance / 1000 ms, kept within 1–2 s."""
    values = (*start, *end)
    if not all(math.isfinite(v) and abs(v) < 1e9 for v in values):
        return 1.0  # the point is refused later; any valid duration will do
    sx, ex = (math.floor(v / space.extent_x * screen.width) for v in (start[0], end[0]))
    sy, ey = (math.floor(v / space.extent_y * screen.height) for v in (start[1], end[1]))
    ms = int(((sx - ex) ** 2 + (sy - ey) ** 2) / 1000)
    return max(1000, min(ms, 2000)) / 1000


def _tap(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    x, y = _point(a, "element", "Tap", raw)
    return Click(x=x, y=y, space=s)


def _double_tap(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    x, y = _point(a, "element", "Double Tap", raw)
    return DoubleClick(x=x, y=y, space=s)


def _long_press(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    x, y = _point(a, "element", "Long Press", raw)
    return LongPress(x=x, y=y, duration=LONG_PRESS_SECONDS, space=s)


def _swipe(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    start = _point(a, "start", "Swipe", raw)
    end = _point(a, "end", "Swipe", raw)
    duration = _swipe_seconds(start, end, space, screen)
    return Swipe(x=start[0], y=start[1], x2=end[0], y2=end[1], duration=duration, space=s)


def _launch(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    app = (a.get("app") or "").strip()
    if not app:
        raise ActionParseError('Launch needs the app\'s name: do(action="Launch", app="Settings")', raw)
    return OpenApp(name=app, space=s)


def _wait(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    duration = a.get("duration", "1 seconds")
    try:
        seconds = float(duration.replace("seconds", "").strip())
    except ValueError:
        seconds = WAIT_DEFAULT_SECONDS
    return Wait(seconds=seconds, space=s)


def _call_user(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    return CallUser(message=(a.get("message") or "").strip(), space=s)


def _nothing(a: _Args, raw: str, s: str, space: CoordinateSpace, screen: Size) -> Action:
    return Wait(seconds=0, space=s)


BUILDERS: dict[str, _Builder] = {
    "tap": _tap,
    "doubletap": _double_tap,
    "longpress": _long_press,
    "swipe": _swipe,
    "launch": _launch,
    "back": lambda a, raw, s, space, screen: SystemButton(button="back", space=s),
    "home": lambda a, raw, s, space, screen: SystemButton(button="home", space=s),
    "wait": _wait,
    "takeover": _call_user,
    "interact": _call_user,
    "note": _nothing,
    "callapi": _nothing,
}
VERBS = (
    "Launch",
    "Tap",
    "Type",
    "Type_Name",
    "Interact",
    "Swipe",
    "Note",
    "Call_API",
    "Long Press",
    "Double Tap",
    "Take_over",
    "Back",
    "Home",
    "Wait",
)
"""The ``do(action=…)`` names of the Chinese prompt, in its order (the English one offers a subset)."""


def _verb_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.lower())


def _call_end(text: str) -> int | None:
    """Index of the ``)`` closing the call that starts ``text``, skipping quoted strings; None if cut off."""
    depth = 0
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0 and ch == ")":
                return i
    return None


def _escape_newlines_in_strings(text: str) -> str:
    """Raw newlines inside quoted values become ``\\n`` so ``ast`` reads them (as the authors' parser does)."""
    out: list[str] = []
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            elif ch in "\n\r\t":
                out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
                continue
        elif ch in "\"'":
            quote = ch
        out.append(ch)
    return "".join(out)


def _raw_value(call: str, key: str, raw: str, verb: str, positional: bool = False) -> str | None:
    """The value of ``key=`` read as the authors read Type's text and finish's message: everything to the
    call's last ``)``, less the quotes, unescaped quotes inside kept as typed. ``None`` if ``key`` is absent
    (with ``positional``, a lone unnamed argument is taken instead: ``finish("done")``).
    """
    match = re.search(rf"\b{key}\s*=\s*", call)
    if match is not None:
        value = call[match.end() :].rstrip()
    elif positional and re.match(r"^\w+\s*\(\s*[\"']", call):
        value = call[call.index("(") + 1 :].lstrip().rstrip()
    else:
        return None
    if not value.endswith(")"):
        raise ActionParseError(f'the {verb} action is cut off; write it whole, e.g. {verb}({key}="…")', raw)
    value = value[:-1].rstrip()
    if value[:1] in ("'", '"'):
        quote, value = value[0], value[1:]
        if not value.endswith(quote):
            raise ActionParseError(f'the {verb} action\'s {key} is not closed; write {key}="…")', raw)
        value = value[:-1]
    return value


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class AutoGLMPhone(ModelFamily):
    """AutoGLM-Phone-9B and AutoGLM-Phone-9B-Multilingual, as Open-AutoGLM's PhoneAgent drives them.

    Args:
        lang: ``"cn"`` (the authors' default) or ``"en"``: which of their two system prompts to send.
        date: the date the system prompt states; ``None`` for today.
    """

    name: ClassVar[str] = "autoglm-phone"
    summary: ClassVar[str] = (
        'AutoGLM-Phone (GLM-4.1V): <think>/<answer>, do(action="Tap", element=[x,y]), relative 0-1000'
    )
    space_kind: ClassVar[str] = "relative-1000"
    rounding: ClassVar[Rounding] = "floor"  # Open-AutoGLM handler: int(v / 1000 * side)
    factor: ClassVar[int] = 28
    default_min_pixels: ClassVar[int] = AUTOGLM_MIN_PIXELS
    default_max_pixels: ClassVar[int] = AUTOGLM_MAX_PIXELS
    default_history_images: ClassVar[int] = 0
    source: ClassVar[str] = (
        "zai-org/Open-AutoGLM @6b18d7bed0a8b5696760b06f7d18065b150901a2: phone_agent/config/prompts_zh.py, "
        "phone_agent/config/prompts_en.py, phone_agent/config/__init__.py (get_system_prompt), phone_agent/agent.py "
        "(PhoneAgent._execute_step), phone_agent/model/client.py (MessageBuilder, ModelClient._parse_response), "
        "phone_agent/actions/handler.py (parse_action, ActionHandler), phone_agent/adb/device.py, "
        "phone_agent/adb/screenshot.py, README.md/README_en.md (model ids, vLLM/SGLang flags, expected output); "
        "scripts/sample_messages*.json; transformers models/glm4v/image_processing_glm4v.py (smart_resize)"
    )
    choices: ClassVar[str] = (
        "Prompt: Chinese by default (AgentConfig.lang='cn', main.py --lang default cn, also for the Multilingual "
        "model); lang='en' selects prompts_en.py. prompts.py (an older copy without the weekday) is unused by "
        "the agent and ignored. Both prompts start with the date computed by datetime.today(); it is an option "
        "here (default: today), written as the authors' strftime would in the C locale. "
        "Coordinates: the Chinese prompt says the grid ends at (999,999) but the handler divides by 1000 and "
        "truncates (int(v/1000*side)) on the raw screenshot: this family maps exactly so (floor), and a value of "
        "1000 is the last pixel rather than one past it. "
        "Image: the agent sends the raw screenshot PNG and the server's GLM-4.1V processor resizes it "
        "(Glm4v smart_resize, factor 28, area compared as 2*h*w against 112*112..9633792, GLM-4.1V-9B-Thinking's "
        "preprocessor limits; AutoGLM-Phone has the same architecture). This family sends that size itself "
        "(limits halved to per-image areas 6272..4816896, identical arithmetic), so the server resizes nothing. "
        "The README's --mm_processor_kwargs max_pixels=5000000 is not a Glm4v image-processor option (transformers "
        "ignores it in from_pretrained and rejects it per call), so the model's own limits are the ones in force; "
        "phones up to 1440x3120 are below both and only rounded to 28. "
        "History: as PhoneAgent keeps it, images of earlier steps removed, each earlier reply written back as "
        "<think>{thinking}</think><answer>{action}</answer> from the client's own split (which leaves the reply's "
        "<think> and <answer> tags inside the thinking). The current app comes from render(current_app=...) and "
        "render(history_apps=...), default 'System Home' (the authors' value for an unrecognised app). "
        "Replies: the server stops at </answer> (the README's expected output has none); both forms parse. "
        "Type's text and finish's message are read as the authors read them (all up to the final ')', quotes "
        "inside kept); other calls through ast with newlines inside strings escaped, as theirs. A reply with "
        "two calls is refused (the authors' parser fails and ends the task). Launch is OpenApp; Take_over and "
        "Interact are CallUser; Note and Call_API do nothing on the device in the authors' handler and become "
        "Wait(0); Wait without a readable 'x seconds' waits 1 s; Long Press lasts 3 s; Swipe takes the authors' "
        "clamp(distance^2/1000 ms, 1-2 s). finish(message=...) is an Answer (the message is the run's result, "
        "the prompt also uses it to explain failures); an empty one a Terminate(success). "
        "Refused replies are left out of the history (the authors end the run on them) and the refusal reason "
        "is added to the current user turn. "
        "Grounding: the authors publish no grounding prompt (nor does ClawGUI-Eval for AutoGLM): the agent prompt "
        "is used."
    )

    lang: Lang = "cn"
    date: _dt.date | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lang not in _PROMPT_FILES:
            raise ConfigError(f"lang must be 'cn' or 'en', got {self.lang!r}")
        if self.platform == "computer":
            raise ConfigError("AutoGLM-Phone has no desktop prompt; use platform 'mobile'")

    # --- prompt ----------------------------------------------------------------------------------------

    def system_prompt(self) -> str:
        """The authors' system prompt for ``lang``, dated ``date`` (today by default)."""
        day = self.date or _dt.date.today()
        return load_prompt(_PROMPT_FILES[self.lang]).replace("{date}", format_date(day, self.lang), 1)

    @staticmethod
    def screen_text(app: str | None, task: str | None = None) -> str:
        """A user turn's text: the task and screen info on the first turn, screen info after."""
        info = json.dumps({"current_app": app or UNKNOWN_APP}, ensure_ascii=False)
        return f"{task}\n\n{info}" if task is not None else f"** Screen Info **\n\n{info}"

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
        *,
        current_app: str | None = None,
        history_apps: Sequence[str | None] = (),
    ) -> list[Message]:
        """PhoneAgent's conversation for the next step.

        Args:
            current_app: the foreground app's name (``"System Home"`` when not given).
            history_apps: the app of each earlier step, in order (missing ones are ``"System Home"``).
        """
        messages = [Message.text("system", self.system_prompt())]
        pending_task: str | None = task
        for i, step in enumerate(history):
            reply = self._history_reply(step)
            if reply is None:
                continue  # a refused reply: the authors' agent would have stopped; the screen is unchanged
            app = history_apps[i] if i < len(history_apps) else None
            parts: list[TextPart | ImageSlot] = [step.image] if step.image is not None else []
            parts.append(TextPart(self.screen_text(app, pending_task)))
            messages.append(Message("user", tuple(parts)))
            messages.append(Message.text("assistant", reply))
            pending_task = None
        last: list[TextPart | ImageSlot] = [
            self.current_image(screen),
            TextPart(self.screen_text(current_app, pending_task)),
        ]
        if feedback:
            last.append(TextPart(self._feedback_text(feedback)))
        messages.append(Message("user", tuple(last)))
        return messages

    def _feedback_text(self, feedback: str) -> str:
        if self.lang == "cn":
            return f"上一步的回复无法执行：{feedback}\n请按格式重新输出：<think>…</think><answer>{_EXAMPLE}</answer>"
        return (
            f"Your previous reply could not be used: {feedback}\n"
            f"Reply again as <think>…</think><answer>{_EXAMPLE}</answer>"
        )

    def _history_reply(self, step: HistoryStep) -> str | None:
        if step.error is not None:
            return None
        if step.reply.strip():
            thinking, action = split_reply(step.reply)
        else:
            calls = []
            for action_ in step.actions:
                try:
                    calls.append(self.history_text(action_))
                except ValueError:
                    continue
            if not calls:
                return None
            thinking, action = "", "\n".join(calls)
        return f"<think>{thinking}</think><answer>{action}</answer>"

    # --- parsing ---------------------------------------------------------------------------------------

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        space = self.space(screen)
        body = strip_fences(_NOISE.sub("", text))
        thought, rest = split_thinking(body)
        lead, region = _answer_region(rest)
        head = _HEAD.search(region)
        if head is None:
            if _LOOSE_HEAD.search(region):
                raise ActionParseError(f'do(...) needs action="<name>" first, e.g. {_EXAMPLE}', text)
            raise ActionParseError(
                f"the reply holds no action; reply as <think>…</think><answer>{_EXAMPLE}</answer>", text
            )
        before = region[: head.start()].strip()
        thought = "\n\n".join(t for t in (thought, lead, before) if t) or None
        call = region[head.start() :].strip()
        action, sensitive = self._to_action(head.group(1) or head.group(2), call, text, space, screen)
        return ParsedReply(text, (action,), thought, sensitive)

    def _to_action(
        self, kind: str, call: str, raw: str, space: CoordinateSpace, screen: Size
    ) -> tuple[Action, str | None]:
        s = space.name
        if kind == "finish":
            self._one_call(call, raw)
            message = _raw_value(call, "message", raw, "finish", positional=True)
            if message is None and _call_end(call) is None:
                raise ActionParseError('the finish action is cut off; write finish(message="…")', raw)
            if not (message or "").strip():
                return Terminate(status="success", space=s), None
            return Answer(text=message or "", space=s), None
        name_match = _ACTION_NAME.search(call)
        if name_match is None:
            raise ActionParseError(f'do(...) needs action="<name>" first, e.g. {_EXAMPLE}', raw)
        verb = " ".join(name_match.group(2).split())[:30]  # shown in one-line reasons
        key = _verb_key(verb)
        if key in ("type", "typename"):
            self._one_call(call, raw)
            typed = _raw_value(call, "text", raw, "Type")
            if not typed:
                raise ActionParseError('Type needs the text to enter: do(action="Type", text="…")', raw)
            try:
                return Type(text=typed, space=s), None
            except ValidationError as exc:
                raise wrap_validation(raw, "Type action", exc) from None
        builder = BUILDERS.get(key)
        if builder is None:
            raise ActionParseError(f"unknown action {verb!r}; use one of {', '.join(VERBS)}", raw)
        end = _call_end(call)
        if end is None:
            raise ActionParseError(f"the {verb} action is cut off; write the whole call, e.g. {_EXAMPLE}", raw)
        if _HEAD.search(call[end + 1 :]):
            raise ActionParseError("the reply holds several actions; write exactly one in <answer>", raw)
        parsed = parse_call(_escape_newlines_in_strings(call[: end + 1]), raw)
        try:
            action = builder(parsed.kwargs, raw, s, space, screen)
        except ValidationError as exc:
            raise wrap_validation(raw, f"{verb} action", exc) from None
        sensitive = parsed.kwargs.get("message") if key == "tap" else None
        return action, (sensitive.strip() or None) if sensitive is not None else None

    @staticmethod
    def _one_call(call: str, raw: str) -> None:
        if _NEXT_HEAD.search(call):
            raise ActionParseError("the reply holds several actions; write exactly one in <answer>", raw)

    # --- writing ---------------------------------------------------------------------------------------

    def format_action(self, action: Action, thought: str | None = None) -> str:
        return f"<think>{thought or ''}</think>\n<answer>{self.history_text(action)}"

    def history_text(self, action: Action) -> str:
        if isinstance(action, (Click, DoubleClick)) and action.x is not None and action.y is not None:
            verb = "Tap" if isinstance(action, Click) else "Double Tap"
            return f'do(action="{verb}", element=[{_num(action.x)},{_num(action.y)}])'
        if isinstance(action, LongPress):
            return f'do(action="Long Press", element=[{_num(action.x)},{_num(action.y)}])'
        if isinstance(action, (Swipe, Drag)) and action.x is not None and action.y is not None:
            start, end = f"[{_num(action.x)},{_num(action.y)}]", f"[{_num(action.x2)},{_num(action.y2)}]"
            return f'do(action="Swipe", start={start}, end={end})'
        if isinstance(action, Type):
            return f'do(action="Type", text="{action.text}")'
        if isinstance(action, OpenApp):
            return f'do(action="Launch", app="{_quote(action.name)}")'
        if isinstance(action, SystemButton) and action.button in ("back", "home"):
            return f'do(action="{action.button.capitalize()}")'
        if isinstance(action, Wait):
            return f'do(action="Wait", duration="{_num(action.seconds)} seconds")'
        if isinstance(action, Answer):
            return f'finish(message="{action.text}")'
        if isinstance(action, Terminate):
            return f'finish(message="{action.message}")'
        if isinstance(action, CallUser):
            return f'do(action="Take_over", message="{_quote(action.message)}")'
        raise ValueError(f"AutoGLM-Phone has no action for {action.type}")


def _answer_region(rest: str) -> tuple[str, str]:
    """``(text before <answer>, the answer)``; the whole rest when there is no ``<answer>`` tag."""
    if "<answer>" in rest:
        lead, _, answer = rest.partition("<answer>")
    else:
        lead, answer = "", rest
    answer = answer.split("</answer>", 1)[0]
    return lead.strip(), answer
