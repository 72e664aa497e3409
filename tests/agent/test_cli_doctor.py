"""``guiagent doctor`` as a user runs it: the real adb server, a real X server (Xvfb), and a real HTTP model server.

The model server (``tests.fixtures.vision_server``) answers ``/models``, refuses requests with more images
than its limit in vLLM's words, and counts the prompt tokens of images it would resize again, as vLLM with a
lower ``max_pixels`` does. Each ✗ must come with its fix, in a real 80-column terminal and in a pipe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.fixtures.desktop import Xvfb
from tests.fixtures.terminal import Terminal
from tests.fixtures.vision_server import vision_server

CLI = [sys.executable, "-m", "guiagent.agent.cli"]
MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"


def _env(adb_server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY", "OPENAI_BASE_URL")}
    return {**env, "ANDROID_ADB_SERVER_PORT": str(adb_server.port), **extra}


def _doctor(env: dict[str, str], *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "doctor", *argv], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def _lines(output: str) -> dict[str, str]:
    """``{check name: "✓ detail"}`` from the piped (plain) output."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"([✓✗–]) ([^:]+): (.*)", line)
        if match:
            found[match.group(2)] = f"{match.group(1)} {match.group(3)}"
    return found


def test_doctor_on_a_machine_with_everything(adb_server, virtual_phone, tmp_path: Path) -> None:
    with Xvfb() as display, vision_server() as server:
        env = _env(adb_server, DISPLAY=display.display, XAUTHORITY=display.xauthority)
        result = _doctor(env, "--base-url", server.url, "--model", MODEL)
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stderr)
    assert lines["adb server"].startswith("✓ version") and f"127.0.0.1:{adb_server.port}" in lines["adb server"]
    assert lines["Android devices"] == f"✓ {virtual_phone.serial} (device)"
    assert lines["DISPLAY"] == f"✓ {display.display}, screen 1920x1080"
    assert lines["XAUTHORITY"] == f"✓ {display.xauthority}"
    assert lines["text input"].startswith("✓ XTest types any Unicode text")
    assert lines["endpoint"].startswith(f"✓ {server.url} answered in")
    assert lines["models"] == f"✓ serves {MODEL}"
    assert lines["image limit"].startswith("✓ a two-image request works")
    assert lines["image size"].startswith("✓ not resized: a 1080x2400 screenshot sent at 1092x2408")
    assert "Nothing is broken" in result.stderr
    # What was asked: one two-image request and one one-image request, each for a single token.
    assert [sum(p["type"] == "image_url" for p in r["messages"][0]["content"]) for r in server.requests] == [2, 1]
    assert all(r["max_tokens"] == 1 and r["model"] == MODEL for r in server.requests)


def test_doctor_names_each_problem_and_its_fix_in_a_terminal(adb_server, tmp_path: Path) -> None:
    dead = Xvfb()
    dead.stop()  # DISPLAY names a server that is gone
    served = "Qwen/Qwen2.5-VL-3B-Instruct"
    with vision_server(models=[served], image_limit=1, max_pixels=1003520) as server:
        env = _env(adb_server, DISPLAY=dead.display, XAUTHORITY=str(tmp_path / "no-cookie"))
        argv = [*CLI, "doctor", "--base-url", server.url, "--model", MODEL]
        with Terminal(argv, env, tmp_path, width=80) as terminal:
            terminal.wait_for(lambda s: terminal.exit_code(s) is not None, timeout=120)
            screen = terminal.screen()
            joined = " ".join(terminal.screen(joined=True).split())
    assert terminal.exit_code(screen) == 1, screen
    assert all(len(row) <= 80 for row in screen.splitlines())
    rows = [row.strip() for row in screen.splitlines() if row.strip().startswith("✗")]
    assert {row.split()[1] for row in rows} >= {"DISPLAY", "XAUTHORITY", "models", "image", "adb"} - {"adb"}
    text = " ".join(screen.split())
    assert f"serves {served}, not {MODEL}" in text and f"→ use --model {served}" in joined
    assert "takes at most 1 image(s) per request, runs send up to 2" in text and "--limit-mm-per-prompt" in joined
    assert "→ unset XAUTHORITY, or point it at the display's cookie file" in joined
    assert "cannot connect" in text and "xauth" in joined
    # The resize check: pixel family (Qwen2.5-VL), so the clicks would miss; both ways out are named.
    assert "it resized the screenshots again" in joined and "every click would land off target" in joined
    assert "--max-pixels" in joined and "problem(s) found" in text


def test_doctor_piped_gives_one_line_per_check_and_a_fix_line(adb_server, tmp_path: Path) -> None:
    result = _doctor(_env(adb_server), "--base-url", "http://127.0.0.1:9/v1")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    (endpoint,) = [line for line in lines if line.startswith("✗ endpoint: ")]
    assert "http://127.0.0.1:9/v1 cannot be reached (ConnectError" in endpoint
    fix = lines[lines.index(endpoint) + 1]
    assert fix.startswith("    fix: start the server (e.g. vllm serve MODEL --port 8000)")
    assert _lines(result.stderr)["DISPLAY"].startswith("– not set")
    assert "    to set up: export DISPLAY=:0" in result.stderr


def test_doctor_takes_the_endpoint_from_guiagent_toml(adb_server, tmp_path: Path) -> None:
    with vision_server(models=["served-model"], api_key="sk-test") as server:
        (tmp_path / "guiagent.toml").write_text(
            f'base-url = "{server.url}"\nmodel = "served-model"\nfamily = "qwen2.5-vl-mobile"\n'
            'api-key = "sk-test"\n[run]\nmax-steps = 5\n',
            encoding="utf-8",
        )
        result = _doctor(_env(adb_server), cwd=tmp_path)
    lines = _lines(result.stderr)
    assert lines["models"] == "✓ serves served-model", result.stderr
    assert lines["image size"].startswith("✓ not resized")
    assert f"settings: {tmp_path / 'guiagent.toml'}" in result.stderr
