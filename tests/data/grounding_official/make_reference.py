"""Produce the golden grounding requests of the older families by running the authors' own code offline.

Usage (see README.md here for the checkout layout and the exact commits)::

    python make_reference.py CHECKOUT OUT_DIR --transformers-python /path/to/python

``CHECKOUT`` holds plain copies of the authors' files (one folder per repository); this script imports or
executes them, it does not copy them. No model runs: where their code calls a model, a stand-in records the
request and answers with a fixed reply. Image sizes come from the authors' resize functions:
qwen-vl-utils' ``process_vision_info`` (OS-Atlas, ShowUI, ClawGUI's UI-TARS path) and transformers'
``smart_resize`` (the Qwen2.5-VL recipe) run in ``--transformers-python`` (an interpreter with torch,
transformers and qwen-vl-utils); everything else runs in this interpreter (qwen-agent 0.0.34).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import inspect
import io
import json
import re
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from PIL import Image

SCREENS = [(1080, 2400), (1920, 1080)]
INSTRUCTIONS = ["the search box", 'the "Sign in" button']
TRANSFORMERS_PY = sys.executable


# --- helpers --------------------------------------------------------------------------------------------


def fake_screenshot(folder: Path, size: tuple[int, int]) -> Path:
    path = folder / f"screen_{size[0]}x{size[1]}.png"
    if not path.exists():
        Image.new("RGB", size, "white").save(path)
    return path


def in_transformers_python(code: str, payload: Any) -> Any:
    """Run ``code`` (reading ``payload`` from stdin as JSON, printing JSON) in the transformers interpreter."""
    done = subprocess.run(
        [TRANSFORMERS_PY, "-c", code], input=json.dumps(payload), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


VISION_INFO = """
import json, sys
from qwen_vl_utils import process_vision_info
messages = json.load(sys.stdin)
images, _ = process_vision_info(messages)
print(json.dumps([list(i.size) for i in images]))
"""

TRANSFORMERS_SMART_RESIZE = """
import json, sys
from transformers.models.qwen2_vl.image_processing_qwen2_vl_fast import smart_resize
args = json.load(sys.stdin)
print(json.dumps(list(smart_resize(*args["hw"], **args["kwargs"]))))
"""


def vision_info_sizes(messages: list[dict[str, Any]]) -> list[list[int]]:
    """qwen-vl-utils' ``process_vision_info`` on the authors' messages: the size of each image it makes."""
    return in_transformers_python(VISION_INFO, messages)


def code_block_after(markdown: str, marker: str) -> str:
    """The first fenced python block after ``marker`` in a README."""
    start = markdown.index(marker)
    found = re.compile(r"```python\n(.*?)```", re.DOTALL).search(markdown, start)
    assert found, marker
    return found.group(1)


def stub_module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def load_file(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Inputs(dict):  # type: ignore[type-arg]
    """What a processor call returns: a mapping (for ``generate(**inputs)``) with ``input_ids`` and ``to``."""

    @property
    def input_ids(self) -> Any:
        return self["input_ids"]

    def to(self, device: Any) -> _Inputs:
        return self


class RecordingOpenAI:
    """Stands in for ``openai.OpenAI``: records ``chat.completions.create`` calls, answers ``reply``."""

    calls: list[dict[str, Any]] = []
    reply = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        owner = self

        class _Completions:
            def create(self, **request: Any) -> Any:
                RecordingOpenAI.calls.append(request)
                message = types.SimpleNamespace(content=owner.reply)
                return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)])

        self.chat = types.SimpleNamespace(completions=_Completions())


def image_part(url: str, raw: tuple[int, int], model: list[int] | tuple[int, int]) -> dict[str, Any]:
    header, payload = url.split(",", 1)
    with Image.open(io.BytesIO(base64.b64decode(payload))) as sent:
        sent_size = list(sent.size)
    return {
        "type": "image",
        "screenshot": "current",
        "raw_size": list(raw),
        "sent_size": sent_size,
        "model_size": list(model),
    }


def openai_messages(
    messages: list[dict[str, Any]], raw: tuple[int, int], model: list[int] | tuple[int, int]
) -> list[dict[str, Any]]:
    """OpenAI-style messages with each image recorded as its sizes; text parts exact."""
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
                parts.append(image_part(part["image_url"]["url"], raw, model))
        out.append({"role": message["role"], "content": parts})
    return out


def local_messages(messages: list[dict[str, Any]], raw: tuple[int, int], sizes: list[list[int]]) -> list[dict]:
    """qwen-vl-utils style messages (``{"type": "image", "image": path}``) with images as their sizes."""
    out, images = [], iter(sizes)
    for message in messages:
        parts = []
        for part in message["content"]:
            if part["type"] == "text":
                parts.append({"type": "text", "text": part["text"]})
            else:
                parts.append(
                    {
                        "type": "image",
                        "screenshot": "current",
                        "raw_size": list(raw),
                        "sent_size": list(raw),
                        "model_size": next(images),
                    }
                )
        out.append({"role": message["role"], "content": parts})
    return out


# --- OS-Atlas-Base-7B (the qwen2-vl family) ---------------------------------------------------------------

OS_ATLAS_EXAMPLE_INSTRUCTION = "switch language of current page"
OS_ATLAS_EXAMPLE_IMAGE = "./examples/images/web_6f93090a-81f6-489e-bb35-1a2838b18c01.png"
OS_ATLAS_PRINTED = (
    "<|object_ref_start|>language switch<|object_ref_end|><|box_start|>(576,12),(592,42)<|box_end|><|im_end|>"
)


def os_atlas(checkout: Path, shots: Path) -> dict[str, Any]:
    """README.md "OS-Atlas-Base-7B" inference example, executed with the model and processor stubbed."""
    readme = (checkout / "OS-Atlas" / "README.md").read_text(encoding="utf-8")
    code = code_block_after(readme, "### OS-Atlas-Base-7B")
    assert OS_ATLAS_EXAMPLE_IMAGE in code and OS_ATLAS_EXAMPLE_INSTRUCTION in code
    recorded: dict[str, Any] = {}

    class Processor:
        def apply_chat_template(self, messages: Any, **kwargs: Any) -> str:
            recorded["messages"] = json.loads(json.dumps(messages))
            recorded["template_kwargs"] = kwargs
            return "text"

        def __call__(self, **kwargs: Any) -> Any:
            return _Inputs(input_ids=[[0]])

        def batch_decode(self, ids: Any, **kwargs: Any) -> list[str]:
            recorded["decode_kwargs"] = kwargs
            return [OS_ATLAS_PRINTED]

    class Model:
        def generate(self, **kwargs: Any) -> list[list[int]]:
            recorded["max_new_tokens"] = kwargs.get("max_new_tokens")
            return [[0, 1]]

    stub_module(
        "transformers",
        Qwen2VLForConditionalGeneration=types.SimpleNamespace(from_pretrained=lambda *a, **k: Model()),
        AutoProcessor=types.SimpleNamespace(from_pretrained=lambda *a, **k: Processor()),
    )
    stub_module("qwen_vl_utils", process_vision_info=lambda messages: ([None], None))
    cases = []
    for size in SCREENS:
        shot = fake_screenshot(shots, size)
        for instruction in INSTRUCTIONS:
            literal = instruction.replace("\\", "\\\\").replace('"', '\\"')
            run = code.replace(OS_ATLAS_EXAMPLE_IMAGE, str(shot)).replace(OS_ATLAS_EXAMPLE_INSTRUCTION, literal)
            recorded.clear()
            exec(compile(run, "OS-Atlas/README.md", "exec"), {"print": lambda *a, **k: None})
            sizes = vision_info_sizes(recorded["messages"])
            cases.append(
                {
                    "screen": list(size),
                    "instruction": instruction,
                    "messages": local_messages(recorded["messages"], size, sizes),
                    "generation": {
                        "max_new_tokens": recorded["max_new_tokens"],
                        "skip_special_tokens": recorded["decode_kwargs"]["skip_special_tokens"],
                    },
                }
            )
    with Image.open(checkout / "OS-Atlas" / OS_ATLAS_EXAMPLE_IMAGE) as example:
        width, height = example.size
    # The README's note: outputs are relative 0-1000 ("convert these relative coordinates back to the
    # original image dimensions"); a box's centre, times the side, over 1000. No mapping code is published.
    cx, cy = (576 + 592) / 2, (12 + 42) / 2
    published = [
        {
            "reply": OS_ATLAS_PRINTED,
            "where": "OS-Atlas README.md, OS-Atlas-Base-7B example output (skip_special_tokens=False)",
            "screen": [width, height],
            "model_point": [cx, cy],
            "device_point_exact": [cx / 1000 * width, cy / 1000 * height],
        },
        {
            "reply": "language switch(576,12),(592,42)",
            "where": "the same answer as vLLM returns it by default (special tokens skipped)",
            "screen": [width, height],
            "model_point": [cx, cy],
            "device_point_exact": [cx / 1000 * width, cy / 1000 * height],
        },
    ]
    return {
        "family": "qwen2-vl",
        "repo": "OS-Copilot/OS-Atlas",
        "file": "README.md (OS-Atlas-Base-7B inference code example)",
        "cases": cases,
        "published": published,
    }


# --- Qwen2.5-VL computer_use.ipynb grounding recipe ------------------------------------------------------

QWEN25_REPLY = (
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [10, 20]}}\n</tool_call>'
)


def qwen25vl(checkout: Path, shots: Path) -> dict[str, Any]:
    """``perform_gui_grounding_with_api`` from cookbooks/computer_use.ipynb, with the OpenAI client stubbed."""
    notebook = json.loads((checkout / "Qwen2.5-VL-notebook" / "cookbooks" / "computer_use.ipynb").read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    helper = next(c for c in cells if "def draw_point" in c)
    recipe = next(c for c in cells if "def perform_gui_grounding_with_api" in c)
    import qwen_agent
    from qwen_agent.llm.fncall_prompts.nous_fncall_prompt import NousFnCallPrompt

    # Run with the qwen-agent of the notebook's time (0.0.15, where preprocess_fncall_messages is a static
    # method and the notebook's call works as written). From 0.0.16 on it is an instance method: there the
    # upstream fix of 2025-03-27 (cb0e2a4) is applied, and nothing else is changed.
    assert "NousFnCallPrompt.preprocess_fncall_messages(" in recipe
    if not isinstance(inspect.getattr_static(NousFnCallPrompt, "preprocess_fncall_messages"), staticmethod):
        recipe = recipe.replace(
            "NousFnCallPrompt.preprocess_fncall_messages(", "NousFnCallPrompt().preprocess_fncall_messages("
        )

    def smart_resize(height: int, width: int, **kwargs: Any) -> list[int]:
        return in_transformers_python(TRANSFORMERS_SMART_RESIZE, {"hw": [height, width], "kwargs": kwargs})

    import openai  # the real client library (qwen-agent imports it); only its OpenAI class is replaced
    import qwen_agent.llm.fncall_prompts.nous_fncall_prompt  # noqa: F401 - before "transformers" is stubbed

    openai.OpenAI = RecordingOpenAI  # type: ignore[misc]
    stub_module("transformers")
    stub_module("transformers.models")
    stub_module("transformers.models.qwen2_vl")
    stub_module("transformers.models.qwen2_vl.image_processing_qwen2_vl_fast", smart_resize=smart_resize)
    stub_module("IPython")
    stub_module("IPython.display", display=lambda *a, **k: None)
    sys.path.insert(0, str(checkout / "Qwen2.5-VL" / "cookbooks"))
    namespace: dict[str, Any] = {}
    exec(compile(helper, "computer_use.ipynb[draw_point]", "exec"), namespace)
    exec(compile(recipe, "computer_use.ipynb[perform_gui_grounding_with_api]", "exec"), namespace)
    namespace["print"] = lambda *a, **k: None
    RecordingOpenAI.reply = QWEN25_REPLY
    cases = []
    for size in SCREENS:
        shot = fake_screenshot(shots, size)
        for instruction in INSTRUCTIONS:
            RecordingOpenAI.calls.clear()
            namespace["perform_gui_grounding_with_api"](str(shot), instruction, "Qwen/Qwen2.5-VL-7B-Instruct")
            (call,) = RecordingOpenAI.calls
            height, width = smart_resize(size[1], size[0], min_pixels=3136, max_pixels=12845056)
            user = call["messages"][1]["content"][0]
            cases.append(
                {
                    "screen": list(size),
                    "instruction": instruction,
                    "messages": openai_messages(call["messages"], size, (width, height)),
                    "image_part_keys": sorted(user),
                    "generation": {k: v for k, v in call.items() if k not in ("messages", "model")},
                }
            )
    return {
        "family": "qwen2.5-vl",
        "repo": "QwenLM/Qwen2.5-VL",
        "file": "cookbooks/computer_use.ipynb (perform_gui_grounding_with_api), cookbooks/utils/agent_function_call.py",
        "qwen_agent": qwen_agent.__version__,
        "cases": cases,
        "published": [],
    }


# --- UI-TARS v1 (README_v1 grounding script) and UI-TARS-1.5 (GROUNDING_DOUBAO) ---------------------------


def uitars_v1(checkout: Path, shots: Path) -> dict[str, Any]:
    """README_v1.md's "single step grounding" script, executed with the OpenAI client stubbed."""
    readme = (checkout / "UI-TARS" / "README_v1.md").read_text(encoding="utf-8")
    code = code_block_after(readme, "For single step grounding task")
    import openai

    openai.OpenAI = RecordingOpenAI  # type: ignore[misc]
    RecordingOpenAI.reply = "(235,512)"
    cases = []
    for size in SCREENS:
        shot = fake_screenshot(shots, size)
        for instruction in INSTRUCTIONS:
            run = code.replace('instruction = "search for today\'s weather"', f"instruction = {instruction!r}")
            run = run.replace('screenshot_path = "screenshot.png"', f"screenshot_path = {str(shot)!r}")
            assert run != code
            RecordingOpenAI.calls.clear()
            exec(compile(run, "UI-TARS/README_v1.md", "exec"), {"print": lambda *a, **k: None})
            (call,) = RecordingOpenAI.calls
            # The script sends the raw screenshot; the server's processor resizes it with UI-TARS' limits.
            model = vision_info_sizes(
                [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "image": str(shot),
                                "min_pixels": 100 * 28 * 28,
                                "max_pixels": 16384 * 28 * 28,
                            }
                        ],
                    }
                ]
            )[0]
            cases.append(
                {
                    "screen": list(size),
                    "instruction": instruction,
                    "messages": openai_messages(call["messages"], size, model),
                    "generation": {k: v for k, v in call.items() if k not in ("messages", "model")},
                }
            )
    # README_v1 "Coordinate Mapping": (235, 512) on 1920x1080 -> round(1920*235/1000)=451, round(1080*512/1000)=553
    published = [
        {
            "reply": "(235,512)",
            "where": "README_v1.md, Coordinate Mapping",
            "screen": [1920, 1080],
            "model_point": [235, 512],
            "device_point": [round(1920 * 235 / 1000), round(1080 * 512 / 1000)],
        }
    ]
    return {
        "family": "ui-tars",
        "repo": "bytedance/UI-TARS",
        "file": "README_v1.md (single step grounding)",
        "cases": cases,
        "published": published,
    }


