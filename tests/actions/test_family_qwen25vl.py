"""Qwen2.5-VL tool-call families: the cookbook prompt byte for byte, and replies as models really write them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import HistoryStep, get_family
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
    OpenApp,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)

# A copy of ../shared/reference/qwen25vl_mobile_use_1092x2408.prompt.txt: the official cookbook's rendering.
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "qwen25vl_mobile_use_1092x2408.prompt.txt"
PHONE = Size(1080, 2400)
TASK = "Open the file manager app and view the au_uu_SzH3yR2.mp3 file in MUSIC Folder"


@pytest.fixture
def mobile():
    return get_family("qwen2.5-vl-mobile")


@pytest.fixture
def computer():
    return get_family("qwen2.5-vl-computer")


def _reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def test_system_turn_matches_the_cookbook_byte_for_byte(mobile) -> None:
    reference = _reference_text()
    system_turn = reference.split("<|im_start|>system\n", 1)[1].split("<|im_end|>", 1)[0]
    assert mobile.system_prompt(PHONE) == system_turn


def test_whole_prompt_with_history_matches_the_cookbook(mobile) -> None:
    space = mobile.space(PHONE).name
    history = [HistoryStep(actions=(OpenApp(name="File Manager", space=space),))]
    assert render_chatml(mobile.render(TASK, PHONE, history)) == _reference_text()


def test_prompt_states_the_resized_resolution(mobile) -> None:
    small = get_family("qwen2.5-vl-mobile", max_pixels=1280 * 28 * 28)
    assert "The screen's resolution is 672x1484." in small.system_prompt(PHONE)
    messages = small.render("task", PHONE)
    slots = [s for m in messages for s in m.images()]
    assert slots == [ImageSlot("current", 672, 1484)]


def test_feedback_is_sent_back_in_the_user_turn(mobile) -> None:
    text = render_chatml(mobile.render("task", PHONE, feedback="no tool call found"))
    assert "Your previous reply was not a valid action: no tool call found" in text


@pytest.mark.parametrize(
    "reply",
    [
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\n</tool_call>',
        '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}</tool_call>',
        '```json\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\n'
        "</tool_call>\n```",
        'I will tap the folder.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", '
        '"coordinate": [935, 406]}}\n</tool_call>\nDone.',
        '<tool_call>\n{\\"name\\": \\"mobile_use\\", \\"arguments\\": {\\"action\\": \\"click\\", '
        '\\"coordinate\\": [935, 406]}}\n</tool_call>',
        '```json\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\n```',
        '<tool_call>\n{"name": "mobile_use", "arguments": "{\\"action\\": \\"click\\", \\"coordinate\\": [935, 406]}"}'
        "\n</tool_call>",
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": "[935, 406]"}}\n</tool_call>',
    ],
    ids=["cookbook", "no-newlines", "fenced", "prose", "escaped-quotes", "bare-json", "string-args", "string-point"],
)
def test_click_survives_real_reply_shapes(mobile, reply: str) -> None:
    _, actions = mobile.parse_to_device(reply, PHONE)
    assert actions == (Click(x=925, y=405),)


def test_thought_before_the_call_is_kept(mobile) -> None:
    reply = mobile.parse(
        'Tap the folder.\n<tool_call>\n{"name": "mobile_use", "arguments": '
        '{"action": "system_button", "button": "Back"}}\n</tool_call>',
        PHONE,
    )
    assert reply.thought == "Tap the folder."
    assert reply.actions[0].button == "back"


def test_several_calls_in_one_reply(mobile) -> None:
    reply = (
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [546, 1204]}}\n'
        '</tool_call>\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "type", "text": "日本語 ✓"}}\n'
        "</tool_call>"
    )
    _, actions = mobile.parse_to_device(reply, PHONE)
    assert actions == (Click(x=540, y=1200), Type(text="日本語 ✓"))


def test_every_mobile_verb(mobile) -> None:
    space = mobile.space(PHONE).name
    cases = {
        '{"action": "key", "text": "volume_up"}': Key(keys=["volume_up"], space=space),
        '{"action": "long_press", "coordinate": [10, 20], "time": 2}': LongPress(x=10, y=20, duration=2, space=space),
        '{"action": "swipe", "coordinate": [10, 20], "coordinate2": [30, 40]}': Swipe(
            x=10, y=20, x2=30, y2=40, space=space
        ),
        '{"action": "type", "text": "a; rm -rf / $(reboot)"}': Type(text="a; rm -rf / $(reboot)", space=space),
        '{"action": "system_button", "button": "Home"}': SystemButton(button="home", space=space),
        '{"action": "open", "text": "Settings"}': OpenApp(name="Settings", space=space),
        '{"action": "wait", "time": 3}': Wait(seconds=3, space=space),
        '{"action": "terminate", "status": "failure"}': Terminate(status="failure", space=space),
        '{"action": "answer", "text": "42"}': Answer(text="42", space=space),
    }
    for arguments, expected in cases.items():
        reply = f'<tool_call>\n{{"name": "mobile_use", "arguments": {arguments}}}\n</tool_call>'
        assert mobile.parse(reply, PHONE).actions == (expected,), arguments


def test_every_computer_verb(computer) -> None:
    screen = Size(1920, 1080)
    space = computer.space(screen).name
    assert space == "pixels-1932x1092"
    cases = {
        '{"action": "key", "keys": ["ctrl", "c"]}': Key(keys=["ctrl", "c"], space=space),
        '{"action": "left_click", "coordinate": [100, 200]}': Click(x=100, y=200, space=space),
        '{"action": "left_click"}': Click(space=space),
        '{"action": "double_click", "coordinate": [1, 2]}': DoubleClick(x=1, y=2, space=space),
        '{"action": "mouse_move", "coordinate": [5, 6]}': Move(x=5, y=6, space=space),
        '{"action": "left_click_drag", "coordinate": [7, 8]}': Drag(x2=7, y2=8, space=space),
        '{"action": "scroll", "pixels": -500}': Scroll(direction="down", amount=5, space=space),
        '{"action": "scroll", "pixels": 300, "coordinate": [9, 9]}': Scroll(
            direction="up", amount=3, x=9, y=9, space=space
        ),
        '{"action": "type", "text": "hello"}': Type(text="hello", space=space),
        '{"action": "terminate", "status": "success"}': Terminate(status="success", space=space),
    }
    for arguments, expected in cases.items():
        reply = f'<tool_call>\n{{"name": "computer_use", "arguments": {arguments}}}\n</tool_call>'
        assert computer.parse(reply, screen).actions == (expected,), arguments


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("I think the task is done.", "no tool call found"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [93', "cut off"),
        ('<tool_call>\n{"name": "web_use", "arguments": {"action": "click"}}\n</tool_call>', "unknown tool"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "fly"}}\n</tool_call>', "unknown action 'fly'"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click"}}\n</tool_call>', "needs 'coordinate'"),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1]}}\n</tool_call>',
            "must be a point",
        ),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "wait", "time": -2}}\n</tool_call>',
            "greater than or equal to 0",
        ),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "type", "text": ""}}\n</tool_call>',
            "non-empty string",
        ),
        ('<tool_call>\n{"name": "mobile_use", "arguments": [1, 2]}\n</tool_call>', "must be a JSON object"),
        ("", "empty"),
        ("x" * 30_000, "characters long"),
    ],
)
def test_bad_replies_raise_one_typed_error_with_a_reason(mobile, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError) as info:
        mobile.parse(reply, PHONE)
    assert reason in info.value.reason
    assert "\n" not in info.value.reason
    assert info.value.raw_text == reply[:2000] if len(reply) > 20_000 else info.value.raw_text == reply


def test_point_outside_the_resized_image_is_a_coordinate_error(mobile) -> None:
    reply = (
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1093, 10]}}\n</tool_call>'
    )
    with pytest.raises(CoordinateError, match="0 to 1092"):
        mobile.parse_to_device(reply, PHONE)


def test_history_uses_the_cookbook_step_format(mobile) -> None:
    space = mobile.space(PHONE).name
    history = [
        HistoryStep(actions=(Click(x=1, y=2, space=space),)),
        HistoryStep(actions=(), error="no tool call found"),
    ]
    text = render_chatml(mobile.render("task", PHONE, history))
    assert (
        'Step 1: {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1, 2]}}; '
        "Step 2: no valid action; <|vision_start|>"
    ) in text


def test_earlier_screenshots_sit_after_their_step_number(mobile) -> None:
    space = mobile.space(PHONE).name
    history = [
        HistoryStep(actions=(Click(x=1, y=2, space=space),)),
        HistoryStep(actions=(Click(x=3, y=4, space=space),), image=ImageSlot("step-2", 546, 1204)),
    ]
    text = render_chatml(mobile.render("task", PHONE, history))
    assert (
        'Step 1: {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1, 2]}}; Step 2: '
        '<|vision_start|><|image_pad|><|vision_end|>{"name": "mobile_use", "arguments": {"action": "click", '
        '"coordinate": [3, 4]}}; <|vision_start|>'
    ) in text


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


@pytest.mark.parametrize("name", ["qwen2.5-vl-mobile", "qwen2.5-vl-computer"])
@pytest.mark.parametrize("index", range(4))
def test_grounding_request_equals_the_computer_use_cookbook_recipe(name: str, index: int) -> None:
    golden = _grounding_golden("qwen2.5-vl.json")
    case = golden["cases"][index]
    family = get_family(name)
    screen = Size(*case["screen"])
    assert _grounding_shape(family.grounding_messages(case["instruction"], screen)) == _golden_shape(case)
    assert family.pixel_limits == (3136, 12845056)  # the recipe's min_pixels / max_pixels
    system = family.grounding_messages(case["instruction"], screen)[0].content[1]
    assert isinstance(system, TextPart) and '"name": "computer_use"' in system.text


def test_grounding_request_states_the_resized_resolution(mobile) -> None:
    (_, tools), _ = (m.content for m in mobile.grounding_messages("the search box", PHONE))
    assert "The screen's resolution is 1092x2408." in tools.text


@pytest.mark.parametrize(
    "answer, point",
    [
        (
            '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [935, 406]}}\n</tool_call>',
            (935, 406),
        ),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\n</tool_call>',
            (935, 406),
        ),
        ('{"name": "computer_use", "arguments": {"action": "mouse_move", "coordinate": [935, 406]}}', (935, 406)),
        ('```json\n[{"bbox_2d": [900, 400, 970, 412], "label": "search box"}]\n```', (935, 406)),
        ('{"point_2d": [935, 406]}', (935, 406)),
        ("[935, 406]", (935, 406)),
    ],
)
def test_grounding_answer_forms(mobile, answer: str, point: tuple[float, float]) -> None:
    assert mobile.parse_grounding(answer, PHONE) == point


@pytest.mark.parametrize(
    "answer",
    [
        "I cannot find it",
        '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click"}}\n</tool_call>',
        "[1, 2, 3]",
    ],
)
def test_grounding_answers_without_a_point_are_refused(mobile, answer: str) -> None:
    with pytest.raises(ActionParseError) as caught:
        mobile.parse_grounding(answer, PHONE)
    assert "\n" not in caught.value.reason


def test_format_grounding_writes_the_recipe_answer(mobile, computer) -> None:
    expected = '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [935, 406]}}\n</tool_call>'
    for family in (mobile, computer):
        assert family.format_grounding(935, 406, PHONE) == expected
        assert family.parse_grounding(expected, PHONE) == (935, 406)
        assert "perform_gui_grounding_with_api" in family.choices and "yooneo/Qwen2.5-VL" in family.source
