"""ShowUI: QUICK_START's navigation prompt, Python-literal action dicts, fractions of the screenshot.

Real replies are ShowUI's own: QUICK_START's navigation output (three dicts, trailing commas) and its
grounding output (``[0.73, 0.21]``); AITW-style names from ``data/template/aitw.py``. Expected device points
by hand: ``floor(fraction * side + 0.5)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import HistoryStep, ShowUI, get_family
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, TextPart, render_chatml
from guiagent.actions.types import (
    Answer,
    Click,
    DoubleClick,
    Drag,
    Key,
    LongPress,
    Move,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)

PHONE = Size(1080, 2400)
WEB = Size(1920, 1080)
FR = "fraction"


@pytest.fixture
def phone() -> ShowUI:
    family = get_family("showui")
    assert isinstance(family, ShowUI)
    return family


@pytest.fixture
def web() -> ShowUI:
    family = get_family("showui", platform="computer")
    assert isinstance(family, ShowUI)
    return family


def test_family_facts(phone: ShowUI) -> None:
    assert phone.space(PHONE).name == FR
    assert phone.pixel_limits == (256 * 28 * 28, 1344 * 28 * 28)  # QUICK_START's processor limits
    # 1080x2400 is over 1344*28*28: beta = sqrt(1080*2400/1053696) = 1.5681 -> 672x1512 (floored to 28s)
    assert phone.model_size(PHONE) == Size(672, 1512)


# --- real replies ------------------------------------------------------------------------------------------


def test_quick_start_navigation_output(web: ShowUI) -> None:
    reply = (
        "{'action': 'CLICK', 'value': None, 'position': [0.49, 0.42]},\n"
        "{'action': 'INPUT', 'value': 'weather for New York city', 'position': [0.49, 0.42]},\n"
        "{'action': 'ENTER', 'value': None, 'position': None}"
    )
    # 0.49*1920 = 940.8 -> 941; 0.42*1080 = 453.6 -> 454. INPUT with a position clicks there first.
    _, actions = web.parse_to_device(reply, WEB)
    assert actions == (
        Click(x=941, y=454),
        Click(x=941, y=454),
        Type(text="weather for New York city"),
        SystemButton(button="enter"),
    )


def test_quick_start_grounding_output(phone: ShowUI) -> None:
    # QUICK_START grounding: "[0.73, 0.21]" -> 0.73*1080 = 788.4 -> 788; 0.21*2400 = 504
    assert phone.parse_to_device("[0.73, 0.21]", PHONE)[1] == (Click(x=788, y=504),)


@pytest.mark.parametrize(
    "reply",
    [
        "{'action': 'TAP', 'value': None, 'position': [0.5, 0.25]}",
        '{"action": "TAP", "value": null, "position": [0.5, 0.25]}',
        "{'action': 'TAP', 'value': null, 'position': [0.5, 0.25]}",
        "```python\n{'action': 'TAP', 'value': None, 'position': [0.5, 0.25]}\n```",
        "{'action': 'tap', 'value': None, 'position': '[0.5, 0.25]'}",
        "{'Action': 'TAP', 'position': [0.5, 0.25]}",
        "{'action': 'TAP', 'value': None, 'position': [[0.4, 0.2], [0.6, 0.3]]}",
        "I will tap the search box. {'action': 'TAP', 'value': None, 'position': [0.5, 0.25]}",
    ],
)
def test_reply_shapes(phone: ShowUI, reply: str) -> None:
    # 0.5*1080 = 540; 0.25*2400 = 600 (a box's centre likewise)
    assert phone.parse_to_device(reply, PHONE)[1] == (Click(x=540, y=600),)


# --- every verb -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        ("'action': 'CLICK', 'value': None, 'position': [0.1, 0.2]", [Click(x=0.1, y=0.2, space=FR)]),
        ("'action': 'TAP', 'value': None, 'position': [0.1, 0.2]", [Click(x=0.1, y=0.2, space=FR)]),
        ("'action': 'SELECT', 'value': None, 'position': [0.1, 0.2]", [Click(x=0.1, y=0.2, space=FR)]),
        ("'action': 'INPUT', 'value': 'abc', 'position': None", [Type(text="abc")]),
        (
            "'action': 'INPUT', 'value': 'abc', 'position': [0.1, 0.2]",
            [Click(x=0.1, y=0.2, space=FR), Type(text="abc")],
        ),
        ("'action': 'TYPE', 'value': 'abc', 'position': None", [Type(text="abc")]),
        ("'action': 'INPUT', 'value': 42, 'position': None", [Type(text="42")]),
        (
            "'action': 'SWIPE', 'value': None, 'position': [[0.5, 0.8], [0.5, 0.2]]",
            [Swipe(x=0.5, y=0.8, x2=0.5, y2=0.2, space=FR)],
        ),
        (
            "'action': 'SWIPE', 'value': None, 'position': [0.5, 0.8, 0.5, 0.2]",
            [Swipe(x=0.5, y=0.8, x2=0.5, y2=0.2, space=FR)],
        ),
        ("'action': 'SCROLL', 'value': 'down', 'position': None", [Scroll(direction="down")]),
        ("'action': 'SCROLL', 'value': 'UP', 'position': [0.5, 0.5]", [Scroll(direction="up", x=0.5, y=0.5, space=FR)]),
        ("'action': 'ENTER', 'value': None, 'position': None", [SystemButton(button="enter")]),
        ("'action': 'ANSWER', 'value': 'Paris', 'position': None", [Answer(text="Paris")]),
        ("'action': 'ANSWER', 'value': 'task complete', 'position': None", [Terminate(status="success")]),
        ("'action': 'ANSWER', 'value': 'Task completed.', 'position': None", [Terminate(status="success")]),
        ("'action': 'HOVER', 'value': None, 'position': [0.1, 0.2]", [Move(x=0.1, y=0.2, space=FR)]),
        (
            "'action': 'SELECT_TEXT', 'value': None, 'position': [[0.1, 0.2], [0.3, 0.2]]",
            [Drag(x=0.1, y=0.2, x2=0.3, y2=0.2, space=FR)],
        ),
        ("'action': 'COPY', 'value': 'some text', 'position': None", [Key(keys=["ctrl", "c"])]),
        # AITW names (data/template/aitw.py)
        ("'action': 'PRESS BACK', 'value': None, 'position': None", [SystemButton(button="back")]),
        ("'action': 'PRESS HOME', 'value': None, 'position': None", [SystemButton(button="home")]),
        ("'action': 'PRESS ENTER', 'value': None, 'position': None", [SystemButton(button="enter")]),
        ("'action': 'SCROLL LEFT', 'value': None, 'position': None", [Scroll(direction="left")]),
        ("'action': 'STATUS TASK COMPLETE', 'value': None, 'position': None", [Terminate(status="success")]),
        ("'action': 'STATUS_TASK_IMPOSSIBLE', 'value': None, 'position': None", [Terminate(status="failure")]),
    ],
)
def test_every_verb(phone: ShowUI, data: str, expected: list[object]) -> None:
    want = tuple(a.model_copy(update={"space": FR}) for a in expected)  # type: ignore[attr-defined]
    assert phone.parse("{" + data + "}", PHONE).actions == want


# --- rejections ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("I cannot find the button.", "no action found; reply with {'action': 'CLICK'"),
        ("{'action': 'FLY', 'value': None, 'position': None}", "unknown action 'FLY'; use one of INPUT, SWIPE, TAP"),
        ("{'action': 'TAP', 'value': None, 'position': None}", "CLICK needs 'position': [x, y]"),
        ("{'action': 'TAP', 'value': None, 'position': [0.5]}", "position must be a point [x, y]"),
        ("{'action': 'INPUT', 'value': None, 'position': None}", "INPUT needs 'value'"),
        ("{'action': 'SWIPE', 'value': None, 'position': [0.5, 0.5]}", "SWIPE needs 'position': [[x1, y1], [x2, y2]]"),
        ("{'action': 'SCROLL', 'value': 'sideways', 'position': None}", "SCROLL needs 'value': 'up', 'down'"),
        ("{'value': None, 'position': [0.5, 0.5]}", "each action needs 'action'"),
        ("{'action': 'TAP', 'value': None, 'position': [0.5, 0.", "cut off"),
        ("{'action': 'TAP', 'position': [" + "9" * 400 + ", 0.5]}", "too large"),
        ("{'action': 'TAP', 'position': [1e999, 0.5]}", "finite"),
        ("[0.5, 0.5] or [0.6, 0.6]", "no action found"),
        ("{'action': 'TAP', 'position': [True, 0.5]}", "must be a number"),
    ],
)
def test_rejections_carry_a_one_line_reason(phone: ShowUI, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError) as info:
        phone.parse(reply, PHONE)
    assert reason in info.value.reason
    assert "\n" not in info.value.reason
    assert info.value.raw_text == reply


def test_computer_platform_names_its_own_verbs(web: ShowUI) -> None:
    with pytest.raises(ActionParseError, match="use one of CLICK, INPUT, SELECT, HOVER"):
        web.parse("{'action': 'FLY'}", WEB)


def test_relative_1000_numbers_are_out_of_range_not_rescaled(phone: ShowUI) -> None:
    with pytest.raises(CoordinateError, match="0 to 1"):
        phone.parse_to_device("{'action': 'TAP', 'value': None, 'position': [490, 420]}", PHONE)


# --- writing replies ---------------------------------------------------------------------------------------------


def test_format_action_writes_showui_dicts(phone: ShowUI, web: ShowUI) -> None:
    assert phone.format_action(Click(x=0.49, y=0.42, space=FR)) == (
        "{'action': 'TAP', 'value': None, 'position': [0.49, 0.42]}"
    )
    assert web.format_action(Click(x=0.49, y=0.42, space=FR)) == (
        "{'action': 'CLICK', 'value': None, 'position': [0.49, 0.42]}"
    )
    assert phone.history_text(Type(text="it's", space=FR)) == "{'action': 'INPUT', 'value': \"it's\", 'position': None}"
    assert phone.history_text(Terminate(space=FR)) == "{'action': 'ANSWER', 'value': 'task complete', 'position': None}"
    assert (
        web.history_text(Terminate(space=FR)) == "{'action': 'STATUS TASK COMPLETE', 'value': None, 'position': None}"
    )


@pytest.mark.parametrize(
    "action",
    [
        Click(x=0.1234, y=0.9876, space=FR),
        Move(x=0.5, y=0.5, space=FR),
        Swipe(x=0.5, y=0.8, x2=0.5, y2=0.2, space=FR),
        Drag(x=0.1, y=0.2, x2=0.3, y2=0.4, space=FR),
        Type(text="héllo 'quoted' \"double\" \\ back; 日本語"),
        Scroll(direction="down"),
        SystemButton(button="enter"),
        SystemButton(button="back"),
        SystemButton(button="home"),
        Answer(text="It's 42"),
        Terminate(status="success"),
        Terminate(status="failure"),
        Key(keys=["ctrl", "c"]),
    ],
)
@pytest.mark.parametrize("platform", ["mobile", "computer"])
def test_format_action_is_the_inverse_of_parse(platform: str, action: object) -> None:
    family = get_family("showui", platform=platform)
    model_action = action.model_copy(update={"space": FR})  # type: ignore[attr-defined]
    reply = family.format_action(model_action, thought="Tap the 'OK' button.")
    parsed = family.parse(reply, PHONE)
    assert parsed.actions == (model_action,)
    assert parsed.thought == "Tap the 'OK' button."


@pytest.mark.parametrize(
    "action",
    [DoubleClick(x=0.1, y=0.1, space=FR), LongPress(x=0.1, y=0.1, space=FR), Wait(), Key(keys=["enter"]), Click()],
)
def test_actions_showui_cannot_express(phone: ShowUI, action: object) -> None:
    with pytest.raises(ValueError):
        phone.format_action(action.model_copy(update={"space": FR}))  # type: ignore[attr-defined]


# --- prompt rendering ------------------------------------------------------------------------------------------


def test_prompt_follows_quick_start(phone: ShowUI, web: ShowUI) -> None:
    messages = phone.render("Search the weather for the New York city.", PHONE)
    assert [m.role for m in messages] == ["user"]
    system, task, image = messages[0].content
    assert isinstance(system, TextPart)
    assert system.text.startswith("You are an assistant trained to navigate the phone screen. \n")
    assert "3. `TAP`: Tap on an element" in system.text
    assert system.text.endswith("should be scaled to a range of 0-1.\n")  # _NAV_FORMAT
    assert "{'action': 'ACTION_TYPE', 'value': 'element', 'position': [x,y]}" in system.text
    assert task == TextPart("Task: Search the weather for the New York city.\n")
    assert image == ImageSlot("current", 672, 1512)
    web_system = web.render("x", WEB)[0].content[0]
    assert isinstance(web_system, TextPart)
    assert "navigate the web screen" in web_system.text and "8. `SELECT_TEXT`" in web_system.text


def test_history_is_action_text_and_images_only_where_given(phone: ShowUI) -> None:
    history = [
        HistoryStep(actions=(Click(x=0.5, y=0.5, space=FR),)),
        HistoryStep(actions=(), error="no action found"),
        HistoryStep(
            actions=(Click(x=0.1, y=0.2, space=FR), Type(text="hi", space=FR)),
            image=ImageSlot("step-3", 336, 756),
        ),
    ]
    messages = phone.render("task", PHONE, history, feedback="unknown action 'FLY'")
    content = messages[0].content
    assert content[2] == TextPart("{'action': 'TAP', 'value': None, 'position': [0.5, 0.5]}")
    assert content[3] == ImageSlot("step-3", 336, 756)
    assert content[4] == TextPart(
        "{'action': 'TAP', 'value': None, 'position': [0.1, 0.2]},{'action': 'INPUT', 'value': 'hi', 'position': None}"
    )
    assert content[5] == ImageSlot("current", 672, 1512)
    assert isinstance(content[6], TextPart)
    assert "Your previous reply was not a valid action: unknown action 'FLY'" in content[6].text
    text = render_chatml(messages)
    assert text.count("<|vision_start|>") == 2


# --- grounding: the authors' request (tests/data/grounding_official, made by running their code) ------------

GROUNDING_DATA = Path(__file__).resolve().parents[1] / "data" / "grounding_official"


def _grounding_golden(file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GROUNDING_DATA / file).read_text(encoding="utf-8"))
    return loaded


def _grounding_shape(messages: list[Any]) -> list[tuple[str, list[Any]]]:
    """Roles and ordered parts: texts exact, images by the size the model sees."""
    return [
        (m.role, [p.text if isinstance(p, TextPart) else ("image", p.width, p.height) for p in m.content])
        for m in messages
    ]


def _golden_shape(case: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    return [
        (m["role"], [p["text"] if p["type"] == "text" else ("image", *p["model_size"]) for p in m["content"]])
        for m in case["messages"]
    ]


@pytest.mark.parametrize("platform", ["mobile", "computer"])
@pytest.mark.parametrize("index", range(4))
def test_grounding_request_equals_screenspot_to_qwen(platform: str, index: int) -> None:
    case = _grounding_golden("showui.json")["cases"][index]
    family = get_family("showui", platform=platform)
    screen = Size(*case["screen"])
    assert case["quick_start_system_equals_eval"]
    assert _grounding_shape(family.grounding_messages(case["instruction"], screen)) == _golden_shape(case)


@pytest.mark.parametrize("index", range(2))
def test_grounding_published_answer_maps_as_quick_start_draws_it(phone: ShowUI, index: int) -> None:
    # QUICK_START: [0.73, 0.21]; its draw_point puts it at 0.73 * width, 0.21 * height
    published = _grounding_golden("showui.json")["published"][index]
    screen = Size(*published["screen"])
    point = phone.parse_grounding(published["reply"], screen)
    assert point == (0.73, 0.21)
    assert phone.space(screen).to_device(*point, screen) == tuple(round(v) for v in published["device_point_exact"])


@pytest.mark.parametrize(
    "answer, point",
    [
        ("[0.73, 0.21]", (0.73, 0.21)),
        ("[0.7, 0.2, 0.76, 0.22]", (0.73, 0.21)),
        ("```\n[0.73, 0.21]\n```", (0.73, 0.21)),
        ("{'action': 'CLICK', 'value': None, 'position': [0.73, 0.21]}", (0.73, 0.21)),
    ],
)
def test_grounding_answer_forms(phone: ShowUI, answer: str, point: tuple[float, float]) -> None:
    got = phone.parse_grounding(answer, PHONE)
    assert got == pytest.approx(point)


@pytest.mark.parametrize("answer", ["It is at the top.", "[0.1, 0.2] or [0.3, 0.4]", "[]", "[0.5]"])
def test_grounding_answers_without_one_point_are_refused(phone: ShowUI, answer: str) -> None:
    with pytest.raises(ActionParseError) as caught:
        phone.parse_grounding(answer, PHONE)
    assert "\n" not in caught.value.reason


def test_format_grounding_writes_a_literal_list(phone: ShowUI) -> None:
    assert phone.format_grounding(0.73, 0.21, PHONE) == "[0.73, 0.21]"
    assert phone.format_grounding(0.123456, 0.5, PHONE) == "[0.1235, 0.5]"
    assert "screenspot_to_qwen" in phone.choices and "21ed7cb" in phone.source
