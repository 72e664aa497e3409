"""Produce the UI-Venus-1.5 golden data by running the authors' own code with fake screens and no model.

Usage: python tests/data/uivenus15/make_reference.py /path/to/UI-Venus-checkout [out_dir]

The checkout is inclusionAI/UI-Venus (branch UI-Venus-1.5). Nothing of it is copied here: this script
imports its modules and replaces only what talks to the outside world (adb, HTTP, vLLM, the HF
processor, the model) with recorders that return scripted replies. See README.md beside this file.
"""

# ruff: noqa: B023 - each fake is built and used within one loop iteration
from __future__ import annotations

import base64
import copy
import io
import json
import logging
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

from PIL import Image

OUT = Path(__file__).resolve().parent
SENT_MIN, SENT_MAX = 3136, 12845056  # the authors' pins (scripts/run_navi.sh, models/navigation/runner.py)


def model_size(width: int, height: int) -> list[int]:
    """The size Qwen3-VL's processor turns a sent image into: multiples of 32 (patch 16 x merge 2)."""
    from qwen_vl_utils import smart_resize

    pinned = smart_resize(height, width, factor=32, min_pixels=SENT_MIN, max_pixels=SENT_MAX)
    stock = smart_resize(height, width, factor=32, min_pixels=65536, max_pixels=16777216)
    assert pinned == stock, (width, height, pinned, stock)  # the limits do not bind at these sizes
    return [pinned[1], pinned[0]]


