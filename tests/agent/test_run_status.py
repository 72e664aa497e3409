"""How a run ends is recorded truthfully: a crash is an ``error``, a device that cannot do an action is feedback.

Real parts: the virtual phone behind the real adb server, the scripted HTTP model, trajectories on disk. The one
stand-in is a backend that raises, which is the fault being injected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import OpenApp, RightClick, Terminate
from guiagent.agent.backends.base import ModelBackend, ModelReply, ModelRequest
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv
from tests.fixtures.openai_server import request_text

PHONE = Size(1080, 2400)
MOBILE = get_family("qwen2.5-vl-mobile")
COMPUTER = get_family("qwen2.5-vl-computer")  # speaks right_click, which a phone has no way to do


@pytest.fixture
def env(virtual_phone, adb_server):
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as android:
        yield android


class CrashingBackend(ModelBackend):
    """Answers once with a valid action, then fails with a bug-like exception (not a guiagent error)."""

    model_id = "crashing"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request: ModelRequest) -> ModelReply:
        self.calls += 1
        if self.calls == 1:
            return ModelReply(MOBILE.format_action(MOBILE.mapping(PHONE).to_model(OpenApp(name="Notes"))))
        raise RuntimeError("backend exploded mid-run")


def test_a_backend_raising_runtime_error_ends_the_run_as_error_and_propagates(env, tmp_path) -> None:
    agent = Agent(env, CrashingBackend(), MOBILE, AgentConfig(max_steps=5, out_dir=tmp_path, settle=False))
    with pytest.raises(RuntimeError, match="backend exploded"):
        agent.run("Open Notes")
    (folder,) = [p for p in Path(tmp_path).iterdir() if p.is_dir()]
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "error", run
    assert run["reason"] == "RuntimeError: backend exploded mid-run"
    assert run["finished_at"] is not None
    steps = Trajectory.load(folder).steps
    assert [s.executed for s in steps] == [1, 0]  # the first step happened; the crashing one is recorded too
    assert steps[1].error is not None and steps[1].error.type == "RuntimeError"
    assert steps[1].error.message == "backend exploded mid-run" and not steps[1].error.sent_to_model


def test_an_action_the_phone_cannot_perform_goes_back_to_the_model(env, virtual_phone, scripted_server, tmp_path):
    scripted_server.script = [
        COMPUTER.format_action(COMPUTER.mapping(PHONE).to_model(RightClick(x=540, y=1200))),
        COMPUTER.format_action(COMPUTER.mapping(PHONE).to_model(Terminate())),
    ]
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    trajectory = Agent(env, backend, COMPUTER, AgentConfig(out_dir=tmp_path, settle=False)).run("x")

    assert trajectory.status == "success", trajectory.run.reason
    first = trajectory.steps[0]
    assert first.executed == 0
    assert first.error is not None and first.error.type == "UnsupportedAction" and first.error.sent_to_model
    assert "right_click" in first.error.message
    told = request_text(scripted_server.requests[1])
    assert "a phone has no right_click" in told
    assert not any(argv[:1] == ["input"] for argv in virtual_phone.phone.executed)