def uitars_15(checkout: Path, shots: Path) -> dict[str, Any]:
    """``GROUNDING_DOUBAO`` (codes/ui_tars/prompt.py) in ClawGUI-Eval's request (``Qwen25VLInferencer``)."""
    prompt = load_file("ui_tars_prompt", checkout / "UI-TARS" / "codes" / "ui_tars" / "prompt.py")
    stub_module("torch")
    claw = checkout / "ClawGUI" / "clawgui-eval" / "inference"
    package = stub_module("clawinference")
    package.__path__ = [str(claw)]
    load_file("clawinference.base_inferencer", claw / "base_inferencer.py")
    inferencer_module = load_file("clawinference.qwen25vl_inferencer", claw / "qwen25vl_inferencer.py")
    uitars_module = load_file("clawinference.uitars_inferencer", claw / "uitars_inferencer.py")
    inferencer = object.__new__(uitars_module.UITARSInferencer)
    assert isinstance(inferencer, inferencer_module.Qwen25VLInferencer)
    # scripts/infer/api/uitars_run_api.sh: MIN_PIXELS=78400, MAX_PIXELS=12845056, TV_OR_VT=vt, SYSTEM_PROMPT=""
    inferencer.backend, inferencer.tv_or_vt = "api", "vt"
    inferencer.min_pixels, inferencer.max_pixels = 78400, 12845056
    cases = []
    for size in SCREENS:
        shot = fake_screenshot(shots, size)
        for instruction in INSTRUCTIONS:
            question = prompt.GROUNDING_DOUBAO.format(instruction=instruction)
            with Image.open(shot) as image:
                messages = inferencer._build_prompt(question, image, system_prompts=[])
            model = vision_info_sizes(
                [
                    {
                        "role": "user",
                        "content": [{"type": "image", "image": str(shot), "min_pixels": 78400, "max_pixels": 12845056}],
                    }
                ]
            )[0]
            cases.append(
                {
                    "screen": list(size),
                    "instruction": instruction,
                    "messages": openai_messages(messages, size, model),
                    "generation": {"temperature": 0.0},
                }
            )
    published = uitars_15_published(checkout)
    return {
        "family": "ui-tars-1.5",
        "repo": "bytedance/UI-TARS + ZJU-REAL/ClawGUI",
        "file": "codes/ui_tars/prompt.py (GROUNDING_DOUBAO); clawgui-eval/inference/qwen25vl_inferencer.py "
        "(_build_prompt, vt)",
        "cases": cases,
        "published": published,
    }


