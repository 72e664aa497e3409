"""The observe → think → act loop.

``Agent.run(task)`` is a bounded loop over ``step``; ``step`` calls its phases in order — observe, build
the prompt, ask the model, parse, act, settle — and records the step in ``finally``, so a step that
fails still reaches the trajectory. Recoverable errors (a reply that does not parse, a point off the
screen, an app that is not installed, an action this device has no way to perform, a declined
confirmation) go back to the model as feedback; fatal ones (device lost, model unavailable) end the run
with status ``error`` and everything recorded. Any other exception (a bug, a backend raising something
unexpected) also ends the run as ``error`` with its type and message in ``run.json``, and then propagates:
a crash is never recorded as a normal end.

The time limit holds inside a step too: a ``wait`` is cut to the time left, settling stops at it, and the
model request carries the deadline (``ModelRequest.deadline``) so a backend stops waiting and retrying then;
the run ends ``timeout`` with the cut step recorded.

Secrets typed into the device are painted over in every later screenshot before it is saved or sent
(``SecretScreens``: located from the UI hierarchy where the device has one; where it has none, the step notes say
the screenshots are not masked).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from guiagent.actions.errors import (
    ActionError,
    CommandInterrupted,
    GuiAgentError,
    ServerResizedImages,
    UnsupportedAction,
)
from guiagent.actions.families import ModelFamily, get_family
from guiagent.actions.types import Action, Answer, CallUser, Terminate, Type, Wait
from guiagent.envs.base import Env, Observation

from .annotate import annotate
from .backends.base import DeadlineReached, ModelBackend, ModelRequest
from .history import History, PastStep
from .hooks import AgentHooks, LoopGuard, StepOutcome, declined_reason
from .images import prepare_image
from .records import ErrorInfo, RunRecord, StepRecord, message_json
from .secret_screens import SecretScreens
from .server_checks import check_image_tokens
from .settings import AgentConfig
from .trajectory import Redactor, Trajectory, TrajectoryWriter, guiagent_version, new_run_id

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["Agent"]


@dataclass
class _StepWork:
    """What one step produced so far; whatever exists is recorded, even when the step fails."""

    observation: Observation | None = None
    model_image: Image.Image | None = None
    actions: tuple[Action, ...] = ()


@dataclass
class _RunState:
    """What carries from one step to the next within a run."""

    task: str
    writer: TrajectoryWriter
    history: History
    guard: LoopGuard
    screens: SecretScreens
    observation: Observation | None = None
    feedback: str | None = None
    invalid_replies: int = 0
    resize_warned: bool = False
    deadline: float | None = None
    """``time.monotonic()`` at which the time limit is reached (None: no limit)."""
    steps: list[StepRecord] = field(default_factory=list)

    def time_left(self) -> float | None:
        """Seconds until the time limit (never negative), or None without one."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


