"""Grounding evaluation against a real HTTP server: exact accuracies, image sizes sent, files on disk, the CLI.

The data set is drawn here: three screenshots (phone, desktop, web) with targets at known boxes and eight
records. The scripted OpenAI-compatible server answers each record, in the family's own format and units
(computed with the family's mapping from the device point), with a hit inside the box, a miss outside it,
an unparseable reply, or a point off the image.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from guiagent.actions.errors import ConfigError, ModelRequestError, TaskFileError
from guiagent.actions.families import ModelFamily, get_family
from guiagent.actions.geometry import Size, smart_resize
from guiagent.agent.backends.base import ModelBackend, ModelReply, ModelRequest
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.cli import grounding_cmd
from guiagent.tasks.grounding import (
    GroundingEvaluation,
    GroundingResult,
    ground_record,
    load_grounding_records,
)
from guiagent.tasks.grounding_data import platform_of_source
from tests.fixtures.openai_server import Fail, data_url_size

SCREENS = {"phone.png": (540, 1200), "desktop.png": (960, 540), "web.png": (800, 600)}
MISS = (10, 10)  # on every image, outside every box


@dataclass(frozen=True)
class Case:
    id: str
    image: str
    bbox: tuple[int, int, int, int]  # xyxy device pixels
    type: str
    platform: str
    outcome: str  # hit | miss | garbage | off

    @property
    def instruction(self) -> str:
        return f"press the [{self.id}] target"

    @property
    def centre(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.bbox
        return (x1 + x2) / 2, (y1 + y2) / 2


CASES = [
    Case("m-text", "phone.png", (40, 300, 500, 380), "text", "mobile", "hit"),
    Case("m-icon-1", "phone.png", (60, 1080, 140, 1160), "icon", "mobile", "hit"),
    Case("m-icon-2", "phone.png", (400, 60, 480, 140), "icon", "mobile", "miss"),
    Case("d-text", "desktop.png", (300, 200, 500, 240), "text", "desktop", "hit"),
    Case("d-icon", "desktop.png", (900, 10, 940, 40), "icon", "desktop", "garbage"),
    Case("w-text-1", "web.png", (100, 100, 300, 140), "text", "web", "hit"),
    Case("w-icon", "web.png", (700, 500, 760, 560), "icon", "web", "off"),
    Case("w-text-2", "web.png", (500, 300, 700, 340), "text", "web", "miss"),
]
BY_ID = {case.id: case for case in CASES}
EXPECTED_OVERALL = (8, 4)  # hits: m-text, m-icon-1, d-text, w-text-1
EXPECTED_BY_TYPE = {"icon": (4, 1), "text": (4, 3)}
EXPECTED_BY_PLATFORM = {"desktop": (2, 1), "mobile": (3, 2), "web": (3, 1)}
EXPECTED_BY_BOTH = {
    "desktop": {"icon": (1, 0), "text": (1, 1)},
    "mobile": {"icon": (2, 1), "text": (1, 1)},
    "web": {"icon": (1, 0), "text": (2, 1)},
}
GARBAGE = "I cannot find that on this screen."


def draw_screens(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in SCREENS.items():
        image = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(image)
        for case in CASES:
            if case.image == name:
                draw.rectangle(case.bbox, fill="steelblue", outline="black")
        image.save(folder / name)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """The eight records as guiagent's own JSON lines, xyxy boxes, images beside the file."""
    draw_screens(tmp_path / "shots")
    records = [
        {
            "image": f"shots/{c.image}",
            "instruction": c.instruction,
            "bbox": list(c.bbox),
            "data_type": c.type,
            "platform": c.platform,
            "id": c.id,
        }
        for c in CASES
    ]
    return write_jsonl(tmp_path / "data.jsonl", records)


# -- the scripted model ----------------------------------------------------------------------------


def request_text(body: dict[str, Any]) -> str:
    return "\n".join(part.get("text", "") for m in body["messages"] for part in m["content"] if isinstance(part, dict))


def request_images(body: dict[str, Any]) -> list[tuple[int, int]]:
    return [
        data_url_size(part["image_url"]["url"])
        for m in body["messages"]
        for part in m["content"]
        if part.get("type") == "image_url"
    ]


