"""Run folders and suite results on disk: durable when written, and never silently short when read back.

The writer and reader are the real ones, on real files. ``os.fsync`` is observed (each call still goes through to
the kernel) because durability cannot be seen any other way short of pulling the power.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from guiagent.actions.errors import GuiAgentError, TrajectoryError
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.agent.records import RunRecord, StepRecord, message_json
from guiagent.agent.trajectory import STEPS_FILE, Trajectory, TrajectoryWriter
from guiagent.tasks.runner import SuiteRun, TaskResult
from guiagent.tasks.suite import Suite
from tests.fixtures.damaged_images import damaged_image


def write_run(folder: Path, steps: int = 3, finish: bool = True) -> Path:
    """A run of ``steps`` steps; ``finish=False`` leaves it ``running``, as a SIGKILLed run does."""
    with TrajectoryWriter(folder, RunRecord(id="r", task="t", started_at=time.time())) as writer:
        for index in range(1, steps + 1):
            writer.append(StepRecord(index=index, started_at=time.time(), timings={"act": 0.1, "capture": 0.2}))
        if finish:
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
    folder = write_run(tmp_path / "run", finish=False)  # killed mid-append: the run is still "running"
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


def test_a_cut_last_line_of_a_finished_run_is_damage_not_a_kill(tmp_path) -> None:
    folder = write_run(tmp_path / "run")  # finished "success": every line was written whole before that
    path = folder / STEPS_FILE
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(TrajectoryError) as caught:
        Trajectory.load(folder)
    assert caught.value.line == 3 and f"{path}:3 is cut short" in str(caught.value) and "'success'" in str(caught.value)


def test_a_cut_line_that_run_json_counts_as_written_is_damage(tmp_path) -> None:
    folder = write_run(tmp_path / "run", finish=False)
    run_file = folder / "run.json"
    data = json.loads(run_file.read_text(encoding="utf-8"))
    run_file.write_text(json.dumps({**data, "steps": 3}), encoding="utf-8")  # step 3 was written in full
    path = folder / STEPS_FILE
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(TrajectoryError, match=r"steps.jsonl:3 is cut short \(run.json records 3 steps"):
        Trajectory.load(folder)


@pytest.mark.parametrize("name", ["run.json", STEPS_FILE])
def test_a_folder_in_place_of_a_run_file_is_a_typed_error(tmp_path, name) -> None:
    folder = write_run(tmp_path / "run")
    (folder / name).unlink()
    (folder / name).mkdir()
    with pytest.raises(TrajectoryError) as caught:
        Trajectory.load(folder)
    assert caught.value.path == str(folder / name) and "is not a file" in str(caught.value)


def test_a_run_file_that_is_a_symlink_out_of_the_folder_is_refused(tmp_path) -> None:
    folder = write_run(tmp_path / "run")
    elsewhere = tmp_path / "elsewhere.jsonl"
    (folder / STEPS_FILE).rename(elsewhere)
    (folder / STEPS_FILE).symlink_to(elsewhere)
    with pytest.raises(TrajectoryError, match="not a file of its run folder"):
        Trajectory.load(folder)


def _step_line(**fields: Any) -> str:
    step = StepRecord(index=1, started_at=time.time(), screen={"width": 1080, "height": 2400, "orientation": 0})
    return json.dumps({**step.model_dump(mode="json"), **fields}) + "\n"


@pytest.mark.parametrize(
    "fields",
    [
        {"started_at": 1e308},  # time.localtime cannot show it (OverflowError in the report)
        {"started_at": -1},
        {"screen": {"width": "abc", "height": 800}},  # int() of it in replay and in the report
        {"screen": {"width": -360, "height": 800}},
        {"screen": {"width": 0, "height": 0}},
        {"screen": {"width": 10**9, "height": 1}},
        {"screen": {"width": 1e308, "height": 800}},
        {"screen": {"width": True, "height": 800}},
        {"screen": {"height": 800}},
        {"model_image": {"width": "x"}},
        {"prompt": [{"role": "user", "content": "[/b]"}]},  # the report walked the content's parts
        {"prompt": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
        {"prompt": [{"role": None, "content": []}]},
        {"prompt": [{"role": "user", "content": ["x"]}]},
        {"timings": {"model": -1.0}},
        {"timings": {"x": 1e308}},
        {"executed": -1},
    ],
)
def test_a_step_field_out_of_its_range_is_refused_on_load(tmp_path, fields: dict[str, Any]) -> None:
    folder = write_run(tmp_path / "run")
    path = folder / STEPS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = _step_line(**fields)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(TrajectoryError) as caught:
        Trajectory.load(folder)
    assert caught.value.line == 1 and next(iter(fields)) in str(caught.value)


@pytest.mark.parametrize("fields", [{"started_at": 1e308}, {"finished_at": -5}, {"steps": -1}])
def test_a_run_field_out_of_its_range_is_refused_on_load(tmp_path, fields: dict[str, Any]) -> None:
    folder = write_run(tmp_path / "run")
    run_file = folder / "run.json"
    run_file.write_text(json.dumps({**json.loads(run_file.read_text(encoding="utf-8")), **fields}), encoding="utf-8")
    with pytest.raises(TrajectoryError, match=next(iter(fields))):
        Trajectory.load(folder)


def test_what_the_agent_records_still_reads_back(tmp_path) -> None:
    """The shapes the loop writes (``message_json`` prompts, screen and model-image sizes) pass the checks."""
    messages = [
        Message.text("system", "You are a phone agent."),
        Message("user", (TextPart("Open Notes"), ImageSlot("current", 1092, 2408))),
    ]
    record = StepRecord(
        index=1,
        started_at=time.time(),
        screenshot="step-0001.png",
        screen={"width": 1080, "height": 2400, "orientation": 0},
        model_image={"width": 1092, "height": 2408, "padded": False},
        prompt=[message_json(m) for m in messages],
        timings={"capture": 0.01, "model": 1.5},
        executed=1,
    )
    with TrajectoryWriter(tmp_path / "run", RunRecord(id="r", task="t", started_at=time.time())) as writer:
        writer.save_screenshot(1, Image.new("RGB", (1080, 2400), "white"))
        writer.append(record)
        writer.finish("success", "done")
    loaded = Trajectory.load(tmp_path / "run")
    assert loaded.steps == [record] and loaded.run.finished_at is not None
    assert loaded.read_screenshot(loaded.steps[0]).size == (1080, 2400)  # type: ignore[union-attr]


def _damage(path: Path, how: str) -> None:
    raw = path.read_bytes()
    path.unlink()
    if how == "folder":
        path.mkdir()
    elif how != "deleted":
        path.write_bytes(damaged_image(raw, how))


@pytest.mark.parametrize("how", ["folder", "empty", "text", "cut", "bomb", "deleted"])
def test_a_damaged_screenshot_reads_as_a_typed_error_naming_it(tmp_path, how: str) -> None:
    with TrajectoryWriter(tmp_path / "run", RunRecord(id="r", task="t", started_at=time.time())) as writer:
        name = writer.save_screenshot(1, Image.new("RGB", (360, 800), "white"))
        writer.append(StepRecord(index=1, started_at=time.time(), screenshot=name))
        writer.finish("success", "done")
    _damage(tmp_path / "run" / name, how)
    loaded = Trajectory.load(tmp_path / "run")
    with pytest.raises(TrajectoryError) as caught:
        loaded.read_screenshot(loaded.steps[0])
    assert caught.value.path == str(tmp_path / "run" / name) and "\n" not in str(caught.value)
    with pytest.raises(TrajectoryError) as checked:  # the check replay makes first, decoding no pixel
        loaded.check_screenshot(loaded.steps[0])
    assert checked.value.path == caught.value.path


def test_a_whole_screenshot_passes_the_check_and_a_step_without_one_says_so(tmp_path) -> None:
    with TrajectoryWriter(tmp_path / "run", RunRecord(id="r", task="t", started_at=time.time())) as writer:
        name = writer.save_screenshot(1, Image.new("RGB", (360, 800), "white"))
        writer.append(StepRecord(index=1, started_at=time.time(), screenshot=name))
        writer.append(StepRecord(index=2, started_at=time.time()))
        writer.finish("success", "done")
    loaded = Trajectory.load(tmp_path / "run")
    assert loaded.check_screenshot(loaded.steps[0]) is True
    assert loaded.check_screenshot(loaded.steps[1]) is False


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


def test_screenshots_are_saved_losslessly_and_read_back_pixel_for_pixel(tmp_path) -> None:
    import numpy as np

    from guiagent.envs.virtual_phone import VirtualPhone

    noise = np.random.default_rng(3).integers(0, 256, (301, 157, 3), dtype=np.uint8)
    images = [VirtualPhone().screenshot(), Image.fromarray(noise)]
    with TrajectoryWriter(tmp_path / "run", RunRecord(id="r", task="t", started_at=time.time())) as writer:
        for index, image in enumerate(images, 1):
            name = writer.save_screenshot(index, image)
            writer.append(StepRecord(index=index, started_at=time.time(), screenshot=name))
        writer.finish("success", "done")
    loaded = Trajectory.load(tmp_path / "run")
    for step, image in zip(loaded.steps, images, strict=True):
        assert (tmp_path / "run" / step.screenshot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[operator]
        back = loaded.read_screenshot(step)
        assert back is not None and back.mode == "RGB" and np.array_equal(np.asarray(back), np.asarray(image))
