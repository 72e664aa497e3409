"""Drive the MAI-UI authors' own code offline and write the golden data of this folder.

Usage (in a venv holding the authors' requirements: Jinja2, numpy, openai, Pillow, plus transformers for
the Qwen3-VL resize arithmetic and loguru/pydantic for MobileWorld)::

    python make_reference.py /path/to/MAI-UI [/path/to/MobileWorld]

Nothing here re-implements the authors' prompt or parser: messages come from
``MAIUINaivigationAgent._prepare_images`` + ``_build_messages`` (src/mai_naivigation_agent.py), history steps
are built exactly as ``predict`` builds them (``parse_action_to_structure_output`` on the raw reply), the
grounding prompt and coordinate reading come from ``evaluation/grounding/eval_server.py``, and swipe
gestures from MobileWorld's ``AndroidController.swipe`` with ``execute_adb`` captured instead of run.
No model is called. See README.md for what each file holds.
"""

from __future__ import annotations

import base64
import json
import sys
import types
from io import BytesIO
from pathlib import Path
from typing import Any
from unittest.mock import patch

HERE = Path(__file__).resolve().parent

# The image size the Qwen3-VL processor (vLLM / transformers) resizes each sent screenshot to: factor 32
# (patch 16 x merge 2), the processor's pixel bounds as ClawGUI-Eval pins them for MAI-UI.
QWEN3VL_FACTOR = 32
PROCESSOR_MIN_PIXELS = 65536
PROCESSOR_MAX_PIXELS = 16777216

PHONE = (1080, 2400)
LARGE_PHONE = (1440, 3120)


def _qwen3vl_size(width: int, height: int) -> list[int]:
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    h, w = smart_resize(height, width, QWEN3VL_FACTOR, PROCESSOR_MIN_PIXELS, PROCESSOR_MAX_PIXELS)
    return [w, h]


def _color(index: int) -> tuple[int, int, int]:
    """A distinct colour per screenshot: step k (1-based) and the current one (index 0)."""
    return (index * 37 % 256, 200 - index * 23, 60 + index * 11)


def _screenshot(size: tuple[int, int], index: int):
    from PIL import Image

    return Image.new("RGB", size, _color(index))


