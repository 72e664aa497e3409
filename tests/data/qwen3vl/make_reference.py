"""Run the Qwen3-VL cookbooks' own code offline and record the messages they would send.

Usage (in a venv with ``qwen-agent``, ``pillow``, ``numpy``; see README.md)::

    python make_reference.py CHECKOUT OUT_DIR [--transformers-python PYTHON]

``CHECKOUT`` holds the files of QwenLM/Qwen3-VL (see README.md for the commit):
``cookbooks/mobile_agent.ipynb``, ``cookbooks/utils/agent_function_call.py`` and
``qwen-vl-utils/src/qwen_vl_utils/``. Nothing of theirs is copied here:

* mobile: the notebook's own code cells (the helper cell with ``rescale_coordinates`` and the
  "English App & Query with API" cell) are read from the .ipynb and executed, with only their input
  assignments (``screenshot``, ``instruction``, ``history``) replaced and a stand-in OpenAI client that
  records the request and answers with a given reply;
* computer: ``computer_use.ipynb`` is not in the mirror (> 4 MB); its recipe
  (``perform_gui_grounding_with_api``, read from the stored copy in the fork Firefly-llm/Qwen3-VL) is a
  sequence of calls into their modules, and those calls are made here in the same order: their
  ``ComputerUse`` tool, qwen-agent's ``NousFnCallPrompt``, transformers' ``smart_resize`` (run in
  ``--transformers-python``, an interpreter with torch, because transformers 5 imports it).

Images are recorded as which screenshot and their size: the size sent and the size the model sees
after the authors' resize.
"""

from __future__ import annotations

import argparse
import ast
import base64
import io
import json
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from PIL import Image

QWEN3VL_COMMIT = "96588727e44c78b25ba03ea03b8e12f7e64fd0da"
FORK = "Firefly-llm/Qwen3-VL"
FORK_COMMIT = "08254a9479ce9a7946f106150e124b071cd91f2c"

MOBILE_CASES: list[dict[str, Any]] = [
    {
        "name": "mobile_en_example_1440x3120",
        "screen": [1440, 3120],
        "instruction": "Search for Musk in X and go to his homepage to open the first post.",
        "history": ["I opened the X app from the home screen."],
    },
    {
        "name": "mobile_wifi_1080x2400",
        "screen": [1080, 2400],
        "instruction": "Open the Settings app and turn on Wi-Fi",
        "history": [],
    },
    {
        "name": "mobile_wifi_history_1080x2400",
        "screen": [1080, 2400],
        "instruction": "Open the Settings app and turn on Wi-Fi",
        "history": [
            "I opened the Settings app from the home screen.",
            "I tapped on 'Network & internet' to see the network settings.",
            'I tapped "Internet" to open the Wi-Fi list.',
        ],
    },
]

COMPUTER_CASES: list[dict[str, Any]] = [
    {"name": "computer_first_issue_2560x1440", "screen": [2560, 1440], "query": "open the first issue"},
    {
        "name": "computer_downloads_1920x1080",
        "screen": [1920, 1080],
        "query": "Open the Downloads folder in the file manager",
    },
]

# A computer render with history: the computer recipe's system prompt and order, and the user text built
# by the mobile notebook's own history code (the only history layout the Qwen3-VL cookbooks publish).
COMPUTER_HISTORY_CASE: dict[str, Any] = {
    "name": "computer_history_1920x1080",
    "screen": [1920, 1080],
    "instruction": "Download the ACL 2026 template",
    "history": ["I opened Firefox from the desktop.", 'I typed "ACL 2026 template" into the search bar.'],
}


def _stub(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def install_stubs() -> None:
    """Stand-ins for what the cells import but do not need offline (no GPU, no display, no network)."""

    def any_name(name: str) -> type:
        return type(name, (), {})

    _stub("torch", __version__="0.0", __getattr__=any_name)
    tv = _stub("torchvision", __version__="0.0", __getattr__=any_name)
    tv_io = _stub("torchvision.io")
    transforms = _stub("torchvision.transforms", InterpolationMode=type("InterpolationMode", (), {}))
    setattr(tv, "io", tv_io)  # noqa: B010 - a stub module's attributes
    setattr(tv, "transforms", transforms)  # noqa: B010
    _stub("IPython")
    _stub("IPython.display", display=lambda *a, **k: None)
    plt = _stub("matplotlib.pyplot")
    _stub("matplotlib", pyplot=plt)
    _stub("icecream", ic=lambda *a: a)


class FakeCompletions:
    def __init__(self, owner: FakeOpenAI) -> None:
        self.owner = owner

    def create(self, **kwargs: Any) -> Any:
        self.owner.requests.append(kwargs)
        message = types.SimpleNamespace(content=self.owner.reply)
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)])


