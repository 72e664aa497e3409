"""AutoGLM-Phone: the authors' own messages byte for byte, their own taps to the pixel, every verb.

``tests/data/autoglm/reference.json`` was produced by running zai-org/Open-AutoGLM's ``PhoneAgent`` and
``ActionHandler`` offline (``tests/data/autoglm/make_reference.py``, see the README there): the messages it
sent at every step of three tasks, and the device calls its handler made for replies in its own format.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import ActionParseError, ConfigError, CoordinateError
from guiagent.actions.families import AutoGLMPhone, HistoryStep, get_family, infer_family
from guiagent.actions.families.autoglm import AUTOGLM_MAX_PIXELS, AUTOGLM_MIN_PIXELS, split_reply
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
    OpenApp,
    RightClick,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "autoglm"
REFERENCE: dict[str, Any] = json.loads((DATA / "reference.json").read_text(encoding="utf-8"))
FROZEN = datetime.date.fromisoformat(REFERENCE["frozen_date"])
PHONE = Size(1080, 2400)
TALL = Size(1440, 3120)
REL = "relative-1000"


@pytest.fixture
def family() -> AutoGLMPhone:
    fam = get_family("autoglm-phone", date=FROZEN)
    assert isinstance(fam, AutoGLMPhone)
    return fam


def _as_recorded(messages: list[Message]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                parts.append({"type": "image", "key": part.key, "size": [part.width, part.height]})
        out.append({"role": message.role, "content": parts})
    return out


def _expected(recorded: list[dict[str, Any]], step: int) -> list[dict[str, Any]]:
    """The authors' messages with each image as the slot we must send: the current screenshot, at the
    size the server's GLM-4.1V processor would have resized the raw one to."""
    out = []
    for message in recorded:
        parts = []
        for part in message["content"]:
            if part["type"] == "image":
                assert part["screenshot"] == step  # the agent only ever sends the current screenshot
                parts.append({"type": "image", "key": "current", "size": part["model_size"]})
            else:
                parts.append(part)
        out.append({"role": message["role"], "content": parts})
    return out


# --- facts --------------------------------------------------------------------------------------------------


def test_family_facts(family: AutoGLMPhone) -> None:
    assert family.space(PHONE).name == REL
    assert family.factor == 28
    assert family.pixel_limits == (AUTOGLM_MIN_PIXELS, AUTOGLM_MAX_PIXELS) == (6272, 4816896)
    assert family.default_history_images == 0
    assert family.model_size(PHONE) == Size(1092, 2408)
    assert family.model_size(TALL) == Size(1428, 3108)
    assert "Open-AutoGLM" in family.source and "grounding" in family.choices


@pytest.mark.parametrize("size", [(1080, 2400), (1440, 3120), (720, 1600), (1080, 1920), (1600, 2560), (3000, 4000)])
def test_model_size_is_what_the_glm_processor_makes_and_leaves_alone(
    family: AutoGLMPhone, size: tuple[int, int]
) -> None:
    glm = pytest.importorskip("transformers.models.glm4v.image_processing_glm4v")
    width, height = size
    limits = {"factor": 28, "min_pixels": 112 * 112, "max_pixels": 14 * 14 * 2 * 2 * 2 * 6144}
    h, w = glm.smart_resize(num_frames=2, height=height, width=width, **limits)
    assert family.model_size(Size(width, height)) == Size(w, h)
    assert glm.smart_resize(num_frames=2, height=h, width=w, **limits) == (h, w)  # nothing left to resize


def test_options(family: AutoGLMPhone) -> None:
    assert get_family("autoglm-phone").lang == "cn"
    assert get_family("autoglm-phone", lang="en").system_prompt().startswith("The current date: ")
    with pytest.raises(ConfigError):
        get_family("autoglm-phone", lang="de")
    with pytest.raises(ConfigError):
        get_family("autoglm-phone", platform="computer")
    today = get_family("autoglm-phone").system_prompt()
    assert today.startswith(f"今天的日期是: {datetime.date.today():%Y年%m月%d日}")