def _png(image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _which(url: str, steps: int) -> tuple[str, list[int]]:
    from PIL import Image

    image = Image.open(BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    pixel = image.getpixel((0, 0))
    for index in range(steps + 1):
        if pixel == _color(index):
            return ("current" if index == 0 else f"step-{index}"), [image.width, image.height]
    raise AssertionError(f"unknown screenshot colour {pixel}")


def _record(messages: list[dict[str, Any]], steps: int) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        parts = []
        for part in content:
            if part["type"] == "text":
                parts.append({"type": "text", "text": part["text"]})
            else:
                key, sent = _which(part["image_url"]["url"], steps)
                parts.append(
                    {"type": "image", "screenshot": key, "sent_size": sent, "model_size": _qwen3vl_size(*sent)}
                )
        out.append({"role": message["role"], "content": parts})
    return out


def _agent(nav: types.ModuleType, ask_user_prompt: bool):
    with patch.object(nav, "OpenAI"):
        agent = nav.MAIUINaivigationAgent(
            llm_base_url="http://offline", model_name="MAI-UI-8B", runtime_conf={"history_n": 3}
        )
    if ask_user_prompt:
        # MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP rendered without MCP tools, as MobileWorld's MAI-UI agent does
        # (mai_ui_agent.py: ``MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP.render(tools=mcp_tools_str)`` with None).
        template = sys.modules["prompt"].MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP
        type(agent).system_prompt = property(lambda self: template.render(tools=None))  # type: ignore[assignment]
    return agent


def _case(
    nav: types.ModuleType,
    name: str,
    task: str,
    screen: tuple[int, int],
    steps: list[dict[str, Any]],
    ask_user_prompt: bool = False,
) -> dict[str, Any]:
    from unified_memory import TrajStep

    agent = _agent(nav, ask_user_prompt)
    agent.traj_memory.task_goal = task
    for index, step in enumerate(steps, start=1):
        parsed = nav.parse_action_to_structure_output(step["reply"])  # exactly what predict() does
        shot = _screenshot(screen, index)
        agent.traj_memory.steps.append(
            TrajStep(
                screenshot=shot,
                accessibility_tree=None,
                prediction=step["reply"],
                action=parsed["action_json"],
                conclusion="",
                thought=parsed["thinking"],
                step_index=index - 1,
                agent_type="MAIMobileAgent",
                model_name="MAI-UI-8B",
                screenshot_bytes=_png(shot),
                structured_action={"action_json": parsed["action_json"]},
                ask_user_response=step.get("ask_user_response"),
            )
        )
    images = agent._prepare_images(_png(_screenshot(screen, 0)))
    messages = agent._build_messages(task, images)
    recorded = _record(messages, len(steps))
    with_image = {p["screenshot"] for m in recorded for p in m["content"] if p["type"] == "image"}
    return {
        "case": name,
        "family": "mai-ui-ask-user" if ask_user_prompt else "mai-ui",
        "screen": list(screen),
        "task": task,
        "history_n": agent.history_n,
        "history": [
            {
                "reply": s["reply"],
                "image": f"step-{i}" in with_image,
                "ask_user_response": s.get("ask_user_response"),
            }
            for i, s in enumerate(steps, start=1)
        ],
        "messages": recorded,
    }


def _navigation_cases(nav: types.ModuleType) -> list[dict[str, Any]]:
    tool = '<tool_call>\n{{"name": "mobile_use", "arguments": {args}}}\n</tool_call>'

    def reply(thought: str, args: str) -> str:
        return f"<thinking>\n{thought}\n</thinking>\n" + tool.format(args=args)

    return [
        _case(nav, "no_history_phone", "Open the Settings app and turn on Wi-Fi.", PHONE, []),
        _case(
            nav,
            "three_steps_phone",
            "Create a note named shopping in Markor and write 牛奶 in it.",
            PHONE,
            [
                {"reply": reply("I should open Markor first.", '{"action": "open", "text": "Markor"}')},
                {
                    "reply": reply(
                        "Markor is open. Tap the + button at the bottom right to create a note.",
                        '{"action": "click", "coordinate": [862, 504]}',
                    )
                },
                {"reply": reply("The list is long; swipe up to see more.", '{"action": "swipe", "direction": "up"}')},
            ],
        ),
        _case(
            nav,
            "two_steps_large_phone",
            "Search for weather in Chrome.",
            LARGE_PHONE,
            [
                {
                    "reply": "The search bar is at the top.\n</think>\n"
                    + tool.format(args='{"action": "click", "coordinate": [63, 120, 937, 180]}')
                },
                {"reply": reply("Type the query.", '{"action": "type", "text": "天气 weather"}')},
            ],
        ),
        _case(
            nav,
            "ask_user_large_phone",
            "Send my address to Alice by SMS.",
            LARGE_PHONE,
            [
                {"reply": reply("Open the messages app.", '{"action": "open", "text": "SMS"}')},
                {
                    "reply": reply(
                        "I do not know the address; ask the user.",
                        '{"action": "ask_user", "text": "What is your address?"}',
                    ),
                    "ask_user_response": "12 Park Road, Hangzhou",
                },
            ],
            ask_user_prompt=True,
        ),
    ]


def _prompts(src: Path) -> dict[str, str]:
    import prompt

    sys.path.insert(0, str(src.parent / "evaluation" / "grounding"))
    import eval_server

    return {
        "mai_mobile_sys_prompt": prompt.MAI_MOBILE_SYS_PROMPT,
        "mai_mobile_sys_prompt_ask_user_mcp_no_tools": prompt.MAI_MOBILE_SYS_PROMPT_ASK_USER_MCP.render(tools=None),
        "mai_mobile_sys_prompt_grounding_src": prompt.MAI_MOBILE_SYS_PROMPT_GROUNDING,
        "grounding_system_prompt_eval": eval_server.SYSTEM_PROMPT,
    }


def _grounding(repo: Path) -> dict[str, Any]:
    """Messages of the grounding eval (eval_server.process_case) and its published replies."""
    import eval_server
    from PIL import Image

    cases = []
    for screen, instruction in ((PHONE, "the search bar"), ((1920, 1080), "close this window")):
        path = HERE / f"_tmp_{screen[0]}x{screen[1]}.png"
        Image.new("RGB", screen, (10, 20, 30)).save(path)
        try:
            encoded, ori_w, ori_h = eval_server.pil_to_base64(str(path))
        finally:
            path.unlink()
        sent = Image.open(BytesIO(base64.b64decode(encoded)))
        cases.append(
            {
                "screen": list(screen),
                "instruction": instruction,
                "messages": [
                    {"role": "system", "content": [{"type": "text", "text": eval_server.SYSTEM_PROMPT}]},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": instruction + "\n"},
                            {"type": "image", "screenshot": "current", "sent_size": [sent.width, sent.height]},
                        ],
                    },
                ],
            }
        )
    replies = []
    wanted = {
        "SSV2.jsonl": [
            "screenspot_desktop_v2_11",
            "screenspot_mobile_v2_8",
            "screenspot_mobile_v2_5",
            "screenspot_web_v2_0",
        ],
        "SSPro.jsonl": None,
        "OS_G.jsonl": None,
    }
    for name, ids in wanted.items():
        rows = [
            json.loads(line) for line in (repo / "evaluation/grounding/output_server" / name).read_text().splitlines()
        ]
        if ids is None:  # the odd shapes: an extra brace, a space after the colon
            chosen = [r for r in rows if "}}\n</answer>" in r["raw_response"] or '": [' in r["raw_response"]][:1]
        else:
            chosen = [r for r in rows if r["id"] in ids]
        for row in chosen:
            x, y = eval_server.parse_coordinates(row["raw_response"])
            width, height = row["img_size"]
            replies.append(
                {
                    "source": f"evaluation/grounding/output_server/{name}#{row['id']}",
                    "raw_response": row["raw_response"],
                    "img_size": row["img_size"],
                    "parse_coordinates": [x, y],
                    "pred_published": row["pred"],
                    "pred_recomputed": [x / 1000.0 * width, y / 1000.0 * height],
                    "device_pixel": [int(x / 1000.0 * width), int(y / 1000.0 * height)],
                }
            )
    return {"cases": cases, "published_replies": replies}


