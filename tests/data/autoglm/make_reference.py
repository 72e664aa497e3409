"""Drive zai-org/Open-AutoGLM's own PhoneAgent offline and record what it sends and what it taps.

Usage (in a venv with the authors' dependencies: Pillow, openai; transformers for the server-side size):

    python tests/data/autoglm/make_reference.py /path/to/Open-AutoGLM-checkout [COMMIT]

(COMMIT names the checkout's commit when it is not a git work tree, e.g. a ``git archive`` export.)

Nothing of the authors' code is copied: their package is imported from the checkout and run with fakes
in place of the phone and the model server. Their date is frozen (their prompts read ``datetime.today()``
at import) so the output is reproducible. Writes ``reference.json`` next to this file.
"""

from __future__ import annotations

import base64
import copy
import datetime as real_datetime
import io
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import openai  # noqa: F401 - imported before the date shim so only the authors' modules see it
from PIL import Image

FROZEN_DAY = (2025, 12, 11)  # the date of the authors' own scripts/sample_messages.json
HERE = Path(__file__).resolve().parent

# GLM-4.1V's image processor limits (zai-org/GLM-4.1V-9B-Thinking preprocessor_config.json); the server
# resizes the raw screenshot the agent sends with transformers' Glm4v smart_resize (temporal factor 2).
GLM_MIN_PIXELS = 112 * 112
GLM_MAX_PIXELS = 14 * 14 * 2 * 2 * 2 * 6144


def import_authors(checkout: Path) -> types.SimpleNamespace:
    """Import phone_agent with ``datetime.today()`` frozen for their prompt modules."""

    class FrozenDateTime(real_datetime.datetime):
        @classmethod
        def today(cls, tz: Any = None) -> FrozenDateTime:  # type: ignore[override]
            return cls(*FROZEN_DAY)

    shim = types.ModuleType("datetime")
    shim.__dict__.update(real_datetime.__dict__)
    shim.datetime = FrozenDateTime  # type: ignore[attr-defined]
    sys.path.insert(0, str(checkout))
    sys.modules["datetime"] = shim
    try:
        import phone_agent.actions.handler as handler_mod
        import phone_agent.agent as agent_mod
        import phone_agent.config as config_mod
        from phone_agent.adb.screenshot import Screenshot
        from phone_agent.model.client import MessageBuilder, ModelClient, ModelResponse
    finally:
        sys.modules["datetime"] = real_datetime
    return types.SimpleNamespace(
        agent=agent_mod,
        handler=handler_mod,
        config=config_mod,
        Screenshot=Screenshot,
        ModelClient=ModelClient,
        ModelResponse=ModelResponse,
        MessageBuilder=MessageBuilder,
    )


def server_size(width: int, height: int) -> list[int]:
    """The size GLM-4.1V's processor resizes a raw screenshot to (what the model really sees)."""
    try:
        from transformers.models.glm4v.image_processing_pil_glm4v import smart_resize
    except ImportError:  # older transformers
        from transformers.models.glm4v.image_processing_glm4v import smart_resize
    h, w = smart_resize(
        num_frames=2, height=height, width=width, factor=28, min_pixels=GLM_MIN_PIXELS, max_pixels=GLM_MAX_PIXELS
    )
    return [w, h]


