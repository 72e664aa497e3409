"""Suites beyond one host: every device owned by a Ray actor on its node, results streamed to the driver.

Why Ray and nothing home-made: Ray already places processes by resource, carries results, and tells the
driver when an actor or node dies. A farm host advertises its devices when it joins the cluster::

    ray start --address HEAD:6379 --resources '{"device:android_R58M123": 1, "phones:rack-a": 2}'

and the driver creates one ``DeviceWorker`` actor per pool device with ``resources={spec.resource: 1}``, so
Ray starts it on the node that has the device. Each suite task is one actor task (``worker.run``) on a
free device of the task's kind; at most ``concurrency`` run at once. The driver waits on them with
``ray.wait`` and writes each row to one ``results.json`` (and the HTML report) the moment it arrives.

Failures: a device that fails its check before a task is quarantined and the task goes to another device
(it never started). A device that dies under a task, or an actor lost with its node (``RayActorError``),
is quarantined and the task runs once more elsewhere (``attempt: 2``, the first attempt under
``retries``); when the node itself is gone (``ray.nodes()``), every device on it is quarantined at once.
A task no device can take gets a row saying why: every task has a row.

``--resume`` keeps finished rows (after a crash of the driver too: the file is rewritten per row) and runs
the rest; ``--shard I/N`` runs every N-th task. Ray's per-task overhead is measured in ``bench/scale.py``.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError

from .pool_file import DeviceSpec, PoolConfig
from .pool_runner import PoolRun
from .ray_worker import AgentRecipe, DeviceWorker, unpack_run
from .results_stream import DEVICE_LOST, INTERRUPTED, NOT_RUN, BackgroundReport, PoolResult, ResultsFile, select_shard
from .spec import TaskSpec
from .suite import Suite

__all__ = ["run_suite_on_ray"]


@dataclass
class _Device:
    """The driver's view of one actor-owned device."""

    spec: DeviceSpec
    actor: Any = None
    node: str = ""
    state: str = "idle"
    reason: str = ""
    tasks: int = 0

    def summary(self) -> dict[str, Any]:
        state = {"idle": "healthy", "busy": "healthy"}.get(self.state, self.state)
        return {"name": self.spec.name, "kind": self.spec.kind, "state": state, "reason": self.reason,
                "tasks": self.tasks, "node": self.node, "resource": self.spec.resource}  # fmt: skip


@dataclass
class _Job:
    """A task waiting for a device, with its attempts so far."""

    task: TaskSpec
    attempt: int = 1
    retries: list[dict[str, Any]] = field(default_factory=list)
    failed_on: list[str] = field(default_factory=list)


def run_suite_on_ray(
    suite: Suite,
    pool: PoolConfig,
    recipe: AgentRecipe,
    out_dir: Path,
    *,
    address: str | None = None,
    model: dict[str, Any] | None = None,
    family: str = "",
    resume: bool = False,
    shard: tuple[int, int] | None = None,
    on_result: Callable[[PoolResult], None] | None = None,
    ray_init: dict[str, Any] | None = None,
) -> PoolRun:
    """Run the suite's tasks on the pool's devices across a Ray cluster; returns when every task has a row.

    Args:
        address: the cluster (``auto``, ``HOST:6379``, ``ray://HOST:10001``); None starts a local Ray.
        ray_init: further ``ray.init`` arguments (``runtime_env``...), used only when Ray is not running.

    Raises:
        ConfigError: Ray is not installed (``pip install 'guiagent[ray]'``).
    """
    ray = _ray()
    if not ray.is_initialized():
        options = {"include_dashboard": False, "log_to_driver": False, **(ray_init or {})}
        ray.init(address=address, **options)
    from .report import write_suite_report

    report = BackgroundReport(write_suite_report)
    results = ResultsFile(out_dir, suite, model or {}, family, resume=resume, shard=shard, on_save=report)
    shard_tasks = select_shard(suite.tasks, shard)
    done = results.finished
    jobs = collections.deque(_Job(t) for t in shard_tasks if t.id not in done)
    devices = _start_actors(ray, pool, recipe)
    results.set_devices([d.summary() for d in devices])
    running: dict[Any, tuple[_Device, _Job]] = {}
    dispatched: dict[Any, float] = {}
    outside: list[float] = []
    interrupted = False
    try:
        while jobs or running:
            _dispatch(jobs, devices, running, pool.concurrency, dispatched)
            if not running:
                break
            ready, _ = ray.wait(list(running), num_returns=1)
            device, job = running.pop(ready[0])
            row = _collect(ray, ready[0], device, job, devices, jobs, out_dir, outside, dispatched.pop(ready[0]))
            if row is not None:
                results.add(row)
                if on_result is not None:
                    on_result(row)
            results.set_devices([d.summary() for d in devices])
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for device in devices:  # releases every device: actors close their phones as their processes end
            if device.actor is not None:
                ray.kill(device.actor)
    for job in jobs:  # tasks no device took: each gets a row that says why
        if interrupted:
            row = PoolResult(job.task.id, job.task.goal, "", False, INTERRUPTED, "the suite was stopped (Ctrl-C)")
        elif job.retries:
            why = f"{', '.join(job.failed_on)} failed under it and no other device could take the retry"
            row = PoolResult(job.task.id, job.task.goal, "", False, DEVICE_LOST, why, attempt=job.attempt)
        else:
            row = PoolResult(job.task.id, job.task.goal, "", False, NOT_RUN, _why_not(devices, job.task))
        row.retries = list(job.retries)
        results.add(row)
    results.add_missing(shard_tasks, INTERRUPTED, "the suite was stopped (Ctrl-C) while it ran")
    results.set_devices([d.summary() for d in devices])
    results.on_save = None
    path = results.save(finished=True)
    report.close(final=path)
    summary = [d.summary() for d in devices]
    return PoolRun(results.results, summary, path, interrupted, len(done & {t.id for t in shard_tasks}), outside)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'guiagent[ray]'") from None
    return ray


