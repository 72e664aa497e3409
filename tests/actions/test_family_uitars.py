"""UI-TARS v1 and UI-TARS-1.5: their prompts, their multi-turn layout, and replies as they really come.

Real replies are quoted from bytedance/UI-TARS (README, README_coordinates, README_deploy, codes/tests,
data/training_example.json) and from issue reports: UI-TARS#78 (``start_box='='``), UI-TARS-desktop#718
(escaped quotes from a vLLM log), midscene#504 (a whole reply copied from a log, two actions).

Expected device points by hand: v1 ``floor(v / 1000 * side + 0.5)``; 1.5 ``floor(v / model_side * side + 0.5)``
where the model side is smart_resize's: 1920x1080 becomes 1932x1092 (UI-TARS' limits).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import HistoryStep, UITars, UITars15, get_family
from guiagent.actions.families.uitars import add_box_token
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, TextPart, render_chatml
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

DESKTOP = Size(1920, 1080)
PHONE = Size(1080, 2400)
REL = "relative-1000"


@pytest.fixture
def v1() -> UITars:
    family = get_family("ui-tars")
    assert isinstance(family, UITars)
    return family


@pytest.fixture
def v15() -> UITars15:
    family = get_family("ui-tars-1.5")
    assert isinstance(family, UITars15)
    return family


def test_family_facts(v1: UITars, v15: UITars15) -> None:
    assert v1.space(DESKTOP).name == REL
    assert v15.space(DESKTOP).name == "pixels-1932x1092"
    # UI-TARS' own limits (codes/ui_tars/action_parser.py): 100*28*28 .. 16384*28*28
    assert v1.pixel_limits == v15.pixel_limits == (100 * 28 * 28, 16384 * 28 * 28)
    # 224x224 is under min_pixels: scaled up to 280x280, as UI-TARS' smart_resize does
    assert v15.model_size(Size(224, 224)) == Size(280, 280)
    assert v1.default_history_images == v15.default_history_images == 4


# --- real replies -----------------------------------------------------------------------------------------


def test_readme_usage_example_v1(v1: UITars) -> None:
    # README "Post Processing": 100/1000*1920 = 192; 200/1000*1080 = 216
    parsed, actions = v1.parse_to_device("Thought: Click the button\nAction: click(start_box='(100,200)')", DESKTOP)
    assert actions == (Click(x=192, y=216),)
    assert parsed.thought == "Click the button"


def test_readme_coordinates_example_v15(v15: UITars15) -> None:
    # README_coordinates (indented Action line): 197/1932*1920 = 195.78 -> 196; 525/1092*1080 = 519.23 -> 519
    reply = "Thought: xxx\n    Action: click(start_box='(197,525)')"
    assert v15.parse_to_device(reply, DESKTOP)[1] == (Click(x=196, y=519),)


def test_codes_tests_point_reply_v15(v15: UITars15) -> None:
    # codes/tests/action_parser_test.py: 200/1932*1920 = 198.76 -> 199; 300/1092*1080 = 296.70 -> 297
    reply = "Thought: test\nAction: click(point='<point>200 300</point>')"
    assert v15.parse_to_device(reply, DESKTOP)[1] == (Click(x=199, y=297),)


def test_readme_deploy_expected_output_v15(v15: UITars15) -> None:
    # README_deploy: 177/1932*1920 = 175.90 -> 176; 549/1092*1080 = 542.97 -> 543
    reply = (
        "Thought: 我看到Preferences窗口已经打开了，但这里显示的都是系统资源相关的设置。"
        "让我点击它看看里面有什么选项。\nAction: click(start_box='(177,549)')"
    )
    parsed, actions = v15.parse_to_device(reply, DESKTOP)
    assert actions == (Click(x=176, y=543),)
    assert parsed.thought is not None and parsed.thought.startswith("我看到Preferences")


def test_training_example_reply_without_thought(v1: UITars) -> None:
    # data/training_example.json: 495*1.92 = 950.4 -> 950; 30*1.08 = 32.4 -> 32
    parsed, actions = v1.parse_to_device("Action: click(start_box='<|box_start|>(495,30)<|box_end|>')", DESKTOP)
    assert actions == (Click(x=950, y=32),)
    assert parsed.thought is None


def test_escaped_quotes_from_a_vllm_log(v15: UITars15) -> None:
    # UI-TARS-desktop#718: 660/1932*1920 = 655.90 -> 656; 1059/1092*1080 = 1047.36 -> 1047
    assert v15.parse_to_device("Action: click(start_box=\\'(660,1059)\\')", DESKTOP)[1] == (Click(x=656, y=1047),)


def test_whole_reply_copied_from_a_log_with_two_actions(v1: UITars) -> None:
    # midscene#504 (UI-TARS-7B-DPO): literal \n and \' throughout. 711*1.92 = 1365.12 -> 1365; 499*1.08 -> 539
    reply = (
        'Thought: To continue with the task of logging in, I need to input the provided password, "xxx," into '
        'the second input field.\\nType "xxx" into the second input field labeled "请输入密码" (Please enter '
        "password).\\nAction: click(start_box=\\'(711,499)\\')\\n\\ntype(content=\\'xxx\\')<|im_end|>"
    )
    parsed, actions = v1.parse_to_device(reply, DESKTOP)
    assert actions == (Click(x=1365, y=539), Type(text="xxx"))
    assert parsed.thought is not None and parsed.thought.endswith("(Please enter password).")


def test_json_escaped_reply_in_quotes(v1: UITars) -> None:
    reply = '"Thought: Click the \\"OK\\" button\\nAction: click(start_box=\\"(100,200)\\")"'
    parsed, actions = v1.parse_to_device(reply, DESKTOP)
    assert actions == (Click(x=192, y=216),)
    assert parsed.thought == 'Click the "OK" button'


def test_malformed_start_box_is_a_parse_error(v1: UITars) -> None:
    # UI-TARS#78: UI-TARS-7B-DPO and 72B-DPO sometimes write this
    with pytest.raises(ActionParseError) as info:
        v1.parse("Action: click(start_box='=')", DESKTOP)
    assert "start_box must be a point like (x,y)" in info.value.reason
    assert "'='" in info.value.reason


# --- quoting and structure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, expected",
    [
        ("type(content='it\\'s fine')", (Type(text="it's fine", space=REL),)),
        ("type(content='it's fine')", (Type(text="it's fine", space=REL),)),  # unescaped quote, recovered
        ("type(content='say \"hi\"')", (Type(text='say "hi"', space=REL),)),
        ("type(content='C:\\path')", (Type(text="C:\\path", space=REL),)),
        ("type(content='hello\\n')", (Type(text="hello", space=REL), Key(keys=["enter"], space=REL))),
        ("type(content='hello\n')", (Type(text="hello", space=REL), Key(keys=["enter"], space=REL))),
        ("type(content='two\\nlines')", (Type(text="two\nlines", space=REL),)),
        ("type(content='\\n')", (Key(keys=["enter"], space=REL),)),
        (
            "type(content='abc', start_box='(1,2)')",
            (Click(x=1, y=2, space=REL), Type(text="abc", space=REL)),
        ),
        ("type('positional')", (Type(text="positional", space=REL),)),
    ],
)
def test_type_content_quoting(v1: UITars, call: str, expected: tuple[object, ...]) -> None:
    assert v1.parse(f"Thought: type\nAction: {call}", DESKTOP).actions == expected


def test_several_actions_separated_by_blank_lines(v1: UITars) -> None:
    reply = (
        "Thought: fill the form\nAction: click(start_box='(10,20)')\n\n"
        "type(content='name')\n\nAction: hotkey(key='enter')"
    )
    assert v1.parse(reply, DESKTOP).actions == (
        Click(x=10, y=20, space=REL),
        Type(text="name", space=REL),
        Key(keys=["enter"], space=REL),
    )


def test_reflection_and_action_summary_headers(v1: UITars) -> None:
    reply = (
        "Reflection: the menu did not open.\nAction_Summary: double-click the icon.\n"
        "Action: left_double(start_box='<|box_start|>(10,20)<|box_end|>')"
    )
    parsed = v1.parse(reply, DESKTOP)
    assert parsed.actions == (DoubleClick(x=10, y=20, space=REL),)
    assert parsed.thought == "Reflection: the menu did not open.\nAction_Summary: double-click the icon."


@pytest.mark.parametrize(
    "box",
    [
        "(500,500)",
        "(400,400,600,600)",
        "<|box_start|>(500,500)<|box_end|>",
        "<|box_start|>(400,400),(600,600)<|box_end|>",
        "<point>500 500</point>",
        "<bbox>400 400 600 600</bbox>",
        "[500, 500]",
        "[400, 400, 600, 600]",
        "( 500 , 500 )",
    ],
)
def test_every_box_form_is_read(v1: UITars, box: str) -> None:
    # (500, 500) relative on 1920x1080 -> (960, 540)
    assert v1.parse_to_device(f"Action: click(start_box='{box}')", DESKTOP)[1] == (Click(x=960, y=540),)


# --- every verb -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, expected",
    [
        ("click(start_box='(1,2)')", [Click(x=1, y=2)]),
        ("left_single(start_box='(1,2)')", [Click(x=1, y=2)]),
        ("left_double(start_box='(1,2)')", [DoubleClick(x=1, y=2)]),
        ("right_single(start_box='(1,2)')", [RightClick(x=1, y=2)]),
        ("drag(start_box='(1,2)', end_box='(3,4)')", [Drag(x=1, y=2, x2=3, y2=4)]),
        ("select(start_box='(1,2)')", [Click(x=1, y=2)]),
        ("long_press(start_box='(1,2)', time='')", [LongPress(x=1, y=2)]),
        ("long_press(start_box='(1,2)', time='3')", [LongPress(x=1, y=2, duration=3)]),
        ("type(content='abc')", [Type(text="abc")]),
        ("scroll(start_box='(1,2)', direction='down')", [Scroll(direction="down", x=1, y=2)]),
        ("scroll(direction='up')", [Scroll(direction="up")]),
        ("scroll(start_box='(1,2)', end_box='(1,9)')", [Swipe(x=1, y=2, x2=1, y2=9)]),
        ("hotkey(key='ctrl c')", [Key(keys=["ctrl", "c"])]),
        ("hotkey(key='arrowleft')", [Key(keys=["left"])]),
        ("press(key='enter')", [Key(keys=["enter"])]),
        ("keydown(key='shift')", [Key(keys=["shift"])]),
        ("wait()", [Wait(seconds=5)]),
        ("finished()", [Terminate(status="success")]),
        ("finished(content='')", [Terminate(status="success")]),
        ("finished(content='The price is $5')", [Answer(text="The price is $5")]),
        ("call_user()", [CallUser()]),
        ("open_app(app_name='Settings')", [OpenApp(name="Settings")]),
        ("press_home()", [SystemButton(button="home")]),
        ("press_back()", [SystemButton(button="back")]),
        ("hover(start_box='(1,2)')", [Move(x=1, y=2)]),
        ("mouse_move(start_box='(1,2)')", [Move(x=1, y=2)]),
    ],
)
def test_every_verb(v1: UITars, call: str, expected: list[object]) -> None:
    want = tuple(a.model_copy(update={"space": REL}) for a in expected)  # type: ignore[attr-defined]
    assert v1.parse(f"Thought: x\nAction: {call}", DESKTOP).actions == want


def test_15_point_forms(v15: UITars15) -> None:
    space = v15.space(PHONE).name  # 1080x2400 -> 1092x2408
    cases = {
        "click(point='<point>10 20</point>')": (Click(x=10, y=20, space=space),),
        "long_press(point='<point>10 20</point>')": (LongPress(x=10, y=20, space=space),),
        "drag(start_point='<point>1 2</point>', end_point='<point>3 4</point>')": (
            Drag(x=1, y=2, x2=3, y2=4, space=space),
        ),
        "scroll(point='<point>5 6</point>', direction='up')": (Scroll(direction="up", x=5, y=6, space=space),),
        "open_app(app_name='Clock')": (OpenApp(name="Clock", space=space),),
    }
    for call, expected in cases.items():
        assert v15.parse(f"Thought: x\nAction: {call}", PHONE).actions == expected, call


def test_keyup_alone_is_not_an_action_but_is_dropped_beside_others(v1: UITars) -> None:
    reply = "Action: keydown(key='shift')\n\nkeyup(key='shift')"
    assert v1.parse(reply, DESKTOP).actions == (Key(keys=["shift"], space=REL),)
    with pytest.raises(ActionParseError, match="holds no action"):
        v1.parse("Action: keyup(key='shift')", DESKTOP)


def test_a_bare_call_or_point_is_accepted(v1: UITars) -> None:
    assert v1.parse("click(start_box='(1,2)')", DESKTOP).actions == (Click(x=1, y=2, space=REL),)
    # v1's grounding prompt ("Output only the coordinate of one point") answers like this
    assert v1.parse("(1,2)", DESKTOP).actions == (Click(x=1, y=2, space=REL),)


# --- rejections -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("Thought: I will click the OK button.", "no 'Action:' line found; reply with a 'Thought: ...' line"),
        ("I clicked it.", "no 'Action:' line found"),
        ("Thought: x\nAction: ", "the Action line is empty"),
        ("Thought: x\nAction: fly(to='moon')", "unknown action 'fly'; use one of click, long_press, type"),
        ("Thought: x\nAction: click()", "click needs a point (start_box='(x,y)')"),
        ("Thought: x\nAction: click(start_box='(x1,y1)')", "start_box must be a point like (x,y)"),
        ("Thought: x\nAction: click(start_box='(1,2,3)')", "start_box must be a point"),
        ("Thought: x\nAction: drag(start_box='(1,2)', end_box='=')", "end_box must be a point"),
        ("Thought: x\nAction: scroll(direction='sideways')", "scroll needs direction='down', 'up', 'left' or 'right'"),
        ("Thought: x\nAction: type(content='')", "type needs content="),
        ("Thought: x\nAction: open_app()", "open_app needs app_name="),
        ("Thought: x\nAction: hotkey(key='')", "hotkey needs key="),
        ("Thought: x\nAction: long_press(start_box='(1,2)', time='soon')", "time must be a number"),
        ("Thought: x\nAction: click(start_box=x1)", "must be quoted strings or numbers"),
        ("Thought: x\nAction: just some words", "expected an action call"),
        ("Thought: x\nAction: wait()\n\nlong_press(start_box='(1,2)', time='0')", "greater than 0"),
    ],
)
def test_rejections_carry_a_one_line_reason(v1: UITars, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError) as info:
        v1.parse(reply, DESKTOP)
    assert reason in info.value.reason
    assert "\n" not in info.value.reason
    assert info.value.raw_text == reply


def test_missing_action_reason_shows_the_15_format(v15: UITars15) -> None:
    with pytest.raises(ActionParseError, match=r"Action: click\(point='<point>x y</point>'\)"):
        v15.parse("Thought: I should click", DESKTOP)


def test_out_of_range_points_are_coordinate_errors(v1: UITars, v15: UITars15) -> None:
    with pytest.raises(CoordinateError):
        v1.parse_to_device("Action: click(start_box='(1001,5)')", DESKTOP)
    with pytest.raises(CoordinateError, match="0 to 1932"):
        v15.parse_to_device("Action: click(point='<point>1933 5</point>')", DESKTOP)


# --- writing replies -----------------------------------------------------------------------------------------------


def test_format_action_v1_and_15(v1: UITars, v15: UITars15) -> None:
    assert v1.format_action(Click(x=5, y=6, space=REL), thought="tap") == (
        "Thought: tap\nAction: click(start_box='<|box_start|>(5,6)<|box_end|>')"
    )
    space = v15.space(PHONE).name
    assert v15.format_action(Click(x=5, y=6, space=space)) == "Action: click(point='<point>5 6</point>')"
    assert v15.history_text(Drag(x=1, y=2, x2=3, y2=4, space=space)) == (
        "drag(start_point='<point>1 2</point>', end_point='<point>3 4</point>')"
    )
    assert v1.history_text(Swipe(x=1, y=2, x2=3, y2=4, space=REL)) == (
        "scroll(start_box='<|box_start|>(1,2)<|box_end|>', end_box='<|box_start|>(3,4)<|box_end|>')"
    )
    assert v1.history_text(Type(text="it's\n", space=REL)) == "type(content='it\\'s\\n')"


@pytest.mark.parametrize(
    "action",
    [
        Click(x=1, y=2),
        DoubleClick(x=1, y=2),
        RightClick(x=1, y=2),
        Move(x=1, y=2),
        LongPress(x=1, y=2, duration=2.5),
        Drag(x=1, y=2, x2=3, y2=4),
        Scroll(direction="left", x=1, y=2),
        Scroll(direction="down"),
        Type(text="héllo 'quoted' \"double\" \\ back; $(reboot) 日本語"),
        Key(keys=["ctrl", "shift", "t"]),
        SystemButton(button="home"),
        SystemButton(button="back"),
        OpenApp(name="Google Chrome"),
        Wait(seconds=5),
        Answer(text="It's 42"),
        Terminate(status="success"),
        CallUser(),
    ],
)
@pytest.mark.parametrize("name", ["ui-tars", "ui-tars-1.5"])
def test_format_action_is_the_inverse_of_parse(name: str, action: object) -> None:
    family = get_family(name)
    model_action = action.model_copy(update={"space": family.space(PHONE).name})  # type: ignore[attr-defined]
    reply = family.format_action(model_action, thought="Tap the 'OK' button.")
    parsed = family.parse(reply, PHONE)
    assert parsed.actions == (model_action,)
    assert parsed.thought == "Tap the 'OK' button."


@pytest.mark.parametrize("action", [Click(), Terminate(status="failure"), SystemButton(button="menu")])
def test_actions_ui_tars_cannot_express(v1: UITars, action: object) -> None:
    with pytest.raises(ValueError):
        v1.format_action(action.model_copy(update={"space": REL}))  # type: ignore[attr-defined]


def test_add_box_token_matches_osworld() -> None:
    reply = "Thought: x\nAction: drag(start_box='(1,2)', end_box='(3, 4)')"
    assert add_box_token(reply) == (
        "Thought: x\nAction: drag(start_box='<|box_start|>(1,2)<|box_end|>', end_box='<|box_start|>(3,4)<|box_end|>')"
    )


# --- prompt rendering --------------------------------------------------------------------------------------------


def test_first_turn_holds_the_prompt_and_the_task(v1: UITars, v15: UITars15) -> None:
    messages = v15.render("Open the clock app", PHONE)
    assert [m.role for m in messages] == ["system", "user", "user"]
    prompt = messages[1].content[0]
    assert isinstance(prompt, TextPart)
    assert prompt.text.startswith("You are a GUI agent. You are given a task and your action history")
    assert "open_app(app_name='')" in prompt.text  # MOBILE_USE_DOUBAO
    assert "- Use English in `Thought` part." in prompt.text
    assert prompt.text.endswith("## User Instruction\nOpen the clock app\n")
    assert messages[2].content == (ImageSlot("current", 1092, 2408),)
    v1_prompt = v1.render("x", PHONE)[1].content[0]
    assert isinstance(v1_prompt, TextPart)
    assert "long_press(start_box='<|box_start|>(x1,y1)<|box_end|>', time='')" in v1_prompt.text


def test_platform_chooses_the_prompt() -> None:
    computer = get_family("ui-tars-1.5", platform="computer")
    text = render_chatml(computer.render("Find the report", DESKTOP))
    assert "hotkey(key='ctrl c')" in text and "open_app" not in text  # COMPUTER_USE_DOUBAO
    v1_computer = get_family("ui-tars", platform="computer")
    text = render_chatml(v1_computer.render("Find the report", DESKTOP))
    assert "call_user() # Submit the task and call the user" in text
    assert '#If you want to submit your input, use "\\n" at the end of `content`.' in text
    assert "{language}" not in text and "{instruction}" not in text


def test_history_is_multi_turn_with_images_only_where_given(v1: UITars) -> None:
    history = [
        HistoryStep(
            actions=(Click(x=5, y=6, space=REL),),
            reply="Thought: open it\nAction: click(start_box='(5,6)')",
            image=ImageSlot("step-1", 1092, 2408),
        ),
        HistoryStep(actions=(), reply="I am not sure", error="no 'Action:' line found"),
        HistoryStep(actions=(Type(text="abc", space=REL),), reply="Thought: type\nAction: type(content='abc')"),
        HistoryStep(actions=(SystemButton(button="back", space=REL),)),  # replayed: no reply text
    ]
    messages = v1.render("task", PHONE, history, feedback="bad reply")
    roles = [m.role for m in messages]
    assert roles == ["system", "user", "user", "assistant", "assistant", "assistant", "user"]
    assert messages[2].content == (ImageSlot("step-1", 1092, 2408),)
    # earlier replies go back with the box tokens v1 wrote (OSWorld's add_box_token)
    assert messages[3].content == (
        TextPart("Thought: open it\nAction: click(start_box='<|box_start|>(5,6)<|box_end|>')"),
    )
    assert messages[4].content == (TextPart("Thought: type\nAction: type(content='abc')"),)
    assert messages[5].content == (TextPart("Action: press_back()"),)
    last = messages[-1].content
    assert last[0] == ImageSlot("current", 1092, 2408)
    assert isinstance(last[1], TextPart) and "Your previous reply was not a valid action: bad reply" in last[1].text
    assert sum(1 for m in messages for s in m.images() if s.key == "current") == 1
    assert "I am not sure" not in render_chatml(messages)


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


@pytest.mark.parametrize("name, file", [("ui-tars", "ui-tars.json"), ("ui-tars-1.5", "ui-tars-1.5.json")])
@pytest.mark.parametrize("platform", ["mobile", "computer"])
@pytest.mark.parametrize("index", range(4))
def test_grounding_request_equals_the_authors(name: str, file: str, platform: str, index: int) -> None:
    case = _grounding_golden(file)["cases"][index]
    family = get_family(name, platform=platform)
    screen = Size(*case["screen"])
    assert _grounding_shape(family.grounding_messages(case["instruction"], screen)) == _golden_shape(case)


def test_grounding_v1_script_settings_are_recorded() -> None:
    # README_v1's script also sends these; eval-grounding sends temperature 0 instead (choices says so).
    assert _grounding_golden("ui-tars.json")["cases"][0]["generation"] == {"frequency_penalty": 1, "max_tokens": 128}
    assert "frequency_penalty" in get_family("ui-tars").choices


def test_grounding_published_v1_answer_maps_as_readme_v1(v1: UITars) -> None:
    # README_v1 Coordinate Mapping: (235, 512) on 1920x1080 -> (451, 553)
    (published,) = _grounding_golden("ui-tars.json")["published"]
    screen = Size(*published["screen"])
    point = v1.parse_grounding(published["reply"], screen)
    assert point == (235, 512)
    assert v1.space(screen).to_device(*point, screen) == tuple(published["device_point"])


def test_grounding_published_15_answer_maps_within_a_pixel_of_the_authors(v15: UITars15) -> None:
    # ClawGUI's documented 1.5 answer on README_coordinates' 1920x1080 image (model image 1932x1092):
    # 197/1932*1920 = 195.78, 525/1092*1080 = 519.23. The family rounds to the nearest pixel: (196, 519).
    (published,) = _grounding_golden("ui-tars-1.5.json")["published"]
    screen = Size(*published["screen"])
    assert v15.model_size(screen) == Size(*published["model_size"])
    point = v15.parse_grounding(published["reply"], screen)
    assert point == (197, 525)
    device = v15.space(screen).to_device(*point, screen)
    assert device == tuple(round(v) for v in published["device_point_exact"]) == (196, 519)
    theirs = tuple(published["device_point_readme_coordinates"])
    assert theirs == tuple(published["device_point_clawgui"]) == (195, 519)
    assert max(abs(a - b) for a, b in zip(device, theirs, strict=True)) <= 1


@pytest.mark.parametrize(
    "answer, point",
    [
        ("(235,512)", (235, 512)),
        ("<|box_start|>(235,512)<|box_end|>", (235, 512)),
        ("(225,502,245,522)", (235, 512)),
        ("Action: click(start_box='(235,512)')", (235, 512)),
        ("Action: click(point='<point>235 512</point>')", (235, 512)),
        ("click(start_box='<|box_start|>(235,512)<|box_end|>')", (235, 512)),
        ("Thought: the search box\nAction: click(start_box='(235,512)')", (235, 512)),
    ],
)
def test_grounding_answer_forms(v1: UITars, v15: UITars15, answer: str, point: tuple[float, float]) -> None:
    assert v1.parse_grounding(answer, DESKTOP) == point
    assert v15.parse_grounding(answer, DESKTOP) == point


@pytest.mark.parametrize(
    "answer", ["I cannot find it.", "Action: click(point='<point>x1 y1</point>'')", "Action: wait()"]
)
def test_grounding_answers_without_a_point_are_refused(v1: UITars, v15: UITars15, answer: str) -> None:
    for family in (v1, v15):
        with pytest.raises(ActionParseError) as caught:
            family.parse_grounding(answer, DESKTOP)
        assert "\n" not in caught.value.reason


def test_format_grounding_writes_each_versions_answer(v1: UITars, v15: UITars15) -> None:
    assert v1.format_grounding(235, 512, DESKTOP) == "(235,512)"
    assert v15.format_grounding(197, 525, DESKTOP) == "Action: click(point='<point>197 525</point>')"
    assert "README_v1" in v1.choices and "GROUNDING_DOUBAO" in v15.choices
