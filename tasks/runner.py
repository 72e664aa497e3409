"""Running suites: every task on one of several devices at once, checked, and written down as it goes.

One worker thread per device takes tasks from a shared queue (the model backend is shared and
thread-safe); each task gets its setup, an agent run (its own trajectory folder) and its success checks.
``results.json`` is rewritten after every task (atomically and durably, ``agent.files.write_atomic``), so an
interrupted suite, or a machine that lost power, keeps what it finished.
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
from guiagent.envs.base import Env

from .checks import CheckContext, evaluate
from .setup import apply_setup, stop_programs
from .spec import TaskSpec
from .suite import Suite

__all__ = ["SuiteRun", "TaskResult", "run_suite", "run_task"]

AgentFactory = Callable[[Env, TaskSpec], Agent]


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
    """Set up, run and check one task on ``env``; failures become a failed result, never an exception."""
    started = time.monotonic()
    base = {"task_id": task.id, "goal": task.goal, "device": env.name}
    try:
        programs = apply_setup(env, task.setup)
    except GuiAgentError as exc:
        return TaskResult(**base, success=False, status="error", reason=f"setup failed: {exc}")
    try:
        agent = make_agent(env, task)
        trajectory = agent.run(task.goal, out_dir / "runs")
        checks = evaluate(list(task.success), CheckContext(env, trajectory, task.folder))
    finally:
        stop_programs(programs)
    model_ok = trajectory.status == "success" or not task.require_model_success
    success = model_ok and all(c.passed for c in checks) and trajectory.status not in ("error", "interrupted")
    return TaskResult(
        **base,
        success=success,
        status=trajectory.status,
        reason=trajectory.run.reason,
        steps=len(trajectory.steps),
        seconds=time.monotonic() - started,
        timings=stage_totals(s.timings for s in trajectory.steps),
        prompt_tokens=sum(s.prompt_tokens or 0 for s in trajectory.steps),
        completion_tokens=sum(s.completion_tokens or 0 for s in trajectory.steps),
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

    def add(self, result: TaskResult) -> None:
        """Record a finished task and save at once."""
        with self._lock:
            self.results.append(result)
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

    def worker(spec: str) -> None:
        try:
            with open_device(spec) as env:
                while True:
                    try:
                        task = pending.get_nowait()
                    except queue.Empty:
                        return
                    result = _run_or_skip(task, env, spec, make_agent, out_dir)
                    run.add(result)
                    if on_result:
                        on_result(result)
        except GuiAgentError as exc:  # the device itself failed: its remaining tasks go to other workers
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(spec,), name=f"suite-{spec}", daemon=True) for spec in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while not pending.empty():  # every device failed before the queue emptied
        task = pending.get_nowait()
        reason = f"no device could run it: {errors[-1] if errors else 'unknown'}"
        run.add(TaskResult(task.id, task.goal, "", False, "error", reason))
    run.finished_at = time.time()
    run.save()
    return run


def _run_or_skip(task: TaskSpec, env: Env, spec: str, make_agent: AgentFactory, out_dir: Path) -> TaskResult:
    kind = "desktop" if env.kind == "desktop" else "android"
    if task.device != kind:
        return TaskResult(task.id, task.goal, spec, False, "skipped", f"task needs a {task.device} device, got {spec}")
    return run_task(task, env, make_agent, out_dir)