def uitars_15_published(checkout: Path) -> list[dict[str, Any]]:
    """The 1.5 answer form ClawGUI documents, mapped by README_coordinates' code and by ClawGUI's judge."""
    reply = "Action: click(point='<point>197 525</point>')"
    readme = (checkout / "UI-TARS" / "README_coordinates.md").read_text(encoding="utf-8")
    code = code_block_after(readme, "## Code Example")
    printed: list[Any] = []
    image_path = checkout / "UI-TARS" / "data" / "coordinate_process_image.png"
    run = code.replace("'./data/coordinate_process_image.png'", repr(str(image_path)))
    run = run.replace("plt.savefig('./data/coordinate_process_image_som.png', dpi=350)", "")
    pyplot = types.SimpleNamespace(**{n: (lambda *a, **k: None) for n in ("imshow", "scatter", "title", "axis")})
    stub_module("matplotlib", pyplot=pyplot)
    stub_module("matplotlib.pyplot", **vars(pyplot))
    namespace: dict[str, Any] = {"print": lambda *a, **k: printed.append(a)}
    exec(compile(run, "UI-TARS/README_coordinates.md", "exec"), namespace)
    assert namespace["model_output_width"] == 197 and namespace["model_output_height"] == 525
    readme_pixel = list(namespace["new_coordinate"])
    sys.path.insert(0, str(checkout / "ClawGUI" / "clawgui-eval" / "judge"))
    stub_module("tqdm", tqdm=lambda x, **k: x)
    judge = load_file("claw_grounding_judge", checkout / "ClawGUI" / "clawgui-eval" / "judge" / "grounding_judge.py")
    with Image.open(image_path) as image:
        screen = list(image.size)
    claw_pixel = list(judge.uitars_parse(reply, screen))
    smart = [namespace["new_width"], namespace["new_height"]]
    return [
        {
            "reply": reply,
            "where": "ClawGUI clawgui-eval/judge/grounding_judge.py uitars_parse docstring (the 1.5 answer form); "
            "UI-TARS README_coordinates.md code with its 197, 525 on data/coordinate_process_image.png",
            "screen": screen,
            "model_size": smart,
            "model_point": [197, 525],
            "device_point_readme_coordinates": readme_pixel,
            "device_point_clawgui": claw_pixel,
            "device_point_exact": [197 / smart[0] * screen[0], 525 / smart[1] * screen[1]],
        }
    ]


