"""The device killed at random points of 50 suite runs, mid-gesture included.

Each run is a one-task suite (``run_suite``: setup, the agent, the success checks, ``results.json``) on its own
virtual phone behind the real adb server, with the scripted HTTP model answering a random plan of taps,
swipes, long presses, app starts and key presses. The phone plays its gestures in real time
(``simulate_durations``), and a killer thread stops the phone's server (every adb connection dropped, the
adb server sees the device vanish) at a moment a seeded RNG picks: a random time into the run, just after
the k-th command reached the phone, or part-way through a swipe or long press.

Lost, for a run: no result row, or one without its run folder once the agent had started; a trajectory that
does not read back, says ``running``, or holds fewer steps than the agent finished; and any difference
between what the phone executed (its own log) and what the trajectory says was executed, except the one
command the step that was cut off says "may have reached the device" (never sent twice).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.types import LongPress, Swipe, Terminate
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.runner import run_suite
from guiagent.tasks.suite import load_suite
from tests.faults.helpers import GESTURE, PHONE, PLAN, Steps, command_for, device_input, nothing_lost, say
from tests.fixtures.openai_server import start_scripted_server

RUNS = 50
PARALLEL = 5
SEED = "guiagent-faults-device-killed"
TASK = """\
id: device-killed
goal: Look around the Settings app.
setup:
  - action: {type: system_button, button: home}
max_steps: 8
time_limit: 60
success:
  - query: settings get global wifi_on
    equals: "1"
