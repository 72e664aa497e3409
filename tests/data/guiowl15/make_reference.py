"""Produce the GUI-Owl-1.5 reference data by running the authors' own code, offline, with no model.

Usage (any Python with transformers, qwen-vl-utils, torch and Pillow; nothing is downloaded)::

    python tests/data/guiowl15/make_reference.py /path/to/X-PLUG/MobileAgent /path/to/ZJU-REAL/ClawGUI

The MobileAgent checkout must hold ``Mobile-Agent-v3.5/`` (commit 11cea575561fb7800b5fb6b6cafa56f7a91de11f
was used); the ClawGUI checkout ``clawgui-eval/`` (d990d3e3f2390ced708771d9681d3c4f9a6cbef5). Their modules
are imported from there, never copied. Modules they import but do not use on these paths are stubbed:
``openai`` (only the client class is constructed), ``pyautogui``/``pyperclip`` (desktop input), the
authors' internal image loader ``x.io.image_io``, and ``qwen_vl_utils.smart_resize`` in
``mobile_use/utils.py`` is imported but shadowed by the module's own ``smart_resize``.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import sys
import tempfile
import types
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from transformers import Qwen2VLImageProcessor

HERE = Path(__file__).resolve().parent
DATE = datetime(2026, 2, 14, 9, 30)  # a Saturday: the phone prompt states "Today's date is: 2026-02-14 Saturday."
MODEL = "GUI-Owl-1.5-8B-Instruct"

# Qwen3-VL's preprocessor_config.json (GUI-Owl-1.5 is a Qwen3-VL fine-tune): the resize every server does.
PROCESSOR = Qwen2VLImageProcessor(
    size={"shortest_edge": 65536, "longest_edge": 16777216},
    patch_size=16,
    temporal_patch_size=2,
    merge_size=2,
    image_mean=[0.5, 0.5, 0.5],
    image_std=[0.5, 0.5, 0.5],
)


def _stub(name: str, **attrs: Any) -> None:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = module


class _FakeOpenAI:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class _FixedDatetime(datetime):
    @classmethod
    def today(cls) -> _FixedDatetime:  # type: ignore[override]
        return cls(DATE.year, DATE.month, DATE.day, DATE.hour, DATE.minute)


def _load(folder: Path, names: list[str]) -> list[types.ModuleType]:
    """Import the agent modules of one folder (both folders call theirs ``utils``)."""
    for name in names:
        sys.modules.pop(name, None)
    sys.path.insert(0, str(folder))
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        sys.path.pop(0)


def _model_size(image: Image.Image) -> list[int]:
    """The size Qwen3-VL's processor turns this image into (grid × patch 16)."""
    grid = PROCESSOR(images=[image], return_tensors="np")["image_grid_thw"][0]
    return [int(grid[2]) * 16, int(grid[1]) * 16]


def _record(messages: list[dict[str, Any]], payload: list[dict[str, Any]], keys: dict[str, str]) -> list[Any]:
    """Role + ordered parts: text exact, images as which screenshot and the sizes sent / seen."""
    out = []
    for message, sent in zip(messages, payload, strict=True):
        parts = []
        for item, part in zip(message["content"], sent["content"], strict=True):
            if "text" in item:
                assert part["text"] == item["text"]
                parts.append({"type": "text", "text": item["text"]})
                continue
            url = part["image_url"]["url"]
            image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
            parts.append(
                {
                    "type": "image",
                    "screenshot": keys[item["image"].removeprefix("file://")],
                    "sent_size": list(image.size),
                    "model_size": _model_size(image),
                }
            )
        out.append({"role": message["role"], "content": parts})
    return out


