"""Task files and suites: shipped suites validate; mistakes name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from guiagent.actions.errors import TaskFileError
from guiagent.tasks.checks import QueryCheck, TextCheck
from guiagent.tasks.spec import load_task
from guiagent.tasks.suite import builtin_suites, load_suite


def test_shipped_suites_load() -> None:
    suites = builtin_suites()
    assert {"virtual-phone", "desktop-example"} <= set(suites)
    phone = load_suite("virtual-phone")
    assert len(phone.tasks) >= 10
    apps = {tag for task in phone.tasks for tag in task.tags}
    assert {"settings", "notes", "messages", "contacts", "calculator", "clock"} <= apps
    desktop = load_suite("desktop-example")
    assert desktop.tasks and all(t.device == "desktop" for t in desktop.tasks)


def test_a_task_file_round_trip(tmp_path: Path) -> None:
    file = tmp_path / "wifi.yaml"
    file.write_text(
        "id: wifi-on\ngoal: Turn on Wi-Fi\nsetup:\n  - settings: {namespace: global, key: wifi_on, value: '0'}\n"
        "  - action: {type: system_button, button: home}\nsuccess:\n  - query: settings get global wifi_on\n"
        "    equals: '1'\n  - text_on_screen: Wi-Fi\n"
    )
    task = load_task(file)
    assert task.id == "wifi-on" and task.max_steps == 20 and task.folder == tmp_path
    assert isinstance(task.success[0], QueryCheck) and task.success[0].query == ["settings", "get", "global", "wifi_on"]
    assert isinstance(task.success[1], TextCheck)


@pytest.mark.parametrize(
    "body, line, field, message",
    [
        ("id: Bad Id\ngoal: x\nsuccess:\n  - text_on_screen: x\n", 1, "id", "lowercase slug"),
        ("id: a\ngoal: x\nsuccess: []\n", 3, "success", "at least 1"),
        (
            "id: a\ngoal: x\nmax_steps: 0\nsuccess:\n  - text_on_screen: x\n",
            3,
            "max_steps",
            "greater than or equal to 1",
        ),
        (
            "id: a\ngoal: x\nsuccess:\n  - text_on_screen: x\n  - query: settings put global wifi_on 1\n    equals: '1'\n",
            5,
            "success.1",
            "not a read-only query",
        ),
        (
            "id: a\ngoal: x\nsetup:\n  - action: {type: click, x: -5, y: 3}\nsuccess:\n  - text_on_screen: x\n",
            4,
            "setup.0",
            ">= 0",
        ),
        ("id: a\ngoal: x\nsuccess:\n  - query: getprop ro.product.model\n", 4, "success.0", "exactly one of"),
        ("id: a\ngoal: x\ncolour: red\nsuccess:\n  - text_on_screen: x\n", 3, "colour", "Extra inputs"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, body: str, line: int, field: str, message: str) -> None:
    file = tmp_path / "task.yaml"
    file.write_text(body)
    with pytest.raises(TaskFileError) as info:
        load_task(file)
    error = info.value
    assert error.path == str(file) and error.line == line, str(error)
    assert error.field.startswith(field) and message in str(error), str(error)
    assert str(error).startswith(f"{file}, line {line}: field {field}")


def test_not_yaml_and_missing_files(tmp_path: Path) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text("id: a\ngoal: [unclosed\n")
    with pytest.raises(TaskFileError, match=r"broken.yaml, line \d+: not valid YAML"):
        load_task(file)
    with pytest.raises(TaskFileError, match="cannot read"):
        load_task(tmp_path / "absent.yaml")
    with pytest.raises(TaskFileError, match="no suite 'nope'"):
        load_suite("nope")


def test_suite_files_list_tasks_inline_or_by_path(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("id: one\ngoal: x\nsuccess:\n  - text_on_screen: x\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: mine\ntasks:\n  - one.yaml\n  - id: two\n    goal: y\n    success:\n      - answer_contains: z\n"
    )
    loaded = load_suite(suite)
    assert loaded.name == "mine" and [t.id for t in loaded.tasks] == ["one", "two"]
    assert [t.id for t in loaded.select(["two"]).tasks] == ["two"]
    with pytest.raises(TaskFileError, match="has no task three"):
        loaded.select(["three"])
    bad = tmp_path / "bad-suite.yaml"
    bad.write_text(
        "tasks:\n  - id: ok\n    goal: y\n    success:\n      - answer_contains: z\n  - id: two\n    goal: y\n"
        "    success:\n      - answer_contains: 5\n        extra: 1\n"
    )
    with pytest.raises(
        TaskFileError, match=r"line 9: field tasks.1.success.0.answer_contains: Input should be a valid string"
    ):
        load_suite(bad)


@pytest.mark.parametrize(
    "raw, line, message",
    [
        (b"id: a\ngoal: caf\xe9\nsuccess:\n  - text_on_screen: x\n", 2, "not UTF-8 (byte 0xe9"),
        (b"id: a\ngoal: x\x07y\nsuccess:\n  - text_on_screen: x\n", 2, "character U+0007 is not allowed"),
        (b"id: a\ngoal: x\nmax_steps: !!int ten\nsuccess:\n  - text_on_screen: x\n", 3, "!!int cannot take 'ten'"),
        (
            b"id: a\ngoal: x\nsuccess:\n  - query: getprop ro.product.model\n    matches: '[unclosed'\n",
            4,
            "not a regular expression",
        ),
    ],
)
def test_unreadable_values_are_refused_with_their_line(tmp_path: Path, raw: bytes, line: int, message: str) -> None:
    """Each of these raised an untyped exception (UnicodeDecodeError, ValueError, re.error) or gave no line."""
    file = tmp_path / "task.yaml"
    file.write_bytes(raw)
    with pytest.raises(TaskFileError) as info:
        load_task(file)
    assert info.value.line == line and message in str(info.value), str(info.value)
    assert str(info.value).startswith(f"{file}, line {line}") and "\n" not in str(info.value)


def test_a_suite_whose_tasks_are_not_a_list_or_name_a_missing_file(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\ntasks: one.yaml\n")
    with pytest.raises(TaskFileError, match=r"suite.yaml, line 2: field tasks: must be a list"):
        load_suite(suite)
    suite.write_text("name: s\ntasks:\n  - one.yaml\n")
    with pytest.raises(TaskFileError, match=r"suite.yaml, line 3: field tasks.0: no task file 'one.yaml'") as info:
        load_suite(suite)
    assert info.value.field == "tasks.0"
