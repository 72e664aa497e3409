"""The whole loop on a real desktop: Xvfb, a Tk window, a real HTTP model server replying from a script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, Key, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from tests.fixtures.openai_server import Fail, Stall, data_url_size

SCREEN = Size(1920, 1080)
FAMILY = get_family("qwen2.5-vl-computer")


def reply_for(action, thought: str = "") -> str:
    """What Qwen2.5-VL would write for a device-space action on this screen."""
    return FAMILY.format_action(FAMILY.mapping(SCREEN).to_model(action), thought=thought or None)


def test_a_scripted_model_fills_the_form_and_finishes(tk_recorder, desktop_env, scripted_server, tmp_path) -> None:
    entry = tk_recorder.center("entry")
    ok = tk_recorder.center("ok")
    scripted_server.script = [
        reply_for(Click(x=entry[0], y=entry[1]), "Focus the text field."),
        reply_for(Type(text="héllo ")),
        reply_for(Key(keys=["shift"])),
        reply_for(Type(text="wörld ✓")),
        reply_for(Click(x=ok[0], y=ok[1]), "Press OK."),
        reply_for(Terminate(status="success")),
    ]
    backend = OpenAICompatibleBackend("scripted-qwen", scripted_server.url, retry_wait=0.01)
    agent = Agent(desktop_env, backend, FAMILY, AgentConfig(max_steps=10, out_dir=tmp_path))
    trajectory = agent.run("Write héllo wörld ✓ in the field and press OK")

    assert trajectory.status == "success", trajectory.run.reason
    assert tk_recorder.wait_for_text("héllo wörld ✓") == "héllo wörld ✓"
    tk_recorder.wait_for(lambda e: e["type"] == "button")
    assert [e["name"] for e in tk_recorder.events("button")] == ["ok"]  # the OK button was pressed, once
    # The server saw each screenshot at the smart_resize size, with the history growing as text.
    assert len(scripted_server.requests) == 6
    for body in scripted_server.requests:
        image = [p for p in body["messages"][1]["content"] if p["type"] == "image_url"]
        assert len(image) == 1 and data_url_size(image[0]["image_url"]["url"]) == (1932, 1092)
    last_text = scripted_server.requests[-1]["messages"][1]["content"][0]["text"]
    assert "Step 1: " in last_text and "Step 5: " in last_text and "left_click" in last_text

    # Everything is on disk and reads back.
    loaded = Trajectory.load(trajectory.folder)
    assert loaded.run.status == "success" and len(loaded.steps) == 6
    first = loaded.steps[0]
    assert (loaded.folder / first.screenshot).exists()
    assert first.actions_device == [{"type": "click", "x": entry[0], "y": entry[1]}]
    assert first.thought == "Focus the text field."
    assert set(first.timings) >= {"capture", "preprocess", "model", "parse", "act", "settle"}
    assert first.prompt_tokens and first.estimated_prompt_tokens
    assert first.prompt[0]["role"] == "system" and first.prompt[1]["content"][1]["type"] == "image"


def test_garbage_replies_go_back_to_the_model_then_end_the_run(desktop_env, scripted_server, tmp_path) -> None:
    scripted_server.script = [
        "I am thinking about it.",
        '<tool_call>{"name": "computer_use", "arguments": {"action": "fly"}}</tool_call>',
        "still nothing",
    ]
    backend = OpenAICompatibleBackend("scripted", scripted_server.url, retry_wait=0.01)
    trajectory = Agent(desktop_env, backend, FAMILY, AgentConfig(max_invalid_replies=3, out_dir=tmp_path)).run("x")
    assert trajectory.status == "failure" and "3 replies in a row" in trajectory.run.reason
    steps = Trajectory.load(trajectory.folder).steps
    assert [s.error.type for s in steps] == ["ActionParseError"] * 3
    assert all(s.error.sent_to_model for s in steps)
    second_request = scripted_server.requests[1]["messages"][1]["content"][-1]["text"]
    assert "Your previous reply was not a valid action: no tool call found" in second_request


def test_dry_run_decides_and_draws_but_never_touches_the_device(
    tk_recorder, desktop_env, scripted_server, tmp_path
) -> None:
    entry = tk_recorder.center("entry")
    scripted_server.script = [reply_for(Click(x=entry[0], y=entry[1])), reply_for(Terminate())]
    backend = OpenAICompatibleBackend("scripted", scripted_server.url, retry_wait=0.01)
    trajectory = Agent(desktop_env, backend, FAMILY, AgentConfig(dry_run=True, out_dir=tmp_path)).run("x")
    assert trajectory.status == "success"
    time.sleep(0.3)
    assert tk_recorder.events("click") == [] and tk_recorder.events("press") == []
    drawn = trajectory.folder / "step-0001.dry-run.png"
    assert drawn.exists()
    from PIL import Image

    with Image.open(drawn) as image:
        red, green, blue = image.getpixel((entry[0], entry[1]))
        assert red > 200 and green < 80  # the marker's centre dot


def test_server_errors_are_retried_and_a_dead_server_ends_the_run_with_everything_recorded(
    desktop_env, scripted_server, tmp_path
) -> None:
    scripted_server.script = [Fail(500), Fail(500), reply_for(Key(keys=["shift"])), *[Stall(2.0)] * 3]
    backend = OpenAICompatibleBackend("scripted", scripted_server.url, timeout=0.5, max_attempts=3, retry_wait=0.01)
    trajectory = Agent(desktop_env, backend, FAMILY, AgentConfig(out_dir=tmp_path)).run("x")
    assert trajectory.status == "error" and "ModelUnavailable" in trajectory.run.reason
    loaded = Trajectory.load(trajectory.folder)
    assert loaded.run.status == "error" and loaded.run.finished_at
    assert len(loaded.steps) == 2
    assert loaded.steps[0].error is None and loaded.steps[0].actions_device == [{"type": "key", "keys": ["shift"]}]
    assert loaded.steps[1].error.type == "ModelUnavailable" and loaded.steps[1].screenshot


def test_a_run_killed_mid_step_leaves_a_readable_trajectory(xvfb, scripted_server, tmp_path) -> None:
    scripted_server.script = [reply_for(Key(keys=["shift"])), reply_for(Key(keys=["ctrl"])), Stall(60.0)]
    command = [
        sys.executable,
        "-m",
        "guiagent.agent.cli",
        "run",
        "press keys",
        "--device",
        "desktop",
        "--base-url",
        scripted_server.url,
        "--model",
        "Qwen2.5-VL-scripted",
        "--out",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(scripted_server.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(scripted_server.requests) == 3, process.stderr.read().decode() if process.poll() is not None else ""
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    folders = list(tmp_path.iterdir())
    assert len(folders) == 1
    loaded = Trajectory.load(folders[0])
    assert loaded.run.status == "running"  # it never got to say how it ended
    assert [s.actions_device for s in loaded.steps] == [
        [{"type": "key", "keys": ["shift"]}],
        [{"type": "key", "keys": ["ctrl"]}],
    ]
    assert all((folders[0] / s.screenshot).exists() for s in loaded.steps)
    assert json.loads((folders[0] / "run.json").read_text())["task"] == "press keys"