@pytest.mark.parametrize(
    "model_id",
    [
        "zai-org/AutoGLM-Phone-9B",
        "zai-org/AutoGLM-Phone-9B-Multilingual",
        "ZhipuAI/AutoGLM-Phone-9B",
        "autoglm-phone-9b-multilingual",
        "autoglm-phone-multilingual",
        "parasail-auto-glm-9b-multilingual",
    ],
)
def test_model_ids(model_id: str) -> None:
    assert infer_family(model_id, "android") == "autoglm-phone"


# --- golden: the authors' own messages ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["cn", "en"])
def test_system_prompt_is_the_authors(lang: str) -> None:
    assert get_family("autoglm-phone", lang=lang, date=FROZEN).system_prompt() == REFERENCE["system_prompts"][lang]


def test_published_sample_messages() -> None:
    # scripts/sample_messages.json (2025-12-11) and sample_messages_en.json (2025-12-12) as the authors ship them
    cn = REFERENCE["published_samples"]["sample_messages.json"]
    en = REFERENCE["published_samples"]["sample_messages_en.json"]
    fam_cn = get_family("autoglm-phone", date=datetime.date(2025, 12, 11))
    fam_en = get_family("autoglm-phone", lang="en", date=datetime.date(2025, 12, 12))
    assert cn[0]["content"][0]["text"] == fam_cn.system_prompt()
    assert en[0]["content"][0]["text"] == fam_en.system_prompt()
    task = "这个牌子的洗发水, 去京东和淘宝上比价, 选择最便宜的平台下单"
    rendered = _as_recorded(fam_cn.render(task, PHONE, current_app="小红书"))
    assert rendered == _expected(cn, 0)


SCENARIO_STEPS = [(s["name"], k) for s in REFERENCE["scenarios"] for k in range(len(s["steps"]))]


@pytest.mark.parametrize(("name", "k"), SCENARIO_STEPS)
def test_render_equals_the_authors_messages(name: str, k: int) -> None:
    scenario = next(s for s in REFERENCE["scenarios"] if s["name"] == name)
    family = get_family("autoglm-phone", lang=scenario["lang"], date=FROZEN)
    screen = Size(*scenario["screen"])
    steps = scenario["steps"]
    history = [HistoryStep(reply=step["reply"]) for step in steps[:k]]
    messages = family.render(
        scenario["task"],
        screen,
        history,
        current_app=steps[k]["app"],
        history_apps=[step["app"] for step in steps[:k]],
    )
    assert _as_recorded(messages) == _expected(steps[k]["messages"], k)


def test_goldens_cover_both_screens_and_long_histories() -> None:
    screens = {tuple(s["screen"]) for s in REFERENCE["scenarios"]}
    assert {(1080, 2400), (1440, 3120)} <= screens
    assert max(len(s["steps"]) for s in REFERENCE["scenarios"]) - 1 >= 3


def test_history_split_is_the_clients(family: AutoGLMPhone) -> None:
    assert list(split_reply(REFERENCE["readme_reply"])) == REFERENCE["readme_reply_split"]
    assert split_reply('<answer>do(action="Back")</answer>') == ("<answer>", 'do(action="Back")</answer>')
    assert split_reply("<think>a</think><answer>b</answer>") == ("a", "b")
    assert split_reply("no markers") == ("", "no markers")


# --- golden: the authors' own mapping -----------------------------------------------------------------------