def png(width: int, height: int, shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 255 - shade, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Venus_framework (the 1.5 agent framework): RunHandler.run with a fake device and a recording HTTP post.
# ---------------------------------------------------------------------------------------------------------

FRAMEWORK_TASKS = [
    {
        "name": "settings_bluetooth_1080x2400",
        "screen": [1080, 2400],
        "task": "打开设置，开启蓝牙",
        "replies": [
            "<think>当前在桌面，需要先打开设置。</think>\n<action>Launch(app='设置')</action>\n"
            "<conclusion>启动设置应用</conclusion>",
            "<think>设置已打开，点击“蓝牙”一栏。</think>\n<action>Click(box=(500,320))</action>\n"
            "<conclusion>点击蓝牙</conclusion>",
            "<think>蓝牙开关不在当前页面，向上滑动查看。</think>\n"
            "<action>Scroll(start=(500,700), end=(500,300))</action>\n<conclusion>向上滑动</conclusion>",
            "<think>蓝牙已开启，任务完成。</think>\n<action>Finished(content='蓝牙已开启')</action>\n"
            "<conclusion>任务完成</conclusion>",
        ],
    },
    {
        "name": "meituan_hotpot_1440x3120",
        "screen": [1440, 3120],
        "task": "Open Meituan and search for nearby hotpot restaurants",
        "replies": [
            "<think>The search box is at the top of the Meituan home page.</think>\n"
            "<action>Click(box=(123,457))</action>\n<conclusion>Tap the search box</conclusion>",
            "<think>The keyboard is up ('ADB Keyboard {ON}'), type the query.</think>\n"
            "<action>Type(content='hotpot')</action>\n<conclusion>Type hotpot</conclusion>",
            "<think>Run the search.</think>\n<action>PressEnter()</action>\n<conclusion>Search</conclusion>",
            "<think>Several restaurants match; ask which one the user wants.</think>\n"
            "<action>CallUser(content='Which restaurant do you want?')</action>\n<conclusion>Ask the user</conclusion>",
        ],
    },
]

FRAMEWORK_REPLIES = [
    "<think>点击搜索框</think>\n<action>Click(box=(123,457))</action>\n<conclusion>点击</conclusion>",
    "<think>长按消息</think>\n<action>LongPress(box=(999,999))</action>\n<conclusion>长按</conclusion>",
    "<action>Click(box=(0,0))</action>",
    "<think>拖动滑块</think>\n<action>Drag(start=(100,800), end=(900,800))</action>\n<conclusion>拖动</conclusion>",
    "<think>向上滑动</think>\n<action>Scroll(start=(500,700), end=(500,300))</action>\n<conclusion>滑动</conclusion>",
    "<think>输入</think>\n<action>Type(content='杭州天气')</action>\n<conclusion>输入</conclusion>",
    "<think>打开app</think>\n<action>Launch(app='微博')</action>\n<conclusion>启动</conclusion>",
    "<think>等待</think>\n<action>Wait()</action>\n<conclusion>等待</conclusion>",
    "<think>完成</think>\n<action>Finished(content='已完成')</action>\n<conclusion>完成</conclusion>",
    "<think>需要用户</think>\n<action>CallUser(content='请登录')</action>\n<conclusion>接管</conclusion>",
    "<action>PressBack()</action>",
    "<action>PressHome()</action>",
    "<action>PressEnter()</action>",
    "<action>PressRecent()</action>",
]


class _FakeDevice:
    def __init__(self, shots: list[bytes]) -> None:
        self.shots = shots
        self.calls: list[list[Any]] = []

    def screenshot(self) -> str:
        index = min(len(self.calls), len(self.shots) - 1)
        return base64.b64encode(self.shots[index]).decode()

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> bool:
            self.calls.append([name, *args])
            return True

        return record


def _image_part(url: str, names: dict[str, str]) -> dict[str, Any]:
    data = base64.b64decode(url.split("base64,", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return {
        "type": "image",
        "screenshot": names[url.split("base64,", 1)[1]],
        "sent_size": [width, height],
        "model_size": model_size(width, height),
    }


def run_framework(root: Path) -> dict[str, Any]:
    sys.path.insert(0, str(root / "Venus_framework"))
    import app.run_handler as run_handler
    import policy.ui_venus_policy as venus_policy
    from app.runtime_context import RuntimeContext

    cases = []
    for spec in FRAMEWORK_TASKS:
        width, height = spec["screen"]
        shots = [png(width, height, 40 * i) for i in range(len(spec["replies"]))]
        names = {base64.b64encode(s).decode(): f"step-{i + 1}" for i, s in enumerate(shots)}
        device = _FakeDevice(shots)
        replies = list(spec["replies"])
        bodies: list[dict[str, Any]] = []

        class FakeResponse:
            def __init__(self, text: str) -> None:
                self.text = text

            def raise_for_status(self) -> None:
                return None

            def json(self) -> dict[str, Any]:
                return {"choices": [{"message": {"content": self.text}}]}

        def post(url: str, data: str, **_: Any) -> FakeResponse:
            bodies.append(json.loads(data))
            return FakeResponse(replies[len(bodies) - 1])

        class FakeManager:
            def connect_device(self, device_id: str) -> bool:
                return True

            def get_device(self, device_id: str) -> _FakeDevice:
                return device

        venus_policy.requests.post = post  # type: ignore[assignment]
        run_handler.DeviceManager = FakeManager  # type: ignore[assignment]
        run_handler.time = types.SimpleNamespace(time=time.time, sleep=lambda s: None)  # type: ignore[assignment]
        with tempfile.TemporaryDirectory() as traces:
            handler = run_handler.RunHandler(
                device_id="fake",
                trace_dir=traces,
                policy_type="ui_venus",
                ep_config={"step_limit": 10},
                app_mapping={},
                model_host="http://127.0.0.1",
                model_port=8000,
            )
            handler.run(purpose=spec["task"])
        steps = []
        for index, body in enumerate(bodies):
            messages = []
            for message in body["messages"]:
                parts = []
                for part in message["content"]:
                    if part["type"] == "text":
                        parts.append({"type": "text", "text": part["text"]})
                    else:
                        parts.append(_image_part(part["image_url"]["url"], names))
                messages.append({"role": message["role"], "content": parts})
            steps.append(
                {
                    "step": index + 1,
                    "history_replies": spec["replies"][:index],
                    "current_screenshot": f"step-{index + 1}",
                    "request": {k: v for k, v in body.items() if k != "messages"},
                    "messages": messages,
                }
            )
        cases.append(
            {**{k: v for k, v in spec.items() if k != "replies"}, "steps": steps, "device_calls": device.calls}
        )

    replies = []
    for width, height in ((1080, 2400), (1440, 3120)):
        for text in FRAMEWORK_REPLIES:
            policy = venus_policy.UIVenusPolicy(RuntimeContext())
            response = {"choices": [{"message": {"content": text}}]}
            action, history_text, _, think, conclusion = policy._parse_response(response, width, height)
            replies.append(
                {
                    "screen": [width, height],
                    "reply": text,
                    "action_output": action,
                    "history_text": history_text,
                    "think": think,
                    "conclusion": conclusion,
                }
            )
    return {"cases": cases, "replies": replies}


# ---------------------------------------------------------------------------------------------------------
# models/navigation with PROMPT_TYPE=web (the only non-phone prompt): VenusNaviAgent.step with a recording
# vLLM and HF processor. scripts/run_navi.sh settings: HISTORY_LENGTH=5, MIN_PIXELS=3136, MAX_PIXELS=12845056.
# ---------------------------------------------------------------------------------------------------------

WEB_TASKS = [
    {
        "name": "web_weather_1920x1080",
        "screen": [1920, 1080],
        "task": "Find the weather forecast for Hangzhou tomorrow on bing.com and tell me the high temperature.",
        "replies": [
            "<think>I need to open the search engine first.</think>\n<action>Launch(url='https://www.bing.com')</action>\n"
            "<conclusion>Open bing</conclusion>",
            "<think>Click the search box.</think>\n<action>Click(box=(480,360))</action>\n<conclusion>Click</conclusion>",
            "<think>Type the query.</think>\n<action>Type(content='Hangzhou weather tomorrow')</action>\n"
            "<conclusion>Type</conclusion>",
            "<think>Scroll to see the forecast.</think>\n<action>Scroll(direction='down')</action>\n"
            "<conclusion>Scroll</conclusion>",
            "<think>Hover over tomorrow's card.</think>\n<action>Hover(box=(640,512))</action>\n"
            "<conclusion>Hover</conclusion>",
            "<think>Select the temperature text.</think>\n<action>DoubleClick(box=(655,530))</action>\n"
            "<conclusion>Select</conclusion>",
            "<think>Copy it.</think>\n<action>Hotkey(keys=['ctrl', 'c'])</action>\n<conclusion>Copy</conclusion>",
            "<think>The high is 28°C.</think>\n<action>CallUser(content='The high temperature is 28°C.')</action>\n"
            "<conclusion>Answer</conclusion>",
        ],
    },
    {
        "name": "web_drag_2560x1440",
        "screen": [2560, 1440],
        "task": "Move the slider on the page to the far right.",
        "replies": [
            "<think>Drag the handle to the right end.</think>\n<action>Drag(start=(300,600), end=(900,600))</action>\n"
            "<conclusion>Drag</conclusion>",
            "<think>Done.</think>\n<action>Finished(content='')</action>\n<conclusion>Finish</conclusion>",
        ],
    },
]


def run_navigation(root: Path) -> dict[str, Any]:
    sys.path.insert(0, str(root))
    generated: list[str] = []
    captured: list[dict[str, Any]] = []

    class FakeOutput:
        def __init__(self, text: str) -> None:
            self.outputs = [types.SimpleNamespace(text=text)]

    class FakeLLM:
        def __init__(self, **_: Any) -> None:
            pass

        def generate(self, inputs: list[dict[str, Any]], sampling_params: Any = None) -> list[FakeOutput]:
            for item in inputs:
                captured[-1]["processed_images"] = [list(im.size) for im in [item["multi_modal_data"]["image"]]]
            return [FakeOutput(generated.pop(0))]

    vllm = types.ModuleType("vllm")
    vllm.LLM = FakeLLM  # type: ignore[attr-defined]
    vllm.SamplingParams = lambda **kw: types.SimpleNamespace(**kw)  # type: ignore[attr-defined]
    sys.modules["vllm"] = vllm

    from models.navigation.utils import get_user_prompt

    get_user_prompt("web")  # runner.py does this before it imports the agent
    import models.navigation.ui_venus_navi_vllm as navi_vllm
    from models.navigation.runner import ModelConfig
    from models.navigation.ui_venus_navi_agent import VenusNaviAgent

    class FakeProcessor:
        image_processor = types.SimpleNamespace()

        @classmethod
        def from_pretrained(cls, path: str) -> FakeProcessor:
            return cls()

        def apply_chat_template(self, messages: Any, tokenize: bool = False, add_generation_prompt: bool = True) -> str:
            captured.append({"messages": copy.deepcopy(messages)})
            return "<prompt>"

    navi_vllm.AutoProcessor = FakeProcessor  # type: ignore[attr-defined]
    config = ModelConfig(model_path="UI-Venus-1.5-8B", min_pixels=SENT_MIN, max_pixels=SENT_MAX)
    logger = logging.getLogger("make_reference")
    agent = VenusNaviAgent(config, logger, history_length=5)
    cases = []
    with tempfile.TemporaryDirectory() as folder:
        for spec in WEB_TASKS:
            width, height = spec["screen"]
            agent.reset()
            steps = []
            for index, reply in enumerate(spec["replies"]):
                path = Path(folder) / f"{spec['name']}_{index + 1}.png"
                path.write_bytes(png(width, height, 30 * index))
                generated.append(reply)
                action = agent.step(spec["task"], str(path))
                record = captured[-1]
                messages = []
                for message in record["messages"]:
                    content = message["content"]
                    if isinstance(content, str):
                        messages.append({"role": message["role"], "content": [{"type": "text", "text": content}]})
                        continue
                    parts = []
                    for part in content:
                        if part["type"] == "text":
                            parts.append({"type": "text", "text": part["text"]})
                        else:
                            resized = record["processed_images"][0]
                            parts.append(
                                {
                                    "type": "image",
                                    "screenshot": f"step-{index + 1}",
                                    "raw_size": [width, height],
                                    "min_pixels": part["min_pixels"],
                                    "max_pixels": part["max_pixels"],
                                    "sent_size": resized,
                                    "model_size": model_size(*resized),
                                }
                            )
                    messages.append({"role": message["role"], "content": parts})
                steps.append(
                    {
                        "step": index + 1,
                        "history_replies": spec["replies"][:index],
                        "current_screenshot": f"step-{index + 1}",
                        "messages": messages,
                        "navigation_action_json": action,
                    }
                )
            cases.append({**{k: v for k, v in spec.items() if k != "replies"}, "steps": steps})
    return {"cases": cases}


# ---------------------------------------------------------------------------------------------------------
# models/grounding/ui_venus1_5_gd.py: UIVenusGroundV15.inference with a recording processor and model.
# ---------------------------------------------------------------------------------------------------------

GROUNDING = [
    ([1080, 2400], "the search box.", ["[500,88]", "[100, 200, 300, 400]", "[120,330],[380,370]", "[-1,-1]"]),
    ([1920, 1080], "Close button of the dialog", ["[977,23]", "[0,1000]", "no point here"]),
]


def run_grounding(root: Path) -> list[dict[str, Any]]:
    sys.path.insert(0, str(root / "models" / "grounding"))
    import torch
    from ui_venus1_5_gd import UIVenusGroundV15

    results = []
    with tempfile.TemporaryDirectory() as folder:
        for (width, height), instruction, answers in GROUNDING:
            path = Path(folder) / f"g_{width}x{height}.png"
            path.write_bytes(png(width, height, 90))
            for answer in answers:
                seen: dict[str, Any] = {}

                class Inputs(dict):  # type: ignore[type-arg]
                    input_ids = [torch.zeros(3)]

                    def to(self, device: Any) -> Inputs:
                        return self

                class FakeProcessor:
                    def apply_chat_template(self, messages: Any, tokenize: bool, add_generation_prompt: bool) -> str:
                        seen["messages"] = copy.deepcopy(messages)
                        return "<prompt>"

                    def __call__(self, text: Any, images: Any, videos: Any, **_: Any) -> Inputs:
                        seen["images"] = [list(im.size) for im in images]
                        return Inputs()

                    def batch_decode(self, ids: Any, **_: Any) -> list[str]:
                        return [answer]

                class FakeModel:
                    device = "cpu"

                    def generate(self, **_: Any) -> list[Any]:
                        return [torch.zeros(5)]

                model = UIVenusGroundV15()
                model.model, model.processor = FakeModel(), FakeProcessor()
                result = model.inference(instruction, str(path))
                messages = []
                for message in seen["messages"]:
                    parts = []
                    for part in message["content"]:
                        if part["type"] == "text":
                            parts.append({"type": "text", "text": part["text"]})
                        else:
                            parts.append(
                                {
                                    "type": "image",
                                    "screenshot": "current",
                                    "raw_size": [width, height],
                                    "sent_size": seen["images"][0],
                                    "model_size": model_size(*seen["images"][0]),
                                }
                            )
                    messages.append({"role": message["role"], "content": parts})
                point = result["point"]
                # eval_screenspot_pro.py: point_in_pixel = [point[0] * img_size[0], point[1] * img_size[1]]
                pixel = [point[0] * width, point[1] * height] if point else None
                results.append(
                    {
                        "screen": [width, height],
                        "instruction": instruction,
                        "answer": answer,
                        "messages": messages,
                        "result": result["result"],
                        "point": point,
                        "point_in_pixel": pixel,
                    }
                )
    return results


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    out = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else OUT
    logging.disable(logging.CRITICAL)
    data = {
        "framework.json": run_framework(root),
        "navigation_web.json": run_navigation(root),
        "grounding.json": run_grounding(root),
    }
    for name, value in data.items():
        text = json.dumps(value, ensure_ascii=False, indent=1) + "\n"
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
