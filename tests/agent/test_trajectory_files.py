"""Run folders and suite results on disk: durable when written, and never silently short when read back.

The writer and reader are the real ones, on real files. ``os.fsync`` is observed (each call still goes through to
the kernel) because durability cannot be seen any other way short of pulling the power.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from guiagent.actions.errors import GuiAgentError
from guiagent.agent.records import RunRecord, StepRecord
from guiagent.agent.trajectory import STEPS_FILE, Trajectory, TrajectoryWriter
from guiagent.tasks.runner import SuiteRun, TaskResult
from guiagent.tasks.suite import Suite


def write_run(folder: Path, steps: int = 3) -> Path:
    with TrajectoryWriter(folder, RunRecord(id="r", task="t", started_at=time.time())) as writer:
        for index in range(1, steps + 1):
            writer.append(StepRecord(index=index, started_at=time.time(), timings={"act": 0.1, "capture": 0.2}))
        writer.finish("success", "done")
    return folder


def test_a_bad_line_before_the_last_is_a_typed_error_naming_the_file_and_line(tmp_path) -> None:
    folder = write_run(tmp_path / "run")
    path = folder / STEPS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = '{"index": 2, "started_at": "not a time"}\n'
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(GuiAgentError) as caught:
        Trajectory.load(folder)
    error = caught.value
    assert getattr(error, "path", None) == str(path) and getattr(error, "line", None) == 2
    assert f"{path}:2" in str(error) and "started_at" in str(error)


def test_an_undecodable_line_in_the_middle_is_refused_too(tmp_path) -> None:
    folder = write_run(tmp_path / "run")
    path = folder / STEPS_FILE
    data = path.read_bytes().split(b"\n")
    data[0] = data[0].replace(b'"index"', b'"ind\xff\xfeex"')
    path.write_bytes(b"\n".join(data))
    with pytest.raises(GuiAgentError) as caught:
        Trajectory.load(folder)
    assert getattr(caught.value, "line", None) == 1


def test_only_a_half_written_last_line_is_skipped(tmp_path) -> None:
    folder = write_run(tmp_path / "run")
    path = folder / STEPS_FILE
    whole = path.read_bytes()
    cut = whole[: len(whole) - 40]  # the last line lost its end (and its newline): a write cut short
    path.write_bytes(cut)
    loaded = Trajectory.load(folder)
    assert [s.index for s in loaded.steps] == [1, 2] and loaded.skipped_lines == 1
    # A last line that was written whole (it has its newline) but is not a step is damage, not a cut.
    path.write_bytes(whole + b'{"index": "four"}\n')
    with pytest.raises(GuiAgentError) as caught:
        Trajectory.load(folder)
    assert getattr(caught.value, "line", None) == 4


def test_a_run_json_that_does_not_validate_is_a_typed_error(tmp_path) -> None:
    folder = write_run(tmp_path / "run")
    (folder / "run.json").write_text('{"id": "r"}', encoding="utf-8")
    with pytest.raises(GuiAgentError) as caught:
        Trajectory.load(folder)
    assert str(folder / "run.json") in str(caught.value)


@pytest.fixture
def fsynced(monkeypatch) -> list[str]:
    """Paths of every file or folder fsynced while the test runs (the real fsync still happens)."""
    seen: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


def test_run_json_is_fsynced_with_its_folder_on_every_rewrite(tmp_path, fsynced) -> None:
    folder = (tmp_path / "run").resolve()
    writer = TrajectoryWriter(folder, RunRecord(id="r", task="t", started_at=time.time()))
    fsynced.clear()
    writer.finish("success", "done")
    assert any(Path(p).parent == folder and "run.json" in Path(p).name for p in fsynced), fsynced
    assert str(folder) in fsynced, "the folder must be fsynced so the rename itself is durable"
    assert json.loads((folder / "run.json").read_text(encoding="utf-8"))["status"] == "success"
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_results_json_is_fsynced_with_its_folder(tmp_path, fsynced) -> None:
    out = tmp_path.resolve()
    run = SuiteRun(Suite("s", (), out), out, {"id": "m"}, "qwen2.5-vl-mobile")
    run.add(TaskResult("a", "goal", "virtual", True, "success", "done"))
    assert any(Path(p).parent == out and "results.json" in Path(p).name for p in fsynced), fsynced
    assert str(out) in fsynced
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["results"][0]["task_id"] == "a"


def test_stage_totals_sums_each_stage_in_loop_order() -> None:
    from guiagent.agent.records import stage_totals  # one helper for the runner, the report and the display

    totals = stage_totals([{"act": 1.0, "capture": 0.5}, {"model": 2.0, "act": 0.25, "custom": 1.0}])
    assert totals == {"capture": 0.5, "model": 2.0, "act": 1.25, "custom": 1.0}
    assert list(totals) == ["capture", "model", "act", "custom"]