"""
SETUP = [["input", "keyevent", "3"]]


def killer(
    connected, rng: random.Random, mode: str, started: threading.Event, over: threading.Event
) -> tuple[threading.Thread, dict[str, Any]]:
    """A thread that stops the phone's server at a point chosen by ``rng`` (unless the run is ``over``
    first); the dict says which point, and whether it was reached."""
    what: dict[str, Any] = {"mode": mode}

    def wait_for(count: int, prefix: list[str] | None, deadline: float) -> bool:
        while time.monotonic() < deadline and not over.is_set():
            executed = connected.phone.executed
            matching = [a for a in executed if prefix is None or a[: len(prefix)] == prefix]
            if len(matching) >= count:
                return True
            time.sleep(0.002)
        return False

    def run() -> None:
        started.wait()
        deadline = time.monotonic() + 15
        if mode == "time":  # a run takes about 1-2 s
            what["after"] = round(rng.uniform(0.1, 1.2), 3)
            over.wait(what["after"])
        elif mode == "command":  # a run sends about 15 commands (the setup, captures, input)
            what["command"] = rng.randint(3, 16)
            wait_for(what["command"], None, deadline)
        else:  # part-way through the first gesture, which the phone plays for 0.4-0.5 s
            what["into"] = round(rng.uniform(0.0, 0.35), 3)
            if wait_for(1, GESTURE, deadline):
                time.sleep(what["into"])
        if over.is_set():
            what["killed"] = False  # the run ended first
            return
        what["killed"] = True
        what["after_command"] = len(connected.phone.executed)
        connected.server.stop()

    return threading.Thread(target=run, daemon=True), what


def one_run(number: int, make_phone, adb_port: int, suite_file: Path, out: Path) -> tuple[list[str], dict[str, Any]]:
    """One suite run with the device killed; what it lost (empty: nothing), and where it was killed."""
    rng = random.Random(f"{SEED}-{number}")
    connected = make_phone(width=PHONE.width, height=PHONE.height, density=140, simulate_durations=True)
    server, stop_server = start_scripted_server()
    mode = rng.choice(["time", "command", "gesture", "gesture"])  # "gesture": mid-swipe or mid-long-press
    plan = rng.sample(PLAN, k=rng.randint(2, 4))
    if mode == "gesture" and not any(isinstance(a, (Swipe, LongPress)) for a in plan):
        plan.insert(rng.randrange(len(plan) + 1), rng.choice(PLAN[1:3]))
    server.script = [say(a) for a in plan] + [say(Terminate())]
    backend = OpenAICompatibleBackend("m", server.url, retry_wait=0.01)
    steps = Steps()
    started, over = threading.Event(), threading.Event()
    thread, what = killer(connected, rng, mode, started, over)
    thread.start()

    def open_device(spec: str) -> AndroidEnv:
        started.set()
        return AndroidEnv(spec, adb_port=adb_port, retry_window=0.5, command_timeout=3.0)

    def make_agent(env, task) -> Agent:
        config = AgentConfig(max_steps=task.max_steps, out_dir=out, settle_min=0.0, settle_max=0.2)
        return Agent(env, backend, "qwen2.5-vl-mobile", config, hooks=steps)

    try:
        run_suite(load_suite(suite_file), [connected.serial], open_device, make_agent, out)
    finally:
        over.set()
        started.set()
        thread.join(20)
        backend.close()
        stop_server()
    return audit(out, connected.phone, steps, what), what


def audit(out: Path, phone, steps: Steps, what: dict[str, Any]) -> list[str]:
    lost: list[str] = []
    rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    if len(rows) != 1:
        return [f"{len(rows)} result rows for 1 task ({what})"]
    row = rows[0]
    performed = device_input(phone)
    if not row["run_dir"]:  # the device died before the agent started: only setup may have reached it
        if row["status"] != "error":
            lost.append(f"a row without a run folder has status {row['status']}")
        if performed != SETUP[: len(performed)]:
            lost.append(f"the phone ran {performed}, not (part of) the setup")
        if steps.finished:
            lost.append(f"the agent finished {steps.finished} steps, and the row names no run folder")
        return lost
    try:
        trajectory = Trajectory.load(out / row["run_dir"])
    except Exception as exc:  # noqa: BLE001
        return [f"the trajectory does not read back: {type(exc).__name__}: {exc}"]
    if trajectory.status == "running" or trajectory.status != row["status"]:
        lost.append(f"run.json says {trajectory.status!r}, the row {row['status']!r}")
    if trajectory.skipped_lines or len(trajectory.steps) != steps.finished or trajectory.run.steps != steps.finished:
        lost.append(
            f"{len(trajectory.steps)} steps read back ({trajectory.skipped_lines} skipped; run.json counts "
            f"{trajectory.run.steps}); the agent finished {steps.finished}"
        )
    if row["steps"] != len(trajectory.steps):
        lost.append(f"the row counts {row['steps']} steps, the trajectory holds {len(trajectory.steps)}")
    recorded = list(SETUP)
    maybe: list[str] | None = None
    for step in trajectory.steps:
        for action in step.actions_device[: step.executed]:
            command = command_for(action)
            if command:
                recorded.append(command)
        if any("may have reached the device" in note for note in step.notes):
            pending = [command_for(a) for a in step.actions_device[step.executed :]]
            maybe = next((c for c in pending if c), None)
    if performed != recorded and not (maybe and performed == [*recorded, maybe]):
        lost.append(f"the phone ran {performed}; the trajectory records {recorded} (+ maybe {maybe})")
    if trajectory.status == "error" and not any(
        name in trajectory.run.reason for name in ("DeviceLost", "CommandInterrupted", "DeviceCommandError")
    ):
        lost.append(f"the run ended {trajectory.run.reason!r}, not as a device failure")
    return [f"{what}: {item}" for item in lost]


@pytest.mark.slow
def test_the_device_killed_at_random_points_loses_nothing(virtual_phone_factory, adb_server, tmp_path, figures):
    suite_file = tmp_path / "device-killed.yaml"
    suite_file.write_text(TASK, encoding="utf-8")
    lock = threading.Lock()

    def make_phone(**options: Any):
        with lock:
            return virtual_phone_factory(**options)

    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = [
            pool.submit(one_run, n, make_phone, adb_server.port, suite_file, tmp_path / f"run-{n:02d}")
            for n in range(RUNS)
        ]
        results = [future.result() for future in futures]
    seconds = time.perf_counter() - started
    lost = [f"run {n}: " + "; ".join(found) for n, (found, _) in enumerate(results) if found]
    killed = Counter(what["mode"] for _, what in results if what["killed"])
    statuses: dict[str, int] = {}
    cut_off = 0  # runs whose last step says its command may have reached the phone as the connection died
    for n in range(RUNS):
        for row in json.loads((tmp_path / f"run-{n:02d}" / "results.json").read_text())["results"]:
            key = row["status"] + ("" if row["run_dir"] else " (before the agent)")
            statuses[key] = statuses.get(key, 0) + 1
            if row["run_dir"]:
                notes = [
                    note
                    for step in Trajectory.load(tmp_path / f"run-{n:02d}" / row["run_dir"]).steps
                    for note in step.notes
                ]
                cut_off += any("may have reached the device" in note for note in notes)
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    kills = ", ".join(f"{v} {k}" for k, v in sorted(killed.items()))
    figures.add(
        "Device killed at a random point of a run (mid-gesture included)",
        RUNS,
        lost,
        f"killed by {kills} (the other runs ended first); {cut_off} cut a command off after sending it; "
        f"rows: {shown}; {seconds:.0f} s",
        order=1,
    )
    assert killed["gesture"] >= 10 and sum(killed.values()) >= 35, killed  # the kills landed inside the runs
    nothing_lost(lost, RUNS, "runs")
