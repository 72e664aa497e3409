"""MAI-UI families: the authors' messages byte for byte, their device pixels, and replies as the model writes them.

Golden data in tests/data/maiui/ was produced by running the authors' own code (see its README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import FAMILIES, HistoryStep, MaiUI, MaiUIAskUser, get_family, infer_family
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.actions.types import (
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

DATA = Path(__file__).resolve().parents[1] / "data" / "maiui"
PHONE = Size(1080, 2400)
LARGE = Size(1440, 3120)


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def _call(args: str, thought: str = "Next step.") -> str:
    return (
        f'<thinking>\n{thought}\n</thinking>\n<tool_call>\n{{"name": "mobile_use", "arguments": {args}}}\n</tool_call>'
    )


@pytest.fixture
def family() -> MaiUI:
    return MaiUI()


def _as_json(messages: list[Message]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                assert isinstance(part, ImageSlot)
                parts.append({"type": "image", "screenshot": part.key, "model_size": [part.width, part.height]})
        out.append({"role": message.role, "content": parts})
    return out


def _expected(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        parts = []
        for part in message["content"]:
            if part["type"] == "text":
                parts.append(part)
            else:
                parts.append({"type": "image", "screenshot": part["screenshot"], "model_size": part["model_size"]})
        out.append({"role": message["role"], "content": parts})
    return out


# -- golden messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _load("navigation_messages.json")["cases"], ids=lambda c: c["case"])
def test_messages_equal_the_authors_build_messages(case: dict[str, Any]) -> None:
    fam = get_family(case["family"])
    screen = Size(*case["screen"])
    model = fam.model_size(screen)
    history = []
    feedback = None
    for i, step in enumerate(case["history"], start=1):
        actions = fam.parse(step["reply"], screen).actions
        image = ImageSlot(f"step-{i}", model.width, model.height) if step["image"] else None
        history.append(HistoryStep(actions=actions, reply=step["reply"], image=image))
        if step["ask_user_response"]:
            assert i == len(case["history"]), "the person's answer is fed back after the last step"
            feedback = step["ask_user_response"]
    assert _as_json(fam.render(case["task"], screen, history, feedback)) == _expected(case["messages"])


def test_history_image_count_follows_history_n() -> None:
    data = _load("navigation_messages.json")["cases"]
    case = next(c for c in data if c["case"] == "three_steps_phone")
    assert case["history_n"] == 3
    assert MaiUI.default_history_images == case["history_n"] - 1
    assert [s["image"] for s in case["history"]] == [False, True, True]


def test_system_prompts_are_the_authors_bytes() -> None:
    prompts = _load("prompts.json")
    assert MaiUI().system_prompt() == prompts["mai_mobile_sys_prompt"]
    assert MaiUIAskUser().system_prompt() == prompts["mai_mobile_sys_prompt_ask_user_mcp_no_tools"]
    assert '{"action": "ask_user", "text": "xxx"}' in MaiUIAskUser().system_prompt()
    assert "ask_user" not in MaiUI().system_prompt()


def test_image_sizes_are_qwen3vl_multiples_of_32(family: MaiUI) -> None:
    assert family.model_size(PHONE) == Size(1088, 2400)
    assert family.model_size(LARGE) == Size(1440, 3136)
    assert family.pixel_limits == (65536, 16777216)
    assert family.factor == 32


def test_registry_and_model_ids() -> None:
    assert FAMILIES["mai-ui"] is MaiUI
    assert FAMILIES["mai-ui-ask-user"] is MaiUIAskUser
    for model_id in ("Tongyi-MAI/MAI-UI-8B", "Tongyi-MAI/MAI-UI-2B", "MAI-UI-8B", "/models/mai_ui_8b"):
        assert infer_family(model_id, "android") == "mai-ui"
    assert MaiUI.source and "mai_naivigation_agent.py" in MaiUI.source
    assert "MCP" in MaiUI.choices


# -- grounding ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _load("grounding.json")["cases"], ids=lambda c: "x".join(map(str, c["screen"])))
def test_grounding_messages_equal_the_eval_script(family: MaiUI, case: dict[str, Any]) -> None:
    screen = Size(*case["screen"])
    messages = family.grounding_messages(case["instruction"], screen)
    expected = case["messages"]
    assert [m.role for m in messages] == [m["role"] for m in expected]
    assert messages[0].content == (TextPart(expected[0]["content"][0]["text"]),)
    text, image = messages[1].content
    assert text == TextPart(expected[1]["content"][0]["text"])
    assert isinstance(image, ImageSlot) and [image.width, image.height] == expected[1]["content"][1]["sent_size"]


@pytest.mark.parametrize("reply", _load("grounding.json")["published_replies"], ids=lambda r: r["source"].split("#")[1])
def test_published_grounding_replies_land_on_the_authors_pixel(family: MaiUI, reply: dict[str, Any]) -> None:
    screen = Size(*reply["img_size"])
    x, y = family.parse_grounding(reply["raw_response"], screen)
    assert family.space(screen).to_device(x, y, screen) == tuple(reply["device_pixel"])


def test_grounding_answer_shapes(family: MaiUI) -> None:
    screen = Size(1000, 1000)
    space = family.space(screen)
    think = "<grounding_think>\nThought: the icon.\n</grounding_think>\n"
    for answer in ('{"coordinate":[250,750]}', '{"coordinate": [250, 750]}', '{"coordinate":[250,750]}}', "[250,750]"):
        point = family.parse_grounding(f"{think}<answer>\n{answer}\n</answer>", screen)
        assert space.to_device(*point, screen) == (250, 750), answer
    box = family.parse_grounding(f'{think}<answer>{{"coordinate": [200, 700, 300, 800]}}</answer>', screen)
    assert space.to_device(*box, screen) == (250, 750)
    agent = family.parse_grounding(_call('{"action": "click", "coordinate": [499, 499]}'), screen)
    assert agent == (499.0, 499.0)  # the agent's format is already 0-999
    with pytest.raises(ActionParseError, match="cut off"):
        family.parse_grounding("<grounding_think>\nThe icon is", screen)
    with pytest.raises(ActionParseError, match="names no point"):
        family.parse_grounding(f"{think}<answer>I cannot find it</answer>", screen)


# -- published replies and their device pixels -------------------------------------------------------------


def _replies() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{i}:{r['action_json'].get('action')}", r) for i, r in enumerate(_load("navigation_replies.json")["replies"])
    ]


@pytest.mark.parametrize(("label", "entry"), _replies(), ids=[label for label, _ in _replies()])
def test_replies_land_on_the_authors_pixels(family: MaiUI, label: str, entry: dict[str, Any]) -> None:
    verb = entry["action_json"].get("action")
    for size, device in entry["device"].items():
        screen = Size.parse(size)
        if verb == "mcp_tool":  # their test's stand-in action name: not a mobile_use verb
            with pytest.raises(ActionParseError, match="unknown action"):
                family.parse(entry["reply"], screen)
            continue
        _, (action,) = family.parse_to_device(entry["reply"], screen)
        if verb == "swipe":
            assert isinstance(action, Swipe) and [action.x, action.y, action.x2, action.y2] == device["swipe"]
            assert action.duration == 0.4
        elif verb == "drag":
            assert isinstance(action, Drag)
            assert [action.x, action.y] == device["start_coordinate"]
            assert [action.x2, action.y2] == device["end_coordinate"]
        elif "coordinate" in device:
            assert [action.x, action.y] == device["coordinate"], (label, size)  # type: ignore[union-attr]


def test_swipe_direction_is_the_fingers(family: MaiUI) -> None:
    _, (up,) = family.parse_to_device(_call('{"action": "swipe", "direction": "up"}'), PHONE)
    assert isinstance(up, Swipe) and (up.x, up.y, up.x2, up.y2) == (540, 1200, 540, 768)  # finger moves up
    _, (left,) = family.parse_to_device(_call('{"action": "swipe", "direction": "LEFT"}'), PHONE)
    assert isinstance(left, Swipe) and (left.x2, left.y2) == (324, 1200)


def test_swipe_from_a_point_near_the_edge_stops_at_the_edge(family: MaiUI) -> None:
    _, (swipe,) = family.parse_to_device(
        _call('{"action": "swipe", "direction": "up", "coordinate": [92, 125]}'), PHONE
    )
    assert isinstance(swipe, Swipe) and (swipe.x, swipe.y, swipe.x2, swipe.y2) == (99, 300, 99, 0)


# -- every verb --------------------------------------------------------------------------------------------


def test_every_verb(family: MaiUI) -> None:
    s = family.space(PHONE).name
    cases = {
        '{"action": "click", "coordinate": [10, 20]}': Click(x=10, y=20, space=s),
        '{"action": "click", "coordinate": [10, 20, 30, 40]}': Click(x=20, y=30, space=s),
        '{"action": "long_press", "coordinate": [10, 20]}': LongPress(x=10, y=20, duration=1.0, space=s),
        '{"action": "double_click", "coordinate": [10, 20]}': DoubleClick(x=10, y=20, space=s),
        '{"action": "type", "text": "a; rm -rf / $(reboot) 日本"}': Type(text="a; rm -rf / $(reboot) 日本", space=s),
        '{"action": "open", "text": "Settings"}': OpenApp(name="Settings", space=s),
        '{"action": "drag", "start_coordinate": [1, 2], "end_coordinate": [3, 4]}': Drag(
            x=1, y=2, x2=3, y2=4, duration=0.4, space=s
        ),
        '{"action": "system_button", "button": "back"}': SystemButton(button="back", space=s),
        '{"action": "system_button", "button": "Home"}': SystemButton(button="home", space=s),
        '{"action": "system_button", "button": "menu"}': SystemButton(button="menu", space=s),
        '{"action": "system_button", "button": "enter"}': SystemButton(button="enter", space=s),
        '{"action": "wait"}': Wait(seconds=1.0, space=s),
        '{"action": "terminate", "status": "success"}': Terminate(status="success", space=s),
        '{"action": "terminate", "status": "fail"}': Terminate(status="failure", space=s),
        '{"action": "answer", "text": "It\'s 42"}': Answer(text="It's 42", space=s),
        '{"action": "ask_user", "text": "Which account?"}': CallUser(message="Which account?", space=s),
    }
    for args, expected in cases.items():
        for fam in (family, MaiUIAskUser()):
            assert fam.parse(_call(args), PHONE).actions == (expected,), args


def test_answer_with_the_escapes_the_prompt_asks_for(family: MaiUI) -> None:
    reply = _call('{"action": "answer", "text": "It\\\'s \\"done\\"\\nbye"}')
    assert family.parse(reply, PHONE).actions[0] == Answer(text='It\'s "done"\nbye', space="relative-999")


# -- thinking ----------------------------------------------------------------------------------------------


def test_thinking_shapes(family: MaiUI) -> None:
    call = '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "wait"}}\n</tool_call>'
    assert family.parse(f"<thinking>\nPlan: wait.\n</thinking>\n{call}", PHONE).thought == "Plan: wait."
    assert family.parse(f"Plan: wait.\n</think>\n{call}", PHONE).thought == "Plan: wait."  # a thinking model
    assert family.parse(f"<think>Plan</think>{call}", PHONE).thought == "Plan"
    assert family.parse(call, PHONE).thought is None  # the no-thinking prompt
    assert family.parse(f"Thought: tap it\n{call}", PHONE).thought == "tap it"


def test_truncated_thinking_says_so(family: MaiUI) -> None:
    with pytest.raises(ActionParseError, match="cut off inside its <thinking> block"):
        family.parse("<thinking>\nFirst I need to open the", PHONE)


# -- rejections --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I will tap the button.", "no tool call found"),
        ("<thinking>x</thinking>\n<tool_call>\n", "cut off"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1', "cut off"),
        (_call('{"action": "click"}'), 'click needs "coordinate"'),
        (_call('{"action": "click", "coordinate": [1, 2, 3]}'), "must be a point"),
        (_call('{"action": "swipe", "direction": "sideways"}'), 'swipe needs "direction"'),
        (_call('{"action": "swipe"}'), 'swipe needs "direction"'),
        (_call('{"action": "type", "text": ""}'), 'type needs "text"'),
        (_call('{"action": "system_button", "button": "power"}'), "back, home, menu or enter"),
        (_call('{"action": "terminate", "status": "maybe"}'), "terminate needs"),
        (_call('{"action": "teleport"}'), "unknown action 'teleport'"),
        (_call('{"action": "ask_user", "text": ""}'), "ask_user needs"),
        (_call('{"action": "wait"}') + "\n" + _call('{"action": "wait"}'), "exactly one"),
        (
            '<tool_call>\n{"name": "get_weather", "arguments": {"location": "SF"}}\n</tool_call>',
            "MCP tool 'get_weather'",
        ),
        (_call('"not an object"'), '"arguments" must be a JSON object'),
    ],
)
def test_rejections_are_typed_with_a_reason(family: MaiUI, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError, match=reason.replace("(", r"\(").replace("[", r"\[")) as info:
        family.parse(reply, PHONE)
    assert info.value.raw_text == reply


def test_out_of_range_point_is_a_coordinate_error(family: MaiUI) -> None:
    with pytest.raises(CoordinateError):
        family.parse_to_device(_call('{"action": "click", "coordinate": [1000, 10]}'), PHONE)
    with pytest.raises(CoordinateError):
        family.parse(_call('{"action": "swipe", "direction": "up", "coordinate": [-1, 10]}'), PHONE)


def test_far_edge_is_the_last_pixel(family: MaiUI) -> None:
    _, (click,) = family.parse_to_device(_call('{"action": "click", "coordinate": [999, 999]}'), PHONE)
    assert click == Click(x=1079, y=2399)


# -- writing -----------------------------------------------------------------------------------------------


def test_format_action_round_trips(family: MaiUI) -> None:
    s = family.space(PHONE).name
    actions = [
        Click(x=10, y=20, space=s),
        DoubleClick(x=10, y=20, space=s),
        LongPress(x=10, y=20, space=s),
        Drag(x=1, y=2, x2=3, y2=4, duration=0.4, space=s),
        Type(text='日本 "quoted" it\'s', space=s),
        OpenApp(name="Clock", space=s),
        SystemButton(button="home", space=s),
        Wait(seconds=1.0, space=s),
        Terminate(status="failure", space=s),
        Answer(text="42", space=s),
        CallUser(message="Which one?", space=s),
    ]
    for action in actions:
        reply = family.format_action(action, thought="why")
        parsed = family.parse(reply, PHONE)
        assert parsed.actions == (action,), reply
        assert parsed.thought == "why"
    assert '"direction": "up"' in family.format_action(Scroll(direction="down", space=s))
    assert '"direction": "left"' in family.format_action(Scroll(direction="right", space=s))
    assert family.format_action(Key(keys=["enter"], space=s)).count('"button": "enter"') == 1
    swipe = family.format_action(Swipe(x=1, y=2, x2=3, y2=4, space=s))
    assert family.parse(swipe, PHONE).actions == (Drag(x=1, y=2, x2=3, y2=4, duration=0.4, space=s),)
    for inexpressible in (Move(x=1, y=1, space=s), RightClick(x=1, y=1, space=s), Key(keys=["ctrl", "c"], space=s)):
        with pytest.raises(ValueError):
            family.format_action(inexpressible)
    with pytest.raises(ValueError):
        family.format_action(SystemButton(button="recents", space=s))


def test_device_point_round_trip_stays_within_half_a_unit(family: MaiUI) -> None:
    mapping = family.mapping(PHONE)
    tol_x, tol_y = mapping.space.round_trip_error(PHONE)
    for x in range(0, 1080, 7):
        y = (x * 37) % 2400
        model = mapping.to_model(Click(x=x, y=y))
        _, (back,) = family.parse_to_device(family.format_action(model), PHONE)
        assert isinstance(back, Click) and back.x is not None and back.y is not None
        assert abs(back.x - x) <= min(tol_x, 1) and abs(back.y - y) <= tol_y, (x, y, back)


# -- history -----------------------------------------------------------------------------------------------


def test_history_rebuilds_the_reply_like_mem2response(family: MaiUI) -> None:
    reply = 'Tap it.\n</think>\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [504, 63]}}\n</tool_call>'
    step = HistoryStep(actions=family.parse(reply, PHONE).actions, reply=reply)
    messages = family.render("task", PHONE, [step])
    assert messages[2] == Message.text(
        "assistant",
        '<thinking>\nTap it.\n</thinking>\n<tool_call>\n{"name":"mobile_use","arguments":{"action":"click",'
        '"coordinate":[503,62]}}\n</tool_call>',
    )


def test_history_drag_is_written_in_0_999(family: MaiUI) -> None:
    reply = _call('{"action": "drag", "start_coordinate": [200, 800], "end_coordinate": [800, 200]}')
    step = HistoryStep(actions=family.parse(reply, PHONE).actions, reply=reply)
    text = family.render("task", PHONE, [step])[2].content[0]
    assert isinstance(text, TextPart) and '"start_coordinate":[200,800],"end_coordinate":[800,200]' in text.text


def test_history_without_a_reply_uses_the_actions(family: MaiUI) -> None:
    s = family.space(PHONE).name
    step = HistoryStep(actions=(Type(text="é", space=s),))
    text = family.render("task", PHONE, [step])[2].content[0]
    assert isinstance(text, TextPart)
    assert (
        text.text
        == '<thinking>\n\n</thinking>\n<tool_call>\n{"name":"mobile_use","arguments":{"action":"type","text":"\\u00e9"}}\n</tool_call>'
    )


def test_refused_steps_are_left_out_and_feedback_precedes_the_screenshot(family: MaiUI) -> None:
    refused = HistoryStep(reply="no idea", error="no tool call found")
    messages = family.render("task", PHONE, [refused], feedback="no tool call found; reply with ...")
    assert [m.role for m in messages] == ["system", "user", "user", "user"]
    assert messages[2] == Message.text("user", "no tool call found; reply with ...")
    assert messages[3].content == (ImageSlot("current", 1088, 2400),)