class Agent:
    """A model operating a device.

    Args:
        env: the device.
        model: the model backend.
        family: the family (or its name) whose prompt, parser and coordinate space the model uses.
        config: limits and behaviour (see ``AgentConfig``).
        hooks: callbacks for display and the person in the loop (see ``AgentHooks``).
        secrets: values the model refers to as ``<secret:name>``; substituted only when typing
            (``Redactor.reveal``), and redacted from everything written.
    """

    def __init__(
        self,
        env: Env,
        model: ModelBackend,
        family: ModelFamily | str,
        config: AgentConfig | None = None,
        *,
        hooks: AgentHooks | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.env = env
        self.model = model
        self.family = get_family(family) if isinstance(family, str) else family
        self.config = config or AgentConfig()
        self.hooks = hooks or AgentHooks()
        self.last_trajectory: Trajectory | None = None
        """The latest run's record, set even when ``run`` raised: a caller that catches the exception can
        still name the run folder and its steps."""
        self.secrets = dict(secrets or {})
        self.redactor = Redactor(self.secrets)

    def run(self, task: str, out_dir: str | Path | None = None) -> Trajectory:
        """Work on ``task`` until the model ends it or a limit is hit; returns the recorded trajectory."""
        writer = self._start(task, Path(out_dir or self.config.out_dir))
        history, guard = History(self.family, self.config.history), LoopGuard(self.config.repeat_limit)
        state = _RunState(task, writer, history, guard, SecretScreens(self.env, self.secrets))
        # Until the loop says otherwise, the run ended by an exception: a crash can never read as a normal end.
        status, reason, answer = "error", "the run ended by an exception", None
        try:
            status, reason, answer = self._loop(state)
        except KeyboardInterrupt:
            status, reason = "interrupted", "stopped by Ctrl-C"
        except GuiAgentError as exc:
            status, reason = "error", f"{type(exc).__name__}: {exc}"
        except BaseException as exc:  # a bug or an unexpected library error: record it, then let it propagate
            status, reason = "error", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            run = writer.finish(status, reason, answer)
            self.last_trajectory = Trajectory(writer.folder, run, state.steps)
            self.hooks.run_finished(run)
        return self.last_trajectory

    def _loop(self, state: _RunState) -> tuple[str, str, str | None]:
        """Step until the model ends the run or a limit is hit; returns (status, reason, answer)."""
        state.deadline = time.monotonic() + self.config.time_limit if self.config.time_limit else None
        for index in range(1, self.config.max_steps + 1):
            if state.time_left() == 0.0:
                return "timeout", self._timeout_reason(), None
            outcome = self.step(state, index)
            if outcome.done:
                return outcome.status, outcome.reason, outcome.answer
        return "max_steps", f"reached the limit of {self.config.max_steps} steps", None

    def step(self, state: _RunState, index: int) -> StepOutcome:
        """One iteration: observe, build, ask, parse, act, settle; recorded whatever happens."""
        record = StepRecord(index=index, started_at=time.time(), dry_run=self.config.dry_run)
        work = _StepWork()
        try:
            work.observation = self._observe(state, record)
            request, work.model_image = self._build(state, record, work.observation)
            reply_text = self._ask(state, record, request)
            actions = self._parse(state, record, reply_text, work.observation)
            if actions is None:
                return self._after_invalid_reply(state)
            work.actions = actions
            outcome = self._act(state, record, actions, work.observation)
            if not outcome.done:
                self._settle(state, record)
            return outcome
        except ActionError as exc:  # a device refusing an action the model asked for
            record.error = ErrorInfo(type=type(exc).__name__, message=exc.reason, sent_to_model=True)
            state.feedback = exc.reason
            return StepOutcome()
        except DeadlineReached as exc:  # the model request was cut at the time limit: a timeout, not a failure
            record.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
            return StepOutcome(True, "timeout", f"{self._timeout_reason()} while waiting for the model")
        except Exception as exc:  # fatal: recorded in the step, then the run ends as an error
            record.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
            if isinstance(exc, CommandInterrupted):  # sent, then cut off: the action may well have happened
                record.notes.append(
                    f"action {record.executed + 1} may have reached the device before the connection dropped; "
                    "it was not sent again"
                )
            raise
        finally:
            self._record(state, record, work)

    # -- phases ------------------------------------------------------------------------------------

    def _timeout_reason(self) -> str:
        return f"time limit of {self.config.time_limit:g} s reached"

    def _observe(self, state: _RunState, record: StepRecord) -> Observation:
        started = time.perf_counter()
        observation = state.observation or self.env.observe()
        state.observation = None
        if state.screens.active:  # before anything saves, resizes or sends the frame
            observation = state.screens.masked(observation, record.notes)
        record.timings["capture"] = time.perf_counter() - started
        geometry = observation.geometry
        record.screen = {"width": geometry.width, "height": geometry.height, "orientation": geometry.orientation}
        return observation

    def _build(
        self, state: _RunState, record: StepRecord, observation: Observation
    ) -> tuple[ModelRequest, Image.Image]:
        started = time.perf_counter()
        screen = observation.geometry.size
        plan = self.family.image_plan(screen)
        image = prepare_image(observation.image, plan)
        messages, images, tokens = state.history.build(state.task, screen, image, state.feedback)
        record.model_image = {"width": plan.model.width, "height": plan.model.height, "padded": plan.padded}
        record.estimated_prompt_tokens = tokens
        record.prompt = [message_json(m) for m in messages]
        record.timings["preprocess"] = time.perf_counter() - started
        request = ModelRequest(
            messages,
            images,
            max_new_tokens=self.config.max_new_tokens,
            temperature=self.config.temperature,
            keep_special_tokens=self.family.needs_special_tokens,
            deadline=state.deadline,
        )
        return request, image

    def _ask(self, state: _RunState, record: StepRecord, request: ModelRequest) -> str:
        reply = self.model.complete(request)
        record.timings["preprocess"] = record.timings.get("preprocess", 0.0) + reply.prepare_seconds
        record.timings["model"] = max(0.0, reply.seconds - reply.prepare_seconds)
        record.reply = reply.text
        record.prompt_tokens, record.completion_tokens = reply.prompt_tokens, reply.completion_tokens
        if reply.prompt_tokens:
            self._check_server_images(state, record, request, reply.prompt_tokens)
        return reply.text

    def _check_server_images(
        self, state: _RunState, record: StepRecord, request: ModelRequest, prompt_tokens: int
    ) -> None:
        """Stop when the server resized the screenshots again and the family's clicks are in pixels of them;
        for relative families, say so once and go on (their coordinates stay right)."""
        check = check_image_tokens(request.messages, self.family.factor, prompt_tokens)
        if not check.resized:
            return
        pixels = self.family.space_kind == "pixels"
        message = check.explain(pixel_family=pixels)
        if pixels:
            raise ServerResizedImages(message, getattr(self.model, "model_id", ""), check.sent, check.seen)
        if not state.resize_warned:
            state.resize_warned = True
            record.notes.append(f"warning: {message}")

    def _parse(
        self, state: _RunState, record: StepRecord, text: str, observation: Observation
    ) -> tuple[Action, ...] | None:
        started = time.perf_counter()
        try:
            parsed, device = self.family.parse_to_device(text, observation.geometry.size)
        except ActionError as exc:
            record.error = ErrorInfo(type=type(exc).__name__, message=exc.reason, sent_to_model=True)
            state.feedback = exc.reason
            state.invalid_replies += 1
            return None
        finally:
            record.timings["parse"] = time.perf_counter() - started
        state.invalid_replies = 0
        state.feedback = None
        record.thought = parsed.thought
        record.sensitive = parsed.sensitive
        record.actions_model = [a.to_json_dict() for a in parsed.actions]
        record.actions_device = [a.to_json_dict() for a in device]
        return device

    def _after_invalid_reply(self, state: _RunState) -> StepOutcome:
        if state.invalid_replies >= self.config.max_invalid_replies:
            return StepOutcome(
                True, "failure", f"{state.invalid_replies} replies in a row were not valid actions: {state.feedback}"
            )
        return StepOutcome()

    def _act(
        self, state: _RunState, record: StepRecord, actions: tuple[Action, ...], observation: Observation
    ) -> StepOutcome:
        started = time.perf_counter()
        try:
            if state.guard.repeated(actions, observation):
                return StepOutcome(True, "loop", f"the same action on an unchanged screen {state.guard.limit} times")
            for action in actions:
                if isinstance(action, Terminate):
                    return StepOutcome(True, action.status, action.message or f"the model reported {action.status}")
                if isinstance(action, Answer):
                    return StepOutcome(True, "success", "the model answered", action.text)
                if isinstance(action, CallUser):
                    return self._call_user(state, record, action)
                if not self._confirmed(state, record, action):
                    return StepOutcome()
                if self.config.dry_run:
                    continue  # decided and drawn, never performed: ``executed`` counts what reached the device
                if isinstance(action, Wait):
                    action = self._wait_within_limit(state, record, action)
                try:
                    self.env.execute(self.redactor.reveal(action))
                except UnsupportedAction as exc:  # the model asked this device for something it has no way to do
                    return self._unsupported(state, record, action, exc)
                record.executed += 1
                if isinstance(action, Type):
                    state.screens.typed(action, record.notes)
            return StepOutcome()
        finally:
            record.timings["act"] = time.perf_counter() - started

    def _call_user(self, state: _RunState, record: StepRecord, action: CallUser) -> StepOutcome:
        question = action.message or record.thought or "The agent needs your help."
        answer = self.hooks.ask_user(question)
        if answer is None:
            return StepOutcome(True, "failure", f"the model asked for a person: {question}")
        record.notes.append(f"person replied: {answer}")
        state.feedback = f"The person replied: {answer}" if answer else "The person has done what you asked."
        return StepOutcome()

    def _unsupported(self, state: _RunState, record: StepRecord, action: Action, exc: UnsupportedAction) -> StepOutcome:
        """Like a reply that does not parse: recorded, and sent back so the model can choose another action."""
        record.error = ErrorInfo(type=type(exc).__name__, message=str(exc), sent_to_model=True)
        state.feedback = f"This device cannot perform {exc.action or action.type}: {exc}. Use another action."
        return StepOutcome()

    def _confirmed(self, state: _RunState, record: StepRecord, action: Action) -> bool:
        reason = declined_reason(self.config.confirm, self.hooks, self.env, action, record.thought, record.sensitive)
        if reason is None:
            return True
        record.notes.append(f"declined by the person: {action.type} ({reason})")
        state.feedback = f"The person declined your {action.type} action ({reason}). Choose another way."
        return False

    def _wait_within_limit(self, state: _RunState, record: StepRecord, action: Wait) -> Wait:
        """A wait no longer than the time left: the run then ends ``timeout`` at the next step's check."""
        left = state.time_left()
        if left is None or action.seconds <= left:
            return action
        record.notes.append(f"wait of {action.seconds:g} s cut to {left:.1f} s by the time limit")
        return action.model_copy(update={"seconds": left})

    def _settle(self, state: _RunState, record: StepRecord) -> None:
        if self.config.dry_run or not self.config.settle or record.executed == 0:
            return
        left = state.time_left()
        if left == 0.0:
            return  # the run ends at the next check; the next step never looks at this screen
        limit = self.config.settle_max if left is None else min(self.config.settle_max, left)
        result = self.env.settle(min_wait=min(self.config.settle_min, limit), max_wait=limit)
        state.observation = result.observation
        record.timings["settle"] = result.seconds

    def _record(self, state: _RunState, record: StepRecord, work: _StepWork) -> None:
        if work.observation is not None:
            record.screenshot = state.writer.save_screenshot(record.index, work.observation.image)
            if self.config.dry_run and record.actions_device:
                drawn = annotate(work.observation.image, record.actions_device)
                name = state.writer.save_image(f"step-{record.index:04d}.dry-run.png", drawn)
                record.notes.append(f"dry run: nothing executed; decision drawn in {name}")
        state.steps.append(record)  # first: when the writer raises, memory still holds what disk holds
        state.writer.append(record)
        error = record.error.message if record.error else None
        state.history.add(PastStep(record.index, work.actions, record.reply or "", error, work.model_image))
        self.hooks.step_finished(record)

    def _start(self, task: str, out_dir: Path) -> TrajectoryWriter:
        run_id = new_run_id(task)
        low, high = self.family.pixel_limits
        record = RunRecord(
            id=run_id,
            task=task,
            started_at=time.time(),
            device={"name": self.env.name, "kind": self.env.kind},
            model={"id": self.model.model_id, "backend": type(self.model).__name__},
            family={
                "name": self.family.name,
                "min_pixels": low,
                "max_pixels": high,
                "platform": self.family.active_platform,
                "pad": self.family.pad,
            },
            settings=self.config.as_json(),
            guiagent_version=guiagent_version(),
        )
        writer = TrajectoryWriter(out_dir / run_id, record, self.redactor)
        self.hooks.run_started(record, writer.folder)
        return writer
