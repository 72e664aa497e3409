"""Qwen2-VL and OS-Atlas (built on it): relative coordinates in ``[0, 1000)``, OS-Atlas-Pro's action language.

The prompt is OS-Atlas-Pro-7B's "Executable Language Grounding" system text (``qwen2vl_os_atlas_pro.txt``),
laid out as its model card does: one user turn holding the system text, the screenshot, then
``Task instruction: ...`` and ``History: ...``. The model answers ``thoughts:\\n...\\nactions:\\nCLICK
<point>[[x, y]]</point>``. The text is the model card's, taken from verbatim copies of it (the card itself
was not reachable here); OS-Atlas' own ``eval/data/*.jsonl`` carry the same wording with per-benchmark
action lists. History follows those files: ``History: null``, else ``Step N: <action>`` lines.

The parser also reads plain Qwen2-VL / OS-Atlas-Base grounding answers, because the same checkpoint family
answers that way when it ignores the action prompt: ``<|object_ref_start|>label<|object_ref_end|>
<|box_start|>(x1,y1),(x2,y2)<|box_end|>``, the same with the special tokens stripped (``label(x1,y1),(x2,y2)``,
what vLLM returns by default), a bare ``(x,y)``, with or without a verb in front. A bare grounding answer
means a click; a box means its centre.
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
    Click,
    DoubleClick,
    Key,
    LongPress,
    Move,
    OpenApp,
    RightClick,
    Scroll,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from ._text import point_in_text, strip_fences
from .base import HistoryStep, ModelFamily, ParsedReply, Platform, load_prompt, wrap_validation

__all__ = ["Qwen2VL"]

PROMPT_FILE = "qwen2vl_os_atlas_pro.txt"
GROUNDING_FILE = "qwen2vl_os_atlas_grounding.txt"
"""OS-Atlas-Base-7B's grounding question (README), with ``{instruction}`` where the command goes."""
GROUNDING_FORM = "<|object_ref_start|>element<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>"
REPLY_FORM = "thoughts:\n<your reasoning>\nactions:\nCLICK <point>[[x, y]]</point>"
"""The reply OS-Atlas-Pro writes, with its real line breaks: what the feedback after a refused reply shows."""
EXPECTED = "a 'thoughts:' line, your reasoning, an 'actions:' line, then the action, e.g. CLICK <point>[[x, y]]</point>"
"""The same form in one line, for error reasons (a reason is one line; the feedback adds ``REPLY_FORM``)."""
_END_TOKENS = re.compile(r"<\|(?:im_end|endoftext)\|>")
_ACTIONS_HEADER = re.compile(r"(?im)^[ \t]*actions?[ \t]*:[ \t]*\n?")
_THOUGHTS_HEADER = re.compile(r"(?i)^\s*thoughts?\s*:\s*")
_KEYS = {"PGDN": "pagedown", "PGUP": "pageup", "ESC": "escape", "DEL": "delete"}

_Builder = Callable[[str, str, str], Action]


def _point_verb(kind: type[Click | DoubleClick | RightClick | LongPress | Move]) -> _Builder:
    def build(arg: str, raw: str, space: str) -> Action:
        x, y = point_in_text(arg, "the position", raw, label=True)
        return kind(x=x, y=y, space=space)

    return build


def _bracketed(arg: str, verb: str, raw: str) -> str:
    """The text inside ``[...]`` (or the bare text); OS-Atlas writes ``TYPE [text]``."""
    text = arg.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    elif text.startswith("["):
        text = text[1:]
    if not text.strip():
        raise ActionParseError(f"{verb} needs text in brackets, e.g. {verb} [Google Chrome]", raw)
    return text


def _scroll(arg: str, raw: str, space: str) -> Action:
    direction = _bracketed(arg, "SCROLL", raw).strip().lower()
    if direction not in ("up", "down", "left", "right"):
        raise ActionParseError(f"SCROLL needs [UP], [DOWN], [LEFT] or [RIGHT], got {arg.strip()[:40]!r}", raw)
    return Scroll(direction=direction, space=space)  # type: ignore[arg-type]


def _hotkey(arg: str, raw: str, space: str) -> Action:
    keys = [k for k in re.split(r"[\s_+]+", _bracketed(arg, "HOTKEY", raw).strip()) if k]
    return Key(keys=[_KEYS.get(k.upper(), k.lower()) for k in keys], space=space)


def _no_arg(make: Callable[[str], Action]) -> _Builder:
    return lambda arg, raw, space: make(space)


