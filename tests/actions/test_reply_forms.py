"""Reply forms real models write, and what a refused reply tells the model.

* The hint sent back after a refused reply shows the expected form with real line breaks (or none): it used
  to read ``reply as thoughts:\\n<your reasoning>...``, a backslash and an ``n`` the model would copy.
* ``qwen2.5-vl-computer`` scrolls by ``pixels`` with no bound in the official schema; public agent code sends
  ±300 and −500. They map to wheel notches, and no error names a field the model never saw.
* UI-TARS writes ``Action：`` (and ``Thought：``) with a full-width colon (UI-TARS-desktop PR #825).
"""

from __future__ import annotations

import re

import pytest

from guiagent.actions.errors import ActionParseError
from guiagent.actions.families import FAMILIES, get_family
from guiagent.actions.families.qwen25vl import PIXELS_PER_NOTCH
from guiagent.actions.geometry import Size
from guiagent.actions.messages import TextPart
from guiagent.actions.types import Click, Scroll, Type, Wait

SCREEN = Size(1080, 2400)
DESKTOP = Size(1920, 1080)

BAD_REPLIES = [
    "I think the task is done.",
    "thoughts:\nI should tap OK.\nactions:\n",
    "thoughts: tap OK\nactions: FLY",
    "Thought: I will click the OK button.",
    "Thought: submit\nAction: ",
    "Thought: type it\nAction: type()",
    "Action: fly(start_box='(1,2)')",
    '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [93',
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "fly"}}\n</tool_call>',
    "{'action': 'FLY', 'value': None, 'position': None}",
    "{'action': 'CLICK', 'value': None",
    "CLICK",
    'do(action="Fly")',
    "   ",
]
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def _outside_quotes(text: str) -> str:
    """The text without quoted examples: ``content='hello\\n'`` is the escape the model must write."""
    return _QUOTED.sub("''", text)


def _texts(messages) -> str:
    return "".join(part.text for m in messages for part in m.content if isinstance(part, TextPart))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_refusal_hints_have_real_line_breaks(name: str) -> None:
    family = get_family(name)
    screen = DESKTOP if family.active_platform == "computer" else SCREEN
    reasons = []
    for reply in BAD_REPLIES:
        try:
            family.parse(reply, screen)
        except ActionParseError as exc:
            reasons.append(exc.reason)
    assert reasons, "no bad reply was refused"
    plain = _texts(family.render("Open Settings", screen))
    for reason in reasons:
        assert "\\n" not in _outside_quotes(reason), reason
        sent = _texts(family.render("Open Settings", screen, feedback=reason))
        assert len(sent) > len(plain), "the feedback never reached the prompt"
        added = sent.count("\\n") - plain.count("\\n")
        assert added == reason.count("\\n"), (reason, sent[-400:])  # only the reason's own quoted escapes


def test_the_form_hints_name_the_form() -> None:
    """The words the fix relies on: each multi-line form is shown, one section per line."""
    os_atlas = get_family("qwen2-vl")
    with pytest.raises(ActionParseError) as refused:
        os_atlas.parse("I think the task is done.", SCREEN)
    sent = _texts(os_atlas.render("x", SCREEN, feedback=refused.value.reason))
    assert "thoughts:\n" in sent and "\nactions:\nCLICK <point>[[x, y]]</point>" in sent
    tars = get_family("ui-tars-1.5")
    with pytest.raises(ActionParseError) as refused:
        tars.parse("Thought: I will click the OK button.", SCREEN)
    assert "Action:" in refused.value.reason
    sent = _texts(tars.render("x", SCREEN, feedback=refused.value.reason))
    assert "\nThought: ...\nAction: click(point='<point>x y</point>')" in sent


def _computer_call(arguments: str) -> str:
    return f'<tool_call>\n{{"name": "computer_use", "arguments": {arguments}}}\n</tool_call>'


@pytest.mark.parametrize(
    ("pixels", "direction", "notches"),
    [(-500, "down", 5), (300, "up", 3), (-300, "down", 3), (100, "up", 1), (-5, "down", 1), (250, "up", 3)],
)
def test_computer_use_scroll_pixels_become_wheel_notches(pixels: int, direction: str, notches: int) -> None:
    family = get_family("qwen2.5-vl-computer")
    space = family.space(DESKTOP).name
    reply = _computer_call(f'{{"action": "scroll", "pixels": {pixels}, "coordinate": [966, 546]}}')
    assert family.parse(reply, DESKTOP).actions == (
        Scroll(direction=direction, amount=notches, x=966, y=546, space=space),
    )