def _authors_expectation(record: dict[str, Any]) -> tuple[type, dict[str, Any]]:
    calls = record["device_calls"]
    action = record["action"]
    name = calls[0][0] if calls else None
    if name == "tap":
        return Click, {"x": calls[0][1], "y": calls[0][2]}
    if name == "double_tap":
        return DoubleClick, {"x": calls[0][1], "y": calls[0][2]}
    if name == "long_press":
        return LongPress, {"x": calls[0][1], "y": calls[0][2], "duration": 3.0}
    if name == "swipe":
        x, y, x2, y2 = calls[0][1:5]
        ms = max(1000, min(int(((x - x2) ** 2 + (y - y2) ** 2) / 1000), 2000))  # adb/device.py swipe()
        return Swipe, {"x": x, "y": y, "x2": x2, "y2": y2, "duration": ms / 1000}
    if name == "launch_app":
        return OpenApp, {"name": calls[0][1]}
    if name in ("back", "home"):
        return SystemButton, {"button": name}
    if any(c[0] == "type_text" for c in calls):
        return Type, {"text": next(c[1] for c in calls if c[0] == "type_text")}
    if action["_metadata"] == "finish":
        return Answer, {"text": action["message"]}
    verb = action["action"]
    if verb == "Wait":
        try:
            seconds = float(action["duration"].replace("seconds", "").strip())
        except ValueError:
            seconds = 1.0
        return Wait, {"seconds": seconds}
    if verb in ("Take_over", "Interact"):
        return CallUser, {"message": action.get("message", "")}
    if verb in ("Note", "Call_API"):
        return Wait, {"seconds": 0.0}
    raise AssertionError(record)


MAPPED = [(tuple(r["screen"]), r["reply"]) for r in REFERENCE["mapped_replies"]]


@pytest.mark.parametrize(("screen", "reply"), MAPPED)
def test_reply_lands_where_the_authors_handler_taps(family: AutoGLMPhone, screen: tuple[int, int], reply: str) -> None:
    record = next(r for r in REFERENCE["mapped_replies"] if tuple(r["screen"]) == screen and r["reply"] == reply)
    kind, fields = _authors_expectation(record)
    parsed, actions = family.parse_to_device(reply, Size(*screen))
    assert len(actions) == 1
    assert isinstance(actions[0], kind), (reply, actions)
    assert {k: getattr(actions[0], k) for k in fields} == fields
    if record["action"].get("action") == "Tap":
        assert parsed.sensitive == record["action"].get("message")


def test_mapping_truncates_like_the_authors(family: AutoGLMPhone) -> None:
    # int(333 / 1000 * 1080) = int(359.64) = 359, where rounding would give 360
    assert family.parse_to_device('do(action="Tap", element=[333,667])', PHONE)[1] == (Click(x=359, y=1600),)
    # 999 is the prompt's far corner; 1000 is the far edge, the last pixel
    assert family.parse_to_device('do(action="Tap", element=[999,999])', PHONE)[1] == (Click(x=1078, y=2397),)
    assert family.parse_to_device('do(action="Tap", element=[1000,1000])', PHONE)[1] == (Click(x=1079, y=2399),)
    with pytest.raises(CoordinateError):
        family.parse_to_device('do(action="Tap", element=[1001,5])', PHONE)
    with pytest.raises(CoordinateError):
        family.parse_to_device('do(action="Swipe", start=[-1,5], end=[5,5])', PHONE)


def test_device_to_model_picks_the_unit_whose_floor_is_the_pixel(family: AutoGLMPhone) -> None:
    space = family.space(PHONE)
    for px in range(0, 1080):
        mx, _ = space.from_device(px, 0, PHONE)
        back, _ = space.to_device(mx, 0, PHONE)
        assert abs(back - px) <= 1
    assert space.from_device(1079, 2399, PHONE) == (1000.0, 1000.0)


# --- parsing --------------------------------------------------------------------------------------------------

THINK = "<think>看一下屏幕。</think>\n<answer>"