class FakeOpenAI:
    """Records ``chat.completions.create`` calls and answers with ``reply``."""

    reply = ""
    requests: list[dict[str, Any]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.chat = types.SimpleNamespace(completions=FakeCompletions(self))
        self.requests = FakeOpenAI.requests
        self.reply = FakeOpenAI.reply


def fake_png(path: Path, width: int, height: int) -> None:
    Image.new("RGB", (width, height), (200, 200, 200)).save(path, format="PNG")


def image_size(data_url: str) -> list[int]:
    raw = base64.b64decode(data_url.split("base64,", 1)[1])
    with Image.open(io.BytesIO(raw)) as im:
        return [im.width, im.height]


def with_inputs(source: str, values: dict[str, Any]) -> str:
    """The cell's code with the named top-level assignments given other constant values."""
    tree = ast.parse(source)
    seen = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in values:
                node.value = (
                    ast.Constant(values[name])
                    if not isinstance(values[name], list)
                    else ast.parse(repr(values[name]), mode="eval").body
                )
                seen.add(name)
    missing = set(values) - seen
    if missing:
        raise SystemExit(f"the cell no longer assigns {sorted(missing)}; update make_reference.py")
    return ast.unparse(tree)


def notebook_cells(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def find_cell(cells: list[dict[str, Any]], needle: str) -> dict[str, Any]:
    for cell in cells:
        if cell["cell_type"] == "code" and needle in "".join(cell["source"]):
            return cell
    raise SystemExit(f"no code cell contains {needle!r}")


def qwen_vl_utils_resize(height: int, width: int, factor: int, lo: int | None, hi: int | None) -> list[int]:
    from qwen_vl_utils import smart_resize  # their repo's qwen-vl-utils 0.0.14 (torch stubbed)

    h, w = smart_resize(height, width, factor=factor, min_pixels=lo, max_pixels=hi)
    return [w, h]


def transformers_resize(python: str, height: int, width: int) -> list[int]:
    """The computer cookbook's resize call, run where transformers can import it."""
    code = (
        "from transformers.models.qwen2_vl.image_processing_qwen2_vl_fast import smart_resize\n"
        f"print(*smart_resize({height}, {width}, factor=32, min_pixels=3136, max_pixels=12845056))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    h, w = int(out[-2]), int(out[-1])
    return [w, h]


def run_mobile(checkout: Path, work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    cells = notebook_cells(checkout / "cookbooks" / "mobile_agent.ipynb")
    helpers = "".join(find_cell(cells, "def rescale_coordinates")["source"])
    english = find_cell(cells, "mobile_en_example.png")
    cell_source = "".join(english["source"])
    published = "".join(english["outputs"][0]["text"])
    assert published.endswith("\n")
    published = published[:-1]  # the stream output adds print's newline

    records = []
    published_points = []
    for case in MOBILE_CASES:
        width, height = case["screen"]
        shot = work / f"{case['name']}.png"
        fake_png(shot, width, height)
        FakeOpenAI.requests.clear()
        FakeOpenAI.reply = published
        namespace: dict[str, Any] = {}
        exec(compile(helpers, "mobile_agent.ipynb:helpers", "exec"), namespace)
        code = with_inputs(
            cell_source,
            {"screenshot": str(shot), "instruction": case["instruction"], "history": case["history"]},
        )
        exec(compile(code, "mobile_agent.ipynb:english", "exec"), namespace)
        (request,) = FakeOpenAI.requests
        messages = []
        for message in request["messages"]:
            parts = []
            for item in message["content"]:
                if item["type"] == "text":
                    parts.append({"type": "text", "text": item["text"]})
                else:
                    sent = image_size(item["image_url"]["url"])
                    seen = qwen_vl_utils_resize(sent[1], sent[0], 32, None, None)
                    parts.append(
                        {
                            "type": "image",
                            "screenshot": "current",
                            "sent_size": sent,
                            "width": seen[0],
                            "height": seen[1],
                        }
                    )
            messages.append({"role": message["role"], "content": parts})
        records.append({**case, "messages": messages})
        action = namespace["action"]
        point = {"screen": case["screen"], "device_point": list(action["arguments"]["coordinate"])}
        if point not in published_points:
            published_points.append(point)
    published_record = {
        "family": "qwen3-vl-mobile",
        "source": f"QwenLM/Qwen3-VL@{QWEN3VL_COMMIT} cookbooks/mobile_agent.ipynb, 'English App & Query with API' output",
        "reply": published,
        "mapping": "rescale_coordinates(point, width, height): round(x/999*width), round(y/999*height)",
        "points": published_points,
    }
    return records, published_record


def run_computer(checkout: Path, transformers_python: str) -> list[dict[str, Any]]:
    from qwen_agent.llm.fncall_prompts.nous_fncall_prompt import ContentItem, Message, NousFnCallPrompt
    from utils.agent_function_call import ComputerUse  # type: ignore[import-not-found]

    computer_use = ComputerUse(cfg={"display_width_px": 1000, "display_height_px": 1000})
    system_message = NousFnCallPrompt().preprocess_fncall_messages(
        messages=[Message(role="system", content=[ContentItem(text="You are a helpful assistant.")])],
        functions=[computer_use.function],
        lang=None,
    )
    system_message = system_message[0].model_dump()
    system = {"role": "system", "content": [{"type": "text", "text": m["text"]} for m in system_message["content"]]}

    records = []
    for case in COMPUTER_CASES:
        width, height = case["screen"]
        seen = transformers_resize(transformers_python, height, width)
        user = {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "screenshot": "current",
                    "sent_size": [width, height],
                    "width": seen[0],
                    "height": seen[1],
                },
                {"type": "text", "text": case["query"]},
            ],
        }
        records.append({**case, "messages": [system, user]})
    return records


def run_computer_history(checkout: Path, computer_system: dict[str, Any], transformers_python: str) -> dict[str, Any]:
    cells = notebook_cells(checkout / "cookbooks" / "mobile_agent.ipynb")
    source = "".join(find_cell(cells, "mobile_en_example.png")["source"])
    # Only the cell's history and query statements: the loop that builds stage2_history and user_query.
    tree = ast.parse(source)
    keep = []
    for node in tree.body:
        text = ast.unparse(node)
        if text.startswith(("stage2_history", "history =", "for idx, his in enumerate(history)", "user_query")):
            keep.append(node)
    code = with_inputs(
        "instruction = ''\n" + ast.unparse(ast.Module(body=keep, type_ignores=[])),
        {"instruction": COMPUTER_HISTORY_CASE["instruction"], "history": COMPUTER_HISTORY_CASE["history"]},
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, "mobile_agent.ipynb:history", "exec"), namespace)
    width, height = COMPUTER_HISTORY_CASE["screen"]
    seen = transformers_resize(transformers_python, height, width)
    user = {
        "role": "user",
        "content": [
            {
                "type": "image",
                "screenshot": "current",
                "sent_size": [width, height],
                "width": seen[0],
                "height": seen[1],
            },
            {"type": "text", "text": namespace["user_query"]},
        ],
    }
    return {**COMPUTER_HISTORY_CASE, "messages": [computer_system, user]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--transformers-python", default=sys.executable)
    args = parser.parse_args()
    install_stubs()
    sys.path.insert(0, str(args.checkout / "cookbooks"))
    sys.path.insert(0, str(args.checkout / "qwen-vl-utils" / "src"))
    import openai

    setattr(openai, "OpenAI", FakeOpenAI)  # noqa: B010 - the stand-in client

    with tempfile.TemporaryDirectory() as tmp:
        mobile, published = run_mobile(args.checkout, Path(tmp))
        computer = run_computer(args.checkout, args.transformers_python)
        system = computer[0]["messages"][0]
        computer.append(run_computer_history(args.checkout, system, args.transformers_python))

    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    header = {
        "repo": "QwenLM/Qwen3-VL",
        "commit": QWEN3VL_COMMIT,
        "computer_notebook_copy": f"{FORK}@{FORK_COMMIT} cookbooks/computer_use.ipynb",
    }
    (out / "mobile_reference.json").write_text(
        json.dumps({**header, "cases": mobile}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out / "computer_reference.json").write_text(
        json.dumps({**header, "cases": computer}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out / "published_replies.json").write_text(
        json.dumps({**header, "replies": [published]}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