@pytest.mark.parametrize("notches", [1, 3, 5, 100])
@pytest.mark.parametrize("direction", ["up", "down"])
def test_computer_use_scroll_round_trip(direction: str, notches: int) -> None:
    family = get_family("qwen2.5-vl-computer")
    space = family.space(DESKTOP).name
    action = Scroll(direction=direction, amount=notches, x=10, y=20, space=space)
    written = family.format_action(action)
    sign = 1 if direction == "up" else -1
    assert f'"pixels": {sign * notches * PIXELS_PER_NOTCH}' in written
    assert family.parse(written, DESKTOP).actions == (action,)


@pytest.mark.parametrize(
    ("arguments", "named", "never"),
    [
        ('{"action": "scroll", "pixels": 20000}', "pixels", "amount"),
        ('{"action": "scroll", "pixels": 0}', "pixels", "amount"),
        ('{"action": "wait", "time": 5000}', "time", "seconds"),
        ('{"action": "left_click", "coordinate": [NaN, 5]}', "coordinate", "x must"),
    ],
)
def test_computer_use_errors_name_only_the_models_fields(arguments: str, named: str, never: str) -> None:
    family = get_family("qwen2.5-vl-computer")
    with pytest.raises(ActionParseError) as refused:
        family.parse(_computer_call(arguments), DESKTOP)
    assert named in refused.value.reason and never not in refused.value.reason, refused.value.reason


@pytest.mark.parametrize(
    ("arguments", "named", "never"),
    [
        ('{"action": "long_press", "coordinate": [5, 5], "time": 100}', "time", "duration"),
        ('{"action": "wait", "time": -1}', "time", "seconds"),
        ('{"action": "swipe", "coordinate": [5, 5], "coordinate2": [Infinity, 5]}', "coordinate2", "x2"),
    ],
)
def test_mobile_use_errors_name_only_the_models_fields(arguments: str, named: str, never: str) -> None:
    family = get_family("qwen2.5-vl-mobile")
    reply = f'<tool_call>\n{{"name": "mobile_use", "arguments": {arguments}}}\n</tool_call>'
    with pytest.raises(ActionParseError) as refused:
        family.parse(reply, SCREEN)
    assert named in refused.value.reason and never not in refused.value.reason, refused.value.reason


@pytest.mark.parametrize("name", ["ui-tars", "ui-tars-1.5"])
@pytest.mark.parametrize(
    "reply",
    [
        "Thought：点击确定按钮。\nAction：click(start_box='(100,200)')",
        "Thought: click OK\nAction：click(start_box='(100,200)')",
        "Thought：click OK\nAction: click(start_box='(100,200)')",
        "Action：click(start_box='(100,200)')",
        "Thought：click OK Action：click(start_box='(100,200)')",
    ],
)
def test_ui_tars_full_width_colons(name: str, reply: str) -> None:
    family = get_family(name)
    space = family.space(SCREEN).name
    parsed = family.parse(reply, SCREEN)
    assert parsed.actions == (Click(x=100, y=200, space=space),)
    assert parsed.thought is None or ("：" not in parsed.thought and "Action" not in parsed.thought)


def test_ui_tars_full_width_colons_between_several_calls() -> None:
    family = get_family("ui-tars-1.5")
    space = family.space(SCREEN).name
    reply = "Thought：先点输入框再输入\nAction：click(point='<point>10 20</point>')\nAction：type(content='hi')"
    assert family.parse(reply, SCREEN).actions == (Click(x=10, y=20, space=space), Type(text="hi", space=space))
    assert family.parse(reply, SCREEN).thought == "先点输入框再输入"


def test_wait_time_from_the_model_is_kept() -> None:
    """The field translation leaves valid values alone."""
    family = get_family("qwen2.5-vl-computer")
    reply = _computer_call('{"action": "wait", "time": 3}')
    assert family.parse(reply, DESKTOP).actions == (Wait(seconds=3, space=family.space(DESKTOP).name),)


@pytest.mark.parametrize(
    ("name", "reply", "named", "never"),
    [
        ("ui-tars-1.5", "Action: long_press(point='<point>5 5</point>', time='100')", "time", "duration"),
        ("ui-tars", "Action: long_press(start_box='(5,5)', time='-1')", "time", "duration"),
        ("ui-tars-1.5", "Action: hotkey(key='a b c d e f g h')", "key", "keys"),
        ("ui-tars-1.5", "Action: click()", "point='<point>x y</point>'", "start_box"),
        ("ui-tars-1.5", "Action: click(point='<point>x y</point>')", "point", "start_box"),
        ("ui-tars-1.5", "Action: drag(start_point='<point>1 2</point>', end_point='=')", "end_point", "end_box"),
        ("ui-tars", "Action: click()", "start_box='(x,y)'", "point="),
    ],
)
def test_ui_tars_errors_use_the_prompts_words(name: str, reply: str, named: str, never: str) -> None:
    with pytest.raises(ActionParseError) as refused:
        get_family(name).parse(reply, SCREEN)
    assert named in refused.value.reason and never not in refused.value.reason, refused.value.reason
