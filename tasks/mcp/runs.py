"""The MCP tools that are whole runs: ``run_task`` (the agent), ``replay`` (a recorded run), and ``list_devices``.

Each run writes its own run folder (the agent's or the replay's, ``guiagent report`` reads both) and reports
each recorded step to the client as progress. The person in the loop is the client: confirmations and the
model's ``call_user`` questions go through the job (``jobs.py``), exactly as a session step's do. A client
that cancels the call stops the run after the step in progress (the run ends ``error``, recorded).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_types import CallToolResult, TextContent

from guiagent.actions.errors import ConfigError, GuiAgentError
from guiagent.actions.types import Action
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.records import StepRecord
from guiagent.agent.trajectory import Trajectory, secret_names

from .jobs import Job

if TYPE_CHECKING:
    from .server import GuiAgentServer

__all__ = ["CallCancelled", "list_devices", "replay_run", "run_task"]


class CallCancelled(GuiAgentError):
    """The MCP client cancelled the call; the run stopped after the step in progress."""


def run_task(
    server: GuiAgentServer, job: Job, task: str, max_steps: int | None, time_limit: float | None
) -> CallToolResult:
    """A whole agent run on the server's device (``guiagent.agent.loop.Agent``)."""
    from guiagent.agent.loop import Agent

    model, family = server.need_model("run_task")
    _check_secrets(server, secret_names(task), "the task mentions")
    base = server.options.agent
    config = replace(
        base,
        confirm=server.options.confirm,
        out_dir=server.options.out_dir,
        max_steps=max_steps or base.max_steps,
        time_limit=time_limit if time_limit is not None else base.time_limit,
    )
    hooks = _RunHooks(server, job, config.max_steps)
    try:
        trajectory = Agent(server.env, model, family, config, hooks=hooks, secrets=server.secrets).run(task)
    finally:
        server.acted()
    server.secrets_typed(_typed(trajectory.steps), f"run_task ({trajectory.folder.name})")
    return _result(server, "run_task", trajectory)


def replay_run(
    server: GuiAgentServer, job: Job, run_dir: str, allow_unfinished: bool, reground: bool
) -> CallToolResult:
    """Replay a recorded run on the server's device (``guiagent.tasks.replay``), checking every step."""
    from guiagent.tasks.replay import Regrounder, ReplayConfig, needed_secrets, replay

    folder = Path(run_dir).expanduser()
    if not (folder / "run.json").exists() and (server.options.out_dir / run_dir / "run.json").exists():
        folder = server.options.out_dir / run_dir  # a run id, as run_task and replay report them
    if not (folder / "run.json").exists():
        raise ConfigError(f"{run_dir} is not a run folder (no run.json), nor a run id under {server.options.out_dir}")
    recorded = Trajectory.load(folder)
    _check_secrets(server, needed_secrets(recorded), "the recording types")
    regrounder = Regrounder(server.model, server.family) if reground and server.model and server.family else None
    config = ReplayConfig(confirm=server.options.confirm, allow_unfinished=allow_unfinished)
    hooks = _RunHooks(server, job, len(recorded.steps))
    try:
        trajectory = replay(
            folder, server.env, server.options.out_dir, config, regrounder, hooks=hooks, secrets=server.secrets
        )
    finally:
        server.acted()
    server.secrets_typed(_typed(trajectory.steps), f"replay ({trajectory.folder.name})")
    return _result(server, "replay", trajectory)


def list_devices(server: GuiAgentServer) -> CallToolResult:
    """The devices guiagent can see (adb devices and desktop monitors), and the one this server drives."""
    from guiagent.envs.devices import list_devices as found

    devices = [{**d.__dict__, "served": False} for d in found(**server.options.adb)]
    serial = getattr(server.env, "serial", None)
    for device in devices:
        device["served"] = device["name"] in (server.env.name, f"android:{serial}")
    lines = [f"this server drives {server.env.name} ({server.env.kind})"]
    lines += [f"{d['name']}  {d['kind']}  {d['detail']}" + ("  (served here)" if d["served"] else "") for d in devices]
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(lines))],
        structured_content={"served": server.env.name, "devices": devices},
    )


def _check_secrets(server: GuiAgentServer, names: list[str], what: str) -> None:
    missing = [name for name in names if name not in server.secrets]
    if missing:
        variables = ", ".join(f"GUIAGENT_SECRET_{name.upper()}" for name in missing)
        raise ConfigError(
            f"{what} <secret:{missing[0]}>, which this server was not given: set {variables} in its environment"
        )


def _typed(steps: list[StepRecord]) -> list[str]:
    return [
        str(action.get("text", ""))
        for step in steps
        for action in step.actions_device[: step.executed]
        if action.get("type") == "type"
    ]


def _result(server: GuiAgentServer, label: str, trajectory: Trajectory) -> CallToolResult:
    run = trajectory.run
    lines = [f"{label} ended {run.status}: {run.reason}"]
    if run.answer:
        lines.append(f"answer: {run.answer}")
    lines.append(f"{len(trajectory.steps)} step(s) recorded in {trajectory.folder}")
    text = server.redactor.text("\n".join(lines))
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=server.redactor.data(
            {
                "status": run.status,
                "reason": run.reason,
                "answer": run.answer,
                "steps": len(trajectory.steps),
                "run": str(trajectory.folder),
            }
        ),
        is_error=run.status == "error",
    )


class _RunHooks(AgentHooks):
    """A run's person in the loop and its display: the client of the call, through the job."""

    def __init__(self, server: GuiAgentServer, job: Job, total: int) -> None:
        self._server, self._job, self._total = server, job, total

    def step_finished(self, step: StepRecord) -> None:
        did = step.thought or ", ".join(str(a.get("type")) for a in step.actions_device) or "no action"
        if step.error is not None:
            did += f" ({step.error.type}: {step.error.message})"
        self._job.report(step.index, self._total, self._server.redactor.text(f"step {step.index}: {did}")[:300])
        if self._job.cancelled:
            raise CallCancelled(f"the MCP client cancelled the call after step {step.index}")

    def confirm(self, action: Action, reason: str) -> bool:
        return self._server.ask_confirmation(action, reason)

    def ask_user(self, message: str) -> str | None:
        question = self._server.redactor.text(f"{self._server.env.name}: the agent asks: {message}")
        answer = self._job.ask("reply", question)
        return answer.text if answer.yes else None