def case_of(body: dict[str, Any]) -> Case:
    found = re.search(r"press the \[([\w-]+)\] target", request_text(body))
    assert found, "the instruction must be in the prompt"
    return BY_ID[found.group(1)]


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def reply_for(family: ModelFamily, case: Case) -> str:
    """The model's answer for a case, written in the family's format and units."""
    if case.outcome == "garbage":
        return GARBAGE
    screen = Size(*SCREENS[case.image])
    space = family.space(screen)
    if case.outcome == "off":
        mx, my = space.extent_x * 1.25, space.extent_y / 2
    else:
        mx, my = space.from_device(*(case.centre if case.outcome == "hit" else MISS), screen)
    if family.name == "qwen2.5-vl-mobile":
        return f'<tool_call>\n{{"name": "mobile_use", "arguments": {{"action": "click", "coordinate": [{_n(mx)}, {_n(my)}]}}}}\n</tool_call>'
    if family.name == "qwen2.5-vl-computer":
        return f'<tool_call>\n{{"name": "computer_use", "arguments": {{"action": "left_click", "coordinate": [{_n(mx)}, {_n(my)}]}}}}\n</tool_call>'
    if family.name == "qwen2-vl":  # a box; its centre is the point
        return f"<|object_ref_start|>target<|object_ref_end|><|box_start|>({_n(mx - 8)},{_n(my - 6)}),({_n(mx + 8)},{_n(my + 6)})<|box_end|>"
    if family.name == "showui":
        return f"{{'action': 'CLICK', 'value': None, 'position': [{round(mx, 4)}, {round(my, 4)}]}}"
    raise AssertionError(family.name)


def script_for(family_of_request: Callable[[dict[str, Any]], ModelFamily]) -> Callable[[dict[str, Any]], str]:
    return lambda body: reply_for(family_of_request(body), case_of(body))


def tally(entry: Any) -> tuple[int, int]:
    return entry.total, entry.correct


def assert_expected_summary(summary: Any) -> None:
    assert (summary.records, summary.evaluated, summary.scored) == (8, 8, 8)
    assert tally(summary.overall) == EXPECTED_OVERALL and summary.accuracy == 0.5
    assert {k: tally(v) for k, v in summary.by_type.items()} == EXPECTED_BY_TYPE
    assert summary.by_type["text"].accuracy == 0.75 and summary.by_type["icon"].accuracy == 0.25
    assert {k: tally(v) for k, v in summary.by_platform.items()} == EXPECTED_BY_PLATFORM
    assert {p: {t: tally(v) for t, v in d.items()} for p, d in summary.by_platform_type.items()} == EXPECTED_BY_BOTH
    assert (summary.parse_failures, summary.out_of_range, summary.unscored) == (1, 1, 0)
    assert summary.parse_failure_rate == 1 / 8
    assert summary.complete and not summary.interrupted and summary.error is None


def read_results(folder: Path) -> list[GroundingResult]:
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [GroundingResult.model_validate_json(line) for line in lines]


# -- one family against the server -----------------------------------------------------------------