def _replies(nav: types.ModuleType, repo: Path, mobileworld: Path | None) -> list[dict[str, Any]]:
    """Replies in the authors' format and the device pixel their code maps them to."""
    samples: list[tuple[str, str]] = []
    for path in sorted((repo / "tests/output_messages").glob("*.json")):
        for message in json.loads(path.read_text()):
            if message["role"] == "assistant":
                samples.append((f"tests/output_messages/{path.name}", message["content"][0]["text"]))
    tool = '<thinking>\n{t}\n</thinking>\n<tool_call>\n{{"name":"mobile_use","arguments":{a}}}\n</tool_call>'
    for args in (
        '{"action":"click","coordinate":[500,500]}',
        '{"action":"click","coordinate":[63,504]}',
        '{"action":"long_press","coordinate":[998,1]}',
        '{"action":"double_click","coordinate":[250,750]}',
        '{"action":"click","coordinate":[100,200,300,400]}',
        '{"action":"drag","start_coordinate":[200,800],"end_coordinate":[800,200]}',
        '{"action":"swipe","direction":"up"}',
        '{"action":"swipe","direction":"down"}',
        '{"action":"swipe","direction":"left"}',
        '{"action":"swipe","direction":"right"}',
        '{"action":"swipe","direction":"up","coordinate":[500,700]}',
    ):
        samples.append(("prompt format (src/prompt.py action space)", tool.format(t="Next step.", a=args)))

    controller = None
    if mobileworld is not None:
        sys.path.insert(0, str(mobileworld))
        import mobile_world.runtime.controller as ctr_module
        from mobile_world.runtime.utils.helpers import AdbResponse

        commands: list[str] = []
        size = {"value": PHONE}

        def fake_adb(command: str, *args: Any, **kwargs: Any) -> Any:
            commands.append(command)
            if command.endswith("wm size"):
                w, h = size["value"]
                return AdbResponse(success=True, output=f"Physical size: {w}x{h}", command=command)
            return AdbResponse(success=True, output="", command=command)

        ctr_module.execute_adb = fake_adb
        controller = (ctr_module, commands, size)

    out = []
    for source, text in samples:
        parsed = nav.parse_action_to_structure_output(text)
        action = parsed["action_json"]
        entry: dict[str, Any] = {"source": source, "reply": text, "action_json": action, "device": {}}
        for screen in (PHONE, LARGE_PHONE):
            w, h = screen
            device: dict[str, Any] = {}
            for key in ("coordinate", "start_coordinate", "end_coordinate"):
                if key in action:  # MobileWorld _denorm_xy: int(cx / SCALE_FACTOR * image_width)
                    nx, ny = action[key]
                    device[key] = [int(nx * w), int(ny * h)]
            if action.get("action") == "swipe" and controller is not None:
                module, commands, size = controller
                size["value"] = screen
                commands.clear()
                ctr = module.AndroidController("emulator-5554")
                start = device.get("coordinate", [None, None])
                # The model's direction is the finger's: MobileWorld reverses up/down into a SCROLL
                # (reverse_swipe_direction) and its server reverses SCROLL up/down back into a swipe.
                ctr.swipe(start[0], start[1], action["direction"])
                parts = commands[-1].split()
                device["adb"] = commands[-1].replace("emulator-5554", "DEVICE")
                device["swipe"] = [int(v) for v in parts[-5:-1]]
            entry["device"][f"{w}x{h}"] = device
        out.append(entry)
    return out


def main(argv: list[str]) -> None:
    repo = Path(argv[1]).resolve()
    mobileworld = Path(argv[2]).resolve() if len(argv) > 2 else None
    src = repo / "src"
    sys.path.insert(0, str(src))
    # eval_server imports qwen_vl_utils only for smart_resize (whose vision module needs torch): the
    # same function from transformers stands in.
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    sys.modules.setdefault("qwen_vl_utils", types.ModuleType("qwen_vl_utils"))
    sys.modules["qwen_vl_utils"].smart_resize = smart_resize  # type: ignore[attr-defined]
    import mai_naivigation_agent as nav

    commit = (repo / ".git").exists() and __import__("subprocess").run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    (HERE / "prompts.json").write_text(json.dumps(_prompts(src), ensure_ascii=False, indent=1) + "\n", "utf-8")
    data = {"commit": commit, "cases": _navigation_cases(nav)}
    (HERE / "navigation_messages.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
    grounding = {"commit": commit, **_grounding(repo)}
    (HERE / "grounding.json").write_text(json.dumps(grounding, ensure_ascii=False, indent=1) + "\n", "utf-8")
    replies = {"commit": commit, "replies": _replies(nav, repo, mobileworld)}
    (HERE / "navigation_replies.json").write_text(json.dumps(replies, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main(sys.argv)