@pytest.mark.parametrize(
    ("answer", "expected", "sensitive"),
    [
        ('do(action="Launch", app="微信")', OpenApp(name="微信", space=REL), None),
        ('do(action="Tap", element=[500,100])', Click(x=500, y=100, space=REL), None),
        ('do(action="Tap", element=[500,100], message="重要操作")', Click(x=500, y=100, space=REL), "重要操作"),
        ('do(action="Type", text="xxx")', Type(text="xxx", space=REL), None),
        ('do(action="Type_Name", text="李四")', Type(text="李四", space=REL), None),
        ('do(action="Interact")', CallUser(message="", space=REL), None),
        (
            'do(action="Swipe", start=[500,800], end=[500,200])',
            Swipe(x=500, y=800, x2=500, y2=200, duration=2.0, space=REL),
            None,
        ),
        ('do(action="Note", message="True")', Wait(seconds=0, space=REL), None),
        ('do(action="Call_API", instruction="xxx")', Wait(seconds=0, space=REL), None),
        ('do(action="Long Press", element=[10,20])', LongPress(x=10, y=20, duration=3.0, space=REL), None),
        ('do(action="Double Tap", element=[10,20])', DoubleClick(x=10, y=20, space=REL), None),
        ('do(action="Take_over", message="请登录")', CallUser(message="请登录", space=REL), None),
        ('do(action="Back")', SystemButton(button="back", space=REL), None),
        ('do(action="Home")', SystemButton(button="home", space=REL), None),
        ('do(action="Wait", duration="2 seconds")', Wait(seconds=2, space=REL), None),
        ('finish(message="xxx")', Answer(text="xxx", space=REL), None),
        ('finish(message="")', Terminate(status="success", space=REL), None),
    ],
)
def test_every_verb(family: AutoGLMPhone, answer: str, expected: Action, sensitive: str | None) -> None:
    for reply in (THINK + answer, THINK + answer + "</answer>", answer, f"<answer>\n{answer}\n</answer>"):
        parsed = family.parse(reply, PHONE)
        assert parsed.actions == (expected,), reply
        assert parsed.sensitive == sensitive


def test_swipe_duration_follows_distance(family: AutoGLMPhone) -> None:
    short = family.parse('do(action="Swipe", start=[500,500], end=[500,480])', PHONE).actions[0]
    middle = family.parse('do(action="Swipe", start=[499,800], end=[499,300])', PHONE).actions[0]
    assert isinstance(short, Swipe) and isinstance(middle, Swipe)
    assert short.duration == 1.0 and middle.duration == 1.44  # 1200 px: 1200^2 / 1000 = 1440 ms


def test_thinking(family: AutoGLMPhone) -> None:
    parsed = family.parse('<think>先打开应用。</think>\n<answer>do(action="Launch", app="美团")', PHONE)
    assert parsed.thought == "先打开应用。"
    # the chat template may open <think> itself: only the closing tag comes back
    parsed = family.parse('先返回。</think><answer>do(action="Back")</answer>', PHONE)
    assert parsed.thought == "先返回。" and parsed.actions == (SystemButton(button="back", space=REL),)
    # no tags at all: text before the call is the thought, as the authors' client splits it
    parsed = family.parse('Need to go home.\ndo(action="Home")', PHONE)
    assert parsed.thought == "Need to go home."
    parsed = family.parse('I will do (as asked) one step: do(action="Home")', PHONE)
    assert parsed.thought == "I will do (as asked) one step:"
    assert parsed.actions == (SystemButton(button="home", space=REL),)
    # a call mentioned inside the thinking is not the action
    parsed = family.parse(
        '<think>不要 finish(message="x")，先 do(action="Back")</think><answer>do(action="Home")', PHONE
    )
    assert parsed.actions == (SystemButton(button="home", space=REL),)


def test_truncated_thinking(family: AutoGLMPhone) -> None:
    with pytest.raises(ActionParseError, match="cut off"):
        family.parse("<think>用户想要比较这个洗发水在京东和淘宝上的价格，然后", PHONE)