# --- ShowUI -----------------------------------------------------------------------------------------------


def showui(checkout: Path, shots: Path) -> dict[str, Any]:
    """``screenspot_to_qwen`` (data/template/screenspot.py, the ScreenSpot evaluation), QUICK_START's limits."""
    template = load_file("showui_screenspot", checkout / "ShowUI" / "data" / "template" / "screenspot.py")
    quick_start = (checkout / "ShowUI" / "QUICK_START.md").read_text(encoding="utf-8")
    system = re.search(r'_SYSTEM = "(.*?)"\n', quick_start)
    assert system and system.group(1) == template._SCREENSPOT_SYSTEM + " " + template._SYSTEM_point
    min_pixels, max_pixels = 256 * 28 * 28, 1344 * 28 * 28  # QUICK_START
    cases = []
    for size in SCREENS:
        shot = fake_screenshot(shots, size)
        for instruction in INSTRUCTIONS:
            image = {"type": "image", "image": str(shot), "min_pixels": min_pixels, "max_pixels": max_pixels}
            messages = template.screenspot_to_qwen(instruction, image, xy_int=False)
            cases.append(
                {
                    "screen": list(size),
                    "instruction": instruction,
                    "messages": local_messages(messages, size, vision_info_sizes(messages)),
                    "quick_start_system_equals_eval": True,
                }
            )
    # QUICK_START's draw_point: x, y = point[0] * image.width, point[1] * image.height
    published = [
        {
            "reply": "[0.73, 0.21]",
            "where": "QUICK_START.md, GUI Grounding (click_xy = ast.literal_eval(output_text))",
            "screen": list(size),
            "model_point": [0.73, 0.21],
            "device_point_exact": [0.73 * size[0], 0.21 * size[1]],
        }
        for size in SCREENS
    ]
    return {
        "family": "showui",
        "repo": "showlab/ShowUI",
        "file": "data/template/screenspot.py (screenspot_to_qwen); QUICK_START.md (GUI Grounding)",
        "cases": cases,
        "published": published,
    }


def main() -> None:
    global TRANSFORMERS_PY
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkout", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--transformers-python", default=sys.executable)
    args = parser.parse_args()
    TRANSFORMERS_PY = args.transformers_python
    with tempfile.TemporaryDirectory() as tmp:
        shots = Path(tmp)
        for make in (os_atlas, qwen25vl, uitars_v1, uitars_15, showui):
            result = make(args.checkout, shots)
            for case in result["cases"]:  # paths of the temporary screenshots are not part of the record
                case.pop("image_path", None)
            path = args.out / f"{result['family']}.json"
            path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"wrote {path} ({len(result['cases'])} cases)")


if __name__ == "__main__":
    main()