@pytest.mark.parametrize("family_name", ["qwen2.5-vl-mobile", "qwen2-vl", "showui"])
def test_exact_accuracy_per_family_over_http(family_name: str, dataset: Path, scripted_server, tmp_path: Path) -> None:
    family = get_family(family_name)
    scripted_server.script = [script_for(lambda body: family)] * len(CASES)
    scripted_server.latency = 0.15
    backend = OpenAICompatibleBackend("test-model", scripted_server.url)
    records = load_grounding_records(dataset)
    out = tmp_path / "out"
    started = time.perf_counter()
    summary = GroundingEvaluation(records, backend, family, out, workers=4).run()
    elapsed = time.perf_counter() - started
    backend.close()

    assert_expected_summary(summary)
    assert summary.meta["families"] == [family_name]
    assert elapsed < 0.15 * len(CASES) * 0.75, "four workers must overlap the server's latency"

    # Every image reached the server once, at the family's smart_resize size.
    assert len(scripted_server.requests) == len(CASES)
    for body in scripted_server.requests:
        width, height = SCREENS[case_of(body).image]
        resized_h, resized_w = smart_resize(height, width, 28, *family.pixel_limits)
        assert request_images(body) == [(resized_w, resized_h)]
        assert body.get("skip_special_tokens") is (False if family.needs_special_tokens else None)

    # Per-record results on disk, one line each, with the fields a reader needs.
    results = {r.id: r for r in read_results(out)}
    assert set(results) == set(BY_ID)
    hit = results["m-icon-1"]
    assert hit.correct and hit.action == "click" and hit.error is None
    assert abs(hit.point[0] - 100) <= 1 and abs(hit.point[1] - 1120) <= 1
    assert hit.screen == (540, 1200) and hit.tokens["prompt"] and hit.tokens["completion"] and hit.seconds > 0
    assert (hit.platform, hit.type, hit.instruction) == ("mobile", "icon", BY_ID["m-icon-1"].instruction)
    assert results["m-icon-2"].correct is False and results["m-icon-2"].error is None
    assert results["m-icon-2"].point == MISS
    garbage = results["d-icon"]
    assert (garbage.correct, garbage.error_kind, garbage.point, garbage.reply) == (False, "parse", None, GARBAGE)
    assert garbage.error
    off = results["w-icon"]
    assert (off.correct, off.error_kind, off.point) == (False, "coordinate", None)
    assert "outside the screen" in off.error and off.model_point is not None
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["accuracy"] == 0.5 and on_disk["by_type"]["text"]["accuracy"] == 0.75
    assert on_disk["by_platform_type"]["mobile"]["icon"] == {"total": 2, "correct": 1, "accuracy": 0.5}


def test_qwen25vl_model_sizes_and_reply_units_are_the_resized_images() -> None:
    family = get_family("qwen2.5-vl-mobile")
    sizes = {name: family.model_size(Size(*size)) for name, size in SCREENS.items()}
    assert sizes == {"phone.png": Size(532, 1204), "desktop.png": Size(952, 532), "web.png": Size(812, 588)}
    # m-icon-1's centre (100, 1120) on the 540x1200 phone is (99, 1124) in the 532x1204 image.
    assert '"coordinate": [99, 1124]' in reply_for(family, BY_ID["m-icon-1"])


# -- the command line ------------------------------------------------------------------------------


def screenspot_json(tmp_path: Path) -> tuple[Path, Path]:
    """The same records as ScreenSpot v1 writes them: a JSON array, img_filename, [x, y, w, h], data_source."""
    images = tmp_path / "screenspot_imgs"
    draw_screens(images)
    source = {"mobile": "android", "desktop": "windows", "web": "gitlab"}
    items = [
        {
            "img_filename": c.image,
            "bbox": [c.bbox[0], c.bbox[1], c.bbox[2] - c.bbox[0], c.bbox[3] - c.bbox[1]],
            "instruction": c.instruction,
            "data_type": c.type,
            "data_source": source[c.platform],
        }
        for c in CASES
    ]
    data = tmp_path / "screenspot_all.json"
    data.write_text(json.dumps(items, indent=2), encoding="utf-8")
    return data, images


def family_by_tool(body: dict[str, Any]) -> ModelFamily:
    system = request_text({"messages": [m for m in body["messages"] if m["role"] == "system"]})
    return get_family("qwen2.5-vl-mobile" if '"mobile_use"' in system else "qwen2.5-vl-computer")


