"""The trust model of task files and run folders, made coherent.

* A task file is code (``python:`` checks, ``start:`` programs), so a suite may ship its own checks module next
  to its YAML; importing it changes neither ``sys.path`` nor the modules other suites see.
* A suite is a folder: its name (which names a results folder) and the task files it lists stay inside it.
* A run folder's recorded ``screenshot`` fields name files of that folder, never ``../``, an absolute path or a
  symlink out: ``guiagent report`` and ``guiagent replay`` both refuse such a run with a typed error.

Real parts: task and suite files on disk, the virtual phone behind the real adb server for the checks, the real
``TrajectoryWriter`` for run folders, and the CLI as users type it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from guiagent.actions.errors import TaskFileError, TrajectoryError
from guiagent.agent.cli import main
from guiagent.agent.records import RunRecord, StepRecord
from guiagent.agent.trajectory import Trajectory, TrajectoryWriter
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.checks import CheckContext, evaluate
from guiagent.tasks.suite import load_suite

# --- a suite's own checks module ------------------------------------------------------------------------

CHECKS = """
from . import helpers


def wifi_is(context, value):
    output = context.env.query(["settings", "get", "global", "wifi_on"]).strip()
    return output == value, helpers.describe(output)
"""
HELPERS = "def describe(output):\n    return 'wifi_on is ' + output\n"


def _suite_with_checks(folder: Path, verdict: str) -> Path:
    """A suite folder shipping ``suite_checks.py`` (and a helper it imports) next to its task file."""
    folder.mkdir()
    (folder / "suite_checks.py").write_text(CHECKS)
    (folder / "helpers.py").write_text(HELPERS)
    (folder / "only-task.yaml").write_text(
        "id: only-task\ngoal: Look at Wi-Fi\nsuccess:\n"
        f"  - python: suite_checks:wifi_is\n    args: {{value: '{verdict}'}}\n"
    )
    return folder


@pytest.fixture
def env(virtual_phone, adb_server):
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as android:
        yield android


def test_a_suite_ships_its_own_checks_module_next_to_its_yaml(env, tmp_path) -> None:
    path_before, modules_before = list(sys.path), set(sys.modules)
    suite = load_suite(_suite_with_checks(tmp_path / "mine", "1"))  # the virtual phone starts with Wi-Fi on
    (task,) = suite.tasks

    (result,) = evaluate(list(task.success), CheckContext(env, None, task.folder))

    assert result.passed, result.detail
    assert result.detail == "wifi_on is 1"
    assert sys.path == path_before, "sys.path is as it was"
    leaked = {m for m in set(sys.modules) - modules_before if m.split(".")[0] in ("suite_checks", "helpers")}
    assert not leaked, f"the suite's modules are not importable by their bare names elsewhere: {leaked}"


def test_two_suites_with_a_checks_module_of_the_same_name_each_get_their_own(env, tmp_path) -> None:
    wifi_on = load_suite(_suite_with_checks(tmp_path / "expects-on", "1")).tasks[0]
    wifi_off = load_suite(_suite_with_checks(tmp_path / "expects-off", "0")).tasks[0]

    (on,) = evaluate(list(wifi_on.success), CheckContext(env, None, wifi_on.folder))
    (off,) = evaluate(list(wifi_off.success), CheckContext(env, None, wifi_off.folder))

    assert on.passed and not off.passed, (on, off)


def test_an_installed_module_is_still_found_when_the_suite_has_none_of_that_name(env, tmp_path) -> None:
    folder = tmp_path / "installed"
    folder.mkdir()
    (folder / "t.yaml").write_text(
        "id: t\ngoal: x\nsuccess:\n  - python: guiagent.tasks.todo_app:check_item\n    args: {text: nothing}\n"
    )
    (task,) = load_suite(folder).tasks
    (result,) = evaluate(list(task.success), CheckContext(env, None, task.folder))
    assert "could not run: ModuleNotFoundError" not in result.detail, result.detail


# --- suites stay inside their folder --------------------------------------------------------------------

TASK = "id: {id}\ngoal: x\nsuccess:\n  - text_on_screen: x\n"


@pytest.mark.parametrize(
    "name", ["../../escape", "/tmp/escape", "..", "nightly/../../escape", "C:\\escape", "\\\\host\\share"]
)
def test_a_suite_name_that_would_lead_out_of_its_results_folder_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "suite.yaml").write_text(
        f"name: {json.dumps(name)}\ntasks:\n  - {{id: a, goal: x, success: [{{answer_contains: y}}]}}\n"
    )
    with pytest.raises(TaskFileError, match=r"line 1: field name: .*would lead out of the results folder") as caught:
        load_suite(tmp_path / "suite.yaml")
    assert caught.value.field == "name" and caught.value.line == 1


def test_a_suite_name_in_words_is_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_text(
        "name: 'nightly [/b] phone: v2.0'\ntasks:\n  - {id: a, goal: x, success: [{answer_contains: y}]}\n"
    )
    assert load_suite(tmp_path / "suite.yaml").name == "nightly [/b] phone: v2.0"


def test_a_listed_task_file_outside_the_suite_folder_is_refused(tmp_path: Path) -> None:
    suite_folder = tmp_path / "suite"
    suite_folder.mkdir()
    (tmp_path / "outside.yaml").write_text(TASK.format(id="outside"))
    (suite_folder / "inside.yaml").write_text(TASK.format(id="inside"))
    (suite_folder / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    for entry in ("../outside.yaml", str(tmp_path / "outside.yaml"), "link.yaml"):
        (suite_folder / "suite.yaml").write_text(f"name: s\ntasks:\n  - inside.yaml\n  - {entry}\n")
        with pytest.raises(TaskFileError, match=r"line 4: field tasks.1: .*outside the suite's folder") as caught:
            load_suite(suite_folder / "suite.yaml")
        assert caught.value.field == "tasks.1" and caught.value.line == 4, entry
    (suite_folder / "suite.yaml").write_text("name: s\ntasks:\n  - inside.yaml\n")
    assert [t.id for t in load_suite(suite_folder / "suite.yaml").tasks] == ["inside"]


def test_a_folder_suite_refuses_a_task_file_symlinked_from_outside(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text(TASK.format(id="outside"))
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "inside.yaml").write_text(TASK.format(id="inside"))
    (folder / "sneaky.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(TaskFileError, match=r"sneaky.yaml: .*outside the suite's folder"):
        load_suite(folder)


def test_eval_refuses_a_suite_whose_name_would_put_results_outside_eval_results(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "suite.yaml").write_text(
        "name: ../../escaped\ntasks:\n  - {id: a, goal: x, success: [{answer_contains: y}]}\n"
    )
    argv = [
        "eval",
        "suite.yaml",
        "--device",
        "virtual",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "Qwen/Qwen2-VL",
    ]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "field name" in err, err
    assert not [p for p in tmp_path.rglob("*") if "escaped" in p.name], "nothing was written for that suite"


# --- run folders: recorded screenshots are files of that folder -----------------------------------------


def _run_folder(folder: Path, screenshot: str) -> Path:
    """A finished run of one step whose recorded screenshot field is ``screenshot``."""
    record = RunRecord(id="r", task="look", started_at=time.time())
    with TrajectoryWriter(folder, record) as writer:
        writer.save_screenshot(1, Image.new("RGB", (64, 128), "white"))
        writer.append(StepRecord(index=1, started_at=time.time(), screenshot=screenshot))
        writer.finish("success", "done")
    return folder


@pytest.fixture
def private_image(tmp_path: Path) -> Path:
    """An image outside every run folder, which no report may embed."""
    path = tmp_path / "private" / "secret.png"
    path.parent.mkdir()
    Image.new("RGB", (32, 32), "red").save(path)
    return path


def test_a_recorded_screenshot_outside_the_run_folder_is_refused_on_load(tmp_path, private_image) -> None:
    for name in ("../private/secret.png", str(private_image), "sub/../../private/secret.png"):
        folder = _run_folder(tmp_path / f"run-{abs(hash(name))}", name)
        with pytest.raises(TrajectoryError, match=r"steps.jsonl:1: field screenshot") as caught:
            Trajectory.load(folder)
        assert caught.value.line == 1 and "not a file of this run folder" in str(caught.value)


def test_a_recorded_screenshot_that_is_a_symlink_out_of_the_run_folder_is_refused(tmp_path, private_image) -> None:
    folder = _run_folder(tmp_path / "run", "step-0001.png")
    (folder / "step-0001.png").unlink()
    (folder / "step-0001.png").symlink_to(private_image)
    with pytest.raises(TrajectoryError, match=r"steps.jsonl:1: field screenshot .*symlink"):
        Trajectory.load(folder)
    assert Trajectory.load(_run_folder(tmp_path / "fine", "step-0001.png")).steps[0].screenshot == "step-0001.png"


def test_report_and_replay_refuse_a_run_whose_screenshot_points_outside(tmp_path, private_image, capsys) -> None:
    folder = _run_folder(tmp_path / "run", "../private/secret.png")

    assert main(["report", str(folder)]) == 2
    assert "field screenshot" in capsys.readouterr().err
    assert not (folder / "report.html").exists(), "no report embedding an outside image was written"

    assert main(["replay", str(folder), "--device", "virtual", "--out", str(tmp_path / "replays")]) == 2
    assert "field screenshot" in capsys.readouterr().err
    assert not (tmp_path / "replays").exists()
