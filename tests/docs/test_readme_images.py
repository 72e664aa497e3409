"""The README's pictures of the report and of ``guiagent doctor``, made with the tests' own tools.

* ``docs/images/report.png``: the report of a real ``guiagent demo`` in headless Chromium — the title, the
  replay's one-line description and the timeline, then one tapped step with its marker.
* ``docs/images/doctor.png``: ``guiagent doctor`` in a real 80-column terminal (tmux), with a real adb server
  and phone, a real X server and a model server that takes one image per request; the pane's colours are
  rendered by rich to HTML and photographed by Chromium.

Each run makes both pictures afresh (in the test's folder) and checks they stay small (< 100 KB). With
``GUIAGENT_UPDATE_DOCS=1`` they are written to ``docs/images/`` instead, to refresh the README.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console
from rich.terminal_theme import MONOKAI
from rich.text import Text

from tests.fixtures.chromium import Chromium
from tests.fixtures.desktop import Xvfb
from tests.fixtures.terminal import Terminal
from tests.fixtures.vision_server import vision_server

CLI = [sys.executable, "-m", "guiagent.agent.cli"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"
LIMIT = 100_000
"""Bytes a README picture may take."""


def _target(tmp_path: Path, name: str) -> Path:
    folder = DOCS if os.environ.get("GUIAGENT_UPDATE_DOCS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _small_png(picture: Image.Image, target: Path, width: int) -> Path:
    """Scale to ``width`` and store with an 128-colour palette (text and flat UI survive it)."""
    if picture.width > width:
        picture = picture.resize((width, round(picture.height * width / picture.width)), Image.Resampling.LANCZOS)
    picture.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(target, optimize=True)
    return target


def _boxes(chromium: Chromium, page: Path, selectors: dict[str, str], window: tuple[int, int]) -> dict[str, list]:
    """Page-coordinate boxes of the first element matching each selector (a copy of the page runs the probe)."""
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    script = (
        "<script>window.addEventListener('load', () => { const out = {}; for (const [k, s] of Object.entries("
        + json.dumps(selectors)
        + ")) { const r = document.querySelector(s).getBoundingClientRect(); out[k] = [r.left + scrollX, r.top "
        "+ scrollY, r.width, r.height]; } const p = document.createElement('pre'); p.id = 'boxes'; "
        "p.textContent = JSON.stringify(out); document.body.append(p); });</script>"
    )
    copy = page.with_name(page.stem + ".boxes.html")
    copy.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    found = re.search(r'<pre id="boxes">(.*?)</pre>', chromium.dump_dom(copy, window))
    assert found
    return json.loads(found.group(1))


def test_report_picture(adb_server, chromium: Chromium, tmp_path: Path) -> None:
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port)}
    done = subprocess.run([*CLI, "demo", "--out", str(tmp_path / "runs")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    report = Path(done.stdout.strip())
    window = (1240, 4200)
    boxes = _boxes(chromium, report, {"timeline": "#timeline", "step": "#step-2"}, window)
    page = Image.open(chromium.screenshot(report, tmp_path / "page.png", window)).convert("RGB")
    timeline, step = boxes["timeline"], boxes["step"]
    top = page.crop((0, 0, window[0], round(timeline[1] + timeline[3] + 8)))
    shown = page.crop((0, round(step[1] - 8), window[0], round(step[1] + step[3] + 12)))
    picture = Image.new("RGB", (window[0], top.height + shown.height), (246, 248, 250))
    picture.paste(top, (0, 0))
    picture.paste(shown, (0, top.height))
    target = _small_png(picture, _target(tmp_path, "report.png"), 900)
    assert target.stat().st_size < LIMIT, target.stat().st_size


def test_doctor_picture(adb_server, virtual_phone, chromium: Chromium, tmp_path: Path) -> None:
    with Xvfb() as display, vision_server(image_limit=1) as server:
        env = {
            **{k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"},
            "ANDROID_ADB_SERVER_PORT": str(adb_server.port),
            "DISPLAY": display.display,
            "XAUTHORITY": display.xauthority,
        }
        wrapper = tmp_path / "guiagent"  # so the pane shows the command as a user types it
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m guiagent.agent.cli "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        env["PATH"] = f"{tmp_path}:{env.get('PATH', '')}"
        command = f"guiagent doctor --base-url {server.url}"
        with Terminal(["sh", "-c", f"echo '$ {command}'; {command}"], env, tmp_path, 80, 44) as terminal:
            terminal.wait_for(lambda s: terminal.exit_code(s) is not None, timeout=120)
            screen = terminal.screen(ansi=True)
    assert "image limit" in screen and "✗" in screen
    lines = [line for line in screen.splitlines() if "[guiagent-test: exited" not in line]
    while lines and not Text.from_ansi(lines[-1]).plain.strip():
        lines.pop()
    console = Console(record=True, width=80, force_terminal=True, color_system="truecolor", file=open(os.devnull, "w"))
    for line in lines:
        console.print(Text.from_ansi(line), soft_wrap=True)
    page = tmp_path / "doctor.html"
    html = console.export_html(inline_styles=True, theme=MONOKAI)
    page.write_text(html, encoding="utf-8")
    size = _boxes(chromium, page, {"pre": "pre"}, (1000, 1200))["pre"]
    shot = Image.open(chromium.screenshot(page, tmp_path / "doctor-page.png", (1000, 1200))).convert("RGB")
    picture = shot.crop((0, 0, round(size[0] + size[2] + 12), round(size[1] + size[3] + 12)))
    target = _small_png(picture, _target(tmp_path, "doctor.png"), 760)
    assert target.stat().st_size < LIMIT, target.stat().st_size


@pytest.mark.parametrize("name", ["report.png", "doctor.png"])
def test_the_readme_pictures_are_there_and_small(name: str) -> None:
    path = DOCS / name
    assert path.exists(), "make it: GUIAGENT_UPDATE_DOCS=1 pytest tests/docs/test_readme_images.py"
    assert path.stat().st_size < LIMIT
