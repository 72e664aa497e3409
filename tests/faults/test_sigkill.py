"""SIGKILL of ``guiagent run`` at random points of 50 runs; then ``guiagent replay --allow-unfinished`` of what is left.

Each run is the CLI in a subprocess (``python -m guiagent.agent.cli run ...``, output unbuffered into a file)
driving its own virtual phone (real adb server; gestures played in real time) with the scripted HTTP model.
A seeded RNG picks the moment of the SIGKILL: a random time after the run folder is announced, just after
the k-th command reached the phone, or part-way through a swipe or long press.

Lost, for a run: a step the CLI printed (it prints a step only after its line is written and fsynced) that
does not read back; a trajectory that does not read back at all (only a half-written last line may be
skipped); a finished step whose screenshot is missing or unreadable; the phone having run anything but the
recorded executed actions plus, at most, the action of the step in flight when the process died; and a
replay of the truncated run (on a fresh phone, through ``guiagent replay``) that performs anything but the
recorded executed actions, which means it never performs the unfinished step.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from guiagent.actions.types import Terminate
from guiagent.agent.cli import main
from guiagent.agent.trajectory import Trajectory
from tests.faults.helpers import FAMILY, GESTURE, PHONE, PLAN, command_for, device_input, nothing_lost, say
from tests.fixtures.openai_server import start_scripted_server

RUNS = 50
PARALLEL = 4
SEED = "guiagent-faults-sigkill"
_OUTPUT_LOCK = threading.Lock()


def start_run(connected, url: str, out: Path, log: Path, adb_port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "guiagent.agent.cli", "run", "Look around the Settings app"]
    command += ["--device", f"android:{connected.serial}", "--adb-port", str(adb_port), "--base-url", url]
    command += ["--model", "Qwen/Qwen2.5-VL-7B-Instruct", "--out", str(out), "--no-report", "--max-steps", "6"]
    command += ["--settle-min", "0", "--settle-max", "0.2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    with log.open("wb") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)


def kill_at_random(process: subprocess.Popen[bytes], connected, log: Path, rng: random.Random) -> dict[str, Any]:
    """SIGKILL ``process`` at a point ``rng`` picks (if it is still running then); says which point."""
    mode = rng.choice(["time", "command", "gesture", "gesture"])
    what: dict[str, Any] = {"mode": mode}
    deadline = time.monotonic() + 30

    def running() -> bool:
        return process.poll() is None and time.monotonic() < deadline

    if mode == "time":  # after the run folder exists: a run then takes about 1-2 s
        while running() and b"Run folder:" not in log.read_bytes():
            time.sleep(0.005)
        what["after"] = round(rng.uniform(0.0, 1.5), 3)
        time.sleep(what["after"])
    elif mode == "command":  # a run sends about 15 commands to the phone
        what["command"] = rng.randint(1, 16)
        while running() and len(connected.phone.executed) < what["command"]:
            time.sleep(0.002)
    else:  # part-way through the first gesture (played for 0.3-0.5 s)
        what["into"] = round(rng.uniform(0.0, 0.3), 3)
        while running() and not any(a[:2] == GESTURE for a in connected.phone.executed):
            time.sleep(0.002)
        time.sleep(what["into"])
    what["killed"] = process.poll() is None
    if what["killed"]:
        process.send_signal(signal.SIGKILL)
    process.wait(30)
    return what


def printed_steps(log: Path) -> list[int]:
    """The steps the CLI printed as finished ("step N  screen ...")."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("step ") and "screen" in line:
            found.append(int(line.split()[1]))
    return found


