"""Running a suite on a device pool: a lease per task, a retry when a device dies, a row for every task.

Why not ``tasks.runner.run_suite``: that runner gives each device string a thread and trusts it; here a
device may die mid-suite and its task must still get a result. The contract:

* each task leases a healthy device of its kind (``DevicePool.lease``), runs (``runner.run_task``: setup,
  agent, checks), and gives the device back to be reset;
* a task that ended in error on a device that then fails its health check (or ended in ``DeviceLost``) had
  its device fail: the device is quarantined and the task runs **once more** on another device. The new
  row says ``attempt: 2`` and lists the first attempt under ``retries``; the report shows both;
* at most ``concurrency`` tasks run at once (one worker thread each; the model backend is shared);
* Ctrl-C stops new leases, lets running episodes end at their next step as ``interrupted`` (a second
  Ctrl-C stops waiting), closes every device, and writes a row for every task that did not finish.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent.agent.hooks import AgentHooks
from guiagent.agent.loop import Agent
from guiagent.envs.base import Env

from .pool import DevicePool, Lease
from .results_stream import DEVICE_LOST, INTERRUPTED, NOT_RUN, PoolResult, ResultsFile, select_shard
from .runner import AgentFactory, TaskResult, run_task
from .spec import TaskSpec
from .suite import Suite

__all__ = ["PoolRun", "StopAwareHooks", "device_failure", "run_pool_suite"]

GRACE_SECONDS = 60.0
"""After Ctrl-C, how long running episodes get to reach the end of their current step."""


@dataclass
class PoolRun:
    """A finished (or interrupted) pool suite: its rows, devices and files."""

    results: list[PoolResult]
    devices: list[dict[str, Any]]
    path: Path
    interrupted: bool = False
    skipped_finished: int = 0
    outside_worker: list[float] = field(default_factory=list)
    """Ray only: per task, the seconds between dispatch and result minus the time on the worker (Ray's
    transport and scheduling, and the driver's own work)."""

    @property
    def success_rate(self) -> float:
        """Fraction of rows that succeeded."""
        return sum(r.success for r in self.results) / len(self.results) if self.results else 0.0


class StopAwareHooks(AgentHooks):
    """Another run's hooks, plus: once ``stop`` is set, the run ends after the step in progress.

    Raising ``KeyboardInterrupt`` from ``step_finished`` is what Ctrl-C does in the main thread; the loop
    records it as ``interrupted`` with the trajectory complete up to that step.
    """

    def __init__(self, inner: AgentHooks, stop: threading.Event) -> None:
        self.inner = inner
        self.stop = stop

    def run_started(self, run: Any, folder: Path) -> None:
        self.inner.run_started(run, folder)

    def step_finished(self, step: Any) -> None:
        self.inner.step_finished(step)
        if self.stop.is_set():
            raise KeyboardInterrupt

    def run_finished(self, run: Any) -> None:
        self.inner.run_finished(run)

    def confirm(self, action: Any, reason: str) -> bool:
        return self.inner.confirm(action, reason)

    def ask_user(self, message: str) -> str | None:
        return self.inner.ask_user(message)

    def action_context(self, env: Env, action: Any, thought: str | None) -> Any:
        return self.inner.action_context(env, action, thought)


def device_failure(result: TaskResult, lease: Lease) -> str | None:
    """Why the device failed during this task, or None when the task's outcome is the agent's own.

    Only a run that ended in error is suspect; then the device must pass a fresh health check, and a run
    that ended with ``DeviceLost`` counts as a device failure even if the device answers again (a device
    that comes and goes is not fit for the rest of the suite).
    """
    if result.status != "error":
        return None
    health = lease.pool.check(lease)
    if not health.ok:
        return f"failed mid-task ({result.reason}); then its health check: {health.reason}"
    if result.reason.startswith("DeviceLost"):
        return f"was lost mid-task ({result.reason})"
    return None


def run_pool_suite(
    suite: Suite,
    pool: DevicePool,
    make_agent: AgentFactory,
    out_dir: Path,
    *,
    model: dict[str, Any] | None = None,
    family: str = "",
    on_result: Callable[[PoolResult], None] | None = None,
    resume: bool = False,
    shard: tuple[int, int] | None = None,
    on_save: Callable[[Path], None] | None = None,
    grace: float = GRACE_SECONDS,
) -> PoolRun:
    """Run the suite's tasks (this shard's, minus those a resumed file has finished) on ``pool``.

    The pool is closed when this returns. ``results.json`` in ``out_dir`` is rewritten after every task.
    """
    results = ResultsFile(out_dir, suite, model or {}, family, resume=resume, shard=shard, on_save=on_save)
    done = results.finished
    tasks = [t for t in select_shard(suite.tasks, shard) if t.id not in done]
    shard_ids = {t.id for t in select_shard(suite.tasks, shard)}
    results.set_devices(pool.summary())
    pending: queue.Queue[TaskSpec] = queue.Queue()
    for task in tasks:
        pending.put(task)
    kinds = pool.kinds()

    def worker() -> None:
        while not pool.stopping.is_set():
            try:
                task = pending.get_nowait()
            except queue.Empty:
                return
            if task.device not in kinds:
                row = PoolResult(task.id, task.goal, "", False, "skipped", f"the pool has no {task.device} device")
            else:
                row = _attempt(task, pool, make_agent, out_dir)
            results.add(row)
            results.set_devices(pool.summary())
            if on_result is not None:
                on_result(row)

    workers = min(pool.config.concurrency, len(pool.slots), max(1, len(tasks)))
    threads = [threading.Thread(target=worker, name=f"pool-worker-{i}", daemon=True) for i in range(workers)]
    interrupted = False
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # short joins: Ctrl-C reaches the main thread at once
    except KeyboardInterrupt:
        interrupted = True
        pool.stop()
        deadline = time.monotonic() + grace
        try:
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting for the episodes
    finally:
        pool.close()
    status, reason = (INTERRUPTED, "the suite was stopped (Ctrl-C)") if interrupted else (NOT_RUN, "never started")
    results.add_missing([t for t in suite.tasks if t.id in shard_ids], status, reason)
    results.set_devices(pool.summary())
    path = results.save(finished=True)
    return PoolRun(results.results, pool.summary(), path, interrupted, len(done & shard_ids))


def _attempt(task: TaskSpec, pool: DevicePool, make_agent: AgentFactory, out_dir: Path) -> PoolResult:
    """Run ``task`` on a leased device; once more on another device if the first one failed under it."""
    retries: list[dict[str, Any]] = []
    failed_on: list[str] = []
    for attempt in (1, 2):
        lease = pool.lease(task.device, exclude=failed_on)
        if lease is None:
            if pool.stopping.is_set():
                return PoolResult(task.id, task.goal, "", False, INTERRUPTED, "the suite was stopped (Ctrl-C)")
            why = _no_device(pool, task.device)
            if retries:
                reason = f"{failed_on[0]} failed under it and no other device could take the retry ({why})"
                return PoolResult(task.id, task.goal, "", False, DEVICE_LOST, reason, attempt=attempt, retries=retries)
            return PoolResult(task.id, task.goal, "", False, NOT_RUN, f"no device could run it ({why})")
        result = _run_leased(task, lease, make_agent, out_dir)
        failure = device_failure(result, lease) if result.status != INTERRUPTED else None
        if failure is None:
            pool.release(lease, reset=result.status != INTERRUPTED)
            return PoolResult.of(result, attempt=attempt, retries=retries)
        pool.quarantine(lease, failure)
        failed_on.append(lease.name)
        last = PoolResult.of(result, attempt=attempt, retries=list(retries))
        retries.append(last.as_retry(quarantined=True))
    last.success, last.status = False, DEVICE_LOST
    last.reason = f"both devices failed under it: {failed_on[0]}, then {failed_on[1]} ({last.reason})"
    return last


def _run_leased(task: TaskSpec, lease: Lease, make_agent: AgentFactory, out_dir: Path) -> TaskResult:
    stop = lease.pool.stopping

    def make(env: Env, spec: TaskSpec) -> Agent:
        agent = make_agent(env, spec)
        agent.hooks = StopAwareHooks(agent.hooks, stop)
        return agent

    try:
        return run_task(task, lease.env, make, out_dir)
    except Exception as exc:  # noqa: BLE001 - a bug in one episode must not take the suite down; it is a row
        return TaskResult(task.id, task.goal, lease.name, False, "error", f"{type(exc).__name__}: {exc}")


def _no_device(pool: DevicePool, kind: str) -> str:
    out = [f"{s.spec.name} {s.state}: {s.reason}" for s in pool.slots if s.spec.task_kind == kind]
    return "; ".join(out) or f"the pool has no {kind} device"
