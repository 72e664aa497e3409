"""``guiagent run --time-limit`` holds inside a step: a stalled or failing model server, or a long ``wait``,
ends the run ``timeout`` at the limit, with the cut step recorded.

Real parts: the CLI in a subprocess (as a user runs it, and so a run that overruns is killed by the test's own
timeout instead of hanging the suite), the embedded virtual phone behind the real adb server, and the real
HTTP server fixture stalling or failing as scripted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Terminate, Wait
from guiagent.agent.trajectory import Trajectory
from tests.fixtures.openai_server import Fail, Stall

FAMILY = get_family("qwen2.5-vl-mobile")
PHONE = Size(1080, 2400)
SLACK = 3.0
"""Seconds a run may end after its limit: the step in progress is recorded, the device closed (shared CPUs)."""


def say(action) -> str:
    return FAMILY.format_action(FAMILY.mapping(PHONE).to_model(action))


def run_cli(adb_port: int, url: str, out: Path, *flags: str) -> Trajectory:
    """``guiagent run`` on the embedded virtual phone; the run folder it wrote, read back."""
    command = [sys.executable, "-m", "guiagent.agent.cli", "run", "Open Settings", "--device", "virtual"]
    command += ["--base-url", url, "--model", "Qwen/Qwen2.5-VL-7B-Instruct", "--out", str(out), *flags]
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_port)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, result.stderr
    return Trajectory.load(folders[0])


def duration(trajectory: Trajectory) -> float:
    run = json.loads((trajectory.folder / "run.json").read_text(encoding="utf-8"))
    return run["finished_at"] - run["started_at"]


@pytest.mark.parametrize(
    ("script", "flags", "cut"),
    [
        # one request that outlasts the limit: the attempt's timeout (120 s) is capped by the time left
        ([Stall(20.0, say(Terminate()))], ["--time-limit", "3"], ""),
        # every attempt times out: the retries (4 x 1 s plus backoff, 7.5 s) stop at the limit
        ([Stall(1.5, say(Terminate()))] * 6, ["--time-limit", "2.5", "--timeout", "1"], "no answer within 1 s"),
        # 500s: the backoff between attempts (0.5 + 1 + 2 s) is cut at the limit
        ([Fail(500)] * 6, ["--time-limit", "2"], "HTTP 500"),
    ],
    ids=["stall", "timeouts-retried", "errors-retried"],
)
def test_a_model_request_ends_at_the_time_limit(adb_server, scripted_server, tmp_path, script, flags, cut) -> None:
    scripted_server.script = list(script)
    limit = float(flags[1])
    trajectory = run_cli(adb_server.port, scripted_server.url, tmp_path, *flags)

    assert trajectory.status == "timeout", trajectory.run.reason
    assert "time limit of" in trajectory.run.reason and "waiting for the model" in trajectory.run.reason
    assert duration(trajectory) < limit + SLACK
    (step,) = trajectory.steps  # the cut step is recorded, screenshot and all
    assert step.error is not None and step.error.type == "DeadlineReached"
    assert cut in step.error.message and step.screenshot and (trajectory.folder / step.screenshot).exists()


def test_a_long_wait_is_cut_to_the_time_left(adb_server, scripted_server, tmp_path) -> None:
    scripted_server.script = [say(Wait(seconds=600)), say(Terminate())]
    trajectory = run_cli(adb_server.port, scripted_server.url, tmp_path, "--time-limit", "3")

    assert trajectory.status == "timeout", trajectory.run.reason
    assert duration(trajectory) < 3 + SLACK
    (step,) = trajectory.steps
    assert step.actions_device == [{"type": "wait", "seconds": 600.0}] and step.executed == 1
    assert any(note.startswith("wait of 600 s cut to ") for note in step.notes), step.notes
    assert len(scripted_server.requests) == 1  # no step started after the limit