MOBILE_REPLIES = [
    'Action: Open the Settings app.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "open", "text": "Settings"}}\n</tool_call>',
    'Action: Tap "Display".\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [503, 412]}}\n</tool_call>',
    'Action: Swipe up to see more options.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "swipe", "coordinate": [500, 800], "coordinate2": [500, 300]}}\n</tool_call>',
    'Action: Turn on the "Dark theme" switch.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [902, 377]}}\n</tool_call>',
    'Action: Go back to the previous screen.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "system_button", "button": "Back"}}\n</tool_call>',
    'Action: Type the message text.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "type", "text": "Hello Alice"}}\n</tool_call>',
]
COMPUTER_REPLIES = [
    'Action: Double-click the Files icon on the desktop.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "double_click", "coordinate": [31, 118]}}\n</tool_call>',
    'Action: Click the "Documents" folder.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [112, 305]}}\n</tool_call>',
    'Action: Scroll down the file list.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "scroll", "coordinate": [500, 500], "pixels": -5}}\n</tool_call>',
    'Action: Open the context menu of "report.txt".\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "right_click", "coordinate": [430, 262]}}\n</tool_call>',
    'Action: Choose "Rename".\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [470, 341]}}\n</tool_call>',
    'Action: Type the new name and confirm.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "type", "text": "summary.txt"}}\n</tool_call>\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "key", "keys": ["enter"]}}\n</tool_call>',
]
RENDERS = {
    "mobile": {
        "screens": [(1080, 2400), (1440, 3120)],
        "tasks": ["Turn on the dark mode", "Send a message to Alice saying hello"],
        "replies": MOBILE_REPLIES,
    },
    "computer": {
        "screens": [(1920, 1080), (1366, 768)],
        "tasks": ["Rename report.txt in Documents to summary.txt", "Open the Files app"],
        "replies": COMPUTER_REPLIES,
    },
}
HISTORY_LENGTHS = (0, 3, 6)

# Replies whose device pixels the authors' own parse + rescale give (no published GUI-Owl-1.5 reply with
# coordinates exists; these follow the prompt's format exactly, as the authors' parsers expect it).
MOBILE_EXAMPLES = [
    MOBILE_REPLIES[1],
    MOBILE_REPLIES[2],
    MOBILE_REPLIES[3],
    'Action: Tap the top-left corner.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [0, 0]}}\n</tool_call>',
    'Action: Tap near the far corner.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [992, 999]}}\n</tool_call>',
    'Action: Tap the far corner.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [1000, 1000]}}\n</tool_call>',
    'Action: Long-press the message.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "long_press", "coordinate": [333, 667], "time": 2}}\n</tool_call>',
    '<think>\nThe Wi-Fi toggle is at the top right of the quick settings.\n</think>\n\nAction: Tap the Wi-Fi toggle.\n<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [777, 123]}}\n</tool_call>',
]
COMPUTER_EXAMPLES = [
    COMPUTER_REPLIES[0],
    COMPUTER_REPLIES[2],
    COMPUTER_REPLIES[3],
    'Action: Drag the file onto the Trash.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click_drag", "coordinate": [41, 957]}}\n</tool_call>',
    'Action: Select the first line, then move the pointer away.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "triple_click", "coordinate": [250, 100]}}\n</tool_call>\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "mouse_move", "coordinate": [999, 999]}}\n</tool_call>',
    'Action: Click the bottom-right corner.\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [1000, 1000]}}\n</tool_call>',
]
GROUNDING_ANSWERS = [
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [503, 412]}}\n</tool_call>',
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "mouse_move", "coordinate": [1000, 1000]}}\n</tool_call>',
    "[12, 988]",
]


