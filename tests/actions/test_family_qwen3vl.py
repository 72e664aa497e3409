"""Qwen3-VL cookbook families: the authors' messages byte for byte, their mapping to the pixel, every verb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import HistoryStep, ModelFamily, get_family, infer_family
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.actions.types import (
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

DATA = Path(__file__).resolve().parents[1] / "data" / "qwen3vl"
PHONE = Size(1080, 2400)
DESKTOP = Size(1920, 1080)


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def mobile() -> ModelFamily:
    return get_family("qwen3-vl-mobile")


@pytest.fixture
def computer() -> ModelFamily:
    return get_family("qwen3-vl-computer")


def _as_reference(messages: list[Message]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                parts.append({"type": "image", "screenshot": part.key, "width": part.width, "height": part.height})
        out.append({"role": message.role, "content": parts})
    return out


def _strip_sent(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "role": m["role"],
            "content": [{k: v for k, v in p.items() if k != "sent_size"} for p in m["content"]],
        }
        for m in messages
    ]


def _history(family: ModelFamily, screen: Size, lines: list[str]) -> list[HistoryStep]:
    """Earlier steps whose replies carry these Action: lines (as the model writes them, quoted)."""
    space = family.space(screen).name
    steps = []
    for i, line in enumerate(lines):
        action = Click(x=100 + i, y=200 + i, space=space)
        reply = f'Thought: step {i}.\nAction: "{line}"\n' + family.format_action(action).split("\n", 1)[1]
        steps.append(HistoryStep(actions=(action,), reply=reply))
    return steps


# --- golden: the authors' code's messages ------------------------------------------------------------


@pytest.mark.parametrize("case", _load("mobile_reference.json")["cases"], ids=lambda c: c["name"])
def test_mobile_render_equals_the_notebook(mobile: ModelFamily, case: dict[str, Any]) -> None:
    screen = Size(*case["screen"])
    rendered = mobile.render(case["instruction"], screen, _history(mobile, screen, case["history"]))
    assert _as_reference(rendered) == _strip_sent(case["messages"])


@pytest.mark.parametrize("case", _load("computer_reference.json")["cases"], ids=lambda c: c["name"])
def test_computer_render_equals_the_recipe(computer: ModelFamily, case: dict[str, Any]) -> None:
    screen = Size(*case["screen"])
    task = case.get("query", case.get("instruction"))
    history = _history(computer, screen, case.get("history", []))
    assert _as_reference(computer.render(task, screen, history)) == _strip_sent(case["messages"])


def test_prompts_state_each_cookbooks_resolution(mobile: ModelFamily, computer: ModelFamily) -> None:
    mobile_system = mobile.render("t", PHONE)[0].content
    computer_system = computer.render("t", DESKTOP)[0].content
    assert len(mobile_system) == 1 and "The screen's resolution is 999x999." in mobile_system[0].text  # type: ignore[union-attr]
    assert mobile_system[0].text.startswith("\n\n# Tools\n")  # type: ignore[union-attr]
    assert "# Response format" in mobile_system[0].text  # type: ignore[union-attr]
    assert computer_system[0] == TextPart("You are a helpful assistant.")
    assert "The screen's resolution is 1000x1000." in computer_system[1].text  # type: ignore[union-attr]


def test_images_are_resized_to_multiples_of_32(mobile: ModelFamily, computer: ModelFamily) -> None:
    assert mobile.factor == computer.factor == 32
    assert mobile.model_size(PHONE) == Size(1088, 2400)
    assert mobile.model_size(Size(1440, 3120)) == Size(1440, 3136)
    assert computer.model_size(DESKTOP) == Size(1920, 1088)
    assert mobile.pixel_limits == (4 * 32 * 32, 16384 * 32 * 32)
    assert computer.pixel_limits == (3136, 12845056)
    small = get_family("qwen3-vl-mobile", max_pixels=1280 * 32 * 32)
    (slot,) = small.render("t", PHONE)[1].images()
    assert (slot.width % 32, slot.height % 32) == (0, 0) and slot.width * slot.height <= 1280 * 32 * 32


# --- the authors' mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize("point", _load("published_replies.json")["replies"][0]["points"], ids=str)
def test_published_reply_lands_on_the_notebooks_pixel(mobile: ModelFamily, point: dict[str, Any]) -> None:
    reply = _load("published_replies.json")["replies"][0]["reply"]
    parsed, device = mobile.parse_to_device(reply, Size(*point["screen"]))
    assert device == (Click(x=point["device_point"][0], y=point["device_point"][1]),)
    assert parsed.thought is not None and parsed.thought.startswith("Thought: To search for Musk")


def test_spaces_are_999_and_1000(mobile: ModelFamily, computer: ModelFamily) -> None:
    assert mobile.space(PHONE).extent_x == 999 and computer.space(DESKTOP).extent_x == 1000
    (x, y) = mobile.space(Size(1440, 3120)).to_device(447, 81, Size(1440, 3120))
    assert (x, y) == (644, 253)  # round(447/999*1440), round(81/999*3120)
    assert computer.space(DESKTOP).to_device(500, 500, DESKTOP) == (960, 540)  # x/1000*W


def test_points_past_the_grid_are_errors_not_clamped(mobile: ModelFamily) -> None:
    reply = (
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1000, 10]}}\n</tool_call>'
    )
    with pytest.raises(CoordinateError):
        mobile.parse_to_device(reply, PHONE)


# --- every verb ------------------------------------------------------------------------------------------


def _call(tool: str, **arguments: Any) -> str:
    return "<tool_call>\n" + json.dumps({"name": tool, "arguments": arguments}) + "\n</tool_call>"


MOBILE_VERBS = [
    ({"action": "click", "coordinate": [10, 20]}, Click(x=10, y=20)),
    ({"action": "long_press", "coordinate": [10, 20], "time": 2}, LongPress(x=10, y=20, duration=2)),
    (
        {"action": "swipe", "coordinate": [500, 800], "coordinate2": [500, 200]},
        Swipe(x=500, y=800, x2=500, y2=200),
    ),
    ({"action": "type", "text": "hello"}, Type(text="hello")),
    ({"action": "answer", "text": "42"}, Answer(text="42")),
    ({"action": "system_button", "button": "Back"}, SystemButton(button="back")),
    ({"action": "system_button", "button": "Home"}, SystemButton(button="home")),
    ({"action": "system_button", "button": "Menu"}, SystemButton(button="menu")),
    ({"action": "system_button", "button": "Enter"}, SystemButton(button="enter")),
    ({"action": "wait", "time": 3}, Wait(seconds=3)),
    ({"action": "terminate", "status": "success"}, Terminate(status="success")),
    ({"action": "terminate", "status": "failure"}, Terminate(status="failure")),
    ({"action": "key", "text": "volume_up"}, Key(keys=["volume_up"])),
    ({"action": "open", "text": "Settings"}, OpenApp(name="Settings")),
]

COMPUTER_VERBS = [
    ({"action": "left_click", "coordinate": [10, 20]}, Click(x=10, y=20)),
    ({"action": "left_click"}, Click()),
    ({"action": "double_click", "coordinate": [10, 20]}, DoubleClick(x=10, y=20)),
    ({"action": "triple_click", "coordinate": [10, 20]}, TripleClick(x=10, y=20)),
    ({"action": "right_click", "coordinate": [10, 20]}, RightClick(x=10, y=20)),
    ({"action": "middle_click", "coordinate": [10, 20]}, MiddleClick(x=10, y=20)),
    ({"action": "mouse_move", "coordinate": [10, 20]}, Move(x=10, y=20)),
    ({"action": "left_click_drag", "coordinate": [300, 400]}, Drag(x2=300, y2=400)),
    ({"action": "scroll", "pixels": 5}, Scroll(direction="up", amount=5)),
    ({"action": "scroll", "pixels": -3, "coordinate": [500, 500]}, Scroll(direction="down", amount=3, x=500, y=500)),
    ({"action": "hscroll", "pixels": 4}, Scroll(direction="right", amount=4)),
    ({"action": "hscroll", "pixels": -2}, Scroll(direction="left", amount=2)),
    ({"action": "key", "keys": ["ctrl", "c"]}, Key(keys=["ctrl", "c"])),
    ({"action": "key", "keys": "ctrl+s"}, Key(keys=["ctrl", "s"])),
    ({"action": "type", "text": "hello"}, Type(text="hello")),
    ({"action": "wait", "time": 2}, Wait(seconds=2)),
    ({"action": "terminate", "status": "failure"}, Terminate(status="failure")),
    ({"action": "answer", "text": "The file is 3 MB."}, Answer(text="The file is 3 MB.")),
]


def _in(space: str, action: Action) -> Action:
    return action.model_copy(update={"space": space})


@pytest.mark.parametrize(("arguments", "expected"), MOBILE_VERBS, ids=lambda v: str(v)[:40])
def test_mobile_verbs(mobile: ModelFamily, arguments: dict[str, Any], expected: Action) -> None:
    space = mobile.space(PHONE).name
    parsed = mobile.parse(_call("mobile_use", **arguments), PHONE)
    assert parsed.actions == (_in(space, expected),)
    # format_action writes it back as the model would, and that parses to the same action.
    again = mobile.parse(mobile.format_action(parsed.actions[0], thought="Next."), PHONE)
    assert again.actions == parsed.actions


@pytest.mark.parametrize(("arguments", "expected"), COMPUTER_VERBS, ids=lambda v: str(v)[:40])
def test_computer_verbs(computer: ModelFamily, arguments: dict[str, Any], expected: Action) -> None:
    space = computer.space(DESKTOP).name
    parsed = computer.parse(_call("computer_use", **arguments), DESKTOP)
    assert parsed.actions == (_in(space, expected),)
    again = computer.parse(computer.format_action(parsed.actions[0]), DESKTOP)
    assert again.actions == parsed.actions


def test_format_action_writes_the_response_format(mobile: ModelFamily) -> None:
    space = mobile.space(PHONE).name
    text = mobile.format_action(Click(x=447, y=81, space=space), thought="The search bar is at the top.")
    assert text == (
        "Thought: The search bar is at the top.\nAction: Tap at (447, 81).\n<tool_call>\n"
        '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [447, 81]}}\n</tool_call>'
    )


@pytest.mark.parametrize(
    "action",
    [RightClick(x=1, y=1), SystemButton(button="recents"), Scroll(direction="down"), Key(keys=["ctrl", "c"]), Click()],
    ids=lambda a: a.type,
)
def test_mobile_cannot_express(mobile: ModelFamily, action: Action) -> None:
    with pytest.raises(ValueError):
        mobile.format_action(_in(mobile.space(PHONE).name, action))


@pytest.mark.parametrize(
    "action", [Drag(x=1, y=2, x2=3, y2=4), Swipe(x=1, y=2, x2=3, y2=4), SystemButton(button="back")], ids=str
)
def test_computer_cannot_express(computer: ModelFamily, action: Action) -> None:
    with pytest.raises(ValueError):
        computer.format_action(_in(computer.space(DESKTOP).name, action))


def test_computer_reads_a_drag_start_a_model_adds(computer: ModelFamily) -> None:
    reply = _call("computer_use", action="left_click_drag", start_coordinate=[1, 2], coordinate=[3, 4])
    (action,) = computer.parse(reply, DESKTOP).actions
    assert isinstance(action, Drag) and (action.x, action.y, action.x2, action.y2) == (1, 2, 3, 4)


# --- replies as models write them --------------------------------------------------------------------------


CLICK = '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [500, 500]}}'


@pytest.mark.parametrize(
    "reply",
    [
        f"<tool_call>\n{CLICK}\n</tool_call>",
        f"<tool_call>{CLICK}</tool_call>",
        f"Thought: go.\nAction: Tap it.\n<tool_call>\n{CLICK}\n</tool_call>\n",
        f"```json\n<tool_call>\n{CLICK}\n</tool_call>\n```",
        f"<tool_call>\n{CLICK}",  # the closing tag cut off by the stop token
        CLICK,
    ],
)
def test_accepted_forms(mobile: ModelFamily, reply: str) -> None:
    (action,) = mobile.parse(reply, PHONE).actions
    assert isinstance(action, Click) and (action.x, action.y) == (500, 500)


def test_thinking_blocks_are_the_thought(mobile: ModelFamily) -> None:
    reply = f"<think>\nThe search bar is at the top.\n</think>\nThought: tap it.\nAction: Tap.\n<tool_call>\n{CLICK}\n</tool_call>"
    parsed = mobile.parse(reply, PHONE)
    assert parsed.thought is not None and parsed.thought.startswith("The search bar is at the top.")
    assert "Thought: tap it." in parsed.thought and len(parsed.actions) == 1
    # Thinking models' template opens <think> itself: only the closing tag is in the reply.
    lone = mobile.parse(f"reasoning here\n</think>\n\n<tool_call>\n{CLICK}\n</tool_call>", PHONE)
    assert lone.thought == "reasoning here"


def test_truncated_thinking_says_so(mobile: ModelFamily) -> None:
    with pytest.raises(ActionParseError, match="cut off inside its <think> block"):
        mobile.parse("<think>\nLet me look at the screen. The button", PHONE)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I will tap the search bar.", "no tool call found"),
        ("", "empty"),
        (f"<tool_call>\n{CLICK}\n</tool_call>\n<tool_call>\n{CLICK}\n</tool_call>", "single <tool_call>"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [5', "cut off"),
        (_call("computer_use", action="click", coordinate=[1, 2]), "unknown tool"),
        (_call("mobile_use", action="fly"), "unknown action"),
        (_call("mobile_use", action="click"), "click needs 'coordinate'"),
        (_call("mobile_use", action="swipe", coordinate=[1, 2]), "swipe needs 'coordinate2'"),
        (_call("mobile_use", action="type"), "type needs 'text'"),
        (_call("mobile_use", action="system_button", button="Power"), "invalid system_button"),
        (_call("mobile_use", action="terminate", status="maybe"), "invalid terminate"),
        (_call("mobile_use", action="click", coordinate="here"), "coordinate must be a point"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": 5}\n</tool_call>', '"arguments" must be'),
    ],
)
def test_mobile_rejects(mobile: ModelFamily, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError, match=reason) as info:
        mobile.parse(reply, PHONE)
    assert info.value.raw_text == reply and "\n" not in info.value.reason


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"action": "scroll"}, 'scroll needs "pixels"'),
        ({"action": "hscroll", "pixels": 0}, 'hscroll "pixels" must not be 0'),
        ({"action": "key", "keys": []}, 'key needs "keys"'),
        ({"action": "mouse_move"}, "mouse_move needs 'coordinate'"),
        ({"action": "left_click_drag"}, "left_click_drag needs 'coordinate'"),
        ({"action": "answer"}, "answer needs 'text'"),
    ],
)
def test_computer_rejects(computer: ModelFamily, arguments: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActionParseError, match=reason):
        computer.parse(_call("computer_use", **arguments), DESKTOP)


# --- history and feedback -----------------------------------------------------------------------------------


def _user_text(messages: list[Message]) -> str:
    return "".join(p.text for p in messages[1].content if isinstance(p, TextPart))


def test_history_uses_the_action_line_else_a_description(mobile: ModelFamily) -> None:
    space = mobile.space(PHONE).name
    steps = [
        HistoryStep(
            actions=(Click(x=1, y=2, space=space),), reply='Thought: t\nAction: "I tapped Wi-Fi."\n<tool_call>'
        ),
        HistoryStep(actions=(Type(text="hi", space=space),), reply=_call("mobile_use", action="type", text="hi")),
        HistoryStep(actions=(), reply="gibberish", error="no tool call found"),
    ]
    text = _user_text(mobile.render("Turn on Wi-Fi", PHONE, steps))
    assert text == (
        "The user query: Turn on Wi-Fi.\n"
        "Task progress (You have done the following operation on the current device): "
        "Step 1: I tapped Wi-Fi.; Step 2: Type 'hi'.; Step 3: no valid action; .\n"
    )


def test_kept_screenshots_sit_at_their_step(mobile: ModelFamily) -> None:
    space = mobile.space(PHONE).name
    old = ImageSlot("step-1", 544, 1200)
    steps = [HistoryStep(actions=(Click(x=1, y=2, space=space),), reply="Action: Tap Wi-Fi.\n", image=old)]
    content = mobile.render("t", PHONE, steps)[1].content
    assert content[1] == old and isinstance(content[0], TextPart) and content[0].text.endswith("Step 1: ")
    assert content[2] == TextPart("Tap Wi-Fi.; .\n") and content[3] == mobile.current_image(PHONE)


def test_computer_history_and_feedback_follow_the_screenshot(computer: ModelFamily) -> None:
    space = computer.space(DESKTOP).name
    steps = [HistoryStep(actions=(Click(x=1, y=2, space=space),), reply="Action: Open Firefox.\n")]
    messages = computer.render("Find the ACL template", DESKTOP, steps, feedback="no tool call found")
    content = messages[1].content
    assert content[0] == computer.current_image(DESKTOP)
    assert content[1] == TextPart(
        "The user query: Find the ACL template.\n"
        "Task progress (You have done the following operation on the current device): Step 1: Open Firefox.; .\n"
    )
    assert content[2] == TextPart("\nYour previous reply was not a valid action: no tool call found")


# --- grounding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["qwen3-vl-mobile", "qwen3-vl-computer"])
def test_grounding_prompt_is_the_computer_use_recipe(name: str) -> None:
    family = get_family(name)
    reference = _load("computer_reference.json")["cases"][1]["messages"]
    messages = family.grounding_messages("Open the Downloads folder in the file manager", DESKTOP)
    got = _as_reference(messages)
    assert got[0] == reference[0]
    assert got[1]["content"][1] == reference[1]["content"][1]
    assert got[1]["content"][0]["type"] == "image"


def test_grounding_answers_scale_into_the_family_space(mobile: ModelFamily, computer: ModelFamily) -> None:
    reply = _call("computer_use", action="left_click", coordinate=[500, 250])
    assert computer.parse_grounding(reply, DESKTOP) == (500, 250)
    assert mobile.parse_grounding(reply, PHONE) == pytest.approx((499.5, 249.75))
    assert computer.parse_grounding("<think>look</think>[100, 200]", DESKTOP) == (100, 200)
    assert computer.parse_grounding('```json\n[{"point_2d": [10, 20], "label": "ok"}]\n```', DESKTOP) == (10, 20)
    with pytest.raises(ActionParseError, match="names no point"):
        computer.parse_grounding("The button is at the top.", DESKTOP)


def test_published_2d_grounding_box_centre_lies_in_its_box(computer: ModelFamily) -> None:
    record = _load("grounding_published.json")
    screen = Size(*record["image_size"])
    mx, my = computer.parse_grounding(record["reply"], screen)
    assert (mx, my) == ((74 + 324) / 2, (361 + 808) / 2)
    x, y = computer.space(screen).to_device(mx, my, screen)
    box = record["first_box_pixels"]
    assert box["x1"] <= x <= box["x2"] and box["y1"] <= y <= box["y2"]


# --- model ids ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "kind", "family"),
    [
        ("Qwen/Qwen3-VL-8B-Instruct", "android", "qwen3-vl-mobile"),
        ("Qwen/Qwen3-VL-235B-A22B-Thinking", "desktop", "qwen3-vl-computer"),
        ("qwen3-vl-plus", "android", "qwen3-vl-mobile"),
        ("qwen3vl-235A22-instruct", "android", "qwen3-vl-mobile"),
        ("Qwen/Qwen3.5-397B-A17B", "desktop", "qwen3-vl-computer"),
        ("qwen3.6-plus", "android", "qwen3-vl-mobile"),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "android", "qwen2.5-vl-mobile"),
    ],
)
def test_model_ids(model_id: str, kind: str, family: str) -> None:
    assert infer_family(model_id, kind) == family


def test_source_and_choices_are_recorded(mobile: ModelFamily, computer: ModelFamily) -> None:
    for family in (mobile, computer):
        assert "QwenLM/Qwen3-VL@96588727" in family.source and "Firefly-llm/Qwen3-VL" in family.source
        assert "#1741" in family.choices and "#1521" in family.choices and "unverified" in family.choices
