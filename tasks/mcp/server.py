"""``GuiAgentServer``: one device, its script session and its model, served over MCP.

Everything that touches the device runs as a ``Job`` (``jobs.py``) under one device lock: session steps
(``tap``, ``type``...; grounded with the family's own prompt, verified, recorded by ``Session``), whole agent
runs (``run_task``) and replays. The lock serialises clients (several can connect over HTTP); a call that
finds the device busy waits ``busy_timeout`` seconds, then says what the device is busy with.

Every step is recorded in the session's run folder (``runs/<id>/``, task ``mcp``, in the agent's trajectory
format: ``guiagent report`` and ``guiagent replay`` read it); ``run_task`` and ``replay`` write their own run
folders. guiagent's errors (device, model, a step that could not be done) become tool errors carrying
guiagent's one-line message; nothing a client sends can stop the server.

``<secret:name>`` values (``ServerOptions.secrets``) are typed on the device only: results, errors, questions
and logs carry the placeholder, and screenshots are painted over where a typed secret shows (a device without
a UI hierarchy stops handing out screenshots once one was typed: it cannot be found to be painted over).
"""

from __future__ import annotations

import base64
import io
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ImageContent, InputRequiredResult, TextContent
from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from guiagent.actions.errors import ActionError, ConfigError, DeviceLost, GuiAgentError
from guiagent.actions.families import ModelFamily
from guiagent.actions.types import Action
from guiagent.agent.backends.base import ModelBackend
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.images import SecretMask, mask_boxes
from guiagent.agent.records import RunRecord
from guiagent.agent.safety import ConfirmPolicy
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Redactor, guiagent_version, secret_names
from guiagent.envs.base import Env
from guiagent.tasks.script import (
    ModelRequired,
    ScriptAssertionError,
    ScriptDivergence,
    ScriptError,
    Session,
    SessionConfig,
    StepResult,
)

from .jobs import Job, Parked, drive, error_result

__all__ = ["GuiAgentServer", "ServerOptions"]

logger = logging.getLogger("guiagent.mcp")

INSTRUCTIONS = """\
guiagent operates one device (an Android phone or a desktop) for you, step by step, and records every step.
Call screenshot to see the screen. Name what to act on in words (tap target="the Save button",
type text=... into="the search box"): guiagent's own grounding model finds it on the screen. Or give x and y
in device pixels of the latest full-size screenshot. assert_visible and query check and read the screen;
run_task hands a whole task to guiagent's agent. Some actions (delete, pay, send...) need your person's
confirmation first, which guiagent asks for itself; a "no" is final. Type <secret:name> to type a secret
you do not know: guiagent fills it in on the device only."""

_LOCATED_BY = {
    "cache:patch": "the locator cache (the pixels around it verified)",
    "cache:node": "the locator cache (its UI node verified)",
    "cache": "the locator cache",
    "model": "the grounding model",
    "hierarchy": "the UI hierarchy",
}


@dataclass(frozen=True)
class ServerOptions:
    """How the server behaves.

    Args:
        out_dir: where run folders are written (the session's, ``run_task``'s, ``replay``'s).
        confirm: which actions need the person's yes first; the MCP client is asked (``jobs.py``).
        agent: ``run_task``'s settings (its ``confirm`` and ``out_dir`` are this server's).
        secrets: values for ``<secret:name>``.
        cache: the locator cache (a path: kept across server runs); None lives as long as the server.
        threshold: share of a cached target's patch that may differ for its locator to verify.
        busy_timeout: seconds a call waits for the device while another call is using it.
        answer_timeout: seconds a confirmation waits for the person before it counts as a no.
        adb: the adb server address (``list_devices``).
    """

    out_dir: Path = Path("runs")
    confirm: ConfirmPolicy = field(default_factory=lambda: ConfirmPolicy("risky"))
    agent: AgentConfig = field(default_factory=AgentConfig)
    secrets: dict[str, str] = field(default_factory=dict)
    cache: str | Path | None = None
    threshold: float = 0.10
    busy_timeout: float = 30.0
    answer_timeout: float = 600.0
    adb: dict[str, Any] = field(default_factory=dict)


