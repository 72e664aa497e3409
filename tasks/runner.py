"""Running suites: every task on one of several devices at once, checked, and written down as it goes.

One worker thread per device takes tasks from a shared queue (the model backend is shared and
thread-safe); each task gets its setup, an agent run (its own trajectory folder) and its success checks.
``results.json`` is rewritten after every task (atomically and durably, ``agent.files.write_atomic``), so an
interrupted suite, or a machine that lost power, keeps what it finished.

Every task gets exactly one row. A task whose worker meets any exception (a backend's bug, a factory or a
check module raising) is an ``error`` row naming the exception's type and message. On Ctrl-C the suite
stops handing out tasks, stops the programs setups started, closes every device, marks the task each
device was running ``interrupted`` and every task not started ``not_run`` (reason "interrupted"), writes
``results.json`` a last time and re-raises ``KeyboardInterrupt`` (the CLI exits 130). A worker still inside
a model call then finishes in the background; nothing it does is recorded any more.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError, GuiAgentError
from guiagent.agent.files import write_atomic
from guiagent.agent.loop import Agent
from guiagent.agent.records import stage_totals
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.base import Env

from .checks import CheckContext, CheckResult, evaluate
from .setup import apply_setup, stop_programs, stop_started_programs
from .spec import TaskSpec
from .suite import Suite

__all__ = ["INTERRUPTED", "NOT_RUN", "SuiteRun", "TaskResult", "run_suite", "run_task"]

AgentFactory = Callable[[Env, TaskSpec], Agent]

NOT_RUN = "not_run"
"""The status of a task the suite never started (its reason says why)."""
INTERRUPTED = "interrupted"
"""The status of a task that was running when the suite was interrupted (and the reason of a ``not_run`` one)."""


@dataclass
class TaskResult:
    """How one task went (the row of ``results.json``)."""

    task_id: str
    goal: str
    device: str
    success: bool
    status: str
    reason: str
    steps: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    run_dir: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)


def run_task(task: TaskSpec, env: Env, make_agent: AgentFactory, out_dir: Path) -> TaskResult:
    """Set up, run and check one task on ``env``; failures become a failed result, never an exception.

    Any ``Exception`` counts (a backend's bug as much as a lost device): the row is ``error`` with the
    exception's type and message, and the run folder, if the agent got as far as making one, says the same.
    """
    started = time.monotonic()
    base = {"task_id": task.id, "goal": task.goal, "device": env.name}
    try:
        programs = apply_setup(env, task.setup)
    except GuiAgentError as exc:
        return TaskResult(**base, success=False, status="error", reason=f"setup failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug in setup still ends as this task's row
        return TaskResult(**base, success=False, status="error", reason=f"setup failed: {_describe(exc)}")
    agent: Agent | None = None
    try:
        agent = make_agent(env, task)
        trajectory = agent.run(task.goal, out_dir / "runs")
        checks = evaluate(list(task.success), CheckContext(env, trajectory, task.folder))
    except Exception as exc:  # noqa: BLE001 - one task's crash is its row, not the suite's end
        crashed = agent.last_trajectory if agent is not None else None
        if crashed is None:
            seconds = time.monotonic() - started
            return TaskResult(**base, success=False, status="error", reason=_describe(exc), seconds=seconds)
        return _row(base, crashed, out_dir, started, False, "error", _describe(exc), [])
    finally:
        stop_programs(programs)
    model_ok = trajectory.status == "success" or not task.require_model_success
    success = model_ok and all(c.passed for c in checks) and trajectory.status not in ("error", "interrupted")
    return _row(base, trajectory, out_dir, started, success, trajectory.status, trajectory.run.reason or "", checks)


def _row(
    base: dict[str, str],
    trajectory: Trajectory,
    out_dir: Path,
    started: float,
    success: bool,
    status: str,
    reason: str,
    checks: Sequence[CheckResult],
) -> TaskResult:
    """A task's row with its run's folder, steps, timings and tokens: a crashed run keeps them too."""
    steps = trajectory.steps
    return TaskResult(
        **base,
        success=success,
        status=status,
        reason=reason,
        steps=len(steps),
        seconds=time.monotonic() - started,
        timings=stage_totals(s.timings for s in steps),
        prompt_tokens=sum(s.prompt_tokens or 0 for s in steps),
        completion_tokens=sum(s.completion_tokens or 0 for s in steps),
        run_dir=os.path.relpath(trajectory.folder, out_dir),
        checks=[asdict(c) for c in checks],
    )


@dataclass
class SuiteRun:
    """A suite in progress or finished; ``save()`` writes ``results.json``."""

    suite: Suite
    out_dir: Path
    model: dict[str, Any]
    family: str
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    results: list[TaskResult] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _sealed: bool = field(default=False, repr=False)

    def add(self, result: TaskResult) -> bool:
        """Record a finished task and save at once; False (and nothing changes) once ``seal`` was called."""
        with self._lock:
            if self._sealed:
                return False
            self.results.append(result)
            self.save()
            return True

    def seal(self, missing: Callable[[TaskSpec], TaskResult]) -> None:
        """Give every task without a row the row ``missing`` makes, mark the suite finished and save for the
        last time: later ``add`` calls are ignored, so ``results.json`` never changes afterwards."""
        with self._lock:
            done = {r.task_id for r in self.results}
            self.results.extend(missing(t) for t in self.suite.tasks if t.id not in done)
            self.finished_at = time.time()
            self._sealed = True
            self.save()

    def save(self) -> Path:
        """Write ``results.json`` atomically and durably (tasks in suite order)."""
        order = {t.id: i for i, t in enumerate(self.suite.tasks)}
        data = {
            "suite": self.suite.name,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "model": self.model,
            "family": self.family,
            "results": [asdict(r) for r in sorted(self.results, key=lambda r: order.get(r.task_id, 0))],
        }
        return write_atomic(self.out_dir / "results.json", json.dumps(data, indent=2, ensure_ascii=False))

    @property
    def success_rate(self) -> float:
        """Fraction of finished tasks that succeeded."""
        return sum(r.success for r in self.results) / len(self.results) if self.results else 0.0


def run_suite(
    suite: Suite,
    devices: Sequence[str],
    open_device: Callable[[str], Env],
    make_agent: AgentFactory,
    out_dir: Path,
    *,
    model: dict[str, Any] | None = None,
    family: str = "",
    on_result: Callable[[TaskResult], None] | None = None,
) -> SuiteRun:
    """Run every task of ``suite`` across ``devices`` (one worker per device string).

    Raises:
        ConfigError: no devices given.
    """
    if not devices:
        raise ConfigError("give at least one device")
    out_dir.mkdir(parents=True, exist_ok=True)
    run = SuiteRun(suite, out_dir, model or {}, family)
    run.save()
    pending: queue.Queue[TaskSpec] = queue.Queue()
    for task in suite.tasks:
        pending.put(task)
    errors: list[BaseException] = []
    stopped = False
    running: dict[str, str] = {}  # task id -> the name of the device it was handed to
    handing_out = threading.Lock()  # taking a task and Ctrl-C's stop exclude each other
    opened = _OpenDevices()

    def next_task(device: str) -> TaskSpec | None:
        with handing_out:
            if stopped or pending.empty():
                return None
            task = pending.get_nowait()
            running[task.id] = device
            return task

    def worker(number: int, spec: str) -> None:
        try:
            env = open_device(spec)
            opened.add(number, env)
            try:
                while (task := next_task(env.name)) is not None:
                    result = _run_or_skip(task, env, spec, make_agent, out_dir)
                    if run.add(result) and on_result:
                        on_result(result)
            finally:
                opened.close(number)
        except GuiAgentError as exc:  # the device itself failed: its remaining tasks go to other workers
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(n, spec), name=f"suite-{spec}", daemon=True)
        for n, spec in enumerate(devices)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        with handing_out:
            stopped = True
        stop_started_programs()
        opened.close_all()
        run.seal(lambda t: _interrupted(t, running.get(t.id)))
        raise
    reason = f"no device could run it: {errors[-1] if errors else 'unknown'}"  # every device failed first
    run.seal(lambda t: TaskResult(t.id, t.goal, "", False, "error", reason))
    return run


def _interrupted(task: TaskSpec, device: str | None) -> TaskResult:
    if device is None:
        return TaskResult(task.id, task.goal, "", False, NOT_RUN, INTERRUPTED)
    return TaskResult(task.id, task.goal, device, False, INTERRUPTED, "interrupted (Ctrl-C) while it ran")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _OpenDevices:
    """The workers' devices, each closed exactly once: by its worker when done, or all at once on Ctrl-C."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._envs: dict[int, Env] = {}

    def add(self, number: int, env: Env) -> None:
        with self._lock:
            self._envs[number] = env

    def close(self, number: int) -> None:
        with self._lock:
            env = self._envs.pop(number, None)
            if env is not None:
                env.close()

    def close_all(self) -> None:
        """Close every device still open; one that fails to close does not keep the others open."""
        for number in list(self._envs):
            try:
                self.close(number)
            except Exception:  # noqa: BLE001 - on Ctrl-C the interruption is what gets reported
                pass


def _run_or_skip(task: TaskSpec, env: Env, spec: str, make_agent: AgentFactory, out_dir: Path) -> TaskResult:
    kind = "desktop" if env.kind == "desktop" else "android"
    if task.device != kind:
        return TaskResult(task.id, task.goal, spec, False, "skipped", f"task needs a {task.device} device, got {spec}")
    return run_task(task, env, make_agent, out_dir)