BUILDERS: dict[str, _Builder] = {
    "CLICK": _point_verb(Click),
    "TAP": _point_verb(Click),
    "LONG_PRESS": _point_verb(LongPress),
    "DOUBLECLICK": _point_verb(DoubleClick),
    "DOUBLE_CLICK": _point_verb(DoubleClick),
    "RIGHTCLICK": _point_verb(RightClick),
    "RIGHT_CLICK": _point_verb(RightClick),
    "MOVETO": _point_verb(Move),
    "HOVER": _point_verb(Move),
    "TYPE": lambda arg, raw, space: Type(text=_bracketed(arg, "TYPE", raw), space=space),
    "SCROLL": _scroll,
    "OPEN_APP": lambda arg, raw, space: OpenApp(name=_bracketed(arg, "OPEN_APP", raw).strip(), space=space),
    "HOTKEY": _hotkey,
    "PRESS_BACK": _no_arg(lambda s: SystemButton(button="back", space=s)),
    "PRESS_HOME": _no_arg(lambda s: SystemButton(button="home", space=s)),
    "PRESS_RECENT": _no_arg(lambda s: SystemButton(button="recents", space=s)),
    "ENTER": _no_arg(lambda s: SystemButton(button="enter", space=s)),
    "WAIT": _no_arg(lambda s: Wait(space=s)),
    "COMPLETE": _no_arg(lambda s: Terminate(status="success", space=s)),
    "IMPOSSIBLE": _no_arg(lambda s: Terminate(status="failure", space=s)),
}
"""OS-Atlas verbs: the Pro prompt's, plus those of its AndroidControl, GUI-Odyssey and OmniAct prompts."""


def _press(name: str) -> _Builder:
    key = _KEYS.get(name, name.lower())
    return lambda arg, raw, space: Key(keys=[key], space=space)


BUILDERS |= {f"PRESS_{k}": _press(k) for k in ("SPACE", "TAB", "ESC", "PGDN", "PGUP", "DOWN", "UP", "LEFT", "RIGHT")}
BUILDERS["PRESS_ENTER"] = _press("ENTER")
_VERB = re.compile(r"^\s*([A-Za-z_]+)(?![A-Za-z_])")
_STATEMENT_START = re.compile(r"\n(?=[ \t]*(?:" + "|".join(sorted(BUILDERS, key=len, reverse=True)) + r")\b)", re.I)


