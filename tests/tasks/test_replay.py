"""Replaying the bundled 15-step run on virtual phones: as recorded, with the layout shifted, and re-grounded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from guiagent.actions.errors import TrajectoryError
from guiagent.actions.families import get_family
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.demo import PlanBackend, bundled_run
from guiagent.tasks.replay import Regrounder, ReplayConfig, replay, screen_difference
from tests.fixtures.damaged_images import damaged_image
from tests.fixtures.openai_server import request_text


def test_the_bundled_run_replays_and_the_phone_ends_in_the_recorded_state(virtual_phone, adb_server, tmp_path) -> None:
    recorded = Trajectory.load(bundled_run())
    assert len(recorded.steps) >= 10 and recorded.status == "success"
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as env:
        replayed = replay(bundled_run(), env, tmp_path)
    assert replayed.status == "success", replayed.run.reason
    assert replayed.run.kind == "replay" and replayed.run.source == str(bundled_run().resolve())
    assert len(replayed.steps) == len(recorded.steps)
    state = virtual_phone.phone.state
    assert state.notes[0] == "Buy oat milk"
    assert ("me", "On my way") in state.conversations["Bob Smith"]
    assert state.wifi_on is False
    # Each step was checked against the recorded screen before acting, and recorded as a trajectory.
    assert all(s.notes[0].startswith("screen difference") and s.error is None for s in replayed.steps)
    assert [s.actions_device for s in replayed.steps] == [s.actions_device for s in recorded.steps]


def test_a_shifted_layout_stops_at_the_first_diverging_step_with_a_report(virtual_phone_factory, adb_server, tmp_path):
    connected = virtual_phone_factory(layout_shift=120)
    with AndroidEnv(connected.serial, adb_port=adb_server.port) as env:
        replayed = replay(bundled_run(), env, tmp_path, ReplayConfig(wait=1.0))
    assert replayed.status == "failure"
    last = replayed.steps[-1]
    assert last.error is not None and last.error.type == "ReplayDivergence"
    index = last.index
    assert index == 1, "the shift moves the home screen's icons already"
    assert f"step {index}: the screen differs from the recording by" in replayed.run.reason
    assert "around (" in replayed.run.reason and "Open the Notes app." in replayed.run.reason
    for suffix in ("expected", "actual", "diff"):
        with Image.open(replayed.folder / f"step-{index:04d}.{suffix}.png") as image:
            assert image.size == (1080, 2400)
    # Nothing was done on the diverged screen: the recorded step never reached the phone.
    assert connected.phone.state.package == "com.android.launcher3"
    assert not any(argv[:1] in (["input"], ["monkey"]) for argv in connected.phone.executed)


def test_a_scripted_model_regrounds_the_shifted_steps_and_finishes(
    virtual_phone_factory, adb_server, scripted_server, tmp_path
):
    connected = virtual_phone_factory(layout_shift=120)
    follower = PlanBackend(connected.phone, [])
    scripted_server.script = [lambda body: follower.reply_to(request_text(body))]
    scripted_server.repeat_last = True
    family = get_family("qwen2.5-vl-mobile")
    backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", scripted_server.url, retry_wait=0.01)
    with AndroidEnv(connected.serial, adb_port=adb_server.port) as env:
        replayed = replay(bundled_run(), env, tmp_path, ReplayConfig(wait=0.5), Regrounder(backend, family))
    assert replayed.status == "success", replayed.run.reason
    regrounded = [s for s in replayed.steps if any(n.startswith("re-grounded") for n in s.notes)]
    assert regrounded and len(scripted_server.requests) == len(regrounded)
    recorded = {s.index: s for s in Trajectory.load(bundled_run()).steps}
    moved = [
        s
        for s in regrounded
        if s.actions_device[0]["type"] == "click" and s.actions_device != recorded[s.index].actions_device
    ]
    assert {s.index for s in moved} >= {4, 8, 14}  # Save, To, Wi-Fi: the targets the shift moved
    assert all(s.actions_device[0]["y"] - recorded[s.index].actions_device[0]["y"] == 120 for s in moved)
    state = connected.phone.state
    assert state.notes[0] == "Buy oat milk" and state.wifi_on is False


def _damage_third_screenshot(folder: Path, how: str) -> Path:
    """Damage step 3's screenshot (steps 1 and 2 would act before replay reached it); returns its path."""
    path = folder / "step-0003.webp"
    raw = path.read_bytes()
    path.unlink()
    if how == "folder":
        path.mkdir()
    elif how == "not recorded":
        steps = folder / "steps.jsonl"
        lines = [json.loads(line) for line in steps.read_text(encoding="utf-8").splitlines()]
        lines[2]["screenshot"] = None
        steps.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    elif how != "deleted":
        path.write_bytes(damaged_image(raw, how))
    return path


@pytest.mark.parametrize("how", ["folder", "empty", "text", "cut", "bomb", "deleted", "not recorded"])
def test_a_damaged_screenshot_refuses_the_recording_before_the_first_action(
    virtual_phone, adb_server, tmp_path, how: str
) -> None:
    folder = shutil.copytree(bundled_run(), tmp_path / "recorded")
    path = _damage_third_screenshot(folder, how)
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as env:
        with pytest.raises(TrajectoryError) as refused:
            replay(folder, env, tmp_path / "replays", ReplayConfig(wait=1.0))
    message = str(refused.value)
    assert "\n" not in message and ("step 3" in message or str(path) in message), message
    assert not any(argv[:1] in (["input"], ["monkey"], ["am"]) for argv in virtual_phone.phone.executed)
    assert not (tmp_path / "replays").exists()  # refused before a replay folder was written


def test_screen_difference_is_resolution_independent() -> None:
    image = Image.new("RGB", (1080, 2400), "white")
    image.paste((0, 0, 0), (100, 1000, 500, 1200))
    same, box = screen_difference(image.resize((540, 1200)), image)
    assert same < 0.01
    moved = Image.new("RGB", (1080, 2400), "white")
    moved.paste((0, 0, 0), (100, 1120, 500, 1320))
    difference, box = screen_difference(image, moved)
    assert difference > 0.01 and box is not None
    left, top, right, bottom = box
    assert left <= 100 + 10 and right >= 500 - 10 and top <= 1000 + 10 and bottom >= 1320 - 10


def test_demo_command_from_a_subprocess(adb_server, tmp_path) -> None:
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port)}
    result = subprocess.run(
        [sys.executable, "-m", "guiagent.agent.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = result.stdout.strip().splitlines()[-1]
    assert report.endswith("report.html") and os.path.exists(report)
    assert "success: replayed 15 steps" in result.stderr
    html = open(report, encoding="utf-8").read()
    assert (
        html.count('<figure class="shot"') == 15 and html.count('class="action click"') == 7
    )  # a screenshot per step, a marker per tap