def renders(mobile_root: Path, tmp: Path) -> list[dict[str, Any]]:
    cases = []
    for platform, spec in RENDERS.items():
        folder = mobile_root / ("mobile_use" if platform == "mobile" else "computer_use")
        (utils,) = _load(folder, ["utils"])
        if platform == "mobile":
            utils.datetime = _FixedDatetime  # type: ignore[attr-defined]
        wrapper = utils.GUIOwlWrapper("EMPTY", "http://127.0.0.1:1/v1", MODEL)
        for width, height in spec["screens"]:
            keys = {}
            paths = []
            for step in range(1, 8):
                path = tmp / f"{platform}_{width}x{height}_{step}.png"
                Image.new("RGB", (width, height), (step * 30 % 256, 90, 160)).save(path)
                paths.append(str(path))
                keys[str(path)] = f"step-{step}"
            for task_index, task in enumerate(spec["tasks"]):
                for count in HISTORY_LENGTHS if task_index == 1 else (0,):
                    current = paths[count]
                    keys_now = {**keys, current: "current"}
                    history = [
                        {"output": spec["replies"][i % len(spec["replies"])], "image": paths[i]} for i in range(count)
                    ]
                    messages = utils.build_messages(current, task, history, MODEL)
                    # mobile_use/utils.py's image_to_base64 opens the "file://..." string as a path and fails;
                    # the desktop copy strips the prefix (commit a29b7ff). Do the same before converting.
                    stripped = [
                        {**m, "content": [{k: v.removeprefix("file://") for k, v in c.items()} for c in m["content"]]}
                        for m in messages
                    ]
                    payload = wrapper.convert_messages_format_to_openaiurl(stripped)
                    cases.append(
                        {
                            "name": f"{platform}-{width}x{height}-task{task_index + 1}-history{count}",
                            "platform": platform,
                            "screen": [width, height],
                            "task": task,
                            "date": DATE.date().isoformat() if platform == "mobile" else None,
                            "history": [h["output"] for h in history],
                            "messages": _record(messages, payload, keys_now),
                        }
                    )
    return cases


def replies(mobile_root: Path) -> list[dict[str, Any]]:
    out = []
    run_mobile, utils = _load(mobile_root / "mobile_use", ["run_gui_owl_1_5_for_mobile", "utils"])
    for width, height in RENDERS["mobile"]["screens"]:
        # run_gui_owl_1_5_for_mobile.main, step 4, on a screenshot of this size
        resized_h, resized_w = utils.smart_resize(height, width, factor=16, min_pixels=3136, max_pixels=1003520 * 200)
        for reply in MOBILE_EXAMPLES:
            action = run_mobile.parse_action(reply)
            arguments = run_mobile.rescale_coordinates(dict(action["arguments"]), resized_w, resized_h)
            out.append(
                {
                    "platform": "mobile",
                    "screen": [width, height],
                    "canvas": [resized_w, resized_h],
                    "reply": reply,
                    "device": [arguments],
                }
            )
    run_pc, utils = _load(mobile_root / "computer_use", ["run_gui_owl_1_5_for_pc", "utils"])
    for width, height in [*RENDERS["computer"]["screens"], (2560, 1440), (3840, 2160)]:
        # run_gui_owl_1_5_for_pc.main, on a screenshot of this size
        resized_h, resized_w = utils.smart_resize(height, width, factor=16, min_pixels=3136, max_pixels=1003520 * 200)
        for reply in COMPUTER_EXAMPLES:
            actions = utils.extract_tool_calls(reply)
            device = []
            for action in actions:
                arguments = dict(action["arguments"])
                run_pc.rescale_coordinates(arguments, resized_w, resized_h)
                device.append(arguments)
            out.append(
                {
                    "platform": "computer",
                    "screen": [width, height],
                    "canvas": [resized_w, resized_h],
                    "reply": reply,
                    "device": device,
                }
            )
    return out


SIZE_SCREENS = {
    "mobile": [(320, 480), (720, 1600), (1080, 2340), (1080, 2400), (1179, 2556), (1440, 3120), (1440, 3200)],
    "computer": [(1280, 800), (1366, 768), (1920, 1080), (2560, 1440), (3840, 2160), (5120, 2880), (11520, 2160)],
}


