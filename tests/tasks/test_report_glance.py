"""Reports that read at a glance, checked in a real headless Chromium.

* A tap's marker is a contrasting ring with a clear gap over the target and a number beside it: the pixels
  at the tapped point are the screenshot's own, the ring is the marker colour, the badge sits outside it.
* Nothing is written over the picture: what each action was is a numbered list under it, so the status
  bar's clock stays visible on a step that types or presses a key.
* A replay's report says so ("A replay of RUN, no model") and leaves out what a replay does not have.
* A timeline across the top (a thumbnail, an action symbol and a time per step), where a click opens that
  step full size — by CSS ``:target`` alone, the page running no script.

Run folders are written by the real ``TrajectoryWriter``; the replay is the real ``guiagent demo``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from guiagent.agent.records import RunRecord, StepRecord
from guiagent.agent.trajectory import TrajectoryWriter
from guiagent.tasks.report import write_run_report
from guiagent.tasks.report_figure import GAP, RING, THUMB_HEIGHT
from tests.fixtures.chromium import Chromium

PHONE = (1080, 2400)
MARK = (255, 40, 90)
TARGET = (250, 200, 40)
CLOCK = (120, 255, 120)
XSS = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"> &amp;"
CLI = [sys.executable, "-m", "guiagent.agent.cli"]

PROBE = """
<script>
window.addEventListener('load', () => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  const centre = (el) => { const [l, t, w, h] = box(el); return [l + w / 2 + scrollX, t + h / 2 + scrollY]; };
  const out = {title: document.title, scripts: document.scripts.length, marks: [], captions: {}, facts: {},
               onPicture: document.querySelectorAll('figure.shot .label, figure.shot text:not(.num)').length};
  for (const g of document.querySelectorAll('g.action')) {
    out.marks.push({step: +g.dataset.step, index: +g.dataset.index, ring: centre(g.querySelector('.ring')),
                    badge: centre(g.querySelector('.num-bg')), number: g.querySelector('.num').textContent,
                    ringBox: box(g.querySelector('.ring')), badgeBox: box(g.querySelector('.num-bg'))});
  }
  for (const li of document.querySelectorAll('ol.acts li')) {
    (out.captions[li.dataset.step] ??= []).push(li.textContent);
  }
  for (const dt of document.querySelectorAll('#overview dt')) out.facts[dt.textContent] = dt.nextElementSibling.textContent;
  out.lead = document.getElementById('run-kind')?.textContent ?? null;
  out.text = document.body.innerText;
  out.overviewTop = box(document.getElementById('overview'))[1] + scrollY;
  out.cards = [...document.querySelectorAll('a.tl-step')].map((a) => ({step: +a.dataset.step, href: a.getAttribute('href'),
      title: a.title, icon: a.querySelector('.tl-icon').textContent, time: a.querySelector('.tl-time').textContent,
      box: box(a), img: a.querySelector('img') ? [a.querySelector('img').naturalWidth, a.querySelector('img').naturalHeight] : null}));
  const open = (step) => {
    const fig = document.querySelector(`figure.shot[data-step="${step}"]`);
    const link = fig.closest('a.zoom-open'); const bar = link.parentElement.querySelector('.zoom-bar');
    return {target: document.querySelector(':target')?.id ?? null, position: getComputedStyle(link).position,
            figure: box(fig), bar: getComputedStyle(bar).display === 'none' ? null : bar.textContent,
            viewport: [innerWidth, innerHeight]};
  };
  const card = document.querySelector('a.tl-step[data-step="3"]');
  if (card) {
    out.before = open(3);
    card.click();
    out.opened = open(3);
    document.querySelector('#full-3 ~ .zoom-bar .zoom-close').click();
    out.closed = open(3);
  }
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out); document.body.append(pre);
});
</script>
"""


def probe(chromium: Chromium, report: Path, window: tuple[int, int] = (1280, 900)) -> dict[str, Any]:
    """Measure a copy of ``report`` with the probe script appended (its CSP removed so the script may run)."""
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", report.read_text(encoding="utf-8"))
    head, _, tail = text.rpartition("</body>")
    copy = report.with_name(report.stem + ".probe.html")
    copy.write_text(head + PROBE + "</body>" + tail, encoding="utf-8")
    found = re.search(r'<pre id="probe">(.*?)</pre>', chromium.dump_dom(copy, window), re.S)
    assert found, "the probe did not run"
    return json.loads(unescape(found.group(1)))


def _screen(taps: list[tuple[int, int]]) -> Image.Image:
    """A phone screen: a dark status bar with a bright clock at the left, and a yellow button at each tap."""
    image = Image.new("RGB", PHONE, (245, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, PHONE[0], 90), fill=(30, 30, 36))
    draw.rectangle((30, 20, 230, 70), fill=CLOCK)  # "12:30"
    for x, y in taps:
        draw.rectangle((x - 150, y - 70, x + 150, y + 70), fill=TARGET)
    return image


def _run_folder(root: Path) -> Path:
    plan: list[list[dict[str, Any]]] = [
        [{"type": "click", "x": 540, "y": 1200}],
        [{"type": "type", "text": "hello " + XSS}, {"type": "key", "keys": ["enter"]}],
        [{"type": "click", "x": 300, "y": 600}, {"type": "click", "x": 780, "y": 1900}],
        [{"type": "terminate", "status": "success", "message": ""}],
    ]
    started = time.time() - 60
    record = RunRecord(
        id="glance",
        task="Tap the button",
        started_at=started,
        device={"name": "virtual-phone", "kind": "android"},
        model={"id": "Qwen/Qwen2.5-VL-7B-Instruct", "backend": "OpenAICompatibleBackend"},
        family={"name": "qwen2.5-vl-mobile"},
        guiagent_version="0.1.0",
    )
    with TrajectoryWriter(root / record.id, record) as writer:
        for index, actions in enumerate(plan, start=1):
            taps = [(a["x"], a["y"]) for a in actions if "x" in a]
            step = StepRecord(
                index=index,
                started_at=started + 4 * index,
                screen={"width": PHONE[0], "height": PHONE[1]},
                model_image={"width": 1092, "height": 2408},
                reply="<tool_call>...</tool_call>",
                thought=f"step {index}",
                actions_model=[{**a, "space": "pixels"} for a in actions],
                actions_device=actions,
                executed=len(actions),
                prompt_tokens=1000,
                completion_tokens=20,
                timings={"capture": 0.1, "model": 1.0, "act": 0.1},
            )
            step.screenshot = writer.save_screenshot(index, _screen(taps))
            writer.append(step)
        writer.finish("success", reason="done")
    return root / record.id


def _near(colour: tuple[int, ...], want: tuple[int, int, int], tolerance: int = 60) -> bool:
    return sum(abs(a - b) for a, b in zip(colour[:3], want, strict=True)) < tolerance


def test_tap_markers_keep_the_target_visible_and_carry_a_number(tmp_path: Path, chromium: Chromium) -> None:
    report = write_run_report(_run_folder(tmp_path))
    layout = probe(chromium, report)
    marks = {(m["step"], m["index"]): m for m in layout["marks"]}
    assert sorted(marks) == [(1, 1), (3, 1), (3, 2)]
    assert [marks[k]["number"] for k in sorted(marks)] == ["1", "1", "2"]
    for mark in marks.values():
        (rx, ry), (bx, by) = mark["ring"], mark["badge"]
        assert abs(mark["ringBox"][2] / 2 - RING) < 1.5  # the ring's radius in CSS pixels, whatever the zoom
        assert ((bx - rx) ** 2 + (by - ry) ** 2) ** 0.5 > RING + mark["badgeBox"][2] / 2 - 2  # the badge is beside
        assert bx > rx and by < ry  # up and to the right, off the target

    height = int(max(m["ring"][1] for m in marks.values()) + 60)
    picture = Image.open(chromium.screenshot(report, tmp_path / "page.png", (1280, height))).convert("RGB")
    for mark in marks.values():
        cx, cy = mark["ring"]
        # The gap: the tapped point and its surroundings show the screenshot itself (the yellow button).
        gap = [(0, 0), (GAP - 4, 0), (-(GAP - 4), 0), (0, GAP - 4), (7, -7)]
        assert all(_near(picture.getpixel((round(cx + dx), round(cy + dy))), TARGET, 90) for dx, dy in gap), mark
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            ring = [picture.getpixel((round(cx + dx * r), round(cy + dy * r))) for r in (RING - 1, RING, RING + 1)]
            assert any(_near(c, MARK) for c in ring), (mark, ring)
            # Contrast: a white band and a dark edge around the coloured ring, on any background.
            band = [picture.getpixel((round(cx + dx * r), round(cy + dy * r))) for r in range(RING - 4, RING + 5)]
            assert max(map(sum, band)) > 600 and min(map(sum, band)) < 0.7 * sum(TARGET), (mark, band)


def test_no_text_over_the_picture_the_clock_stays_visible(tmp_path: Path, chromium: Chromium) -> None:
    report = write_run_report(_run_folder(tmp_path))
    layout = probe(chromium, report, (1280, 3000))
    assert layout["onPicture"] == 0
    assert layout["scripts"] == 1 and layout["title"] == "success · Tap the button"  # the reply's XSS stayed text
    assert layout["captions"]["2"] == ['1⌨ type "hello ' + XSS[:53] + '…"', "2⏎ key enter"]
    assert layout["captions"]["3"] == ["1◎ tap (300, 600)", "2◎ tap (780, 1900)"]
    assert layout["captions"]["4"] == ["1✓ terminate success"]
    # Step 2 types and presses a key: its picture's status bar, clock included, is exactly the screenshot's.
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    shot = Image.open(chromium.screenshot(report, tmp_path / "page.png", (1280, 3000))).convert("RGB")
    boxes = re.findall(r'<figure class="shot" data-step="(\d+)"', text)
    assert boxes == ["1", "2", "3", "4"]
    figure = _figure_box(chromium, report, 2)
    left, top, width, _ = figure
    scale = width / PHONE[0]
    for x, y in ((40, 30), (130, 45), (220, 60)):  # inside the clock
        assert _near(shot.getpixel((round(left + x * scale), round(top + y * scale))), CLOCK, 90)


def _figure_box(chromium: Chromium, report: Path, step: int) -> list[float]:
    text = report.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    script = (
        "<script>window.addEventListener('load', () => { const r = document.querySelector("
        f"'figure.shot[data-step=\"{step}\"] img').getBoundingClientRect(); const p = document.createElement('pre');"
        " p.id = 'box'; p.textContent = JSON.stringify([r.left, r.top, r.width, r.height]); document.body.append(p); });"
        "</script>"
    )
    copy = report.with_name("box.html")
    copy.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    found = re.search(r'<pre id="box">(.*?)</pre>', chromium.dump_dom(copy, (1280, 3000)))
    assert found
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def demo_report(adb_server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a real ``guiagent demo`` (a replay of the bundled run)."""
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port)}
    done = subprocess.run([*CLI, "demo", "--out", str(out)], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def test_a_replay_report_says_what_it_was_and_hides_empty_fields(
    demo_report: Path, tmp_path: Path, chromium: Chromium
) -> None:
    layout = probe(chromium, demo_report)
    assert layout["lead"].startswith("A replay of notes-message-wifi, no model:")
    assert layout["title"].startswith("success · replay · Write the note")
    assert layout["facts"]["Model"].startswith("none: a replay of notes-message-wifi")
    assert "Family" not in layout["facts"] and "Tokens" not in layout["facts"]
    text = layout["text"]
    for empty in ("model space", "prompt —", "completion —", "Tokens and time", "–\n"):
        assert empty not in text, empty
    # An agent run keeps them.
    agent = probe(chromium, write_run_report(_run_folder(tmp_path)))
    assert agent["lead"] is None and "Family" in agent["facts"] and "Tokens" in agent["facts"]
    assert "model space (pixels):" in agent["text"] and "prompt 1000 · completion 20" in agent["text"]


def test_timeline_across_the_top_and_a_click_opens_a_step_full_size(demo_report: Path, chromium: Chromium) -> None:
    layout = probe(chromium, demo_report)
    cards = layout["cards"]
    assert [c["step"] for c in cards] == list(range(1, 16))
    assert all(c["href"] == f"#full-{c['step']}" for c in cards)
    assert len({round(c["box"][1]) for c in cards}) == 1, "the timeline wraps"  # one row
    assert all(c["box"][1] + c["box"][3] < layout["overviewTop"] for c in cards)  # above the overview
    assert all(c["img"] and max(c["img"]) <= THUMB_HEIGHT for c in cards)
    icons = {c["step"]: c["icon"] for c in cards}
    assert icons[1] == "▦" and icons[2] == "◎" and icons[3] == "⌨" and icons[5] == "⌂" and icons[15] == "✓"
    times = [c["time"] for c in cards]
    assert all(re.fullmatch(r"\d+:\d\d", t) for t in times) and times == sorted(times, key=lambda t: t.zfill(5))
    assert cards[2]["title"].startswith('step 3: type "Buy oat milk"')

    before, opened, closed = layout["before"], layout["opened"], layout["closed"]
    assert before["target"] is None and before["position"] != "fixed" and before["bar"] is None
    assert opened["target"] == "full-3" and opened["position"] == "fixed"
    left, top, width, height = opened["figure"]
    vw, vh = opened["viewport"]
    assert height > 0.85 * vh and top >= 0 and top + height <= vh  # the whole step, as big as the window allows
    assert abs((left + width / 2) - vw / 2) < 2  # centred
    assert opened["bar"].startswith('Step 3 type "Buy oat milk"') and "‹ step 2" in opened["bar"]
    assert closed["target"] == "step-3" and closed["position"] != "fixed"


def test_the_timeline_keeps_model_text_inert(tmp_path: Path, chromium: Chromium) -> None:
    report = write_run_report(_run_folder(tmp_path))
    layout = probe(chromium, report)
    card = next(c for c in layout["cards"] if c["step"] == 2)
    assert card["title"].startswith('step 2: type "hello <script>') and layout["title"] == "success · Tap the button"
    assert layout["scripts"] == 1