def fresh_cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guiagent")
    grounding_cmd.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_in_process_screenspot_xywh_with_a_prompt_per_platform(scripted_server, tmp_path: Path, capsys) -> None:
    data, images = screenspot_json(tmp_path)
    scripted_server.script = [script_for(family_by_tool)] * len(CASES)
    out = tmp_path / "results"
    argv = ["eval-grounding", str(data), "--model", "Qwen/Qwen2.5-VL-7B-Instruct", "--base-url", scripted_server.url]
    argv += ["--bbox-format", "xywh", "--images", str(images), "--workers", "2", "--out", str(out)]
    args = fresh_cli().parse_args(argv)
    assert args.handler(args) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["accuracy"] == 0.5 and summary["scored"] == 8
    assert {k: (v["total"], v["correct"]) for k, v in summary["by_platform"].items()} == EXPECTED_BY_PLATFORM
    assert summary["meta"]["families"] == ["qwen2.5-vl-computer", "qwen2.5-vl-mobile"]
    # Phones were asked with mobile_use, desktop and web screenshots with computer_use.
    for body in scripted_server.requests:
        expected = "qwen2.5-vl-mobile" if case_of(body).platform == "mobile" else "qwen2.5-vl-computer"
        assert family_by_tool(body).name == expected
    table = capsys.readouterr().out
    assert "Grounding accuracy" in table and "50.0%" in table and "75.0%" in table
    assert "parse failures 1 (12.5%) · off-image points 1 · unscored 0" in table

    # The same folder again is refused unless resumed; resuming a finished run asks nothing more.
    again = fresh_cli().parse_args([*argv, "--resume"])
    assert again.handler(again) == 0 and len(scripted_server.requests) == len(CASES)
    with pytest.raises(ConfigError, match="already holds results"):
        args.handler(args)
    other = fresh_cli().parse_args([*argv, "--resume", "--model", "Qwen/Qwen2.5-VL-72B-Instruct"])
    with pytest.raises(ConfigError, match="resuming would mix results"):
        other.handler(other)