def sizes(mobile_root: Path, tmp: Path) -> list[dict[str, Any]]:
    """Per screen: the authors' sent image (image_to_base64), what Qwen3-VL's processor makes of it, and the
    canvas their rescale_coordinates maps 0-1000 onto."""
    out = []
    for platform, screens in SIZE_SCREENS.items():
        (utils,) = _load(mobile_root / ("mobile_use" if platform == "mobile" else "computer_use"), ["utils"])
        for width, height in screens:
            path = tmp / f"size_{platform}_{width}x{height}.png"
            Image.new("RGB", (width, height), (0, 0, 0)).save(path)
            url = utils.image_to_base64(str(path))
            image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
            canvas_h, canvas_w = utils.smart_resize(height, width, factor=16, min_pixels=3136, max_pixels=1003520 * 200)
            out.append(
                {
                    "platform": platform,
                    "screen": [width, height],
                    "sent_size": list(image.size),
                    "model_size": _model_size(image),
                    "canvas": [canvas_w, canvas_h],
                }
            )
    return out


def grounding(mobile_root: Path, claw_root: Path, tmp: Path) -> list[dict[str, Any]]:
    sys.path.insert(0, str(claw_root / "clawgui-eval" / "judge"))
    judge = importlib.import_module("grounding_judge")
    sys.path.pop(0)
    _stub("x")
    _stub("x.io")
    _stub("x.io.image_io", ImageIO=None, ImageIO2=lambda: Image.open)
    sys.modules.pop("datasets", None)
    _stub("datasets", load_dataset=None)
    (evaluation,) = _load(mobile_root / "grounding_and_kb", ["eval_grounding_benchmarks"])
    from qwen_vl_utils import process_vision_info

    processor = Qwen2VLImageProcessor(
        size={"shortest_edge": evaluation.MIN_PIXELS, "longest_edge": evaluation.MAX_PIXELS},
        patch_size=16,
        temporal_patch_size=2,
        merge_size=2,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    out = []
    for width, height in [(1080, 2400), (1920, 1080)]:
        root = tmp / f"ss_{width}x{height}"
        (root / "screenspotv2_image").mkdir(parents=True)
        Image.new("RGB", (width, height), (200, 200, 200)).save(root / "screenspotv2_image" / "shot.png")
        for platform in ("desktop", "mobile", "web"):
            record = {"img_filename": "shot.png", "bbox": [10, 20, 30, 40], "instruction": "the search bar"}
            (root / f"screenspot_{platform}_v2.json").write_text(json.dumps([record]))
        item = evaluation.ScreenSpotv2(ds_path=str(root))[0]
        images, _ = process_vision_info(item.messages)  # the eval's call: qwen-vl-utils defaults
        grid = processor(images=images, return_tensors="np")["image_grid_thw"][0]
        image_ele = item.messages[1]["content"][0]
        out.append(
            {
                "screen": [width, height],
                "instruction": record["instruction"],
                "system": item.messages[0]["content"][0]["text"],
                "user": [
                    {
                        "type": "image",
                        "eval_resized": [image_ele["resized_width"], image_ele["resized_height"]],
                        "model_size": [int(grid[2]) * 16, int(grid[1]) * 16],
                    },
                    {"type": "text", "text": item.messages[1]["content"][1]["text"]},
                ],
                "answers": [
                    {"answer": a, "device": list(judge.qwen3vl_parse(a, [width, height]))} for a in GROUNDING_ANSWERS
                ],
            }
        )
    return out


def main() -> None:
    mobile_root = Path(sys.argv[1]) / "Mobile-Agent-v3.5"
    claw_root = Path(sys.argv[2])
    _stub("openai", OpenAI=_FakeOpenAI)
    _stub("pyautogui")
    _stub("pyperclip")
    with tempfile.TemporaryDirectory() as tmp:
        data = {
            "renders": renders(mobile_root, Path(tmp)),
            "replies": replies(mobile_root),
            "sizes": sizes(mobile_root, Path(tmp)),
            "grounding": grounding(mobile_root, claw_root, Path(tmp)),
        }
    for name, value in data.items():
        (HERE / f"{name}.json").write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {name}.json: {len(value)} entries")


if __name__ == "__main__":
    main()
