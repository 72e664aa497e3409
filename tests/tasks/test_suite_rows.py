"""Every task of a suite gets its row in ``results.json``: after a crash in a worker, and after Ctrl-C.

Real parts: the virtual phones behind the real adb server, the shipped suite's task files with their setup
and checks, the scripted HTTP model, ``guiagent eval`` in a real subprocess. The one stand-in is a backend
that raises a plain ``RuntimeError`` (the fault being injected).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.types import Terminate
from guiagent.agent.backends.base import ModelBackend, ModelReply, ModelRequest
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.demo import PlanBackend, Step
from guiagent.tasks.runner import run_suite
from guiagent.tasks.suite import load_suite
from tests.fixtures.processes import processes_with

MOBILE = get_family("qwen2.5-vl-mobile")
PLANS = {
    "wifi-off": [Step("open", "Settings"), Step("tap", "Wi-Fi"), Step("done")],
    "note-create": [
        Step("open", "Notes"),
        Step("tap", "New note"),
        Step("type", "Buy oat milk"),
        Step("tap", "Save"),
        Step("done"),
    ],
}
GIVE_UP = MOBILE.format_action(Terminate(status="failure"))


class ExplodingBackend(ModelBackend):
    """A backend with a bug: its first call raises a plain RuntimeError (not a guiagent error)."""

    model_id = "exploding"

    def complete(self, request: ModelRequest) -> ModelReply:
        raise RuntimeError("backend exploded")


def test_a_task_whose_worker_hits_a_plain_exception_still_gets_a_row(virtual_phone, adb_server, tmp_path) -> None:
    suite = load_suite("virtual-phone").select(["bluetooth-on", "note-create", "wifi-off"])

    def make_agent(env: AndroidEnv, task) -> Agent:
        backend = ExplodingBackend() if task.id == "bluetooth-on" else PlanBackend(virtual_phone.phone, PLANS[task.id])
        return Agent(env, backend, MOBILE, AgentConfig(max_steps=task.max_steps, out_dir=tmp_path))

    run = run_suite(
        suite, [virtual_phone.serial], lambda s: AndroidEnv(s, adb_port=adb_server.port), make_agent, tmp_path
    )

    rows = {r["task_id"]: r for r in json.loads((tmp_path / "results.json").read_text())["results"]}
    assert set(rows) == {"bluetooth-on", "note-create", "wifi-off"}, "every task has its row"
    crashed = rows["bluetooth-on"]
    assert crashed["status"] == "error" and not crashed["success"]
    assert crashed["reason"] == "RuntimeError: backend exploded", crashed
    assert crashed["device"] == f"android:{virtual_phone.serial}"
    # the row names the crashed run's folder, whose run.json says the same, and its one (crashed) step
    assert crashed["run_dir"] and crashed["steps"] == 1, crashed
    crashed_run = json.loads((tmp_path / crashed["run_dir"] / "run.json").read_text())
    assert crashed_run["status"] == "error" and "backend exploded" in crashed_run["reason"]
    # the crash did not take the device down with it: the tasks after it ran on the same phone
    assert rows["note-create"]["success"] and rows["wifi-off"]["success"], rows
    assert len(run.results) == 3


class _Interrupt:
    """A slow model (``think`` seconds a reply, then it gives up) during whose first reply Ctrl-C is pressed
    (SIGINT to ``pid``)."""

    def __init__(self, pid: int, think: float) -> None:
        self.pid, self.think, self.sent = pid, think, threading.Event()
        self.sent_at = 0.0
        self._lock = threading.Lock()

    def __call__(self, body) -> str:
        with self._lock:
            first = not self.sent.is_set()
            self.sent.set()
        if first:
            self.sent_at = time.monotonic()
            os.kill(self.pid, signal.SIGINT)
        time.sleep(self.think)
        return GIVE_UP


class ClosingAndroidEnv(AndroidEnv):
    """The real Android env, noting who closed it."""

    closed_by: list[str]

    def close(self) -> None:
        self.closed_by = [*getattr(self, "closed_by", []), threading.current_thread().name]
        super().close()


def test_ctrl_c_stops_the_suite_closes_its_devices_and_writes_every_row(
    virtual_phone_factory, adb_server, scripted_server, tmp_path
) -> None:
    marker = f"guiagent-suite-program-{uuid.uuid4().hex}"
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in ("one", "two", "three", "four"):  # each task's setup starts a program, as desktop tasks do
        (folder / f"{name}.yaml").write_text(
            f"id: {name}\ngoal: Turn off Wi-Fi\nsetup:\n"
            f"  - start: ['{{python}}', '-c', 'import time; time.sleep(120)', '{marker}']\n"
            "success:\n  - query: settings get global wifi_on\n    equals: '0'\n"
        )
    suite = load_suite(folder)
    phones = [virtual_phone_factory(), virtual_phone_factory()]
    interrupt = _Interrupt(os.getpid(), think=3.0)
    scripted_server.script = [interrupt]
    scripted_server.repeat_last = True
    opened: list[ClosingAndroidEnv] = []

    def open_device(serial: str) -> ClosingAndroidEnv:
        env = ClosingAndroidEnv(serial, adb_port=adb_server.port)
        opened.append(env)
        return env

    def make_agent(env: AndroidEnv, task) -> Agent:
        backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", scripted_server.url, retry_wait=0.01)
        return Agent(env, backend, MOBILE, AgentConfig(max_steps=3, out_dir=tmp_path, settle=False))

    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, [p.serial for p in phones], open_device, make_agent, tmp_path)
    assert interrupt.sent.is_set()
    waited = time.monotonic() - interrupt.sent_at
    assert waited < 3.0, f"the suite waited {waited:.1f} s for a model reply after Ctrl-C"

    saved = json.loads((tmp_path / "results.json").read_text())
    rows = {r["task_id"]: r for r in saved["results"]}
    assert set(rows) == {t.id for t in suite.tasks}, "every task has its row"
    assert saved["finished_at"] is not None
    statuses = sorted(r["status"] for r in rows.values())
    running = [r for r in rows.values() if r["status"] == "interrupted"]
    unstarted = [r for r in rows.values() if r["status"] == "not_run"]
    assert len(running) + len(unstarted) == 4, statuses
    assert 1 <= len(running) <= 2, statuses  # one task per phone had started
    assert all(r["reason"] == "interrupted" for r in unstarted), unstarted
    assert all(not r["success"] for r in rows.values())
    assert len(opened) == 2 and all(len(env.closed_by) >= 1 for env in opened), "every device was closed"
    assert processes_with(marker) == [], "the programs the running tasks' setups started were stopped"

    # the workers stop once their model call returns: no more tasks were handed out, nothing ran after
    for thread in [t for t in threading.enumerate() if t.name.startswith("suite-")]:
        thread.join(timeout=30)
        assert not thread.is_alive(), f"{thread.name} is still running"
    later = json.loads((tmp_path / "results.json").read_text())
    assert later == saved, "results.json does not change after the suite was interrupted"


def test_eval_cli_exits_130_on_ctrl_c_with_every_row_written_and_the_phone_disconnected(
    adb_server, scripted_server, tmp_path
) -> None:
    """``guiagent eval`` in a real subprocess gets SIGINT while its model is thinking."""
    before = {d.serial for d in adb_server.list()}
    out = tmp_path / "eval"
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guiagent.agent.cli",
            "eval",
            "virtual-phone",
            "--task",
            "wifi-off",
            "--task",
            "note-create",
            "--task",
            "bluetooth-on",
            "--device",
            "virtual",
            "--base-url",
            scripted_server.url,
            "--model",
            "Qwen/Qwen2.5-VL-7B-Instruct",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    interrupt = _Interrupt(process.pid, think=20.0)
    scripted_server.script = [interrupt]
    scripted_server.repeat_last = True
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert interrupt.sent.is_set(), stderr
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr

    rows = {r["task_id"]: r for r in json.loads((out / "results.json").read_text())["results"]}
    assert set(rows) == {"wifi-off", "note-create", "bluetooth-on"}, rows
    assert [r["status"] for r in rows.values()].count("interrupted") == 1, rows
    assert all(
        r["status"] == "not_run" and r["reason"] == "interrupted" for r in rows.values() if r["status"] != "interrupted"
    ), rows
    # the embedded virtual phone was closed: disconnected from the adb server, not left behind as offline
    deadline = time.monotonic() + 5
    while {d.serial for d in adb_server.list()} - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {d.serial for d in adb_server.list()} - before == set()
    assert Path(out / "results.json").exists()