class GuiAgentServer:
    """``env`` driven through MCP tools (``tools.py``); ``model`` grounds descriptions and runs tasks.

    Args:
        env: the device (opened by the caller, who also closes it).
        model: the grounding and agent model; None serves pixel actions, checks that the UI hierarchy
            answers, screenshots, devices and replays only.
        family: the model's family (required with a model).
        options: output folder, confirm policy, secrets, timeouts.

    ``self.mcp`` is the ``MCPServer``: ``serve`` runs it over stdio or streamable HTTP, and tests connect the
    SDK's client to it in-process. ``close`` ends the session's run record (safe twice).
    """

    def __init__(
        self,
        env: Env,
        model: ModelBackend | None = None,
        family: ModelFamily | None = None,
        options: ServerOptions | None = None,
    ) -> None:
        self.env = env
        self.model = model
        self.family = family
        self.options = options or ServerOptions()
        self.secrets = dict(self.options.secrets)
        self.redactor = Redactor(self.secrets)
        config = SessionConfig(
            threshold=self.options.threshold,
            confirm=self.options.confirm,
            out_dir=self.options.out_dir,
            frame_reuse=0.0,  # run_task, replay and the person move the screen between calls: look afresh
        )
        self.session = Session(
            env,
            model,
            family,
            cache=self.options.cache,
            name="mcp",
            config=config,
            hooks=_SessionHooks(self),
            secrets=self.secrets,
        )
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._parked = Parked()
        self._mask = SecretMask()
        self._unsettled = False
        """A step acted since the last screenshot (steps do not settle: the next step's look waits for the effect)."""
        self._unmaskable: str | None = None
        """Why screenshots are refused: a secret typed on a device with no UI hierarchy to locate it."""
        self.mcp: MCPServer[Any] = MCPServer(
            "guiagent", instructions=INSTRUCTIONS, version=guiagent_version(), log_level="WARNING"
        )
        from .tools import register

        register(self)

    # -- lifecycle ---------------------------------------------------------------------------------

    def serve(
        self,
        transport: Literal["stdio", "http"] = "stdio",
        host: str = "127.0.0.1",
        port: int = 8765,
        path: str = "/mcp",
    ) -> None:
        """Serve until the client goes away (stdio) or Ctrl-C (HTTP)."""
        if transport == "stdio":
            anyio.run(self.mcp.run_stdio_async)
        else:
            run = partial(self.mcp.run_streamable_http_async, host=host, port=port, streamable_http_path=path)
            anyio.run(run)

    def close(self) -> RunRecord | None:
        """End the session's run (its record and cache written); safe twice."""
        return self.session.close()

    @property
    def folder(self) -> Path:
        """The session's run folder."""
        return self.session.folder

    # -- calls -------------------------------------------------------------------------------------

    async def call(
        self, ctx: Context[Any, Any], title: str, work: Callable[[Job], CallToolResult]
    ) -> CallToolResult | InputRequiredResult:
        """Run ``work`` on the device as a job (or continue the parked job this call answers)."""
        resumed = self._parked.resume(ctx)
        if isinstance(resumed, CallToolResult):
            return resumed
        job = resumed or Job(self.redactor.text(title), partial(self._on_device, work), self.options.answer_timeout)
        return await drive(ctx, job, self._parked)

    def _on_device(self, work: Callable[[Job], CallToolResult], job: Job) -> CallToolResult:
        busy = self._job
        if not self._lock.acquire(timeout=self.options.busy_timeout):
            what = busy.title if busy is not None else "another call"
            return error_result(
                f"the device is busy with {what!r} (waited {self.options.busy_timeout:g} s); try again when it is done"
            )
        try:
            if job.cancelled:  # the client gave up while the device was busy: do nothing
                return error_result(f"cancelled by the MCP client before {job.title!r} began")
            self._job = job
            try:
                result = work(job)
            except (GuiAgentError, ValidationError) as exc:
                self._unsettled = True  # a step may have acted before it failed
                result = self.failure(exc)
            except Exception as exc:  # noqa: BLE001 - a bug must not take the server down; it is logged
                logger.error("guiagent mcp: %s failed\n%s", job.title, self.redactor.text(traceback.format_exc()))
                detail = self.redactor.text(str(exc))
                result = error_result(f"internal error in guiagent: {type(exc).__name__}: {detail}")
            if job.refusals:
                result.content.append(TextContent(type="text", text="not confirmed: " + "; ".join(job.refusals)))
            return result
        finally:
            self._job = None
            self._lock.release()

    def ask_confirmation(self, action: Action, reason: str) -> bool:
        """The confirm policy's question, put to the current call's client (no call: nobody to ask, a no)."""
        job = self._job
        if job is None:
            return False
        message = (
            f"{self.env.name}: {job.title}. guiagent is about to {describe(action)}, and asks first because "
            f"{reason}. Allow it?"
        )
        return job.ask("confirm", self.redactor.text(message)).yes

    # -- results -----------------------------------------------------------------------------------

    def need_model(self, what: str) -> tuple[ModelBackend, ModelFamily]:
        if self.model is None or self.family is None:
            raise ConfigError(
                f"{what} needs a model, and this server has none: start guiagent mcp with --base-url URL "
                "(an OpenAI-compatible endpoint) or --model ID"
            )
        return self.model, self.family

    def stepped(self, *results: StepResult, acted: bool = True) -> CallToolResult:
        """The result of session steps: what each did, where, and how its target was found."""
        self._unsettled = self._unsettled or acted
        lines: list[str] = []
        for result in results:
            head = f"step {result.index}: {result.verb.replace('_', ' ')}"
            if result.target:
                head += f" {result.target!r}"
            if result.point is not None:
                head += f" at ({result.point[0]}, {result.point[1]})"
            if result.located_by:
                head += f", located by {_LOCATED_BY.get(result.located_by, result.located_by)}"
            lines.append(head)
            lines += [f"  {note}" for note in result.notes]
        last = results[-1]
        value = self.redactor.data(to_jsonable_python(last.value, fallback=str))
        structured = {
            "step": last.index,
            "verb": last.verb,
            "target": last.target,
            "point": list(last.point) if last.point is not None else None,
            "located_by": last.located_by,
            "value": value,
            "screenshot": str(last.screenshot) if last.screenshot else None,
            "run": str(self.session.folder),
        }
        return CallToolResult(
            content=[TextContent(type="text", text=self.redactor.text("\n".join(lines)))],
            structured_content=structured,
        )

    def acted(self) -> None:
        """Something acted on the device outside a session step (a run): the next screenshot settles first."""
        self._unsettled = True

    def failure(self, exc: BaseException) -> CallToolResult:
        """A guiagent error as a tool error: its one-line message (as the CLI prints it), secrets redacted."""
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = f"invalid {where or 'value'}: {str(first.get('msg', '')).removeprefix('Value error, ')}"
        elif isinstance(exc, (ActionError, ConfigError)):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ModelRequired):
            message += (
                "; this server has no model: start guiagent mcp with --base-url URL (or --model ID), "
                "or give x and y in device pixels"
            )
        details: dict[str, Any] = {"type": type(exc).__name__}
        if isinstance(exc, (ScriptError, ScriptDivergence)) and exc.step:
            details["step"] = exc.step
        if isinstance(exc, ScriptAssertionError) and exc.screenshot:
            details["screenshot"] = exc.screenshot
        if isinstance(exc, ScriptDivergence) and exc.images:
            details["images"] = exc.images
        return error_result(self.redactor.text(message), **details)

    # -- screenshots and secrets -------------------------------------------------------------------

    def screenshot(self, max_side: int) -> CallToolResult:
        """The screen now as a PNG image content, typed secrets painted over."""
        if self._unmaskable:
            raise ConfigError(self._unmaskable)
        if self._unsettled:  # a step acted since the last look: show its effect, not the screen halfway there
            config = self.session.config
            settled = self.env.settle(
                min_wait=config.settle_min, max_wait=config.settle_max, tolerance=config.tolerance
            )
            observation, self._unsettled = settled.observation, False
        else:
            observation = self.env.observe()
        image, notes = observation.image, []
        if self._mask.active:
            boxes = self._mask.locate(self._nodes())
            if boxes:
                image = mask_boxes(image, boxes)
                notes.append(f"{len(boxes)} area(s) showing a typed secret painted over")
        width, height = observation.geometry.width, observation.geometry.height
        scale = 1.0
        if max_side and max(image.size) > max_side:
            scale = max_side / max(image.size)
            image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "PNG")
        text = f"{self.env.name}: {width}x{height} device pixels, {observation.geometry.orientation}"
        if scale != 1.0:
            text += f"; this image is scaled by {scale:.4g}: divide its pixel coordinates by {scale:.4g} for x and y"
        else:
            text += "; x and y of tap, type, swipe are pixels of this image"
        text = "; ".join([text, *notes])
        data = base64.b64encode(buffer.getvalue()).decode()
        return CallToolResult(
            content=[ImageContent(type="image", data=data, mime_type="image/png"), TextContent(type="text", text=text)],
            structured_content={
                "device": self.env.name,
                "width": width,
                "height": height,
                "scale": scale,
                "orientation": observation.geometry.orientation,
            },
        )

    def secrets_typed(self, texts: list[str], where: str) -> None:
        """Note that ``texts`` (typed text, placeholders in) went to the device: later screenshots mask them."""
        names = [name for text in texts for name in secret_names(text) if self.secrets.get(name)]
        if not names:
            return
        try:
            nodes = self.env.ui_nodes()
        except DeviceLost:
            raise
        except (GuiAgentError, ValueError):  # this dump failed: later dumps still look for views showing them
            nodes = []
        if nodes is None:
            self._unmaskable = (
                f"guiagent sends no more screenshots of {self.env.name}: {where} typed <secret:{names[0]}>, and "
                "this device has no UI hierarchy to find it on the screen and paint it over (restart the server "
                "to lift this)"
            )
            return
        self._mask.typed([self.secrets[name] for name in names], nodes)

    def _nodes(self) -> Any:
        """The hierarchy now; None when this dump failed (the mask then reuses its last boxes)."""
        try:
            return self.env.ui_nodes()
        except DeviceLost:
            raise
        except (GuiAgentError, ValueError):
            return None


def describe(action: Action) -> str:
    """An action in words for a question to a person: ``click at (540, 1404)``, ``type 'milk'``."""
    data = action.to_json_dict()
    kind = str(data.pop("type")).replace("_", " ")
    where = ""
    if "x" in data and "y" in data:
        where = f" at ({data.pop('x')}, {data.pop('y')})"
        if "x2" in data and "y2" in data:
            where += f" to ({data.pop('x2')}, {data.pop('y2')})"
    if "text" in data:
        return f"{kind} {data['text']!r}{where}"
    if "keys" in data:
        return f"press {'+'.join(data['keys'])}"
    rest = ", ".join(f"{key} {value}" for key, value in data.items())
    return f"{kind}{where}" + (f" ({rest})" if rest else "")


class _SessionHooks(AgentHooks):
    """The session's person in the loop: the client of the call that is using the device."""

    def __init__(self, server: GuiAgentServer) -> None:
        self._server = server

    def confirm(self, action: Action, reason: str) -> bool:
        return self._server.ask_confirmation(action, reason)