def test_text_is_read_as_the_authors_read_it(family: AutoGLMPhone) -> None:
    # unescaped quotes and parentheses stay in the text, as parse_action's text=...[1:-2] keeps them
    assert family.parse('do(action="Type", text="say "hi" (now)")', PHONE).actions == (
        Type(text='say "hi" (now)', space=REL),
    )
    assert family.parse('finish(message="没有找到"川味"火锅")', PHONE).actions == (
        Answer(text='没有找到"川味"火锅', space=REL),
    )
    assert family.parse('do(action="Type", text="第一行\n第二行")', PHONE).actions == (
        Type(text="第一行\n第二行", space=REL),
    )
    # a Take_over message with a raw newline reads as the authors' ast parse does
    assert family.parse('do(action="Take_over", message="请\n登录")', PHONE).actions == (
        CallUser(message="请\n登录", space=REL),
    )


def test_lenient_forms(family: AutoGLMPhone) -> None:
    assert family.parse("do(action='Tap', element=[1, 2])", PHONE).actions == (Click(x=1, y=2, space=REL),)
    assert family.parse('do(action="long_press", element=[1,2])', PHONE).actions[0].type == "long_press"
    assert family.parse('```\ndo(action="Back")\n```', PHONE).actions[0].type == "system_button"
    assert family.parse('do(action="Back")<|user|>', PHONE).actions[0].type == "system_button"
    assert family.parse('do(action="Wait", duration="soon")', PHONE).actions == (Wait(seconds=1.0, space=REL),)
    assert family.parse('finish("好了")', PHONE).actions == (Answer(text="好了", space=REL),)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("我觉得应该点击搜索框。", "no action"),
        ("<think>嗯</think><answer></answer>", "no action"),
        ('do(action="Fly", element=[1,2])', "unknown action"),
        ("do(element=[1,2])", 'action="<name>"'),
        ('do(action="Tap", element=[x,y])', "quoted strings or numbers"),
        ('do(action="Tap", element=[1,2,3])', "two numbers"),
        ('do(action="Tap")', "element=[x,y]"),
        ('do(action="Swipe", start=[1,2])', "end=[x,y]"),
        ('do(action="Tap", element=[1,2])\ndo(action="Back")', "several actions"),
        ('do(action="Type", text="a")\ndo(action="Back")', "several actions"),
        ('do(action="Tap", element=[500,', "cut off"),
        ('do(action="Type", text="hel', "cut off"),
        ('do(action="Type", text="hel)', "not closed"),
        ('finish(message="do', "cut off"),
        ('do(action="Launch", app="")', "Launch needs"),
        ('do(action="Type", text="")', "Type needs"),
        ('do(action="Wait", duration="-3 seconds")', "invalid Wait"),
        ('do(action="Tap", element=[1e309,5])', "two numbers"),
        ("", "empty"),
    ],
)
def test_rejects(family: AutoGLMPhone, reply: str, reason: str) -> None:
    with pytest.raises(ActionParseError, match=re.escape(reason)) as info:
        family.parse(reply, PHONE)
    assert info.value.raw_text == reply
    assert "\n" not in info.value.reason


# --- writing --------------------------------------------------------------------------------------------------

ROUND_TRIP = [
    Click(x=538, y=208),
    DoubleClick(x=0, y=0),
    LongPress(x=1079, y=2399),
    Swipe(x=538, y=1920, x2=538, y2=720),
    Drag(x=10, y=20, x2=500, y2=600),
    Type(text="héllo 'quoted' \"double\" ; $(reboot) 日本語"),
    OpenApp(name='A "quoted" app'),
    SystemButton(button="back"),
    SystemButton(button="home"),
    Wait(seconds=2.5),
    Answer(text="共 3 家"),
    Terminate(status="success"),
    CallUser(message="请输入验证码"),
]


