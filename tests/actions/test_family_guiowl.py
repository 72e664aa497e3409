"""GUI-Owl-1.5 (phone and desktop): the authors' messages byte for byte, their pixels, their verbs.

Golden data (``tests/data/guiowl15/``, see its README) was produced by running X-PLUG/MobileAgent's
``Mobile-Agent-v3.5`` code offline: ``build_messages`` + ``image_to_base64`` for the messages and image
sizes, ``parse_action``/``extract_tool_calls`` + ``rescale_coordinates`` for the device pixels, the
ScreenSpot evaluator for the grounding prompt and ClawGUI's judge for grounding pixels.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, ConfigError, CoordinateError
from guiagent.actions.families import (
    FAMILIES,
    GUIOwl15Computer,
    GUIOwl15Mobile,
    HistoryStep,
    ModelFamily,
    get_family,
    infer_family,
)
from guiagent.actions.families.guiowl import canvas_size, sent_size
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.actions.types import (
    Action,
    Answer,
    CallUser,
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

DATA = Path(__file__).resolve().parents[1] / "data" / "guiowl15"
PHONE = Size(1080, 2400)
DESKTOP = Size(1920, 1080)
DAY = datetime.date(2026, 2, 14)


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _family(platform: str, **options: Any) -> ModelFamily:
    return get_family(f"gui-owl-1.5-{platform}", **options)


@pytest.fixture
def mobile() -> GUIOwl15Mobile:
    family = _family("mobile", today=DAY)
    assert isinstance(family, GUIOwl15Mobile)
    return family


@pytest.fixture
def computer() -> GUIOwl15Computer:
    family = _family("computer")
    assert isinstance(family, GUIOwl15Computer)
    return family


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


def _golden(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("type", "text", "screenshot", "model_size")
    return [{"role": m["role"], "content": [{k: p[k] for k in keep if k in p} for p in m["content"]]} for m in messages]


# --- facts ------------------------------------------------------------------------------------------------


def test_family_facts(mobile: GUIOwl15Mobile, computer: GUIOwl15Computer) -> None:
    assert mobile.factor == computer.factor == 32  # Qwen3-VL: patch 16 x merge 2
    assert mobile.pixel_limits == computer.pixel_limits == (3136, 10035200)  # image_to_base64's limits
    assert mobile.default_history_images == computer.default_history_images == 4  # build_messages' history_n
    assert mobile.active_platform == "mobile" and computer.active_platform == "computer"
    assert mobile.space(PHONE).name == "relative-1000/canvas-1088x2400"
    assert computer.space(DESKTOP).name == "relative-1000/canvas-1920x1088"
    assert "11cea575561fb7800b5fb6b6cafa56f7a91de11f" in mobile.source and "999" in mobile.choices
    assert "8192" in computer.choices


def test_registered_and_inferred() -> None:
    assert FAMILIES["gui-owl-1.5-mobile"] is GUIOwl15Mobile
    assert FAMILIES["gui-owl-1.5-computer"] is GUIOwl15Computer
    for model in ("mPLUG/GUI-Owl-1.5-8B-Instruct", "mPLUG/GUI-Owl-1.5-8B-Think", "mPLUG/GUI-Owl-1.5-32B-Think"):
        assert infer_family(model, "android") == "gui-owl-1.5-mobile"
        assert infer_family(model, "desktop") == "gui-owl-1.5-computer"
    assert infer_family("/models/gui_owl_1_5_2b", "android") == "gui-owl-1.5-mobile"
    for v1 in ("mPLUG/GUI-Owl-7B", "mPLUG/GUI-Owl-32B"):  # Qwen2.5-VL, pixel coordinates: not 1.5's format
        with pytest.raises(ConfigError, match="--family"):
            infer_family(v1, "android")


def test_computer_family_takes_no_date() -> None:
    with pytest.raises(ConfigError):
        get_family("gui-owl-1.5-computer", today=DAY)


# --- golden messages and sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", _load("renders.json"), ids=lambda c: c["name"])
def test_messages_equal_the_authors(case: dict[str, Any]) -> None:
    options = {"today": datetime.date.fromisoformat(case["date"])} if case["date"] else {}
    family = _family(case["platform"], **options)
    screen = Size(*case["screen"])
    model = family.model_size(screen)
    replies = case["history"]
    history = [
        HistoryStep(reply=r, image=ImageSlot(f"step-{i}", model.width, model.height) if i > len(replies) - 4 else None)
        for i, r in enumerate(replies, start=1)
    ]
    assert _as_json(family.render(case["task"], screen, history)) == _golden(case["messages"])


@pytest.mark.parametrize(
    "entry", _load("sizes.json"), ids=lambda e: f"{e['platform']}-{e['screen'][0]}x{e['screen'][1]}"
)
def test_image_sizes_equal_the_authors(entry: dict[str, Any]) -> None:
    screen = Size(*entry["screen"])
    family = _family(entry["platform"])
    sent = sent_size(screen, entry["platform"])
    assert [sent.width, sent.height] == entry["sent_size"]  # their image_to_base64
    model = family.model_size(screen)
    assert [model.width, model.height] == entry["model_size"]  # after Qwen3-VL's processor: what is sent here
    canvas = canvas_size(screen)
    if max(entry["screen"]) <= 8192:
        assert [canvas.width, canvas.height] == entry["canvas"]
    else:  # the desktop smart_resize caps the long side at 8192: the one deliberate deviation (see choices)
        assert entry["platform"] == "computer" and entry["canvas"] != [canvas.width, canvas.height]
        assert canvas == Size(11520, 2160)


def test_system_prompts_are_the_authors_files(mobile: GUIOwl15Mobile, computer: GUIOwl15Computer) -> None:
    phone = mobile.system_prompt()
    desk = computer.system_prompt()
    assert phone.startswith("# Tools\n") and phone.endswith("- If finishing, use action=terminate in the tool call.")
    assert "* `interact`: Resolve the blocking window by interacting with the user." in phone
    assert "Be brief: one sentence for Action." in phone  # HEAD (commit afc7102)
    assert "Be brief: one for Action." in desk
    assert "The screen's resolution is 1000x1000." in phone and "The screen's resolution is 1000x1000." in desk


# --- their pixels -----------------------------------------------------------------------------------------


def _their_points(arguments: dict[str, Any]) -> list[tuple[int, int]]:
    return [tuple(arguments[k]) for k in ("coordinate1", "coordinate", "coordinate2") if k in arguments]  # type: ignore[misc]


@pytest.mark.parametrize(
    "entry", _load("replies.json"), ids=lambda e: f"{e['platform']}-{e['screen'][0]}x{e['screen'][1]}"
)
def test_replies_land_on_the_authors_pixels(entry: dict[str, Any]) -> None:
    family = _family(entry["platform"])
    screen = Size(*entry["screen"])
    assert canvas_size(screen) == Size(*entry["canvas"])
    expected = [p for args in entry["device"] for p in _their_points(args)]
    off_screen = any(x > screen.width or y > screen.height for x, y in expected)
    if off_screen:  # their tap would land beyond the screen's far edge: refused, never clamped
        with pytest.raises(CoordinateError, match="outside the screen"):
            family.parse_to_device(entry["reply"], screen)
        return
    _, actions = family.parse_to_device(entry["reply"], screen)
    ours = [(int(x), int(y)) for a in actions for _, _, x, y in a.points()]
    # exactly on the far edge (x = 1000 where the canvas is the screen) is the last pixel, as in every family;
    # the authors tap one past it
    assert ours == [(min(x, screen.width - 1), min(y, screen.height - 1)) for x, y in expected]
    assert [a.type for a in actions][: len(entry["device"])] == [_our_type(args["action"]) for args in entry["device"]]


def _our_type(verb: str) -> str:
    return {
        "left_click": "click",
        "left_click_drag": "drag",
        "mouse_move": "move",
        "long_press": "long_press",
        "swipe": "swipe",
        "scroll": "scroll",
    }.get(verb, verb)


def test_truncation_not_rounding(mobile: GUIOwl15Mobile) -> None:
    # 503 / 1000 * 1088 = 547.264 and 412 / 1000 * 2400 = 988.8: int() truncates both (rounding gives 989)
    _, actions = mobile.parse_to_device(_mobile_call({"action": "click", "coordinate": [503, 412]}), PHONE)
    assert actions == (Click(x=547, y=988),)
    # the far edge of the screen in model units: 1000 * 1080 / 1088 = 992.6; 993 is pixel 1080, off screen
    _, actions = mobile.parse_to_device(_mobile_call({"action": "click", "coordinate": [992, 0]}), PHONE)
    assert actions == (Click(x=1079, y=0),)
    with pytest.raises(CoordinateError) as caught:
        mobile.parse_to_device(_mobile_call({"action": "click", "coordinate": [993, 0]}), PHONE)
    assert caught.value.point == (993, 0) and "0 to 992" in caught.value.reason


def test_canvas_smaller_than_the_screen() -> None:
    # 1000 / 16 = 62.5 rounds to 62: a 992-px canvas; 0-1000 reaches pixel 992 and no further
    family = _family("computer")
    screen = Size(1000, 800)
    assert canvas_size(screen) == Size(992, 800)
    _, actions = family.parse_to_device(_computer_call({"action": "left_click", "coordinate": [1000, 1000]}), screen)
    assert actions == (Click(x=992, y=799),)


def test_huge_desktop_canvas_is_not_capped(computer: GUIOwl15Computer) -> None:
    screen = Size(11520, 2160)  # three 4K monitors side by side
    _, actions = computer.parse_to_device(_computer_call({"action": "left_click", "coordinate": [500, 500]}), screen)
    assert actions == (Click(x=5760, y=1080),)  # the authors' capped canvas would give (4096, 768)
    assert computer.model_size(screen) == Size(7296, 1344)


def test_padding_maps_onto_the_padded_image() -> None:
    family = _family("mobile", pad=True)
    plan = family.image_plan(PHONE)
    assert plan.padded and plan.model == Size(1088, 2400)
    _, actions = family.parse_to_device(_mobile_call({"action": "click", "coordinate": [500, 500]}), PHONE)
    assert actions == (Click(x=544, y=1200),)


# --- parsing ------------------------------------------------------------------------------------------------


def _mobile_call(arguments: dict[str, Any], action_line: str = "Do it.") -> str:
    body = json.dumps({"name": "mobile_use", "arguments": arguments}, ensure_ascii=False)
    return f"Action: {action_line}\n<tool_call>\n{body}\n</tool_call>"


def _computer_call(arguments: dict[str, Any], action_line: str = "Do it.") -> str:
    body = json.dumps({"name": "computer_use", "arguments": arguments}, ensure_ascii=False)
    return f"Action: {action_line}\n<tool_call>\n{body}\n</tool_call>"


def test_every_mobile_verb(mobile: GUIOwl15Mobile) -> None:
    s = mobile.space(PHONE).name
    cases: list[tuple[dict[str, Any], Action]] = [
        ({"action": "click", "coordinate": [500, 500]}, Click(x=500, y=500, space=s)),
        ({"action": "long_press", "coordinate": [10, 20], "time": 2}, LongPress(x=10, y=20, duration=2, space=s)),
        ({"action": "long_press", "coordinate": [10, 20]}, LongPress(x=10, y=20, duration=0.8, space=s)),
        (
            {"action": "swipe", "coordinate": [500, 800], "coordinate2": [500, 200]},
            Swipe(x=500, y=800, x2=500, y2=200, duration=0.8, space=s),
        ),
        (
            {"action": "scroll", "coordinate": [500, 800], "coordinate2": [500, 200]},
            Swipe(x=500, y=800, x2=500, y2=200, duration=0.8, space=s),
        ),
        ({"action": "type", "text": "héllo 日本"}, Type(text="héllo 日本", space=s)),
        ({"action": "key", "text": "volume_up"}, Key(keys=["volume_up"], space=s)),
        ({"action": "system_button", "button": "Back"}, SystemButton(button="back", space=s)),
        ({"action": "system_button", "button": "Home"}, SystemButton(button="home", space=s)),
        ({"action": "system_button", "button": "Menu"}, SystemButton(button="menu", space=s)),
        ({"action": "system_button", "button": "Enter"}, SystemButton(button="enter", space=s)),
        ({"action": "open", "text": "Settings"}, OpenApp(name="Settings", space=s)),
        ({"action": "wait", "time": 3}, Wait(seconds=3, space=s)),
        ({"action": "wait"}, Wait(seconds=2, space=s)),
        ({"action": "answer", "text": "42 km"}, Answer(text="42 km", space=s)),
        ({"action": "interact", "text": "Please log in"}, CallUser(message="Please log in", space=s)),
        ({"action": "call_user", "text": "Solve the captcha"}, CallUser(message="Solve the captcha", space=s)),
        ({"action": "terminate", "status": "success"}, Terminate(status="success", space=s)),
        ({"action": "terminate", "status": "failure"}, Terminate(status="failure", space=s)),
        ({"action": "tap", "coordinate": [1, 2]}, Click(x=1, y=2, space=s)),
    ]
    for arguments, expected in cases:
        parsed = mobile.parse(_mobile_call(arguments, "Do the thing."), PHONE)
        assert parsed.actions == (expected,), arguments
        assert parsed.thought == "Do the thing."


def test_answer_without_text_uses_the_action_line(mobile: GUIOwl15Mobile) -> None:
    parsed = mobile.parse(_mobile_call({"action": "answer"}, "The price is $12."), PHONE)
    assert parsed.actions == (Answer(text="The price is $12.", space=mobile.space(PHONE).name),)


def test_mobile_runs_the_first_tool_call_only(mobile: GUIOwl15Mobile) -> None:
    two = _mobile_call({"action": "click", "coordinate": [1, 2]}) + "\n" + _mobile_call({"action": "wait", "time": 1})
    assert [a.type for a in mobile.parse(two, PHONE).actions] == ["click"]


def test_every_computer_verb(computer: GUIOwl15Computer) -> None:
    s = computer.space(DESKTOP).name
    cases: list[tuple[dict[str, Any], Action]] = [
        ({"action": "left_click", "coordinate": [500, 500]}, Click(x=500, y=500, space=s)),
        ({"action": "left_click"}, Click(space=s)),
        ({"action": "click", "coordinate": [5, 6]}, Click(x=5, y=6, space=s)),
        ({"action": "right_click", "coordinate": [5, 6]}, RightClick(x=5, y=6, space=s)),
        ({"action": "middle_click", "coordinate": [5, 6]}, MiddleClick(x=5, y=6, space=s)),
        ({"action": "double_click", "coordinate": [5, 6]}, DoubleClick(x=5, y=6, space=s)),
        ({"action": "triple_click", "coordinate": [5, 6]}, TripleClick(x=5, y=6, space=s)),
        ({"action": "mouse_move", "coordinate": [5, 6]}, Move(x=5, y=6, space=s)),
        ({"action": "left_click_drag", "coordinate": [7, 8]}, Drag(x2=7, y2=8, space=s)),
        ({"action": "drag", "coordinate": [7, 8]}, Drag(x2=7, y2=8, space=s)),
        (
            {"action": "left_click_drag", "coordinate1": [1, 2], "coordinate2": [7, 8]},
            Drag(x=1, y=2, x2=7, y2=8, space=s),
        ),
        ({"action": "scroll", "pixels": -5}, Scroll(direction="down", amount=5, space=s)),
        ({"action": "scroll", "pixels": 3, "coordinate": [9, 9]}, Scroll(direction="up", amount=3, x=9, y=9, space=s)),
        ({"action": "scroll"}, Scroll(direction="up", amount=1, space=s)),
        ({"action": "hscroll", "pixels": 4}, Scroll(direction="right", amount=4, space=s)),
        ({"action": "hscroll", "pixels": -4}, Scroll(direction="left", amount=4, space=s)),
        ({"action": "key", "keys": ["ctrl", "c"]}, Key(keys=["ctrl", "c"], space=s)),
        ({"action": "key", "keys": ["ArrowDown"]}, Key(keys=["down"], space=s)),
        ({"action": "key", "keys": ["keys=[ctrl", "s]"]}, Key(keys=["ctrl", "s"], space=s)),
        ({"action": "key", "keys": "ctrl+shift+t"}, Key(keys=["ctrl", "shift", "t"], space=s)),
        ({"action": "type", "text": "summary.txt"}, Type(text="summary.txt", space=s)),
        ({"action": "wait", "time": 1.5}, Wait(seconds=1.5, space=s)),
        ({"action": "answer", "text": "Paris"}, Answer(text="Paris", space=s)),
        ({"action": "interact", "text": "Enter your password"}, CallUser(message="Enter your password", space=s)),
        ({"action": "call_user"}, CallUser(space=s)),
        ({"action": "terminate", "status": "failure"}, Terminate(status="failure", space=s)),
        ({"action": "done"}, Terminate(status="success", space=s)),
        ({"action": "open app", "app_name": "Firefox"}, OpenApp(name="Firefox", space=s)),
    ]
    for arguments, expected in cases:
        assert computer.parse(_computer_call(arguments), DESKTOP).actions == (expected,), arguments


def test_computer_runs_every_tool_call(computer: GUIOwl15Computer) -> None:
    reply = _load("replies.json")
    two = next(e["reply"] for e in reply if e["platform"] == "computer" and e["reply"].count("<tool_call>") == 2)
    parsed = computer.parse(two, DESKTOP)
    assert [a.type for a in parsed.actions] == ["triple_click", "move"]


def test_tolerated_forms(mobile: GUIOwl15Mobile, computer: GUIOwl15Computer) -> None:
    s = mobile.space(PHONE).name
    click = Click(x=10, y=20, space=s)
    forms = [
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [10, 20]}}\n</tool_call>',
        'Action: x\n<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [10, 20]}}',
        '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [10, 20]}}',
        '```json\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [10, 20]}}\n```',
        "<tool_call>\n{'name': 'mobile_use', 'arguments': {'action': 'click', 'coordinate': [10, 20]}}\n</tool_call>",
        '<tool_call>\n{"name": "mobile_use", "arguments": "{\\"action\\": \\"click\\", \\"coordinate\\": [10, 20]}"}\n'
        "</tool_call>",
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": "(10, 20)"}}\n</tool_call>',
    ]
    for reply in forms:
        assert mobile.parse(reply, PHONE).actions == (click,), reply
    # the other platform's tool name is still GUI-Owl speaking: accepted
    other = (
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "left_click", "coordinate": [1, 1]}}\n</tool_call>'
    )
    assert computer.parse(other, DESKTOP).actions[0].type == "click"


# --- thinking -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "<think>\nThe toggle is top right.\n</think>\n\nAction: Tap it.\n<tool_call>\n"
        '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [900, 100]}}\n</tool_call>',
        "The toggle is top right.\n</think>\n\nAction: Tap it.\n<tool_call>\n"  # the chat template opened <think>
        '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [900, 100]}}\n</tool_call>',
        "<thinking>\nThe toggle is top right.\n</thinking>Action: Tap it.\n<tool_call>\n"  # run_gui_owl_1_5_for_pc
        '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [900, 100]}}\n</tool_call>',
    ],
)
def test_thinking_becomes_the_thought(mobile: GUIOwl15Mobile, reply: str) -> None:
    parsed = mobile.parse(reply, PHONE)
    assert parsed.actions == (Click(x=900, y=100, space=mobile.space(PHONE).name),)
    assert parsed.thought == "The toggle is top right.\n\nTap it."


def test_truncated_thinking_is_its_own_error(mobile: GUIOwl15Mobile) -> None:
    with pytest.raises(ActionParseError, match="max_new_tokens"):
        mobile.parse("<think>\nFirst I need to find the settings, then", PHONE)


# --- refusals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        ("I will tap the settings icon.", "no tool call"),
        ('Action: x\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordi', "cut off"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "fly"}}\n</tool_call>', "unknown action"),
        ('<tool_call>\n{"name": "browser", "arguments": {"action": "click"}}\n</tool_call>', "unknown tool"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click"}}\n</tool_call>', "coordinate"),
        ('<tool_call>\n{"name": "mobile_use", "arguments": 7}\n</tool_call>', "arguments"),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1, 2, 3]}}\n</tool_call>',
            "point",
        ),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "type", "text": ""}}\n</tool_call>', "text"),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "system_button", "button": "Power"}}\n'
            "</tool_call>",
            "button",
        ),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "terminate", "status": "maybe"}}\n</tool_call>',
            "status",
        ),
        ('<tool_call>\n{"name": "mobile_use", "arguments": {"action": "answer"}}\n</tool_call>', "answer"),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "long_press", "coordinate": [1, 1], "time": 0}}'
            "\n</tool_call>",
            "duration",
        ),
    ],
)
def test_mobile_rejects(mobile: GUIOwl15Mobile, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError, match=reason) as caught:
        mobile.parse(reply, PHONE)
    assert caught.value.raw_text == reply[:2000]


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"action": "scroll", "pixels": 0}, "must not be 0"),
        ({"action": "scroll", "pixels": -500}, "amount"),
        ({"action": "key", "keys": []}, "keys"),
        ({"action": "key", "keys": [1, 2]}, "keys"),
        ({"action": "mouse_move"}, "coordinate"),
        ({"action": "left_click_drag"}, "coordinate"),
        ({"action": "swipe", "coordinate": [1, 1]}, "unknown action"),
    ],
)
def test_computer_rejects(computer: GUIOwl15Computer, arguments: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActionParseError, match=reason):
        computer.parse(_computer_call(arguments), DESKTOP)


def test_unknown_action_lists_the_prompt_verbs(mobile: GUIOwl15Mobile) -> None:
    with pytest.raises(ActionParseError) as caught:
        mobile.parse(_mobile_call({"action": "fly"}), PHONE)
    assert "key, click, long_press, swipe, type, system_button, open, wait, answer, interact, terminate" in (
        caught.value.reason
    )


# --- writing replies --------------------------------------------------------------------------------------


def test_format_action_is_the_models_reply(mobile: GUIOwl15Mobile) -> None:
    s = mobile.space(PHONE).name
    reply = mobile.format_action(Click(x=503, y=412, space=s), 'Tap "Display".')
    assert reply == (
        'Action: Tap "Display".\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", '
        '"coordinate": [503, 412]}}\n</tool_call>'
    )
    case = next(c for c in _load("renders.json") if c["name"] == "mobile-1080x2400-task2-history3")
    assert reply == case["history"][1]  # the form the authors' parse_action splits on ("<tool_call>\n", "}}\n")


def test_round_trips(mobile: GUIOwl15Mobile, computer: GUIOwl15Computer) -> None:
    sm, sc = mobile.space(PHONE).name, computer.space(DESKTOP).name
    phone_actions: list[Action] = [
        Click(x=1, y=2, space=sm),
        LongPress(x=3, y=4, duration=2, space=sm),
        Swipe(x=5, y=6, x2=7, y2=8, duration=0.8, space=sm),
        Type(text="a \"quoted\" 'text'\n", space=sm),
        Key(keys=["volume_up"], space=sm),
        SystemButton(button="menu", space=sm),
        OpenApp(name="Clock", space=sm),
        Wait(seconds=3, space=sm),
        Answer(text="yes", space=sm),
        CallUser(message="log in, please", space=sm),
        Terminate(status="failure", space=sm),
    ]
    for action in phone_actions:
        assert mobile.parse(mobile.format_action(action, "t"), PHONE).actions == (action,), action
    desk_actions: list[Action] = [
        Click(x=1, y=2, space=sc),
        Click(space=sc),
        DoubleClick(x=1, y=2, space=sc),
        TripleClick(x=1, y=2, space=sc),
        RightClick(x=1, y=2, space=sc),
        MiddleClick(x=1, y=2, space=sc),
        Move(x=1, y=2, space=sc),
        Drag(x2=3, y2=4, space=sc),
        Scroll(direction="down", amount=5, x=9, y=9, space=sc),
        Scroll(direction="left", amount=2, space=sc),
        Key(keys=["ctrl", "shift", "t"], space=sc),
        Type(text="x", space=sc),
        Wait(seconds=1.5, space=sc),
        Answer(text="Paris", space=sc),
        CallUser(message="help", space=sc),
        Terminate(status="success", space=sc),
    ]
    for action in desk_actions:
        assert computer.parse(computer.format_action(action), DESKTOP).actions == (action,), action


@pytest.mark.parametrize(
    ("platform", "action"),
    [
        ("mobile", Scroll(direction="down", space="x")),
        ("mobile", RightClick(x=1, y=1, space="x")),
        ("mobile", Click(space="x")),
        ("mobile", Key(keys=["ctrl", "c"], space="x")),
        ("mobile", SystemButton(button="recents", space="x")),
        ("computer", Swipe(x=1, y=1, x2=2, y2=2, space="x")),
        ("computer", LongPress(x=1, y=1, space="x")),
        ("computer", Drag(x=1, y=1, x2=2, y2=2, space="x")),
        ("computer", SystemButton(button="back", space="x")),
        ("computer", OpenApp(name="Files", space="x")),
    ],
)
def test_inexpressible_actions(platform: str, action: Action) -> None:
    with pytest.raises(ValueError, match="cannot express"):
        _family(platform).format_action(action)


# --- history --------------------------------------------------------------------------------------------------


def test_refused_steps_are_left_out_and_bare_actions_written(mobile: GUIOwl15Mobile) -> None:
    s = mobile.space(PHONE).name
    history = [
        HistoryStep(reply="I think I should tap", error="no tool call found"),
        HistoryStep(actions=(Click(x=5, y=6, space=s),)),
        HistoryStep(reply=_mobile_call({"action": "wait", "time": 1}, "Wait for the page.")),
    ]
    text = mobile.render("Do it", PHONE, history)[1].content[0]
    assert isinstance(text, TextPart)
    assert text.text.endswith(
        'Previous actions:\nStep 1: <tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", '
        '"coordinate": [5, 6]}}\n</tool_call>\nStep 2: Wait for the page.'
    )


def test_window_is_the_trailing_steps_with_images(computer: GUIOwl15Computer) -> None:
    slot = computer.current_image(DESKTOP)
    history = [
        HistoryStep(reply=_computer_call({"action": "wait"}, "First."), image=ImageSlot("step-1", 1920, 1088)),
        HistoryStep(reply=_computer_call({"action": "wait"}, "Second.")),
        HistoryStep(reply=_computer_call({"action": "wait"}, "Third."), image=ImageSlot("step-3", 1920, 1088)),
    ]
    messages = computer.render("Task", DESKTOP, history, feedback="no tool call found")
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    first = messages[1].content
    assert isinstance(first[0], TextPart) and first[0].text.endswith("Step 1: First.\nStep 2: Second.")
    assert first[1] == ImageSlot("step-3", 1920, 1088)
    assert messages[-1].content == (slot, TextPart("\nYour previous reply was not a valid action: no tool call found"))


def test_phone_date_defaults_to_today() -> None:
    family = _family("mobile")
    first = family.render("Task", PHONE)[1].content[0]
    assert isinstance(first, TextPart)
    assert f"Instruction: Today's date is: {datetime.date.today():%Y-%m-%d} " in first.text


# --- grounding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", _load("grounding.json"), ids=lambda e: f"{e['screen'][0]}x{e['screen'][1]}")
@pytest.mark.parametrize("platform", ["mobile", "computer"])
def test_grounding_prompt_and_answers(entry: dict[str, Any], platform: str) -> None:
    family = _family(platform)
    screen = Size(*entry["screen"])
    messages = family.grounding_messages(entry["instruction"], screen)
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[0].content == (TextPart(entry["system"]),)
    image, text = messages[1].content
    assert isinstance(image, ImageSlot) and [image.width, image.height] == entry["user"][0]["model_size"]
    assert text == TextPart(entry["user"][1]["text"])
    space = family.space(screen)
    for answer in entry["answers"]:
        mx, my = family.parse_grounding(answer["answer"], screen)
        x, y = space.to_device(mx, my, screen, answer["answer"])
        expected = [min(screen.width - 1, answer["device"][0]), min(screen.height - 1, answer["device"][1])]
        assert [x, y] == expected, answer  # the far edge (1000) is the last pixel here, one past it in theirs


def test_grounding_refusals(computer: GUIOwl15Computer) -> None:
    failure = (
        '<tool_call>\n{"name": "computer_use", "arguments": {"action": "terminate", "status": "failure"}}\n</tool_call>'
    )
    with pytest.raises(ActionParseError, match="names no point"):
        computer.parse_grounding(failure, DESKTOP)
    mx, my = computer.parse_grounding('{"coordinate": [1200, 5]}', DESKTOP)
    with pytest.raises(CoordinateError):
        computer.space(DESKTOP).to_device(mx, my, DESKTOP)


def test_a_canvas_shorter_than_the_screen_bounds_the_round_trip_by_what_it_can_reach() -> None:
    """480x2533: the 16-px canvas is 2528 high, so unit 1001 (the largest allowed) lands on pixel 2530."""
    from guiagent.actions.families import get_family
    from guiagent.actions.geometry import Size
    from guiagent.actions.types import Click

    family = get_family("gui-owl-1.5-computer")
    screen = Size(480, 2533)
    mapping = family.mapping(screen)
    reply = family.format_action(mapping.to_model(Click(x=0, y=2532)))
    (action,) = family.parse_to_device(reply, screen)[1]
    assert (action.x, action.y) == (0, 2530)
    assert mapping.space.round_trip_error(screen)[1] >= 2