def test_cli_subprocess_end_to_end(dataset: Path, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [script_for(lambda body: get_family("qwen2-vl"))] * len(CASES)
    out = tmp_path / "cli-out"
    command = [sys.executable, "-m", "guiagent.agent.cli", "eval-grounding", str(dataset), "--family", "qwen2-vl"]
    command += ["--base-url", scripted_server.url, "--model", "os-atlas", "--out", str(out), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["accuracy"] == 0.5 and summary["by_type"]["icon"]["accuracy"] == 0.25
    assert len(read_results(out)) == 8


DRIVER = (
    "import argparse, sys\n"
    "from guiagent.agent.cli import grounding_cmd\n"
    "p = argparse.ArgumentParser(prog='guiagent')\n"
    "grounding_cmd.register(p.add_subparsers(dest='command', required=True))\n"
    "a = p.parse_args(sys.argv[1:])\n"
    "sys.exit(a.handler(a))\n"
)


def test_ctrl_c_keeps_what_was_done_then_resume_finishes(dataset: Path, scripted_server, tmp_path: Path) -> None:
    family = get_family("qwen2.5-vl-mobile")
    # Spare entries: a request in flight when Ctrl-C lands takes one and its answer is never recorded.
    scripted_server.script = [script_for(lambda body: family)] * (2 * len(CASES))
    scripted_server.latency = 0.25
    out = tmp_path / "interrupted"
    command = [sys.executable, "-c", DRIVER, "eval-grounding", str(dataset), "--family", "qwen2.5-vl-mobile"]
    command += ["--base-url", scripted_server.url, "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not results.exists() or results.read_text().count("\n") < 2):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    partial = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    done = len(read_results(out))
    assert partial["interrupted"] is True and partial["complete"] is False
    assert 2 <= partial["evaluated"] == done < 8
    assert "(partial)" in stdout

    scripted_server.latency = 0.0
    backend = OpenAICompatibleBackend("m", scripted_server.url)
    evaluation = GroundingEvaluation(load_grounding_records(dataset), backend, family, out, resume=True)
    assert len(evaluation.pending) == 8 - done
    assert_expected_summary(evaluation.run())
    assert len({r.id for r in read_results(out)}) == 8


# -- failures of the model server ------------------------------------------------------------------


def test_a_server_that_keeps_failing_leaves_the_record_unscored(dataset: Path, scripted_server, tmp_path: Path) -> None:
    family = get_family("qwen2.5-vl-mobile")
    answer = script_for(lambda body: family)
    scripted_server.script = [lambda body: Fail(503) if case_of(body).id == "d-text" else answer(body)] * 8
    backend = OpenAICompatibleBackend("m", scripted_server.url, max_attempts=1)
    summary = GroundingEvaluation(load_grounding_records(dataset), backend, family, tmp_path / "o").run()
    assert (summary.scored, summary.unscored, summary.overall.correct) == (7, 1, 3)
    assert summary.by_platform["desktop"].total == 1 and not summary.complete
    failed = next(r for r in read_results(tmp_path / "o") if r.id == "d-text")
    assert failed.error_kind == "model" and "ModelUnavailable" in failed.error and not failed.scored

    # --resume asks again for exactly the unscored record.
    scripted_server.script = [answer]
    resumed = GroundingEvaluation(load_grounding_records(dataset), backend, family, tmp_path / "o", resume=True)
    assert [r.id for r in resumed.pending] == ["d-text"]
    assert_expected_summary(resumed.run())


def test_a_refused_request_stops_the_run_with_a_partial_summary(dataset: Path, scripted_server, tmp_path: Path) -> None:
    family = get_family("qwen2.5-vl-mobile")
    answer = script_for(lambda body: family)
    scripted_server.script = [answer, answer, Fail(400, "model 'x' does not exist")] + [answer] * 5
    backend = OpenAICompatibleBackend("m", scripted_server.url)
    evaluation = GroundingEvaluation(load_grounding_records(dataset), backend, family, tmp_path / "o")
    with pytest.raises(ModelRequestError, match="does not exist"):
        evaluation.run()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["evaluated"] == 2 and "ModelRequestError" in summary["error"] and not summary["complete"]
    assert len(read_results(tmp_path / "o")) == 2


# -- judging a reply (a stub model: the parser and the box test are under test) ---------------------------------


class Canned(ModelBackend):
    def __init__(self, text: str) -> None:
        self.text = text
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest) -> ModelReply:
        request.ordered_images()  # the image must match its slot
        self.requests.append(request)
        return ModelReply(self.text, prompt_tokens=10, completion_tokens=3, seconds=0.01)


def test_a_box_answer_counts_by_its_centre_and_an_action_without_a_point_is_wrong(dataset: Path) -> None:
    record = next(r for r in load_grounding_records(dataset) if r.id == "d-text")  # box 300..500 x 200..240
    family = get_family("qwen2-vl")
    # (300,370)-(520,444) relative-1000 on 960x540 is x 288..499, y 200..240: centre (394, 220) is inside,
    # though the box's left edge is not.
    boxed = ground_record(record, family, Canned("<|box_start|>(300,370),(520,444)<|box_end|>"))
    assert boxed.correct and boxed.point == (394, 220) and boxed.model_point == (410.0, 407.0)
    done = ground_record(
        record,
        get_family("qwen2.5-vl-computer"),
        Canned(
            '<tool_call>{"name": "computer_use", "arguments": {"action": "terminate", "status": "success"}}</tool_call>'
        ),
    )
    assert (done.correct, done.error_kind, done.action) == (False, "no_point", "terminate")
    assert "no action with a point" in done.error


def test_an_image_changed_after_loading_is_unscored(dataset: Path) -> None:
    record = load_grounding_records(dataset)[0]
    Image.new("RGB", (100, 100)).save(record.image)
    result = ground_record(record, get_family("showui"), Canned("[0.5, 0.5]"))
    assert (result.error_kind, result.scored) == ("image", False) and "100x100" in result.error


# -- reading records -------------------------------------------------------------------------------

GOOD = {"image": "shots/phone.png", "instruction": "tap", "bbox": [40, 300, 500, 380], "id": "good"}


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        ({"image": "shots/phone.png", "bbox": [1, 2, 3, 4]}, "instruction", "Field required"),
        ({**GOOD, "id": "b", "bbox": [1, 2, 3]}, "bbox", "4 numbers"),
        ({**GOOD, "id": "b", "bbox": [300, 200, 40, 30]}, "bbox", "--bbox-format xywh"),
        ({**GOOD, "id": "b", "bbox": [0.1, 0.2, 0.3, 0.4]}, "bbox", "fractions"),
        ({**GOOD, "id": "b", "bbox": [600, 10, 700, 40]}, "bbox", "outside the 540x1200 image"),
        ({**GOOD, "id": "b", "bbox": ["a", 1, 2, 3]}, "bbox.0", "valid number"),
        ({**GOOD, "id": "b", "bbox_format": "cxcywh"}, "bbox_format", "xyxy"),
        ({**GOOD, "id": "b", "image": "shots/nope.png"}, "image", "no such file"),
        ({"instruction": "tap", "bbox": [1, 2, 3, 4]}, "image", "img_filename"),
        ({**GOOD, "id": "b", "img_size": [1080, 2400]}, "img_size", "540x1200"),
        ({**GOOD, "instruction": "again"}, "id", "already used on line 1"),
        ([1, 2], "", "must be a JSON object"),
    ],
)
def test_bad_records_name_file_line_and_field(dataset: Path, bad: Any, field: str, words: str) -> None:
    path = dataset.parent / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(TaskFileError) as info:
        load_grounding_records(path)
    error = info.value
    assert (error.path, error.line, error.field) == (str(path), 3, field)
    assert str(path) in str(error) and "line 3" in str(error) and words in str(error)
    assert "Value error" not in str(error)


