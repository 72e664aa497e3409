"""HTML reports, checked in a real headless Chromium.

Run folders are written with the real ``TrajectoryWriter`` (synthetic 1080x2400 phone and 1920x1080
desktop screenshots with coloured targets at the action points). The reports are then opened in
Chromium: a copy with a measuring script appended (and the page's script-blocking CSP removed, so the
escaping alone is what keeps model output inert) reports each image's natural size and each marker's
centre in CSS pixels; a screenshot of the untouched report shows the marker colour on its target.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import time
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from guiagent.actions.errors import ConfigError
from guiagent.agent.cli import main, report_cmd
from guiagent.agent.records import ErrorInfo, RunRecord, StepRecord
from guiagent.agent.trajectory import TrajectoryWriter
from guiagent.tasks.report import MAX_IMAGE_WIDTH, write_run_report, write_suite_report
from guiagent.tasks.report_figure import RING
from tests.fixtures.chromium import Chromium
from tests.fixtures.damaged_images import decompression_bomb

PHONE = (1080, 2400)
DESKTOP = (1920, 1080)
TARGET = (30, 90, 220)
MARK = (255, 40, 90)
XSS = "<script>alert(1)</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"> &<>\"' &amp;"
TASK = "Open <Settings> & turn on Wi-Fi " + XSS
TIMINGS = {"capture": 0.12, "preprocess": 0.03, "model": 1.5, "parse": 0.001, "act": 0.2, "settle": 0.4}

# Dialogs would block a headless page forever; an escaping bug that lets alert(1) run must fail fast instead.
NO_DIALOGS = (
    "<script>window.alert = window.confirm = window.prompt = () => { document.title = 'pwned by a dialog'; };</script>"
)
MEASURE = """
<script>
window.addEventListener('load', () => {
  const centre = (el) => { const r = el.getBoundingClientRect(); return [r.left + r.width / 2 + scrollX, r.top + r.height / 2 + scrollY]; };
  const out = {title: document.title, scripts: document.scripts.length, height: document.documentElement.scrollHeight,
               width: document.documentElement.clientWidth, shots: [], marks: [], labels: []};
  for (const fig of document.querySelectorAll('figure.shot')) {
    const img = fig.querySelector('img'); const r = img.getBoundingClientRect();
    const shot = {step: +fig.dataset.step, natural: [img.naturalWidth, img.naturalHeight], complete: img.complete,
                  box: [r.left + scrollX, r.top + scrollY, r.width, r.height], screen: [+fig.dataset.screenWidth, +fig.dataset.screenHeight]};
    out.shots.push(shot);
    for (const g of fig.querySelectorAll('g.action')) {
      const end = g.querySelector('.end');
      out.marks.push({step: +g.dataset.step, type: g.dataset.type, cls: g.getAttribute('class'), x: +g.dataset.x, y: +g.dataset.y,
                      x2: g.dataset.x2 ? +g.dataset.x2 : null, y2: g.dataset.y2 ? +g.dataset.y2 : null,
                      ring: centre(g.querySelector('.ring')), end: end ? centre(end) : null, box: shot.box, screen: shot.screen,
                      stroke: getComputedStyle(g.querySelector('.ring')).stroke});
    }
    if (fig.querySelector('.label')) out.labels_on_picture = true;
  }
  for (const l of document.querySelectorAll('li.label')) out.labels.push({step: +l.dataset.step, type: l.dataset.type, index: +l.dataset.index, text: l.querySelector('.what').textContent});
  out.replies = [...document.querySelectorAll('pre.reply')].map((p) => p.textContent);
  out.thoughts = [...document.querySelectorAll('.thought')].map((p) => p.textContent);
  out.errors = [...document.querySelectorAll('.error')].map((p) => p.textContent);
  out.noshots = [...document.querySelectorAll('.noshot')].map((p) => [+p.closest('section').dataset.step, p.textContent]);
  out.sections = [...document.querySelectorAll('section.step')].map((s) => +s.dataset.step);
  out.banner = document.getElementById('not-finished')?.textContent ?? null;
  out.h1 = document.querySelector('h1').textContent;
  out.links = [...document.querySelectorAll('a.run-link')].map((a) => a.href);
  out.rate = document.getElementById('success-rate')?.textContent ?? null;
  const pre = document.createElement('pre'); pre.id = 'layout'; pre.textContent = JSON.stringify(out); document.body.append(pre);
});
</script>
"""


# -- building run folders ---------------------------------------------------------------------------


def _screen(size: tuple[int, int], targets: list[tuple[int, int]], seed: int) -> Image.Image:
    """A fake screen: pale background, a status bar, some list rows, and a blue disc at each target."""
    image = Image.new("RGB", size, (245, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], size[1] // 30), fill=(40, 40, 48))
    for row in range(8):
        top = size[1] // 10 + row * size[1] // 9
        draw.rectangle((size[0] // 20, top, size[0] * 19 // 20, top + size[1] // 14), fill=(225 - seed * 5, 232, 225))
    for x, y in targets:
        draw.ellipse((x - 60, y - 60, x + 60, y + 60), fill=TARGET)
    return image


def _step(
    index: int, started: float, actions: list[dict[str, Any]], size: tuple[int, int], **fields: Any
) -> StepRecord:
    model = [{**a, "space": "relative-1000"} for a in actions]
    for a in model:
        for name, side in (("x", 0), ("x2", 0), ("y", 1), ("y2", 1)):
            if name in a:
                a[name] = round(a[name] * 1000 / size[side])
    data: dict[str, Any] = {
        "index": index,
        "started_at": started + index * 3,
        "screen": {"width": size[0], "height": size[1], "orientation": 0},
        "model_image": {"width": 1092, "height": 2408, "padded": False},
        "reply": f"<tool_call>step {index}</tool_call>",
        "thought": f"step {index} thought",
        "actions_model": model,
        "actions_device": actions,
        "executed": len(actions),
        "prompt_tokens": 1200 + index,
        "completion_tokens": 40 + index,
        "timings": dict(TIMINGS),
        "prompt": [{"role": "system", "content": [{"type": "text", "text": "You are a phone agent."}]}],
    }
    data.update(fields)
    return StepRecord(**data)


PHONE_STEPS: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
    ([{"type": "click", "x": 925, "y": 405}], {}),
    ([{"type": "swipe", "x": 540, "y": 1800, "x2": 540, "y2": 600, "duration": 0.3}], {}),
    ([{"type": "type", "text": "hello <b>world</b> & 'friends'"}], {"reply": XSS, "thought": "I will type <i>" + XSS}),
    (
        [],
        {
            "reply": "no json here <script>document.title='pwned'</script>",
            "error": ErrorInfo(type="ParseError", message="no <tool_call> in reply", sent_to_model=True),
            "executed": 0,
        },
    ),
    (
        [{"type": "long_press", "x": 300, "y": 2000, "duration": 1.0}, {"type": "key", "keys": ["enter"]}],
        {"notes": ["screen changed <slowly>"]},
    ),
    ([{"type": "click", "x": 100, "y": 100}], {"_no_screenshot": True}),
    ([{"type": "click", "x": 500, "y": 1200}], {"_delete_screenshot": True}),
    (
        [{"type": "click", "x": 60, "y": 2340}],
        {"error": ErrorInfo(type="DeviceError", message="tap failed", sent_to_model=False)},
    ),
    ([{"type": "terminate", "status": "success", "message": ""}], {}),
]


def _write_run(
    root: Path, size: tuple[int, int], plan: list[tuple[list[dict[str, Any]], dict[str, Any]]], finish: bool, task: str
) -> Path:
    started = time.time() - 100
    record = RunRecord(
        id=f"run-{size[0]}x{size[1]}",
        task=task,
        started_at=started,
        device={"name": "virtual-phone <1>", "kind": "android"},
        model={"id": "Qwen/Qwen2.5-VL-3B-Instruct", "backend": "OpenAIBackend"},
        family={"name": "qwen25vl", "min_pixels": 3136, "max_pixels": 12845056, "platform": "mobile", "pad": False},
        settings={"max_steps": 20, "dry_run": False, "out_dir": "runs"},
        guiagent_version="0.1.0",
    )
    folder = root / record.id
    with TrajectoryWriter(folder, record) as writer:
        for index, (actions, fields) in enumerate(plan, start=1):
            fields = dict(fields)
            no_shot = fields.pop("_no_screenshot", False)
            delete = fields.pop("_delete_screenshot", False)
            step = _step(index, started, actions, size, **fields)
            if not no_shot:
                points = [
                    (a[fx], a[fy]) for a in actions for fx, fy in (("x", "y"), ("x2", "y2")) if a.get(fx) is not None
                ]
                step.screenshot = writer.save_screenshot(index, _screen(size, points, index))
                if delete:
                    (folder / step.screenshot).unlink()
            writer.append(step)
        if finish:
            writer.finish("success", reason="the model said the task is done <ok>", answer="42 & <b>more</b>")
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    phone = _write_run(root / "runs", PHONE, PHONE_STEPS, True, TASK)
    desktop_plan = [
        ([{"type": "click", "x": 1700, "y": 100}], {}),
        ([{"type": "drag", "x": 200, "y": 900, "x2": 1600, "y2": 300}], {}),
    ]
    killed = _write_run(root / "runs", DESKTOP, desktop_plan, False, "Rename the file")
    with (killed / "steps.jsonl").open("a") as handle:
        handle.write('{"index": 3, "started_at": 1')  # the run was killed mid-write
    return {"root": root, "phone": phone, "killed": killed}


def _measure(chromium: Chromium, report: Path, window: tuple[int, int] = (1280, 2000)) -> dict[str, Any]:
    """Open an instrumented copy of ``report`` (CSP removed, dialogs stubbed, measuring script appended)."""
    text = report.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    text = text.replace("<head>", "<head>" + NO_DIALOGS, 1)
    head, _, tail = text.rpartition("</body>")
    probe = report.with_name(report.stem + ".measure.html")
    probe.write_text(head + MEASURE + "</body>" + tail, encoding="utf-8")
    dom = chromium.dump_dom(probe, window)
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
    assert found, f"the measuring script did not run: {dom[-500:]}"
    return json.loads(unescape(found.group(1)))


def _assert_markers_on_actions(layout: dict[str, Any]) -> None:
    for mark in layout["marks"]:
        left, top, width, height = mark["box"]
        sw, sh = mark["screen"]
        cx, cy = mark["ring"]
        assert abs((cx - left) / width - mark["x"] / sw) < 0.01, mark
        assert abs((cy - top) / height - mark["y"] / sh) < 0.01, mark
        if mark["x2"] is not None:
            ex, ey = mark["end"]
            assert abs((ex - left) / width - mark["x2"] / sw) < 0.01, mark
            assert abs((ey - top) / height - mark["y2"] / sh) < 0.01, mark


# -- tests ------------------------------------------------------------------------------------------


def test_run_report_in_chromium(runs: dict[str, Path], chromium: Chromium) -> None:
    report = write_run_report(runs["phone"])
    assert report == runs["phone"] / "report.html"
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "onerror=" not in text.replace("onerror=&quot;", "")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text

    layout = _measure(chromium, report)
    assert layout["title"] == "success · " + TASK[:79] + "…"  # the escaped title, not one a script set
    assert layout["scripts"] == 2  # only the test's own two: nothing from the replies became an element
    assert XSS in layout["replies"] and XSS in layout["h1"]
    assert any(t.endswith(XSS) for t in layout["thoughts"])
    assert layout["banner"] is None
    assert layout["sections"] == list(range(1, len(PHONE_STEPS) + 1))

    shots = {s["step"]: s for s in layout["shots"]}
    assert sorted(shots) == [1, 2, 3, 4, 5, 8, 9]  # 6 has no screenshot, 7's file was deleted
    for shot in shots.values():
        assert shot["complete"] and shot["natural"] == [MAX_IMAGE_WIDTH, 1600], shot
    noshots = dict(layout["noshots"])
    assert "no screenshot recorded" in noshots[6] and "step-0007.png unavailable" in noshots[7]

    types = sorted((m["step"], m["type"]) for m in layout["marks"])
    assert types == [(1, "click"), (2, "swipe"), (5, "long_press"), (8, "click")]
    assert all(m["cls"] == f"action {m['type']}" and m["stroke"] == "rgb(255, 40, 90)" for m in layout["marks"])
    _assert_markers_on_actions(layout)
    # What each action was is listed under its picture, numbered as its marker; no text is drawn on the picture.
    assert "labels_on_picture" not in layout
    labels = {(label["step"], label["type"]): (label["index"], label["text"]) for label in layout["labels"]}
    assert labels[(3, "type")] == (1, "type \"hello <b>world</b> & 'friends'\"")
    assert labels[(5, "key")] == (2, "key enter") and labels[(5, "long_press")] == (1, "long_press (300, 2000)")
    assert labels[(9, "terminate")] == (1, "terminate success")
    assert any("ParseError: no <tool_call> in reply (sent back to the model)" in e for e in layout["errors"])
    assert any("DeviceError: tap failed (not sent to the model)" in e for e in layout["errors"])


def test_screenshot_shows_markers_on_targets(runs: dict[str, Path], chromium: Chromium, tmp_path: Path) -> None:
    report = write_run_report(runs["phone"], tmp_path / "phone.html")
    layout = _measure(chromium, report)
    clicks = [m for m in layout["marks"] if m["step"] in (1, 2)]
    window = (1280, int(max(m["box"][1] + m["box"][3] for m in clicks)) + 40)
    assert layout["width"] == window[0]
    picture = Image.open(chromium.screenshot(report, tmp_path / "page.png", window)).convert("RGB")
    assert picture.size == window

    def near(colour: tuple[int, int, int], want: tuple[int, int, int], tolerance: int = 60) -> bool:
        return sum(abs(a - b) for a, b in zip(colour, want, strict=True)) < tolerance

    for mark in clicks:
        cx, cy = mark["ring"]
        for dx, dy in ((1, 0), (-1, 0), (0, 1)):  # the ring (2.5 px wide) crosses RING-1..RING+1 in every direction
            ring = [picture.getpixel((round(cx + dx * r), round(cy + dy * r))) for r in (RING - 1, RING, RING + 1)]
            assert any(near(c, MARK) for c in ring), (mark, ring)
        # Inside the ring's gap (and off the swipe arrow): the blue target disc, radius 60 device px = 20 CSS px, not hidden.
        disc = [picture.getpixel((round(cx + dx), round(cy + dy))) for dx, dy in ((0, 0), (-12, 0), (9, 9), (-9, 9))]
        assert all(near(c, TARGET, 90) for c in disc), (mark, disc)


def test_killed_run_renders_with_banner(runs: dict[str, Path], chromium: Chromium) -> None:
    layout = _measure(chromium, write_run_report(runs["killed"]))
    assert layout["banner"] and "did not finish" in layout["banner"] and "2 step(s)" in layout["banner"]
    assert layout["title"] == "running · Rename the file"
    assert [s["natural"] for s in layout["shots"]] == [[MAX_IMAGE_WIDTH, 405]] * 2
    assert sorted(m["type"] for m in layout["marks"]) == ["click", "drag"]
    _assert_markers_on_actions(layout)
    text = (runs["killed"] / "report.html").read_text(encoding="utf-8")
    assert "1 unreadable line(s) of steps.jsonl were skipped" in text and "did not finish" in text


def test_suite_report_links_and_generates_run_reports(runs: dict[str, Path], chromium: Chromium) -> None:
    suite_dir = runs["root"]
    for name in ("phone", "killed"):
        (runs[name] / "report.html").unlink(missing_ok=True)
    results = {
        "suite": "smoke <v1>",
        "started_at": 1_700_000_000.0,
        "finished_at": 1_700_000_090.0,
        "model": {"id": "Qwen/Qwen2.5-VL-3B-Instruct"},
        "family": "qwen25vl",
        "results": [
            {
                "task_id": "wifi",
                "goal": "Turn on Wi-Fi",
                "device": "phone-1",
                "success": True,
                "status": "success",
                "reason": "",
                "steps": 9,
                "seconds": 30.5,
                "timings": TIMINGS,
                "prompt_tokens": 9000,
                "completion_tokens": 300,
                "run_dir": "runs/run-1080x2400",
                "checks": [{"name": "query", "passed": True, "detail": "wifi_on = 1"}],
            },
            {
                "task_id": "rename",
                "goal": "Rename <file>",
                "device": "desktop",
                "success": False,
                "status": "running",
                "reason": "killed",
                "steps": 2,
                "seconds": 9.0,
                "timings": {},
                "prompt_tokens": 10,
                "completion_tokens": 2,
                "run_dir": str(runs["killed"]),
                "checks": [{"name": "text_on_screen", "passed": False, "detail": "not found"}],
            },
            {
                "task_id": "setup-failed",
                "goal": "x",
                "device": "phone-2",
                "success": False,
                "status": "error",
                "reason": "setup failed",
                "run_dir": "",
                "checks": [],
            },
        ],
    }
    (suite_dir / "results.json").write_text(json.dumps(results), encoding="utf-8")
    report = write_suite_report(suite_dir / "results.json")
    assert report == suite_dir / "report.html"
    assert (runs["phone"] / "report.html").exists() and (runs["killed"] / "report.html").exists()
    layout = _measure(chromium, report)
    assert layout["rate"] == "1/3 passed (33%)" and layout["title"] == "smoke <v1> · 1/3 passed"
    assert layout["banner"] is None
    assert [Path(link.removeprefix("file://")) for link in layout["links"]] == [
        runs["phone"] / "report.html",
        runs["killed"] / "report.html",
    ]
    text = report.read_text(encoding="utf-8")
    assert 'href="runs/run-1080x2400/report.html"' in text and "no run folder" in text and "Rename &lt;file&gt;" in text


def test_cli_report(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="guiagent")
    report_cmd.register(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> str:
        args = parser.parse_args(["report", *argv])
        assert args.handler(args) == 0
        return capsys.readouterr().out.strip()

    assert run(str(runs["killed"]), "-o", str(tmp_path / "k.html")) == str(tmp_path / "k.html")
    assert run(str(runs["phone"] / "run.json")) == str(runs["phone"] / "report.html")
    results = {
        "suite": "s",
        "family": "qwen25vl",
        "results": [{"task_id": "t", "success": False, "run_dir": "nowhere"}],
    }
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    assert run(str(tmp_path)) == str(tmp_path / "report.html")
    assert "This suite has not finished." in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert run(str(tmp_path / "results.json"), "--output", str(tmp_path / "s.html")) == str(tmp_path / "s.html")

    for bad, message in (
        (tmp_path / "missing", "does not exist"),
        (runs["root"] / "runs", "neither a run folder"),
        (runs["phone"] / "step-0001.png", "neither a run folder"),
        (runs["phone"] / "steps.jsonl", "neither a run folder"),
    ):
        args = parser.parse_args(["report", str(bad)])
        with pytest.raises(ConfigError, match=message):
            args.handler(args)
    (tmp_path / "bad.json").write_text('{"suite": 1', encoding="utf-8")
    args = parser.parse_args(["report", str(tmp_path / "bad.json")])
    with pytest.raises(ConfigError, match="not a guiagent suite results file"):
        args.handler(args)


def test_empty_run_and_missing_folder(tmp_path: Path) -> None:
    with TrajectoryWriter(tmp_path / "empty", RunRecord(id="empty", task="nothing", started_at=time.time())) as writer:
        writer.finish("error", reason="model server unreachable")
    text = write_run_report(tmp_path / "empty").read_text(encoding="utf-8")
    assert "No steps were recorded." in text and "model server unreachable" in text and "status-error" in text
    with pytest.raises(ConfigError, match="not a guiagent run folder"):
        write_run_report(tmp_path / "nothing-here")


def test_a_damaged_screenshot_shows_as_unavailable(runs: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(runs["phone"], tmp_path / "run")
    (folder / "report.html").unlink(missing_ok=True)
    (folder / "step-0001.png").write_bytes(decompression_bomb())
    (folder / "step-0002.png").unlink()
    (folder / "step-0002.png").mkdir()
    raw = (folder / "step-0003.png").read_bytes()
    (folder / "step-0003.png").write_bytes(raw[: len(raw) // 2])
    (folder / "step-0004.png").write_text("not an image\n", encoding="utf-8")
    text = write_run_report(folder).read_text(encoding="utf-8")
    for index in (1, 2, 3, 4):
        assert f"screenshot step-{index:04d}.png unavailable" in text
    assert (
        "claims more pixels than a screenshot can have" in text
        and text.count('<span class="tl-none">unavailable</span>') == 5  # and step 7's, deleted
    )


@pytest.mark.parametrize(
    "file, fields",
    [
        ("run.json", {"started_at": 1e308}),  # time.localtime: OverflowError
        ("steps.jsonl", {"started_at": 1e308}),
        ("steps.jsonl", {"screen": {"width": "abc", "height": 800}}),  # int(): ValueError
        ("steps.jsonl", {"prompt": [{"role": "user", "content": "[/b]"}]}),  # str has no .get
    ],
)
def test_a_record_field_out_of_range_is_a_one_line_error_naming_the_folder(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, fields: dict[str, Any]
) -> None:
    folder = shutil.copytree(runs["phone"], tmp_path / "run")
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = json.dumps({**json.loads(lines[0] if file == "steps.jsonl" else path.read_text("utf-8")), **fields})
    path.write_text("\n".join(lines if file == "steps.jsonl" else lines[:1]) + "\n", encoding="utf-8")
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(folder) in err and next(iter(fields)) in err, err
