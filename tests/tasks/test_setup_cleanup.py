"""A setup that fails partway leaves nothing running: what it started is stopped, last started first.

Real parts: the virtual phone behind the real adb server (whose refusal to open an unknown app is the failing
step), real programs started by ``start`` steps, task files loaded from disk and run through ``run_suite``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from guiagent.actions.errors import ActionRejected
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.runner import run_suite
from guiagent.tasks.setup import apply_setup
from guiagent.tasks.spec import load_task
from guiagent.tasks.suite import load_suite
from tests.fixtures.processes import processes_with

PROGRAM = (
    "import signal, sys, time\n"
    "def stop(*_):\n"
    "    open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, stop)\n"
    "time.sleep(120)\n"
)


def _task(folder: Path, marker: str, log: Path) -> Path:
    """A task whose setup starts two programs (``first``, ``second``), waits, then opens an app the phone lacks."""
    (folder / "program.py").write_text(PROGRAM)
    path = folder / "broken-setup.yaml"
    path.write_text(
        "id: broken-setup\n"
        "goal: Turn off Wi-Fi\n"
        "setup:\n"
        f"  - start: ['{{python}}', '{folder / 'program.py'}', '{log}', first, '{marker}']\n"
        f"  - start: ['{{python}}', '{folder / 'program.py'}', '{log}', second, '{marker}']\n"
        "  - wait: 2.5\n"  # both programs are up and handle SIGTERM before the failing step
        "  - action: {type: open_app, name: No Such App}\n"
        "success:\n"
        "  - query: settings get global wifi_on\n"
        "    equals: '0'\n"
    )
    return path


def test_a_failing_setup_step_stops_what_earlier_steps_started_in_reverse_order(
    virtual_phone, adb_server, tmp_path
) -> None:
    marker, log = f"guiagent-setup-{uuid.uuid4().hex}", tmp_path / "stopped.log"
    task = load_task(_task(tmp_path, marker, log))
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as env, pytest.raises(ActionRejected):
        apply_setup(env, task.setup)

    assert processes_with(marker) == [], "a program the failed setup started is still running"
    assert log.read_text().split() == ["second", "first"], "stopped last started first"


def test_a_suite_task_whose_setup_fails_is_an_error_row_and_leaves_nothing_running(
    virtual_phone, adb_server, tmp_path
) -> None:
    marker, log = f"guiagent-setup-{uuid.uuid4().hex}", tmp_path / "stopped.log"
    _task(tmp_path, marker, log)
    suite = load_suite(tmp_path)

    def make_agent(env, task):
        raise AssertionError("the agent must not run after a failed setup")

    out = tmp_path / "out"
    run_suite(suite, [virtual_phone.serial], lambda s: AndroidEnv(s, adb_port=adb_server.port), make_agent, out)

    (row,) = json.loads((out / "results.json").read_text())["results"]
    assert row["status"] == "error" and row["reason"].startswith("setup failed: "), row
    assert "No Such App" in row["reason"]
    assert processes_with(marker) == []