def png_base64(width: int, height: int, shade: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (shade, shade, shade)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def describe_messages(messages: list[dict[str, Any]], step: int) -> list[dict[str, Any]]:
    """Role + ordered parts; text exact; an image as its size as sent, its server-side size, its step."""
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            parts = [{"type": "text", "text": content}]
        else:
            parts = []
            for part in content:
                if part["type"] == "text":
                    parts.append({"type": "text", "text": part["text"]})
                else:
                    data = part["image_url"]["url"].split(",", 1)[1]
                    with Image.open(io.BytesIO(base64.b64decode(data))) as img:
                        width, height = img.size
                    parts.append(
                        {
                            "type": "image",
                            "screenshot": step,
                            "sent_size": [width, height],
                            "model_size": server_size(width, height),
                        }
                    )
        out.append({"role": message["role"], "content": parts})
    return out


class FakeDevice:
    """Stands in for the authors' device factory: screenshots, current app, and records of every input."""

    def __init__(self, ns: types.SimpleNamespace, width: int, height: int, apps: list[str]) -> None:
        self.ns, self.width, self.height, self.apps = ns, width, height, apps
        self.step = 0
        self.calls: list[list[Any]] = []

    def get_screenshot(self, device_id: Any = None, *args: Any, **kwargs: Any) -> Any:
        shade = 40 + 30 * self.step
        return self.ns.Screenshot(png_base64(self.width, self.height, shade), self.width, self.height)

    def get_current_app(self, device_id: Any = None) -> str:
        return self.apps[min(self.step, len(self.apps) - 1)]

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append([name, *[a for a in [*args, *kwargs.values()] if a is not None]])
            if name == "launch_app":
                return True
            return None

        return record


def run_scenario(ns: types.SimpleNamespace, scenario: dict[str, Any]) -> dict[str, Any]:
    width, height = scenario["screen"]
    device = FakeDevice(ns, width, height, scenario["apps"])
    ns.agent.get_device_factory = lambda: device
    ns.handler.get_device_factory = lambda: device
    ns.handler.time.sleep = lambda seconds: None

    agent = ns.agent.PhoneAgent(
        agent_config=ns.agent.AgentConfig(lang=scenario["lang"], verbose=False),
        confirmation_callback=lambda message: True,
        takeover_callback=lambda message: None,
    )
    sent: list[list[dict[str, Any]]] = []
    replies = iter(scenario["replies"])

    def request(messages: list[dict[str, Any]]) -> Any:
        sent.append(describe_messages(copy.deepcopy(messages), device.step))
        raw = next(replies)
        thinking, action = ns.ModelClient._parse_response(agent.model_client, raw)
        return ns.ModelResponse(thinking=thinking, action=action, raw_content=raw)

    agent.model_client.request = request
    steps = []
    for i in range(len(scenario["replies"])):
        device.step = i
        before = len(device.calls)
        result = agent.step(scenario["task"] if i == 0 else None)
        steps.append(
            {
                "reply": scenario["replies"][i],
                "app": scenario["apps"][i],
                "action": result.action,
                "device_calls": device.calls[before:],
                "messages": sent[i],
                "finished": result.finished,
            }
        )
    return {k: v for k, v in scenario.items() if k != "replies"} | {"steps": steps}


SCENARIOS = [
    {
        "name": "meituan_1080x2400_zh",
        "lang": "cn",
        "screen": [1080, 2400],
        "task": "打开美团搜索附近的火锅店",
        "apps": ["System Home", "美团", "美团", "美团"],
        "replies": [
            '<think>当前在系统桌面，需要先启动美团。</think>\n<answer>do(action="Launch", app="美团")',
            '<think>美团已打开，点击顶部的搜索框。</think>\n<answer>do(action="Tap", element=[499,87])',
            '<think>搜索框已聚焦，输入"火锅"。</think>\n<answer>do(action="Type", text="火锅")',
            '<think>结果在下方，向上滑动查看更多店铺。</think>\n<answer>do(action="Swipe", start=[499,800], end=[499,300])',
        ],
    },
    {
        "name": "shampoo_1440x3120_zh",
        "lang": "cn",
        "screen": [1440, 3120],
        "task": "这个牌子的洗发水, 去京东和淘宝上比价, 选择最便宜的平台下单",
        "apps": ["小红书", "京东", "京东"],
        "replies": [
            # README.md "4. 检查模型部署": the expected output of scripts/check_deployment_cn.py
            "<think>用户想要比较这个洗发水在京东和淘宝上的价格，然后选择最便宜的平台下单。当前在小红书app上，"
            "显示的是一个关于LUMMI MOOD洗发水的帖子。\n\n我需要：\n1. 先启动京东app，搜索这个洗发水\n"
            "2. 查看京东的价格\n3. 再启动淘宝app，搜索这个洗发水\n4. 查看淘宝的价格\n"
            "5. 比较价格后，选择最便宜的京东或淘宝下单\n\n首先，我需要从当前的小红书界面退出，然后启动京东app。"
            '</think>\n<answer>do(action="Launch", app="京东")',
            '<think>京东首页加载中，等待。</think>\n<answer>do(action="Wait", duration="2 seconds")',
            '<think>价格更低，点击提交订单。</think>\n<answer>do(action="Tap", element=[833,957], message="提交订单")',
        ],
    },
    {
        "name": "chrome_1080x2400_en",
        "lang": "en",
        "screen": [1080, 2400],
        "task": "Open the chrome browser.",
        "apps": ["System Home", "Chrome", "Chrome"],
        "replies": [
            '<think>\nThe home screen is shown; launch Chrome.\n</think>\n<answer>\ndo(action="Launch", app="Chrome")\n',
            '<think>\nChrome shows a welcome page; go back.\n</think>\n<answer>\ndo(action="Back")',
            '<think>\nChrome is open.\n</think>\n<answer>\nfinish(message="Chrome is open.")',
        ],
    },
]

# Replies in the format of the authors' prompts, mapped by the authors' own handler on two screens.
PUBLISHED_README_REPLY = SCENARIOS[1]["replies"][0]
MAPPING_REPLIES = [
    'do(action="Tap", element=[499,87])',
    'do(action="Tap", element=[0,0])',
    'do(action="Tap", element=[999,999])',
    'do(action="Tap", element=[333,667])',
    'do(action="Tap", element=[500,500], message="支付")',
    'do(action="Double Tap", element=[123,456])',
    'do(action="Long Press", element=[777,111])',
    'do(action="Swipe", start=[499,800], end=[499,300])',
    'do(action="Swipe", start=[100,500], end=[900,510])',
    'do(action="Type", text="火锅")',
    'do(action="Type", text="say "hi" now")',
    'do(action="Type_Name", text="张三")',
    'do(action="Launch", app="美团")',
    'do(action="Back")',
    'do(action="Home")',
    'do(action="Wait", duration="3 seconds")',
    'do(action="Wait", duration="soon")',
    'do(action="Take_over", message="请输入验证码")',
    'do(action="Interact")',
    'do(action="Note", message="True")',
    'do(action="Call_API", instruction="总结页面内容")',
    'finish(message="任务完成")',
    'finish(message="没有找到"川味"火锅")',
]


def map_replies(ns: types.SimpleNamespace, screens: list[list[int]]) -> list[dict[str, Any]]:
    records = []
    for width, height in screens:
        device = FakeDevice(ns, width, height, ["System Home"])
        ns.handler.get_device_factory = lambda device=device: device
        handler = ns.handler.ActionHandler(confirmation_callback=lambda m: True, takeover_callback=lambda m: None)
        for reply in MAPPING_REPLIES:
            action = ns.handler.parse_action(reply)
            before = len(device.calls)
            result = handler.execute(action, width, height)
            records.append(
                {
                    "screen": [width, height],
                    "reply": reply,
                    "action": action,
                    "device_calls": device.calls[before:],
                    "should_finish": result.should_finish,
                }
            )
    return records


def published_samples(checkout: Path) -> dict[str, Any]:
    """The system prompts and user turns of the authors' scripts/sample_messages*.json (images as sizes)."""
    samples = {}
    for name in ("sample_messages.json", "sample_messages_en.json"):
        messages = json.loads((checkout / "scripts" / name).read_text(encoding="utf-8"))
        samples[name] = describe_messages(messages, 0)
    return samples


def main() -> None:
    checkout = Path(sys.argv[1]).resolve()
    ns = import_authors(checkout)
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if len(sys.argv) > 2:
        commit = sys.argv[2]
    reference = {
        "repo": "zai-org/Open-AutoGLM",
        "commit": commit or None,
        "frozen_date": real_datetime.date(*FROZEN_DAY).isoformat(),
        "system_prompts": {"cn": ns.config.get_system_prompt("cn"), "en": ns.config.get_system_prompt("en")},
        "scenarios": [run_scenario(ns, s) for s in SCENARIOS],
        "readme_reply": PUBLISHED_README_REPLY,
        "readme_reply_split": list(ns.ModelClient._parse_response(None, PUBLISHED_README_REPLY)),
        "mapped_replies": map_replies(ns, [[1080, 2400], [1440, 3120]]),
        "published_samples": published_samples(checkout),
    }
    (HERE / "reference.json").write_text(json.dumps(reference, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'reference.json'}")


if __name__ == "__main__":
    main()
