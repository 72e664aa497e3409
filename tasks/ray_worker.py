"""The worker side of a Ray suite: one actor owns one device and runs that device's episodes.

Why an actor per device: a phone on a farm host can only be driven from that host's adb server, an
embedded virtual phone lives in one process, and a desktop belongs to one X display; an actor is a process
Ray keeps on one node, placed there by the device's custom resource (``DeviceSpec.resource``), so the
device and the episodes that use it stay together. Each call runs one task, start to end, on that node:
health check, setup, agent, checks, reset. Nothing device-side crosses the network except the result.

Trajectories are written on the worker. ``ship`` (the default) returns the run folder as a zip in the
call's result (Ray's object store carries it to the driver, which unpacks it next to ``results.json``);
a folder path instead means every node mounts that folder and writes there directly.

This module imports nothing from Ray: ``ray_suite`` wraps ``DeviceWorker`` with ``ray.remote``.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from guiagent.agent.backends.base import ModelBackend
from guiagent.agent.loop import Agent
from guiagent.envs.base import Env

from .device_health import check_health, reset_device
from .pool_file import DeviceSpec
from .results_stream import PoolResult
from .runner import TaskResult, run_task
from .spec import TaskSpec

__all__ = ["AgentRecipe", "DeviceWorker", "HttpAgentRecipe", "pack_run", "unpack_run"]

SHIP = "ship"


class AgentRecipe(Protocol):
    """How a worker builds agents: picklable, built on the driver, used on every node.

    ``backend()`` is called once per actor (its connections live as long as the actor); ``agent()`` once
    per task.
    """

    def backend(self) -> ModelBackend | None:
        """The model backend this worker shares between its episodes (None: the recipe builds its own)."""

    def agent(self, env: Env, task: TaskSpec, backend: ModelBackend | None) -> Agent:
        """An agent for one task on this worker's device."""


@dataclass(frozen=True)
class HttpAgentRecipe:
    """Agents on OpenAI-compatible endpoints: what ``guiagent eval --ray`` ships to the workers.

    Each worker builds one ``FailoverBackend`` over ``base_urls`` (its episodes share its connections) and
    gives every episode its own affinity. The API key is not part of the recipe: each node reads its own
    ``OPENAI_API_KEY``.

    Args:
        model: the served model name.
        base_urls: the endpoints.
        family: a ``ModelFamily`` (picklable, with the driver's options applied) or a family name.
        history_images: earlier screenshots sent to the model (None: the family's default).
        timeout: seconds per model request.
        image_format: ``jpeg`` or ``png`` over HTTP.
        extra_body: extra fields for every request body (``--extra-body``).
    """

    model: str
    base_urls: tuple[str, ...]
    family: Any
    history_images: int | None = None
    timeout: float = 120.0
    image_format: str = "jpeg"
    extra_body: dict[str, Any] | None = None

    def backend(self) -> ModelBackend:
        from guiagent.agent.backends.failover import FailoverBackend

        return FailoverBackend(
            self.model, self.base_urls, timeout=self.timeout, image_format=self.image_format, extra_body=self.extra_body
        )

    def agent(self, env: Env, task: TaskSpec, backend: ModelBackend | None) -> Agent:
        from guiagent.agent.history import HistoryPolicy
        from guiagent.agent.settings import AgentConfig

        assert backend is not None
        model = backend.episode(task.id) if hasattr(backend, "episode") else backend
        history = HistoryPolicy(max_images=self.history_images)
        config = AgentConfig(max_steps=task.max_steps, time_limit=task.time_limit, history=history)
        return Agent(env, model, self.family, config)