@pytest.mark.parametrize("action", ROUND_TRIP, ids=lambda a: a.type)
@pytest.mark.parametrize("screen", [PHONE, TALL])
def test_format_action_round_trip(family: AutoGLMPhone, action: Action, screen: Size) -> None:
    mapping = family.mapping(screen)
    reply = family.format_action(mapping.to_model(action), thought="想一想")
    assert reply.startswith("<think>想一想</think>\n<answer>do(") or "<answer>finish(" in reply
    parsed, actions = family.parse_to_device(reply, screen)
    assert parsed.thought == "想一想"
    back = actions[0]
    original = list(action.points())
    for (_, _, ox, oy), (_, _, rx, ry) in zip(original, back.points(), strict=True):
        assert abs(rx - ox) <= 1 and abs(ry - oy) <= 1, (reply, action, back)
    if not original:
        assert back.model_dump(exclude={"space"}) == action.model_dump(exclude={"space"})


def test_format_action_writes_the_prompt_forms(family: AutoGLMPhone) -> None:
    assert family.history_text(Click(x=499, y=87, space=REL)) == 'do(action="Tap", element=[499,87])'
    assert family.history_text(LongPress(x=1, y=2, space=REL)) == 'do(action="Long Press", element=[1,2])'
    assert family.history_text(Swipe(x=1, y=2, x2=3, y2=4, space=REL)) == 'do(action="Swipe", start=[1,2], end=[3,4])'
    assert family.history_text(Wait(seconds=3, space=REL)) == 'do(action="Wait", duration="3 seconds")'
    assert family.history_text(Answer(text="完成", space=REL)) == 'finish(message="完成")'


@pytest.mark.parametrize(
    "action",
    [Key(keys=["enter"]), Scroll(direction="down"), RightClick(x=1, y=1), SystemButton(button="enter"), Click()],
)
def test_inexpressible_actions(family: AutoGLMPhone, action: Action) -> None:
    with pytest.raises(ValueError):
        family.format_action(action)


# --- conversation details -------------------------------------------------------------------------------------


def test_first_render(family: AutoGLMPhone) -> None:
    messages = family.render("打开美团", PHONE)
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[1].content == (
        ImageSlot("current", 1092, 2408),
        TextPart('打开美团\n\n{"current_app": "System Home"}'),
    )


def test_history_from_actions_refusals_images_and_feedback(family: AutoGLMPhone) -> None:
    history = [
        HistoryStep(reply="胡言乱语", error="the reply holds no action"),
        HistoryStep(actions=(Click(x=500, y=100, space=REL),), image=ImageSlot("step-1", 546, 1204)),
        HistoryStep(reply='<think>返回</think>\n<answer>do(action="Back")'),
    ]
    messages = family.render(
        "打开美团",
        PHONE,
        history,
        feedback="the reply holds no action",
        current_app="美团",
        history_apps=["A", "B", "C"],
    )
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    # the refused first step is gone; the task moves to the first kept turn, with that step's own image
    assert messages[1].content == (ImageSlot("step-1", 546, 1204), TextPart('打开美团\n\n{"current_app": "B"}'))
    assert messages[2].content == (TextPart('<think></think><answer>do(action="Tap", element=[500,100])</answer>'),)
    assert messages[3].content == (TextPart('** Screen Info **\n\n{"current_app": "C"}'),)
    assert messages[4].content == (
        TextPart('<think><think>返回</think>\n<answer></think><answer>do(action="Back")</answer>'),
    )
    last = messages[5].content
    assert last[0] == ImageSlot("current", 1092, 2408)
    assert last[1] == TextPart('** Screen Info **\n\n{"current_app": "美团"}')
    assert isinstance(last[2], TextPart) and "the reply holds no action" in last[2].text


def test_grounding_uses_the_agent_prompt(family: AutoGLMPhone) -> None:
    assert family.grounding_messages("搜索框", PHONE) == family.render("搜索框", PHONE)
    x, y = family.parse_grounding('<think>搜索框在顶部</think><answer>do(action="Tap", element=[499,87])', PHONE)
    assert (x, y) == (499, 87)
    assert math.floor(x / 1000 * PHONE.width) == 538
