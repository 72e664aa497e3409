"""The model server dropping the connection mid-response, and answering 500/429/garbage, over 50 suite runs.

Each run is a one-task suite on its own virtual phone (real adb server), whose model is a real HTTP server
(``tests/faults/model_server.py``) that answers a seeded random script: before each good reply, up to three
faults — the connection closed or reset before a byte, cut inside the headers, inside a sized body or inside
a chunk; 500, 502, 503, 429; a 200 carrying HTML, broken JSON or a JSON list; an answer without choices,
with ``content: null``, or with ``usage`` of the wrong type; a 400 — and in some runs enough of them in a
row to outlast the backend's four attempts.

Lost, for a run: no result row or trajectory; steps missing or unreadable; a run that ends other than as
the script implies (``success`` when every request was answered within the retries, else ``error`` naming a
``ModelError``; never an untyped exception); a step acting on anything but a complete reply the server
sent; a retry that changed the request; and any difference between what the phone executed and what the
trajectory records (a dropped answer never leads to an action twice).
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

from guiagent.actions.types import Click, OpenApp, Swipe, SystemButton, Terminate
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.runner import run_suite
from guiagent.tasks.suite import load_suite
from tests.faults.helpers import PHONE, Steps, command_for, device_input, nothing_lost, say
from tests.faults.model_server import RETRIED, Fault, faulty_server

RUNS = 50
PARALLEL = 5
ATTEMPTS = 4
SEED = "guiagent-faults-model-server"
TASK = """\
id: model-faults
goal: Open Settings and scroll.
max_steps: 10
time_limit: 60
success:
  - query: settings get global wifi_on
    equals: "1"
"""
PLAN = [
    OpenApp(name="Settings"),
    Swipe(x=180, y=600, x2=180, y2=200, duration=0.3),
    Click(x=180, y=250),
    SystemButton(button="back"),
]
SURVIVABLE = [*RETRIED, "null-content", "bad-usage", "bad-tokens"]
FATAL = ["no-choices", "400", "outlast"]


def make_script(rng: random.Random) -> tuple[list[str | Fault], list[str], str | None]:
    """The server's script, the good replies in order, and the fatal fault if the run has one."""
    replies = [say(a) for a in rng.sample(PLAN, k=rng.randint(1, 3))] + [say(Terminate())]
    fatal_at = rng.randrange(len(replies)) if rng.random() < 0.2 else None
    fatal = rng.choice(FATAL) if fatal_at is not None else None
    script: list[str | Fault] = []
    for index, reply in enumerate(replies):
        if index == fatal_at:
            if fatal == "outlast":
                script += [Fault(rng.choice(RETRIED)) for _ in range(ATTEMPTS)]
            else:
                script += [Fault(rng.choice(RETRIED[:4])) for _ in range(rng.randint(0, 2))] + [Fault(fatal or "")]
            return script, replies[:index], fatal
        run_of_retried, empty = 0, False
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            kind = rng.choice(SURVIVABLE)
            if kind == "null-content" and empty:
                continue  # one empty reply per step: three in a row would end the run as the model's failure
            if kind in RETRIED:
                if run_of_retried == ATTEMPTS - 1:
                    continue  # the last attempt must be answered: this call is survivable
                run_of_retried += 1
                script.append(Fault(kind))
            elif kind == "null-content":  # an empty reply: sent back to the model, which then answers again
                run_of_retried, empty = 0, True
                script.append(Fault(kind))
            else:  # a good reply in a 200 whose usage field is broken: guiagent may use it, or stop typed
                script.append(Fault(kind, reply))
                break
        else:
            script.append(reply)
    return script, replies, None


def one_run(number: int, make_phone, adb_port: int, suite_file: Path, out: Path) -> tuple[list[str], Counter[str]]:
    rng = random.Random(f"{SEED}-{number}")
    connected = make_phone(width=PHONE.width, height=PHONE.height, density=140)
    script, replies, fatal = make_script(rng)
    steps = Steps()
    with faulty_server() as server:
        server.script = list(script)
        backend = OpenAICompatibleBackend("m", server.url, timeout=5.0, max_attempts=ATTEMPTS, retry_wait=0.01)

        def open_device(spec: str) -> AndroidEnv:
            return AndroidEnv(spec, adb_port=adb_port)

        def make_agent(env, task) -> Agent:
            config = AgentConfig(max_steps=task.max_steps, out_dir=out, settle_min=0.0, settle_max=0.2)
            return Agent(env, backend, "qwen2.5-vl-mobile", config, hooks=steps)

        try:
            run_suite(load_suite(suite_file), [connected.serial], open_device, make_agent, out)
        finally:
            backend.close()
        lost = audit(out, connected.phone, steps, server, replies, fatal)
        faults = Counter(kind for kind in server.answered if kind != "reply")
    return [f"script {script!r:.300}: {item}" for item in lost], faults


def audit(out: Path, phone, steps: Steps, server, replies: list[str], fatal: str | None) -> list[str]:
    rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    if len(rows) != 1 or not rows[0]["run_dir"]:
        return [f"result rows {rows!r:.300}"]
    row = rows[0]
    try:
        trajectory = Trajectory.load(out / row["run_dir"])
    except Exception as exc:  # noqa: BLE001
        return [f"the trajectory does not read back: {type(exc).__name__}: {exc}"]
    lost = []
    run = trajectory.run
    if len(trajectory.steps) != steps.finished or run.steps != steps.finished or trajectory.skipped_lines:
        lost.append(f"{len(trajectory.steps)} steps read back, {steps.finished} finished, run.json counts {run.steps}")
    typed = run.reason.split(":", 1)[0] in ("ModelUnavailable", "ModelRequestError")
    broken_usage = any(kind in ("bad-usage", "bad-tokens") for kind in server.answered)
    if fatal is not None and not (run.status == "error" and typed):
        lost.append(f"the run ended {run.status} ({run.reason}), not as a typed model error after {fatal}")
    if fatal is None and run.status != "success" and not (broken_usage and run.status == "error" and typed):
        lost.append(f"the run ended {run.status} ({run.reason}) though every request was answered within the retries")
    good = set(replies) | {""}  # "" is a null content, recorded as the empty reply it was
    for step in trajectory.steps:
        if step.reply is not None and step.reply not in good:
            lost.append(f"step {step.index} acted on {step.reply!r:.80}, which the server never sent whole")
    for (body, answered), following in zip(
        zip(server.requests, server.answered, strict=True), server.requests[1:], strict=False
    ):
        if answered in RETRIED and following != body:
            lost.append("a retried request differs from the attempt that failed")
            break
    recorded = [command_for(a) for s in trajectory.steps for a in s.actions_device[: s.executed]]
    if device_input(phone) != [c for c in recorded if c]:
        lost.append(f"the phone ran {device_input(phone)}; the trajectory records {recorded}")
    return lost


@pytest.mark.slow
def test_a_failing_model_server_loses_nothing(virtual_phone_factory, adb_server, tmp_path, figures) -> None:
    suite_file = tmp_path / "model-faults.yaml"
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
    faults: Counter[str] = sum((f for _, f in results), Counter())
    statuses = Counter(
        row["status"]
        for n in range(RUNS)
        for row in json.loads((tmp_path / f"run-{n:02d}" / "results.json").read_text())["results"]
    )
    figures.add(
        "Model server dropping connections mid-response, answering 500/429/garbage",
        RUNS,
        lost,
        f"{sum(faults.values())} faults served ({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}); "
        f"runs: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}; {seconds:.0f} s",
        order=2,
    )
    assert sum(faults.values()) >= 100, faults
    nothing_lost(lost, RUNS, "runs")