def test_broken_json_and_empty_files(dataset: Path) -> None:
    broken = dataset.parent / "broken.jsonl"
    broken.write_text(json.dumps(GOOD) + '\n{"image": \n', encoding="utf-8")
    with pytest.raises(TaskFileError, match=r"line 2: not valid JSON") as info:
        load_grounding_records(broken)
    assert info.value.line == 2
    empty = dataset.parent / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(TaskFileError, match="holds no records"):
        load_grounding_records(empty)
    with pytest.raises(TaskFileError, match="cannot read"):
        load_grounding_records(dataset.parent / "missing.jsonl")


def test_json_array_errors_give_the_line_of_the_item(tmp_path: Path) -> None:
    data, images = screenspot_json(tmp_path)
    items = json.loads(data.read_text())
    items[3]["bbox"] = [1, 2]
    data.write_text(json.dumps(items, indent=2), encoding="utf-8")
    openings = [i + 1 for i, text in enumerate(data.read_text().splitlines()) if text == "  {"]
    with pytest.raises(TaskFileError) as info:
        load_grounding_records(data, bbox_format="xywh", image_root=images)
    assert (info.value.line, info.value.field) == (openings[3], "bbox")


def test_xywh_and_screenspot_field_names(tmp_path: Path) -> None:
    data, images = screenspot_json(tmp_path)
    records = load_grounding_records(data, bbox_format="xywh", image_root=images)
    assert [r.bbox for r in records] == [tuple(float(v) for v in c.bbox) for c in CASES]
    assert [r.platform for r in records] == [c.platform for c in CASES]
    assert records[0].id == "screenspot_all:2" and records[0].source == "android"
    assert records[0].image == (images / "phone.png").resolve() and records[0].image_size == (540, 1200)
    assert [r.kind for r in records[:3]] == ["mobile"] * 3 and records[3].kind == "computer"
    assert load_grounding_records(data, bbox_format="xywh", image_root=images, limit=3)[-1].id == records[2].id

    # A record's own bbox_format wins over the file's; ScreenSpot-Pro's ui_type and OS platform names pass.
    line = {
        "image": str(images / "desktop.png"),
        "instruction": "x",
        "bbox": [300, 200, 200, 40],
        "bbox_format": "xywh",
    }
    pro = {"img_filename": "desktop.png", "instruction": "y", "bbox": [300, 200, 500, 240], "ui_type": "Icon"}
    pro |= {"platform": "windows", "img_size": [960, 540], "id": 7, "group": "Dev"}
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [line, pro])
    first, second = load_grounding_records(mixed, image_root=images)
    assert first.bbox == second.bbox == (300.0, 200.0, 500.0, 240.0)
    assert (second.id, second.data_type, second.platform, second.kind) == ("7", "icon", "windows", "computer")
    assert second.contains(300, 240) and not second.contains(299, 220)
    assert [platform_of_source(s) for s in ("ios", "macos", "forum")] == ["mobile", "desktop", "web"]


def test_bad_flags_and_folders(dataset: Path, tmp_path: Path) -> None:
    parser = fresh_cli()
    with pytest.raises(SystemExit):
        parser.parse_args(["eval-grounding", str(dataset), "--workers", "0"])
    args = parser.parse_args(["eval-grounding", str(dataset), "--resume", "--base-url", "http://127.0.0.1:9/v1"])
    with pytest.raises(ConfigError, match="--resume needs --out"):
        args.handler(args)