def one_run(number: int, make_phone, adb_port: int, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    rng = random.Random(f"{SEED}-{number}")
    connected = make_phone(width=PHONE.width, height=PHONE.height, density=140, simulate_durations=True)
    server, stop_server = start_scripted_server()
    plan = rng.sample(PLAN, k=rng.randint(2, 4))
    server.script = [say(a) for a in plan] + [say(Terminate())]
    out, log = tmp / f"run-{number:02d}", tmp / f"run-{number:02d}.log"
    out.mkdir()
    try:
        process = start_run(connected, server.url, out, log, adb_port)
        what = kill_at_random(process, connected, log, rng)
    finally:
        stop_server()
    lost = audit_run(out, log, connected.phone, plan, what)
    folders = [p for p in out.iterdir() if (p / "run.json").exists()]
    what["steps"] = len(Trajectory.load(folders[0]).steps) if folders and not lost else 0
    if folders and not lost:
        lost += audit_replay(folders[0], make_phone(width=PHONE.width, height=PHONE.height, density=140), adb_port)
    return [f"{what}: {item}" for item in lost], what


def audit_run(out: Path, log: Path, phone, plan: list[Any], what: dict[str, Any]) -> list[str]:
    folders = [p for p in out.iterdir() if p.is_dir()]
    printed = printed_steps(log)
    performed = device_input(phone)
    if not folders or not (folders[0] / "run.json").exists():  # killed before the run folder was written
        what["stage"] = "before the run folder"
        if printed or performed:
            return [f"no run folder, yet {len(printed)} steps were printed and the phone ran {performed}"]
        return []
    try:
        trajectory = Trajectory.load(folders[0])
    except Exception as exc:  # noqa: BLE001
        return [f"the killed run does not read back: {type(exc).__name__}: {exc}"]
    lost = []
    indexes = [s.index for s in trajectory.steps]
    if not set(printed) <= set(indexes) or trajectory.skipped_lines > 1:
        lost.append(f"printed steps {printed}, read back {indexes} ({trajectory.skipped_lines} skipped)")
    for step in trajectory.steps:
        path = trajectory.screenshot_path(step)
        try:
            with Image.open(path or "") as image:
                image.load()
        except Exception as exc:  # noqa: BLE001
            lost.append(f"step {step.index}'s screenshot {step.screenshot} is unreadable: {exc}")
    recorded = [c for s in trajectory.steps for a in s.actions_device[: s.executed] if (c := command_for(a))]
    in_flight = command_for(in_flight_action(plan, len(trajectory.steps)))
    what["stage"] = f"{trajectory.status}, {len(trajectory.steps)} steps"
    if performed == recorded:
        what["in_flight_done"] = False
    elif in_flight and performed == [*recorded, in_flight]:
        what["in_flight_done"] = True  # the step being worked on had acted; its line was never written
    else:
        lost.append(f"the phone ran {performed}; the trajectory records {recorded} (in flight: {in_flight})")
    return lost


def in_flight_action(plan: list[Any], done: int) -> dict[str, Any]:
    """The device action of the step after ``done`` recorded steps (the one in flight at the kill), as the
    agent reads it from the scripted reply."""
    if done >= len(plan):
        return {"type": "terminate"}
    _, actions = FAMILY.parse_to_device(say(plan[done]), PHONE)
    return actions[0].to_json_dict()


def audit_replay(folder: Path, phone, adb_port: int) -> list[str]:
    """``guiagent replay --allow-unfinished`` of the killed run performs exactly its executed actions."""
    recorded = [
        c for s in Trajectory.load(folder).steps for a in s.actions_device[: s.executed] if (c := command_for(a))
    ]
    command = ["replay", str(folder), "--device", f"android:{phone.serial}", "--adb-port", str(adb_port)]
    command += ["--out", str(folder.parent / "replays"), "--no-report", "--allow-unfinished", "--wait", "2"]
    out, err = io.StringIO(), io.StringIO()
    with _OUTPUT_LOCK, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(command)
        except BaseException as exc:  # noqa: BLE001 - a traceback for the user
            return [f"guiagent replay raised {type(exc).__name__}: {exc}"]
    performed = device_input(phone.phone)
    lost = []
    if performed != recorded:
        lost.append(f"the replay ran {performed}; the killed run executed {recorded}")
    if code not in (0, 1):
        lost.append(f"guiagent replay exited {code}: {err.getvalue()[-300:]!r}")
    return lost


@pytest.mark.slow
def test_sigkill_at_random_points_loses_no_finished_step(virtual_phone_factory, adb_server, tmp_path, figures):
    lock = threading.Lock()

    def make_phone(**options: Any):
        with lock:
            return virtual_phone_factory(**options)

    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = [pool.submit(one_run, n, make_phone, adb_server.port, tmp_path) for n in range(RUNS)]
        results = [future.result() for future in futures]
    seconds = time.perf_counter() - started
    lost = [f"run {n}: " + "; ".join(found) for n, (found, _) in enumerate(results) if found]
    killed = Counter(what["mode"] for _, what in results if what["killed"])
    in_flight = sum(1 for _, what in results if what.get("in_flight_done"))
    replayed = sum(1 for _, what in results if what.get("steps"))
    figures.add(
        "SIGKILL of guiagent run at a random point; replay --allow-unfinished of what is left",
        RUNS,
        lost,
        f"killed by {', '.join(f'{v} {k}' for k, v in sorted(killed.items()))} (the rest had ended); "
        f"{in_flight} killed after the step in flight had acted and before its line was written (replays never "
        f"performed it); {replayed} truncated runs replayed; {seconds:.0f} s",
        order=3,
    )
    assert sum(killed.values()) >= 35 and killed["gesture"] >= 10, killed  # the kills landed inside the runs
    nothing_lost(lost, RUNS, "runs")