class DeviceWorker:
    """Owns one device on the node that has it; ``run`` does one task there.

    Args:
        spec: the device.
        recipe: how to build agents.
        retry_window: seconds the device may stop answering before it counts as lost.
        reset: the pool's reset steps (None: the default).
        trajectories: ``ship`` or a folder every node mounts.
    """

    def __init__(
        self,
        spec: DeviceSpec,
        recipe: AgentRecipe,
        retry_window: float = 10.0,
        reset: tuple[Any, ...] | None = None,
        trajectories: str = SHIP,
    ) -> None:
        if spec.kind == "desktop" and spec.display:
            os.environ["DISPLAY"] = spec.display  # this actor's own process: one X display each
        self.spec = spec
        self.recipe = recipe
        self.retry_window = retry_window
        self.reset = reset
        self.trajectories = trajectories
        self.env: Env | None = None
        self.model = recipe.backend()

    def node(self) -> str:
        """The Ray node this actor runs on (its id; "" outside Ray)."""
        import ray

        return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else ""

    def run(self, task: TaskSpec, attempt: int = 1) -> dict[str, Any]:
        """Check the device, run ``task`` on it, reset it; never raises for a device or agent failure.

        Returns:
            ``{"unhealthy": reason}`` when the device failed its check before the task (the task did not
            start); otherwise ``{"row": PoolResult as a dict, "archive": zip bytes or None, "device_failure":
            why the device failed under the task or None, "dirty": why the reset failed or "",
            "worker_seconds": the call's time on the worker}``.
        """
        started = time.monotonic()
        try:
            if self.env is None:
                self.env = self.spec.open(self.retry_window)
        except Exception as exc:  # noqa: BLE001 - a device that will not open is unhealthy, with the reason
            return {"unhealthy": f"could not open: {type(exc).__name__}: {exc}"}
        health = check_health(self.env)
        if not health.ok:
            self.close()
            return {"unhealthy": f"failed its health check: {health.reason}"}
        shipping = self.trajectories == SHIP
        out = Path(tempfile.mkdtemp(prefix="guiagent-ray-")) if shipping else Path(self.trajectories)
        try:
            result = self._run(task, out)
            failure = self._failure(result)
            dirty = "" if failure else reset_device(self.env, self.reset)
            row = PoolResult.of(result, attempt=attempt, node=self.node())
            archive = None
            if shipping and row.run_dir:
                archive = pack_run(out / row.run_dir)
            elif row.run_dir:
                row.run_dir = str((out / row.run_dir).resolve())
            if failure:
                self.close()
            seconds = time.monotonic() - started
            return {"row": asdict(row), "archive": archive, "device_failure": failure, "dirty": dirty,
                    "worker_seconds": seconds}  # fmt: skip
        finally:
            if shipping:
                shutil.rmtree(out, ignore_errors=True)

    def _run(self, task: TaskSpec, out: Path) -> TaskResult:
        assert self.env is not None

        def make(env: Env, spec: TaskSpec) -> Agent:
            return self.recipe.agent(env, spec, self.model)

        try:
            return run_task(task, self.env, make, out)
        except Exception as exc:  # noqa: BLE001 - a bug in one episode is that task's row, not a dead actor
            return TaskResult(task.id, task.goal, self.spec.name, False, "error", f"{type(exc).__name__}: {exc}")

    def _failure(self, result: TaskResult) -> str | None:
        if result.status != "error" or self.env is None:
            return None
        health = check_health(self.env)
        if not health.ok:
            return f"failed mid-task ({result.reason}); then its health check: {health.reason}"
        return f"was lost mid-task ({result.reason})" if result.reason.startswith("DeviceLost") else None

    def close(self) -> None:
        """Close the device (stops an embedded virtual phone); safe to call twice."""
        env, self.env = self.env, None
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - closing a dead device may fail; it is out either way
                pass


def pack_run(folder: Path) -> bytes:
    """A run folder as zip bytes (names relative to its parent, so it unpacks as ``runs/RUN_ID/...``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # screenshots are compressed already
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent.parent).as_posix())
    return buffer.getvalue()


def unpack_run(data: bytes, out_dir: Path) -> None:
    """Unpack a shipped run folder under ``out_dir``; refuses names that would land outside it."""
    root = out_dir.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            target = (root / name).resolve()
            if root not in target.parents:
                raise ValueError(f"shipped run has a path outside the results folder: {name!r}")
        archive.extractall(root)