def _start_actors(ray: Any, pool: PoolConfig, recipe: AgentRecipe) -> list[_Device]:
    """One actor per device some node advertises; the rest are listed as not placed, with why."""
    worker = ray.remote(DeviceWorker)
    offered = dict(ray.cluster_resources())
    devices = []
    for spec in pool.devices:
        device = _Device(spec)
        if offered.get(spec.resource, 0) < 1:
            device.state, device.reason = "not_placed", f"no Ray node advertises the resource {spec.resource!r}"
        else:
            offered[spec.resource] -= 1
            device.actor = worker.options(num_cpus=0, resources={spec.resource: 1}, max_restarts=0).remote(
                spec, recipe, pool.retry_window, pool.reset, pool.trajectories
            )
        devices.append(device)
    placed = [(d, d.actor.node.remote()) for d in devices if d.actor is not None]
    for device, ref in placed:  # waits until each actor is up on its node
        try:
            device.node = ray.get(ref)
        except ray.exceptions.RayError as exc:  # its constructor failed (no model backend, bad recipe)
            _quarantine(ray, device, f"its actor did not start: {type(exc).__name__}: {str(exc)[:300]}")
    return devices


def _dispatch(jobs: Any, devices: list[_Device], running: dict[Any, Any], limit: int, when: dict[Any, float]) -> None:
    """Give waiting tasks to idle devices of their kind (spreading tasks over devices), up to ``limit``."""
    for _ in range(len(jobs)):
        if len(running) >= limit:
            return
        job = jobs.popleft()
        idle = [
            d
            for d in devices
            if d.state == "idle" and d.spec.task_kind == job.task.device and d.spec.name not in job.failed_on
        ]
        if not idle:
            jobs.append(job)
            continue
        device = min(idle, key=lambda d: d.tasks)
        device.state = "busy"
        ref = device.actor.run.remote(job.task, job.attempt)
        running[ref], when[ref] = (device, job), time.monotonic()


def _collect(
    ray: Any, ref: Any, device: _Device, job: _Job, devices: list[_Device], jobs: Any, out_dir: Path,
    outside: list[float], dispatched: float,
) -> PoolResult | None:  # fmt: skip
    """Turn one finished actor task into a row, or put the task back (device unhealthy, or lost under it)."""
    try:
        answer = ray.get(ref)
    except ray.exceptions.RayActorError as exc:
        _quarantine(ray, device, f"its actor died mid-task ({type(exc).__name__}); node {device.node[:12]}")
        _quarantine_dead_nodes(ray, devices)
        lost = PoolResult(job.task.id, job.task.goal, device.spec.name, False, "error", device.reason,
                          attempt=job.attempt, node=device.node)  # fmt: skip
        return _retry_or_row(job, lost, device, jobs)
    if "unhealthy" in answer:
        _quarantine(ray, device, answer["unhealthy"])
        jobs.appendleft(job)  # it never started: not an attempt
        return None
    outside.append(time.monotonic() - dispatched - answer.get("worker_seconds", 0.0))
    row = PoolResult.from_row(answer["row"])
    row.attempt, row.retries = job.attempt, list(job.retries)
    device.tasks += 1
    if answer.get("archive"):
        unpack_run(answer["archive"], out_dir)
    if answer.get("device_failure"):
        _quarantine(ray, device, answer["device_failure"])
        return _retry_or_row(job, row, device, jobs)
    device.state, device.reason = ("dirty", answer["dirty"]) if answer.get("dirty") else ("idle", "")
    return row


def _retry_or_row(job: _Job, row: PoolResult, device: _Device, jobs: Any) -> PoolResult | None:
    job.failed_on.append(device.spec.name)
    if job.attempt == 1:
        job.retries.append(row.as_retry(quarantined=True))
        job.attempt = 2
        jobs.appendleft(job)
        return None
    row.success, row.status = False, DEVICE_LOST
    row.reason = f"both devices failed under it: {', '.join(job.failed_on)} ({row.reason})"
    row.retries = list(job.retries)
    return row


def _quarantine(ray: Any, device: _Device, reason: str) -> None:
    device.state, device.reason = "quarantined", reason
    if device.actor is not None:
        ray.kill(device.actor)
        device.actor = None


def _quarantine_dead_nodes(ray: Any, devices: list[_Device]) -> None:
    """Ray knows which nodes are gone: take every device on them out, not one failed task at a time."""
    alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
    for device in devices:
        if device.actor is not None and device.node not in alive and device.state == "idle":
            _quarantine(ray, device, f"its node {device.node[:12]} left the cluster")


def _why_not(devices: list[_Device], task: TaskSpec) -> str:
    mine = [d for d in devices if d.spec.task_kind == task.device]
    if not mine:
        return f"no device could run it: the pool has no {task.device} device"
    return "no device could run it: " + "; ".join(f"{d.spec.name} {d.state}: {d.reason}" for d in mine)
