"""A screenshot that cannot be saved is never silently lost: it is recorded in a step line, and the run ends as an
error naming the file.

The fault is a file that cannot be created: a folder already sits where ``step-0002.png`` must go (what a full
disk or an unwritable folder does to ``Image.save``, reproducible as any user, root included). Real parts: the
real ``TrajectoryWriter`` on real files (background saves, as replays use), and the agent loop driving the
virtual phone behind the real adb server with the scripted HTTP model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PIL import Image

from guiagent.actions.errors import TrajectoryError
from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, Terminate
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.loop import Agent
from guiagent.agent.records import RunRecord, StepRecord
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory, TrajectoryWriter
from guiagent.envs.android import AndroidEnv

MOBILE = get_family("qwen2.5-vl-mobile")
PHONE = Size(1080, 2400)


def _block(folder: Path, name: str) -> None:
    """Make ``folder/name`` a file that cannot be created."""
    (folder / name).mkdir(parents=True)


def _step(index: int, screenshot: str) -> StepRecord:
    return StepRecord(index=index, started_at=time.time(), screenshot=screenshot)


def test_a_failed_background_save_is_raised_at_the_next_write_after_being_recorded(tmp_path) -> None:
    folder = tmp_path / "run"
    writer = TrajectoryWriter(folder, RunRecord(id="r", task="t", started_at=time.time()), background_images=True)
    _block(folder, "step-0002.png")
    frame = Image.new("RGB", (108, 240), "white")

    writer.append(_step(1, writer.save_screenshot(1, frame)))
    with pytest.raises(TrajectoryError, match=r"step-0002\.png") as caught:
        for index in range(2, 50):  # the save runs on a worker thread: it surfaces at a write soon after
            writer.append(_step(index, writer.save_screenshot(index, frame)))
            time.sleep(0.02)
    assert "could not save" in str(caught.value) and str(folder) in str(caught.value)
    writer.finish("error", f"TrajectoryError: {caught.value}")

    steps = Trajectory.load(folder).steps
    noted = [s for s in steps if any("step-0002.png was not saved" in note for note in s.notes)]
    assert len(noted) == 1, "recorded in the step line written when it was found"
    assert noted[0].index == steps[-1].index >= 2, "that line was written before the error was raised"
    if noted[0].index == 2:  # found before its own line was written: that line names no missing file
        assert steps[1].screenshot is None


def test_a_failed_background_save_found_only_at_finish_ends_the_run_as_error(tmp_path) -> None:
    folder = tmp_path / "run"
    writer = TrajectoryWriter(folder, RunRecord(id="r", task="t", started_at=time.time()), background_images=True)
    _block(folder, "step-0002.png")
    frame = Image.new("RGB", (108, 240), "white")
    writer.append(_step(1, writer.save_screenshot(1, frame)))
    writer.save_screenshot(2, frame)  # the run ends before any later write could notice the failure

    record = writer.finish("success", "the model said done")

    saved = json.loads((folder / "run.json").read_text())
    assert record.status == saved["status"] == "error", saved
    assert "step-0002.png" in saved["reason"] and "the model said done" in saved["reason"], saved["reason"]
    assert "success" in saved["reason"], "the reason still says how the run itself ended"


def test_the_agent_records_a_screenshot_it_could_not_save_and_ends_as_error(
    virtual_phone, adb_server, scripted_server, tmp_path
) -> None:
    class BlockSecondScreenshot(AgentHooks):
        def run_started(self, run: RunRecord, folder: Path) -> None:
            _block(folder, "step-0002.png")

    tap = MOBILE.format_action(MOBILE.mapping(PHONE).to_model(Click(x=540, y=1200)))
    scripted_server.script = [tap, tap, MOBILE.format_action(Terminate())]
    backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", scripted_server.url, retry_wait=0.01)
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as env:
        agent = Agent(env, backend, MOBILE, AgentConfig(out_dir=tmp_path, settle=False), hooks=BlockSecondScreenshot())
        trajectory = agent.run("Tap the middle twice")

    assert trajectory.status == "error", trajectory.run.reason
    assert "TrajectoryError" in trajectory.run.reason and "step-0002.png" in trajectory.run.reason
    steps = Trajectory.load(trajectory.folder).steps
    assert [s.index for s in steps] == [1, 2], "the step whose screenshot failed is on disk; no step ran after it"
    assert steps[0].screenshot == "step-0001.png" and (trajectory.folder / "step-0001.png").is_file()
    assert steps[1].screenshot is None, "no step names a screenshot that is not there"
    assert any("step-0002.png" in note and "not saved" in note for note in steps[1].notes), steps[1].notes
    assert steps[1].executed == 1, "the tap itself happened and is recorded"