@dataclass(frozen=True)
class Qwen2VL(ModelFamily):
    """Qwen2-VL-7B-Instruct and OS-Atlas-Pro/Base-7B: OS-Atlas-Pro's action prompt, ``[0, 1000)`` coordinates."""

    platforms: ClassVar[tuple[Platform, ...]] = ("mobile", "computer")
    name: ClassVar[str] = "qwen2-vl"
    summary: ClassVar[str] = "Qwen2-VL / OS-Atlas-Pro: CLICK <point>[[x, y]]</point>, relative 0-1000"
    source: ClassVar[str] = (
        "OS-Copilot/OS-Atlas README and eval/data/*.jsonl (OS-Atlas-Pro-7B model card prompt); grounding: "
        "OS-Copilot/OS-Atlas@bad08407ab54b5bf6c17a69fe1ced476b9494926 README.md (OS-Atlas-Base-7B inference example)"
    )
    choices: ClassVar[str] = (
        "Grounding ('official' prompt): OS-Atlas-Base-7B's README example, the only grounding request the "
        "authors publish for the Qwen2-VL checkpoint (their ScreenSpot scripts are not in the repo; ClawGUI-Eval "
        "has no OS-Atlas entry): one user turn, the screenshot, then 'In this UI screenshot, what is the position "
        'of the element corresponding to the command "{instruction}" (with bbox)?\'; no system turn (the chat '
        "template adds Qwen2-VL's default one), images at qwen-vl-utils' default limits, max_new_tokens 128, "
        "special tokens kept (the README decodes with skip_special_tokens=False). The answer "
        "'<|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>' is relative 0-1000 "
        "of the image (README note); its box centre is the point; the same with the special tokens stripped, a "
        "point (x,y) and an agent-format reply are read too. The authors publish no pixel mapping: "
        "round(v / 1000 * side), as the agent."
    )
    space_kind: ClassVar[str] = "relative-1000"
    default_history_images: ClassVar[int] = 0
    needs_special_tokens: ClassVar[bool] = True

    def system_prompt(self) -> str:
        """OS-Atlas-Pro's system text (it ends with ``Screenshot: `` and is followed by the image)."""
        return load_prompt(PROMPT_FILE)

    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        content: list[TextPart | ImageSlot] = [TextPart(self.system_prompt()), self.current_image(screen)]
        text = f"Task instruction: {task}\nHistory: "
        if not history:
            text += "null"
        else:
            text += "\n"
            for i, step in enumerate(history, start=1):
                text += f"Step {i}: "
                if step.image is not None:
                    content.append(TextPart(text))
                    content.append(step.image)
                    text = " "
                text += "; ".join(self.history_text(a) for a in step.actions) or "no valid action"
                text += "\n"
        if feedback:
            text += (
                f"\nYour previous reply was not a valid action: {feedback}\nReply again with the two sections, e.g.\n"
            )
            text += REPLY_FORM
        content.append(TextPart(text))
        return [Message("user", tuple(content))]

    def parse(self, text: str, screen: Size) -> ParsedReply:
        self.check_reply(text)
        space = self.space(screen).name
        body = strip_fences(_END_TOKENS.sub("", text)).strip()
        header = _ACTIONS_HEADER.search(body)
        thought: str | None = None
        if header:
            thought = _THOUGHTS_HEADER.sub("", body[: header.start()]).strip() or None
            body = body[header.end() :].strip()
            if not body:
                raise ActionParseError(f"the actions section is empty; reply with {EXPECTED}", text)
        actions: list[Action] = []
        for statement in _STATEMENT_START.split(body):
            if statement.strip():
                actions.append(self._statement(statement, text, space, grounding_ok=not header))
        if not actions:
            raise ActionParseError(f"no action found; reply with {EXPECTED}", text)
        return ParsedReply(text, tuple(actions), thought)

    def _statement(self, statement: str, raw: str, space: str, grounding_ok: bool) -> Action:
        verb_match = _VERB.match(statement)
        verb = verb_match.group(1).upper() if verb_match else ""
        builder = BUILDERS.get(verb)
        try:
            if builder is not None and verb_match is not None:
                return builder(statement[verb_match.end() :], raw, space)
            if grounding_ok:
                x, y = self._grounding_point(statement, raw)
                return Click(x=x, y=y, space=space)
        except ValidationError as exc:
            raise wrap_validation(raw, f"{verb or 'grounding'} action", exc) from None
        if verb:
            raise ActionParseError(f"unknown action {verb[:30]!r}; use one of {', '.join(PRO_VERBS)}", raw)
        raise ActionParseError(f"no action found; reply with {EXPECTED}", raw)

    def _grounding_point(self, statement: str, raw: str) -> tuple[float, float]:
        """A grounding answer: ``label(x1,y1),(x2,y2)``, ``(x,y)``, ``<|box_start|>...``; nothing else."""
        if not re.search(r"[(\[]\s*-?[\d.]", statement):
            raise ActionParseError(f"no action found; reply with {EXPECTED}", raw)
        return point_in_text(statement, "the grounding answer", raw, label=True)

    # --- grounding (OS-Atlas-Base-7B) ---------------------------------------------------------------

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """OS-Atlas-Base-7B's grounding request (README): the screenshot, then the "(with bbox)" question."""
        text = load_prompt(GROUNDING_FILE).replace("{instruction}", instruction)
        return [Message("user", (self.current_image(screen), TextPart(text)))]

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """The box (its centre) or point of a grounding answer, relative 0-1000; special tokens optional.

        Raises:
            ActionParseError: the answer names no box or point.
        """
        self.check_reply(text)
        body = strip_fences(_END_TOKENS.sub("", text)).strip()
        try:
            return point_in_text(body, "the grounding answer", text, label=True)
        except ActionParseError:
            pass
        try:  # the action form (OS-Atlas-Pro answering in its own language)
            reply = self.parse(text, screen)
        except ActionParseError:
            reply = None
        for action in reply.actions if reply else ():
            for _, _, x, y in action.points():
                return float(x), float(y)
        raise ActionParseError(f"the answer names no box; reply with {GROUNDING_FORM} (0-1000 of the image)", text)

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """OS-Atlas-Base's answer for a point: a box whose centre it is (both corners on the point)."""
        corner = f"({_num(x)},{_num(y)})"
        return f"<|object_ref_start|>element<|object_ref_end|><|box_start|>{corner},{corner}<|box_end|>"

    def format_action(self, action: Action, thought: str | None = None) -> str:
        body = f"actions:\n{self.history_text(action)}"
        return f"thoughts:\n{thought}\n{body}" if thought else body

    def history_text(self, action: Action) -> str:
        point_verbs = {
            "click": "CLICK",
            "long_press": "LONG_PRESS",
            "double_click": "DOUBLECLICK",
            "right_click": "RIGHTCLICK",
            "move": "MOVETO",
        }
        if action.type in point_verbs:
            points = list(action.points())
            if not points:
                raise ValueError(f"OS-Atlas cannot express a {action.type} without a point")
            _, _, x, y = points[0]
            return f"{point_verbs[action.type]} <point>[[{_num(x)}, {_num(y)}]]</point>"
        if isinstance(action, Type):
            return f"TYPE [{action.text}]"
        if isinstance(action, Scroll):
            return f"SCROLL [{action.direction.upper()}]"
        if isinstance(action, OpenApp):
            return f"OPEN_APP [{action.name}]"
        if isinstance(action, SystemButton) and action.button in _BUTTONS:
            return _BUTTONS[action.button]
        if isinstance(action, Key) and [k.lower() for k in action.keys] == ["enter"]:
            return "ENTER"
        if isinstance(action, Wait):
            return "WAIT"
        if isinstance(action, Terminate):
            return "COMPLETE" if action.status == "success" else "IMPOSSIBLE"
        raise ValueError(f"OS-Atlas-Pro's action language cannot express {action.type}")


PRO_VERBS = "CLICK TYPE SCROLL LONG_PRESS OPEN_APP PRESS_BACK PRESS_HOME PRESS_RECENT ENTER WAIT COMPLETE".split()
_BUTTONS = {"back": "PRESS_BACK", "home": "PRESS_HOME", "recents": "PRESS_RECENT", "enter": "ENTER"}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
