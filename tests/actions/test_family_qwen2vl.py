"""Qwen2-VL / OS-Atlas family: OS-Atlas-Pro's prompt, and replies as OS-Atlas and Qwen2-VL really write them.

Real replies come from OS-Atlas' own evaluation data (``eval/data/ac_test.jsonl``, ``gui_odyssey_test.jsonl``)
and README (the OS-Atlas-Base-7B grounding example). Expected device points are computed by hand:
``device = floor(model / 1000 * screen + 0.5)``, clamped to the last pixel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError
from guiagent.actions.families import HistoryStep, Qwen2VL, get_family
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, TextPart, render_chatml
from guiagent.actions.types import (
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

PHONE = Size(1080, 2400)
WEB = Size(1920, 1080)
SPACE = "relative-1000"


@pytest.fixture
def family() -> Qwen2VL:
    family = get_family("qwen2-vl")
    assert isinstance(family, Qwen2VL)
    return family


def test_family_facts(family: Qwen2VL) -> None:
    assert family.space(PHONE).name == SPACE
    assert family.needs_special_tokens is True
    assert family.pixel_limits == (4 * 28 * 28, 16384 * 28 * 28)  # Qwen2-VL-7B-Instruct's processor defaults
    assert family.model_size(PHONE) == Size(1092, 2408)


# --- OS-Atlas-Pro replies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, expected, thought",
    [
        # eval/data/ac_test.jsonl, episode 140: 950/1000*1080 = 1026.0; 87/1000*2400 = 208.8 -> 209
        (
            "thoughts:\nClick on the more options icon at the top right corner of the screen.\nactions:\n"
            "CLICK <point>[[950,87]]</point>",
            Click(x=1026, y=209),
            "Click on the more options icon at the top right corner of the screen.",
        ),
        # same episode: 108*1.08 = 116.64 -> 117; 272*2.4 = 652.8 -> 653
        (
            'thoughts:\nLong press on the "the Queen\'s Gambit" book.\nactions:\nLONG_PRESS <point>[[108,272]]</point>',
            LongPress(x=117, y=653),
            'Long press on the "the Queen\'s Gambit" book.',
        ),
        ("thoughts:\nopen the PocketBook app.\nactions:\nOPEN_APP [PocketBook]", OpenApp(name="PocketBook"), None),
        # gui_odyssey_test.jsonl (no thoughts): 683*1.08 = 737.64 -> 738; 321*2.4 = 770.4 -> 770
        ("actions:\nCLICK <point>[[683,321]]</point>", Click(x=738, y=770), None),
        # the model card's example format, with a space after the comma and the end token left in
        ("thoughts:\nTap it.\nactions:\nCLICK <point>[[101, 872]]</point><|im_end|>", Click(x=109, y=2093), None),
        # capitalised headers, as the prompt itself spells them
        ("Thoughts: go back\nActions: PRESS_BACK", SystemButton(button="back"), "go back"),
    ],
)
def test_os_atlas_pro_replies(family: Qwen2VL, reply: str, expected: object, thought: str | None) -> None:
    parsed, actions = family.parse_to_device(reply, PHONE)
    assert actions == (expected,)
    if thought is not None:
        assert parsed.thought == thought


def test_thought_is_kept_and_actions_are_tagged_with_the_space(family: Qwen2VL) -> None:
    parsed = family.parse("thoughts:\nscroll to see more\nactions:\nSCROLL [DOWN]", PHONE)
    assert parsed.thought == "scroll to see more"
    assert parsed.actions == (Scroll(direction="down", space=SPACE),)


# --- Qwen2-VL / OS-Atlas-Base grounding answers ------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        # OS-Atlas README, OS-Atlas-Base-7B with skip_special_tokens=False
        "<|object_ref_start|>language switch<|object_ref_end|><|box_start|>(576,12),(592,42)<|box_end|><|im_end|>",
        # the same through vLLM's default skip_special_tokens=True
        "language switch(576,12),(592,42)",
        "<|box_start|>(576,12),(592,42)<|box_end|>",
        "(576,12),(592,42)",
        "(584,27)",
        "<|box_start|>(584,27)<|box_end|>",
        "CLICK (584,27)",
        "TAP <|object_ref_start|>language switch<|object_ref_end|><|box_start|>(576,12),(592,42)<|box_end|>",
        "click language switch(576,12),(592,42)",
        "[[584, 27]]",
        "<point>[[576, 12, 592, 42]]</point>",
    ],
)
def test_grounding_answers_click_the_box_centre(family: Qwen2VL, reply: str) -> None:
    # centre (584, 27) on a 1920x1080 page: 584*1.92 = 1121.28 -> 1121; 27*1.08 = 29.16 -> 29
    _, actions = family.parse_to_device(reply, WEB)
    assert actions == (Click(x=1121, y=29),)


def test_a_label_with_numbers_still_finds_the_box(family: Qwen2VL) -> None:
    _, actions = family.parse_to_device("Tab (2)(576,12),(592,42)", WEB)
    assert actions == (Click(x=1121, y=29),)


def test_long_press_in_front_of_a_grounding_answer(family: Qwen2VL) -> None:
    _, actions = family.parse_to_device("LONG_PRESS <|box_start|>(500,500)<|box_end|>", PHONE)
    assert actions == (LongPress(x=540, y=1200),)


# --- every verb ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("CLICK <point>[[10, 20]]</point>", Click(x=10, y=20, space=SPACE)),
        ("LONG_PRESS <point>[[10, 20]]</point>", LongPress(x=10, y=20, space=SPACE)),
        ("TYPE [Shanghai shopping mall]", Type(text="Shanghai shopping mall", space=SPACE)),
        ("TYPE [a [nested] bracket]", Type(text="a [nested] bracket", space=SPACE)),
        ("SCROLL [UP]", Scroll(direction="up", space=SPACE)),
        ("SCROLL [left]", Scroll(direction="left", space=SPACE)),
        ("OPEN_APP [Google Chrome]", OpenApp(name="Google Chrome", space=SPACE)),
        ("PRESS_BACK", SystemButton(button="back", space=SPACE)),
        ("PRESS_HOME", SystemButton(button="home", space=SPACE)),
        ("PRESS_RECENT", SystemButton(button="recents", space=SPACE)),
        ("ENTER", SystemButton(button="enter", space=SPACE)),
        ("WAIT", Wait(space=SPACE)),
        ("COMPLETE", Terminate(status="success", space=SPACE)),
        # AndroidControl variant of the prompt
        ("IMPOSSIBLE", Terminate(status="failure", space=SPACE)),
        # OmniAct variant of the prompt (desktop)
        ("DOUBLECLICK <point>[[1,2]]</point>", DoubleClick(x=1, y=2, space=SPACE)),
        ("RIGHTCLICK <point>[[1,2]]</point>", RightClick(x=1, y=2, space=SPACE)),
        ("MOVETO <point>[[1,2]]</point>", Move(x=1, y=2, space=SPACE)),
        ("HOTKEY [CTRL_A]", Key(keys=["ctrl", "a"], space=SPACE)),
        ("PRESS_PGDN", Key(keys=["pagedown"], space=SPACE)),
        ("PRESS_ESC", Key(keys=["escape"], space=SPACE)),
        ("PRESS_ENTER", Key(keys=["enter"], space=SPACE)),
        ("click <point>[[10,20]]</point>", Click(x=10, y=20, space=SPACE)),
    ],
)
def test_every_verb(family: Qwen2VL, line: str, expected: object) -> None:
    assert family.parse(f"thoughts:\nx\nactions:\n{line}", PHONE).actions == (expected,)


def test_several_actions_and_multiline_text(family: Qwen2VL) -> None:
    reply = "thoughts:\nsearch\nactions:\nCLICK <point>[[500,50]]</point>\nTYPE [line one\nline two]\nENTER"
    assert family.parse(reply, PHONE).actions == (
        Click(x=500, y=50, space=SPACE),
        Type(text="line one\nline two", space=SPACE),
        SystemButton(button="enter", space=SPACE),
    )


# --- rejections -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("I think the task is done.", "no action found; reply with a 'thoughts:' line"),
        ("thoughts:\nhmm\nactions:\nFLY [away]", "unknown action 'FLY'; use one of CLICK, TYPE"),
        ("thoughts:\necho\nactions:\nCLICK <point>[[x-axis, y-axis]]</point>", "must be a point like (x,y)"),
        ("thoughts:\nnothing\nactions:\n", "the actions section is empty"),
        ("actions:\nSCROLL [SIDEWAYS]", "SCROLL needs [UP], [DOWN], [LEFT] or [RIGHT]"),
        ("actions:\nTYPE []", "TYPE needs text in brackets"),
        ("actions:\nOPEN_APP", "OPEN_APP needs text in brackets"),
        ("actions:\nCLICK <point>[[1, 2, 3]]</point>", "must be a point"),
        ("actions:\nCLICK <point>[[" + "9" * 400 + ", 1]]</point>", "finite"),
        ("", "empty"),
    ],
)
def test_rejections_carry_a_one_line_reason(family: Qwen2VL, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError) as info:
        family.parse(reply, PHONE)
    assert reason in info.value.reason
    assert "\n" not in info.value.reason
    assert info.value.raw_text == reply


def test_point_beyond_1000_is_a_coordinate_error(family: Qwen2VL) -> None:
    with pytest.raises(CoordinateError, match="0 to 1000"):
        family.parse_to_device("actions:\nCLICK <point>[[1001, 5]]</point>", PHONE)


# --- writing replies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, text",
    [
        (Click(x=101, y=872, space=SPACE), "CLICK <point>[[101, 872]]</point>"),
        (LongPress(x=1, y=2, space=SPACE), "LONG_PRESS <point>[[1, 2]]</point>"),
        (Type(text="Shanghai shopping mall", space=SPACE), "TYPE [Shanghai shopping mall]"),
        (Scroll(direction="up", space=SPACE), "SCROLL [UP]"),
        (OpenApp(name="Google Chrome", space=SPACE), "OPEN_APP [Google Chrome]"),
        (SystemButton(button="recents", space=SPACE), "PRESS_RECENT"),
        (SystemButton(button="enter", space=SPACE), "ENTER"),
        (Wait(space=SPACE), "WAIT"),
        (Terminate(space=SPACE), "COMPLETE"),
    ],
)
def test_format_action_is_the_inverse_of_parse(family: Qwen2VL, action: object, text: str) -> None:
    reply = family.format_action(action, thought="because")  # type: ignore[arg-type]
    assert reply == f"thoughts:\nbecause\nactions:\n{text}"
    assert family.parse(reply, PHONE).actions == (action,)
    assert family.history_text(action) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "action", [Swipe(x=1, y=2, x2=3, y2=4, space=SPACE), Drag(x=1, y=2, x2=3, y2=4, space=SPACE), Click(space=SPACE)]
)
def test_actions_the_pro_prompt_cannot_express(family: Qwen2VL, action: object) -> None:
    with pytest.raises(ValueError):
        family.format_action(action)  # type: ignore[arg-type]


# --- prompt rendering -----------------------------------------------------------------------------------


def test_prompt_is_the_os_atlas_pro_layout(family: Qwen2VL) -> None:
    messages = family.render("Open the settings app", PHONE)
    assert [m.role for m in messages] == ["user"]
    system, image, task = messages[0].content
    assert isinstance(system, TextPart) and system.text.startswith(
        "\nYou are now operating in Executable Language Grounding mode."
    )
    assert system.text.endswith(
        "Your current task instruction, action history, and associated screenshot are as follows:\nScreenshot: \n"
    )
    assert "CLICK <point>[[x-axis, y-axis]]</point>" in system.text
    assert image == ImageSlot("current", 1092, 2408)
    assert task == TextPart("Task instruction: Open the settings app\nHistory: null")


def test_history_is_text_and_earlier_images_only_where_given(family: Qwen2VL) -> None:
    history = [
        HistoryStep(actions=(OpenApp(name="Settings", space=SPACE),)),
        HistoryStep(actions=(), error="no action found"),
        HistoryStep(actions=(Click(x=5, y=6, space=SPACE),), image=ImageSlot("step-3", 546, 1204)),
    ]
    messages = family.render("task", PHONE, history)
    slots = [s for m in messages for s in m.images()]
    assert slots == [ImageSlot("current", 1092, 2408), ImageSlot("step-3", 546, 1204)]
    text = render_chatml(messages)
    assert "History: \nStep 1: OPEN_APP [Settings]\nStep 2: no valid action\nStep 3: " in text
    assert text.count("<|vision_start|>") == 2
    assert "Step 3: <|vision_start|><|image_pad|><|vision_end|> CLICK <point>[[5, 6]]</point>\n" in text


def test_feedback_goes_into_the_user_turn(family: Qwen2VL) -> None:
    messages = family.render("task", PHONE, feedback="unknown action 'FLY'")
    last = messages[-1]
    assert last.role == "user"
    assert isinstance(last.content[-1], TextPart)
    assert "Your previous reply was not a valid action: unknown action 'FLY'" in last.content[-1].text
    assert "actions:\nCLICK <point>[[x, y]]</point>" in last.content[-1].text
    assert len([s for m in messages for s in m.images()]) == 1


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


@pytest.mark.parametrize("index", range(4))
def test_grounding_request_equals_the_os_atlas_readme_recipe(family: Qwen2VL, index: int) -> None:
    case = _grounding_golden("qwen2-vl.json")["cases"][index]
    screen = Size(*case["screen"])
    assert _grounding_shape(family.grounding_messages(case["instruction"], screen)) == _golden_shape(case)
    assert case["generation"] == {"max_new_tokens": 128, "skip_special_tokens": False}
    assert family.needs_special_tokens  # the README decodes with skip_special_tokens=False


@pytest.mark.parametrize("index", range(2))
def test_grounding_published_answer_maps_to_the_readme_pixel(family: Qwen2VL, index: int) -> None:
    # README: (576,12),(592,42) on its 2560x1440 example -> centre (584, 27) -> 1495.04, 38.88 -> (1495, 39)
    published = _grounding_golden("qwen2-vl.json")["published"][index]
    screen = Size(*published["screen"])
    point = family.parse_grounding(published["reply"], screen)
    assert point == tuple(published["model_point"])
    assert family.space(screen).to_device(*point, screen) == tuple(round(v) for v in published["device_point_exact"])


@pytest.mark.parametrize(
    "answer, point",
    [
        (
            "<|object_ref_start|>search<|object_ref_end|><|box_start|>(100,200),(300,400)<|box_end|><|im_end|>",
            (200, 300),
        ),
        ("search(100,200),(300,400)", (200, 300)),
        ("<|box_start|>(120,340)<|box_end|>", (120, 340)),
        ("(120,340)", (120, 340)),
        ("```\n(120, 340)\n```", (120, 340)),
        ("thoughts:\nthe box\nactions:\nCLICK <point>[[120, 340]]</point>", (120, 340)),
    ],
)
def test_grounding_answer_forms(family: Qwen2VL, answer: str, point: tuple[float, float]) -> None:
    assert family.parse_grounding(answer, PHONE) == point


@pytest.mark.parametrize("answer", ["I cannot see it.", "", "(x1,y1),(x2,y2)", "<|box_start|><|box_end|>"])
def test_grounding_answers_without_a_point_are_refused(family: Qwen2VL, answer: str) -> None:
    with pytest.raises(ActionParseError) as caught:
        family.parse_grounding(answer, PHONE)
    assert "\n" not in caught.value.reason


def test_format_grounding_writes_the_readme_answer(family: Qwen2VL) -> None:
    text = family.format_grounding(120, 340, PHONE)
    assert text == "<|object_ref_start|>element<|object_ref_end|><|box_start|>(120,340),(120,340)<|box_end|>"
    assert family.parse_grounding(text, PHONE) == (120, 340)
    assert "OS-Atlas-Base-7B" in family.choices and "bad08407" in family.source
