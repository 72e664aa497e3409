"""UI-Venus-1.5: the Venus framework's prompt and DSL, checked against what the authors' own code produced.

The golden files in ``tests/data/uivenus15`` were made by running inclusionAI/UI-Venus' code with fake
screens (see the README there): the framework's requests (phone), the navigation script's web requests
(computer), the grounding request, and the device pixels their own mapping gives for replies in the
documented format. Their mapping truncates: ``int(x * width / 1000)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import HistoryStep, UIVenus15, get_family, infer_family
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

DATA = Path(__file__).resolve().parent.parent / "data" / "uivenus15"
PHONE = Size(1080, 2400)
DESKTOP = Size(1920, 1080)
REL = "relative-1000"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


FRAMEWORK = _load("framework.json")
WEB = _load("navigation_web.json")
GROUNDING = _load("grounding.json")


@pytest.fixture
def phone() -> UIVenus15:
    family = get_family("ui-venus-1.5")
    assert isinstance(family, UIVenus15)
    return family


@pytest.fixture
def web() -> UIVenus15:
    family = get_family("ui-venus-1.5", platform="computer")
    assert isinstance(family, UIVenus15)
    return family


def _steps(data: Any) -> list[tuple[str, Any, Any]]:
    return [(case["name"], case, step) for case in data["cases"] for step in case["steps"]]


def _assert_messages(messages: list[Message], expected: list[dict[str, Any]]) -> None:
    assert [m.role for m in messages] == [e["role"] for e in expected]
    for message, want in zip(messages, expected, strict=True):
        assert len(message.content) == len(want["content"])
        for part, spec in zip(message.content, want["content"], strict=True):
            if spec["type"] == "text":
                assert isinstance(part, TextPart)
                assert part.text == spec["text"]
            else:
                assert isinstance(part, ImageSlot)
                assert part.key == "current"
                assert [part.width, part.height] == spec["model_size"]


# --- facts ------------------------------------------------------------------------------------------------


def test_family_facts(phone: UIVenus15, web: UIVenus15) -> None:
    assert phone.factor == 32  # Qwen3-VL: patch 16 x spatial merge 2
    assert phone.pixel_limits == (3136, 12845056)  # scripts/run_navi.sh, models/navigation/runner.py, ClawGUI
    assert phone.space(PHONE).name == REL
    assert phone.space(PHONE).rounding == "floor-scaled-first"  # their int(v * side / 1000)
    assert phone.model_size(PHONE) == Size(1088, 2400)
    assert phone.model_size(Size(1440, 3120)) == Size(1440, 3136)
    assert web.model_size(DESKTOP) == Size(1920, 1088)
    assert phone.default_history_images == 0
    assert phone.active_platform == "mobile" and web.active_platform == "computer"
    assert "inclusionAI/UI-Venus" in phone.source and "models/navigation" in phone.choices


@pytest.mark.parametrize(
    "model_id",
    [
        "inclusionAI/UI-Venus-1.5-2B",
        "inclusionAI/UI-Venus-1.5-8B",
        "inclusionAI/UI-Venus-1.5-30B-A3B",
        "UI-Venus-1.5-Pro",
    ],
)
def test_model_ids_infer_the_family(model_id: str) -> None:
    assert infer_family(model_id, "android") == "ui-venus-1.5"


@pytest.mark.parametrize("model_id", ["inclusionAI/UI-Venus-Ground-7B", "inclusionAI/UI-Venus-Navi-72B"])
def test_venus_1_0_ids_are_not_taken_for_1_5(model_id: str) -> None:
    try:
        assert infer_family(model_id, "android") != "ui-venus-1.5"
    except Exception as exc:  # noqa: BLE001 - unmapped ids raise ConfigError, which is the point
        assert "--family" in str(exc)


# --- golden renders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "case", "step"), _steps(FRAMEWORK), ids=lambda v: v if isinstance(v, str) else "")
def test_framework_requests_byte_for_byte(phone: UIVenus15, name: str, case: Any, step: Any) -> None:
    history = [HistoryStep(reply=reply) for reply in step["history_replies"]]
    _assert_messages(phone.render(case["task"], Size(*case["screen"]), history), step["messages"])


def test_framework_golden_covers_history() -> None:
    deepest = max(len(step["history_replies"]) for _, _, step in _steps(FRAMEWORK))
    assert deepest == 3
    assert {tuple(case["screen"]) for case in FRAMEWORK["cases"]} == {(1080, 2400), (1440, 3120)}


@pytest.mark.parametrize(("name", "case", "step"), _steps(WEB), ids=lambda v: v if isinstance(v, str) else "")
def test_web_requests_byte_for_byte(web: UIVenus15, name: str, case: Any, step: Any) -> None:
    history = [HistoryStep(reply=reply) for reply in step["history_replies"]]
    _assert_messages(web.render(case["task"], Size(*case["screen"]), history), step["messages"])


def test_web_history_keeps_the_last_five_steps(web: UIVenus15) -> None:
    history = [HistoryStep(reply=f"<think>t{i}</think>\n<action>Wait()</action>") for i in range(7)]
    text = web.render("task", DESKTOP, history)[1].content[0]
    assert isinstance(text, TextPart)
    assert "Step 0: <think>t2</think><action>Wait()</action>" in text.text
    assert "Step 4: <think>t6</think>" in text.text and "Step 5" not in text.text


def test_phone_history_keeps_every_step_and_refused_replies(phone: UIVenus15) -> None:
    history = [HistoryStep(reply=f"<think>t{i}</think>\n<action>Wait()</action>") for i in range(7)]
    history.append(HistoryStep(reply="I am not sure what to do", error="no action found"))
    text = phone.render("任务", PHONE, history)[0].content[0]
    assert isinstance(text, TextPart)
    assert "Step 0: <think>t0</think><action>Wait()</action>\n" in text.text
    assert "Step 7: I am not sure what to do\n" in text.text  # the framework keeps it as its action


def test_history_from_actions_when_no_reply_was_recorded(phone: UIVenus15) -> None:
    history = [HistoryStep(actions=(Click(x=12, y=34, space=REL),)), HistoryStep(actions=(Type(text="hi", space=REL),))]
    text = phone.render("t", PHONE, history)[0].content[0]
    assert isinstance(text, TextPart)
    assert "Step 0: Click(box=(12,34))\nStep 1: Type(content='hi')\n" in text.text


def test_feedback_follows_the_screenshot(phone: UIVenus15) -> None:
    (user,) = phone.render("t", PHONE, feedback="no action found")
    kinds = [type(p).__name__ for p in user.content]
    assert kinds == ["TextPart", "ImageSlot", "TextPart"]
    last = user.content[2]
    assert isinstance(last, TextPart) and "no action found" in last.text and "<action>Click(box=(x,y))" in last.text


def test_first_step_prompt_has_an_empty_history(phone: UIVenus15) -> None:
    text = phone.render("打开设置", PHONE)[0].content[0]
    assert isinstance(text, TextPart)
    assert "###先前的动作和推理过程\n\n\n###输出格式" in text.text
    assert "'ADB Keyboard {ON}'" in text.text  # the template's {{ON}} formats to {ON}


# --- the authors' own mapping: replies -> device pixels ---------------------------------------------------


def _expected(record: dict[str, Any]) -> Action:
    out = record["action_output"]
    kind, pos = out["action_type"], out["action_pos"]
    reply = record["reply"]
    if kind == "CLK":
        return Click(x=pos[0][0], y=pos[0][1])
    if kind == "LongPress":
        return LongPress(x=pos[0][0], y=pos[0][1], duration=0.5)
    if kind == "SWIPE":
        (x, y), (x2, y2) = pos
        return (Drag if "Drag(" in reply else Swipe)(x=x, y=y, x2=x2, y2=y2, duration=1.0)
    if kind == "INPUT":
        return Type(text=out["input"])
    if kind == "REOPEN":
        return OpenApp(name=reply.split("app='")[1].split("'")[0])
    if kind == "WAIT":
        return Wait(seconds=out["duration"] / 1000)
    if kind == "SUCCESS":
        return Terminate(status="success", message=reply.split("content='")[1].split("'")[0])
    if kind == "CallUser":
        return CallUser(message=out["input"])
    buttons = {"BACK": "back", "PressHome": "home", "PressEnter": "enter", "PressMenu": "recents"}
    return SystemButton(button=buttons[kind])  # type: ignore[arg-type]


@pytest.mark.parametrize("record", FRAMEWORK["replies"], ids=lambda r: f"{r['screen'][1]}-{r['reply'][-45:]}")
def test_replies_land_on_the_authors_pixel(phone: UIVenus15, record: dict[str, Any]) -> None:
    parsed, actions = phone.parse_to_device(record["reply"], Size(*record["screen"]))
    assert actions == (_expected(record),)
    assert parsed.thought == (record["think"] or None)


def test_truncation_not_rounding(phone: UIVenus15) -> None:
    # 457 * 3120 / 1000 = 1425.84: the framework taps 1425 (rounding would give 1426)
    assert phone.parse_to_device("<action>Click(box=(123,457))</action>", Size(1440, 3120))[1] == (
        Click(x=177, y=1425),
    )
    assert phone.parse_to_device("<action>Click(box=(1000,1000))</action>", PHONE)[1] == (Click(x=1079, y=2399),)


def test_out_of_range_is_a_coordinate_error(phone: UIVenus15) -> None:
    with pytest.raises(CoordinateError):
        phone.parse_to_device("<action>Click(box=(1001,5))</action>", PHONE)
    with pytest.raises(CoordinateError):
        phone.parse_to_device("<action>Click(box=(-3,5))</action>", PHONE)


@pytest.mark.parametrize("screen", [PHONE, Size(1440, 3120), DESKTOP, Size(720, 1280), Size(3840, 2160)])
def test_every_device_pixel_round_trips(phone: UIVenus15, screen: Size) -> None:
    mapping = phone.mapping(screen)
    tol_x, tol_y = mapping.space.round_trip_error(screen)
    for x in range(0, screen.width, 7):
        y = (x * 13) % screen.height
        model = mapping.to_model(Click(x=x, y=y))
        back = mapping.to_device(phone.parse(phone.format_action(model), screen).actions[0])
        assert isinstance(back, Click) and back.x is not None and back.y is not None
        assert abs(back.x - x) <= tol_x and abs(back.y - y) <= tol_y
        if screen.width <= 1000:
            assert back.x == x  # a grid finer than the screen comes back exactly


# --- parsing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("Click(box=(500,250))", Click(x=500, y=250, space=REL)),
        ("Click(box=(500, 250))", Click(x=500, y=250, space=REL)),
        ("click(box=(1,2))", Click(x=1, y=2, space=REL)),
        ("Click((7,8))", Click(x=7, y=8, space=REL)),
        ("LongPress(box=(10,20))", LongPress(x=10, y=20, duration=0.5, space=REL)),
        ("Drag(start=(1,2), end=(3,4))", Drag(x=1, y=2, x2=3, y2=4, duration=1.0, space=REL)),
        ("Scroll(start=(500,700), end=(500,300))", Swipe(x=500, y=700, x2=500, y2=300, duration=1.0, space=REL)),
        ("Scroll(direction='down')", Scroll(direction="down", space=REL)),
        ("Scroll(start=(1,2), end=(3,4), direction='down')", Swipe(x=1, y=2, x2=3, y2=4, duration=1.0, space=REL)),
        ("Type(content='hello world')", Type(text="hello world", space=REL)),
        ("Type(content='it\\'s')", Type(text="it's", space=REL)),
        ("Type(content='it's')", Type(text="it's", space=REL)),
        ("Launch(app='微博')", OpenApp(name="微博", space=REL)),
        ("Launch(url='https://bing.com')", OpenApp(name="https://bing.com", space=REL)),
        ("Wait()", Wait(seconds=1.0, space=REL)),
        ("Finished(content='done')", Terminate(status="success", message="done", space=REL)),
        ("Finished()", Terminate(status="success", space=REL)),
        ("CallUser(content='Which one?')", CallUser(message="Which one?", space=REL)),
        ("PressBack()", SystemButton(button="back", space=REL)),
        ("PressHome()", SystemButton(button="home", space=REL)),
        ("PressEnter()", SystemButton(button="enter", space=REL)),
        ("PressRecent()", SystemButton(button="recents", space=REL)),
        ("Hover(box=(3,4))", Move(x=3, y=4, space=REL)),
        ("DoubleClick(box=(3,4))", DoubleClick(x=3, y=4, space=REL)),
        ("Hotkey(keys=['ctrl', 'c'])", Key(keys=["ctrl", "c"], space=REL)),
    ],
)
def test_every_verb(phone: UIVenus15, call: str, expected: Action) -> None:
    reply = f"<think>why</think>\n<action>{call}</action>\n<conclusion>what</conclusion>"
    parsed = phone.parse(reply, PHONE)
    assert parsed.actions == (expected,)
    assert parsed.thought == "why"


def test_web_type_presses_enter(web: UIVenus15) -> None:
    # WEB_USER_PROMPT: "The system automatically presses ENTER afterward."
    actions = web.parse("<action>Type(content='weather')</action>", DESKTOP).actions
    assert actions == (Type(text="weather", space=REL), Key(keys=["enter"], space=REL))


@pytest.mark.parametrize(
    "reply",
    [
        "Click(box=(10,20))",  # the framework's fallback: no tags, the whole reply is the action
        "<action> Click(box=(10,20)) </action>",
        "<action>`Click(box=(10,20))`</action>",
        "<think>a</think><action>Click(box=(10,20))</action><conclusion>cut off mid-sentence",
        "<think>a</think>\n<action>Click(box=(10,20))",  # stopped right after the call
        "```\n<action>Click(box=(10,20))</action>\n```",
    ],
)
def test_lenient_forms(phone: UIVenus15, reply: str) -> None:
    assert phone.parse(reply, PHONE).actions == (Click(x=10, y=20, space=REL),)


@pytest.mark.parametrize(
    ("reply", "thought"),
    [
        ("<think>look first</think>\n<action>Wait()</action>", "look first"),
        ("<thinking>look first</thinking>\n<action>Wait()</action>", "look first"),
        ("look first</think>\n<action>Wait()</action>", "look first"),  # the template opened <think>
        ("<action>Wait()</action>", None),
    ],
)
def test_thinking_blocks(phone: UIVenus15, reply: str, thought: str | None) -> None:
    parsed = phone.parse(reply, PHONE)
    assert parsed.thought == thought and parsed.actions == (Wait(seconds=1.0, space=REL),)


def test_truncated_thinking(phone: UIVenus15) -> None:
    with pytest.raises(ActionParseError) as info:
        phone.parse("<think>The screen shows a list of", PHONE)
    assert "cut off" in info.value.reason and "max_new_tokens" in info.value.reason


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        ("I will tap the button.", "no action found"),
        ("<think>x</think>\n<action></action>", "empty"),
        ("<think>x</think>\n<action>Click(box=(1", "cut off"),
        ("<action>Click(box=(1,2))</action><action>Wait()</action>", "several <action>"),
        ("<action>Tap(box=(1,2))</action>", "unknown action"),
        ("<action>Click(box=(x1,y1))</action>", "coordinates as numbers"),
        ("<action>Click(box='(x1,y1)')</action>", "box must be a point"),
        ("<action>Click()</action>", "Click needs box"),
        ("<action>Drag(start=(1,2))</action>", "Drag needs end"),
        ("<action>Scroll(direction='down or up')</action>", "Scroll needs"),
        ("<action>Type(content='')</action>", "Type needs"),
        ("<action>Launch()</action>", "Launch needs"),
        ("<action>Hotkey()</action>", "Hotkey needs"),
        ("<action>Click(box=(1,2), **x)</action>", ""),
        ("<action>Click(box=__import__('os'))</action>", ""),
    ],
)
def test_rejects(phone: UIVenus15, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError) as info:
        phone.parse(reply, PHONE)
    assert reason in info.value.reason
    assert info.value.raw_text == reply


# --- format_action ----------------------------------------------------------------------------------------

ROUND_TRIP_PHONE: list[Action] = [
    Click(x=5, y=6, space=REL),
    LongPress(x=5, y=6, duration=0.5, space=REL),
    Drag(x=1, y=2, x2=3, y2=4, duration=1.0, space=REL),
    Swipe(x=1, y=2, x2=3, y2=4, duration=1.0, space=REL),
    Type(text="a 'quoted'\nline", space=REL),
    OpenApp(name="Settings", space=REL),
    Wait(seconds=1.0, space=REL),
    Terminate(status="success", message="done", space=REL),
    CallUser(message="Which?", space=REL),
    SystemButton(button="back", space=REL),
    SystemButton(button="home", space=REL),
    SystemButton(button="enter", space=REL),
    SystemButton(button="recents", space=REL),
]


@pytest.mark.parametrize("action", ROUND_TRIP_PHONE, ids=lambda a: a.type)
def test_format_round_trips_on_the_phone(phone: UIVenus15, action: Action) -> None:
    reply = phone.format_action(action, thought="because")
    assert reply.startswith("<think>because</think>\n<action>")
    assert phone.parse(reply, PHONE).actions == (action,)


@pytest.mark.parametrize(
    "action",
    [
        Click(x=5, y=6, space=REL),
        DoubleClick(x=5, y=6, space=REL),
        Move(x=5, y=6, space=REL),
        Scroll(direction="up", space=REL),
        Key(keys=["ctrl", "c"], space=REL),
        Drag(x=1, y=2, x2=3, y2=4, duration=1.0, space=REL),
    ],
    ids=lambda a: a.type,
)
def test_format_round_trips_on_the_web(web: UIVenus15, action: Action) -> None:
    assert web.parse(web.format_action(action), DESKTOP).actions == (action,)


def test_format_writes_the_prompt_syntax(phone: UIVenus15, web: UIVenus15) -> None:
    assert phone.format_action(Click(x=500, y=250, space=REL)) == "<action>Click(box=(500,250))</action>"
    assert phone.history_text(Swipe(x=1, y=2, x2=3, y2=4, space=REL)) == "Scroll(start=(1,2), end=(3,4))"
    assert web.history_text(Key(keys=["ctrl", "c"], space=REL)) == "Hotkey(keys=['ctrl', 'c'])"
    assert phone.history_text(Key(keys=["Enter"], space=REL)) == "PressEnter()"
    assert phone.history_text(Answer(text="42", space=REL)) == "CallUser(content='42')"


@pytest.mark.parametrize(
    "action",
    [
        RightClick(x=1, y=1, space=REL),
        MiddleClick(x=1, y=1, space=REL),
        TripleClick(x=1, y=1, space=REL),
        DoubleClick(x=1, y=1, space=REL),
        Move(x=1, y=1, space=REL),
        Scroll(direction="down", space=REL),
        Key(keys=["ctrl", "c"], space=REL),
        Terminate(status="failure", space=REL),
        SystemButton(button="menu", space=REL),
        Click(space=REL),
    ],
    ids=lambda a: a.type,
)
def test_phone_cannot_express(phone: UIVenus15, action: Action) -> None:
    with pytest.raises(ValueError):
        phone.format_action(action)


def test_web_cannot_swipe(web: UIVenus15) -> None:
    with pytest.raises(ValueError):
        web.format_action(Swipe(x=1, y=2, x2=3, y2=4, space=REL))


# --- grounding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("record", GROUNDING, ids=lambda r: r["answer"])
def test_grounding_prompt_and_answers(phone: UIVenus15, record: dict[str, Any]) -> None:
    screen = Size(*record["screen"])
    _assert_messages(phone.grounding_messages(record["instruction"], screen), record["messages"])
    if record["result"] != "positive":
        with pytest.raises(ActionParseError):
            phone.parse_grounding(record["answer"], screen)
        return
    x, y = phone.parse_grounding(record["answer"], screen)
    assert (x * screen.width / 1000, y * screen.height / 1000) == pytest.approx(tuple(record["point_in_pixel"]))


def test_grounding_image_comes_first(phone: UIVenus15) -> None:
    (user,) = phone.grounding_messages("the OK button", PHONE)
    assert isinstance(user.content[0], ImageSlot) and isinstance(user.content[1], TextPart)
    assert user.content[1].text.startswith("Output the center point")
    assert "[-1,-1]" in user.content[1].text


def test_grounding_tolerates_thinking_and_trailing_text(phone: UIVenus15) -> None:
    assert phone.parse_grounding("<think>top left</think>[12,34]", PHONE) == (12.0, 34.0)
    assert phone.parse_grounding("[12,34] is the button", PHONE) == (12.0, 34.0)
