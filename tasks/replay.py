"""Replaying a recorded run at device speed: only what the recording performed, checked step by step.

What is performed is exactly what reached the device when the run was recorded: each step's
``actions_device[:executed]`` (``StepRecord.executed``). A step the person declined, a dry-run step, and the
tail of a step that failed partway are not replayed, and the replay's step says so in its notes. A
recording that did not succeed (``max_steps``, ``failure`` -- a ``call_user`` nobody answered included --,
``timeout``, ``loop``, ``error``, ``interrupted``, ``running`` for a killed run, or a dry run) is refused
with ``UnfinishedRecording``, unless asked (``ReplayConfig(allow_unfinished=True)``, ``guiagent replay
--allow-unfinished``): its executed steps are then replayed and the replay ends ``unfinished``, never
``success``.

The agent's rules hold on replay, through the agent's own mechanisms: each action passes the confirm
policy (``ReplayConfig.confirm``; by default only steps the model declared sensitive are asked about) via
``hooks.declined_reason``; a ``type`` action's ``<secret:name>`` placeholders become their values via
``Redactor.reveal``, and a recording that types a secret not given is refused before anything happens; a
``call_user`` the person answered when recording is put to the person again. Any exception ends the
replay as ``error`` with its type and message, and propagates unless it is a guiagent error.

Before the first action every recorded screenshot the replay will compare with is checked whole; a step that
performs device actions with no screenshot, or one that is missing, not a PNG, truncated or a decompression
bomb, refuses the recording with a ``TrajectoryError`` naming the file: a replay never acts blind.

Before each recorded step the replayer waits (briefly, polling) until the screen looks like the step's
recorded screenshot. That one wait is both the check and the settle: on a match it performs the recorded
actions at once, scaled to the current screen size; on a mismatch it either stops with a report -- which
step, how different, where on the screen, with the expected, actual and difference images saved -- or,
given a model, asks it to re-ground that one step on the new screen (never more actions than the step
performed), performs its answer, records what changed, and carries on. The replay is itself a trajectory
(``kind: replay``).

A recorded run is plain files: delete lines of ``steps.jsonl`` to trim it, edit an ``actions_device``
entry to change what a step does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops
from pydantic import ValidationError

from guiagent.actions.errors import ActionError, ConfigError, GuiAgentError, ReplayDivergence, UnfinishedRecording
from guiagent.actions.families import ModelFamily
from guiagent.actions.geometry import Size
from guiagent.actions.types import DEVICE, Action, Answer, CallUser, Terminate, Type, parse_action_json
from guiagent.agent.backends.base import ModelBackend, ModelRequest
from guiagent.agent.history import History, PastStep
from guiagent.agent.hooks import AgentHooks, declined_reason
from guiagent.agent.images import prepare_image
from guiagent.agent.records import ErrorInfo, RunRecord, StepRecord
from guiagent.agent.safety import ConfirmPolicy
from guiagent.agent.secret_screens import SecretScreens
from guiagent.agent.trajectory import (
    STEPS_FILE,
    Redactor,
    Trajectory,
    TrajectoryError,
    TrajectoryWriter,
    guiagent_version,
    new_run_id,
    secret_names,
)
from guiagent.envs.base import NON_DEVICE_ACTIONS, Env, Observation

__all__ = [
    "Regrounder",
    "ReplayConfig",
    "UnfinishedRecording",
    "needed_secrets",
    "replay",
    "screen_difference",
    "target_difference",
]

_THUMB = 320
_PIXEL_THRESHOLD = 24


@dataclass(frozen=True)
class ReplayConfig:
    """How strict and how patient a replay is, and what it may do.

    Args:
        threshold: fraction of (thumbnail) pixels that may differ before a screen counts as different.
        target_threshold: fraction of the patch around a step's target point that may differ: a tap is
            only replayed where the thing it tapped still is, even when the rest of the screen matches.
        wait: seconds to keep looking for the recorded screen before calling it a divergence.
        poll: seconds between looks.
        confirm: which actions need a person's yes first, exactly as for the agent (``ConfirmPolicy``).
        allow_unfinished: replay the executed steps of a recording that did not succeed, instead of
            refusing it; the replay then ends ``unfinished``.
    """

    threshold: float = 0.03
    target_threshold: float = 0.10
    wait: float = 5.0
    poll: float = 0.05
    confirm: ConfirmPolicy = field(default_factory=ConfirmPolicy)
    allow_unfinished: bool = False


@dataclass(frozen=True)
class Regrounder:
    """A model that re-grounds a step whose screen changed."""

    backend: ModelBackend
    family: ModelFamily


def _thumbnail(image: Image.Image) -> Image.Image:
    scale = _THUMB / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.convert("L").resize(size, Image.Resampling.BOX)


def screen_difference(expected: Image.Image, actual: Image.Image) -> tuple[float, tuple[int, int, int, int] | None]:
    """Fraction of pixels that differ (resolution-independent) and the changed region in ``actual`` pixels."""
    a, b = _thumbnail(expected), _thumbnail(actual)
    if a.size != b.size:
        a = a.resize(b.size, Image.Resampling.BOX)
    changed = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)) > _PIXEL_THRESHOLD
    fraction = float(changed.mean())
    if not changed.any():
        return fraction, None
    rows, cols = np.nonzero(changed.any(axis=1))[0], np.nonzero(changed.any(axis=0))[0]
    sx, sy = actual.width / b.width, actual.height / b.height
    box = (int(cols[0] * sx), int(rows[0] * sy), int((cols[-1] + 1) * sx), int((rows[-1] + 1) * sy))
    return fraction, box


def target_difference(
    expected: Image.Image, actual: Image.Image, point: tuple[int, int], radius: float = 0.06
) -> float:
    """Fraction of pixels that differ in the square around ``point`` (given in ``actual`` pixels).

    The same square (exact, in float coordinates) is sampled from each image at 48×48, so a recording
    stored at a smaller size compares without resizing the whole frame. ``radius`` is a fraction of the
    screen's shorter side.
    """
    r = max(8, int(radius * min(actual.size)))
    x, y = point
    box = (max(0, x - r), max(0, y - r), min(actual.width, x + r), min(actual.height, y + r))
    sx, sy = expected.width / actual.width, expected.height / actual.height
    scaled = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    a = expected.resize((48, 48), Image.Resampling.BOX, box=scaled).convert("L")
    b = actual.resize((48, 48), Image.Resampling.BOX, box=box).convert("L")
    return float((np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)) > _PIXEL_THRESHOLD).mean())


def _scaled(action: Action, source: Size, target: Size) -> Action:
    if source == target:
        return action
    update: dict[str, int] = {}
    for fx, fy, x, y in action.points():
        update[fx] = min(target.width - 1, round(x * target.width / source.width))
        update[fy] = min(target.height - 1, round(y * target.height / source.height))
    return type(action).model_validate({**action.model_dump(), **update})


def _recorded_size(step: StepRecord, fallback: Size) -> Size:
    """The screen size a step was recorded on (its device actions are in those pixels)."""
    width, height = step.screen.get("width"), step.screen.get("height")
    return Size(int(width), int(height)) if width and height else fallback


@dataclass(frozen=True)
class _Look:
    """The screen as found before a replayed step, and how it compares with the recording."""

    observation: Observation
    difference: float
    target: float
    box: tuple[int, int, int, int] | None
    points: list[tuple[int, int]]


@dataclass(frozen=True)
class _Plan:
    """What one recorded step performed, hence what its replay performs.

    Attributes:
        actions: the device actions that reached the device, in order.
        ending: the ``terminate``/``answer``/``call_user`` the agent handled after them, if any.
        left_out: what the recording did not perform, and why (a note for the replay's step).
    """

    actions: tuple[Action, ...] = ()
    ending: Action | None = None
    left_out: str | None = None

    @property
    def empty(self) -> bool:
        return not self.actions and self.ending is None


def _plan(step: StepRecord, steps_file: Path) -> _Plan:
    """Read one recorded step into what it performed (``StepRecord.executed`` says how far it got)."""
    actions: list[Action] = []
    for position, data in enumerate(step.actions_device, start=1):
        try:
            action = parse_action_json(data)
        except ValidationError as exc:
            raise TrajectoryError(
                f"{steps_file}: step {step.index}, action {position} is not a valid action "
                f"({exc.errors()[0].get('msg', 'invalid') if exc.errors() else exc}); fix or delete that step",
                str(steps_file),
            ) from None
        if action.space != DEVICE:
            raise TrajectoryError(
                f"{steps_file}: step {step.index}, action {position} is in space {action.space!r}; "
                "actions_device must be in device pixels",
                str(steps_file),
            )
        actions.append(action)
    if not actions:
        return _Plan()  # a reply that did not parse did nothing on the device
    if step.dry_run:
        return _Plan(left_out="not replayed: the recording was a dry run, nothing reached the device")
    done = actions[: max(0, step.executed)]
    handled = next((i for i, a in enumerate(done) if a.type in NON_DEVICE_ACTIONS), None)
    if handled is not None:  # a hand-edited count past an action the agent handles: the step ended there
        done = done[:handled]
    rest = actions[len(done) :]
    ending = rest[0] if rest and rest[0].type in NON_DEVICE_ACTIONS else None
    if isinstance(ending, CallUser) and not any(n.startswith("person replied:") for n in step.notes):
        ending = None  # nobody answered: the recorded run ended here, the question is not put again
        why = "the recording asked a person here, nobody answered, and the run ended"
    else:
        rest = rest[1:] if ending is not None else rest
        why = _why_not_performed(step)
    if not rest:
        return _Plan(tuple(done), ending)
    names = ", ".join(a.type for a in rest)
    if done:
        note = (
            f"replayed {len(done)} of {len(actions)} actions: the other {len(rest)} ({names}) never reached "
            f"the device when recorded ({why})"
        )
    else:
        note = f"not replayed: the recording performed none of {names} ({why})"
    return _Plan(tuple(done), ending, note)


def _why_not_performed(step: StepRecord) -> str:
    declined = next((n for n in step.notes if n.startswith("declined by the person")), None)
    if declined:
        return declined
    if step.error is not None:
        return f"{step.error.type}: {step.error.message}"
    return "not executed"


def needed_secrets(recorded: Trajectory) -> list[str]:
    """Names of the secrets the performed steps of ``recorded`` type (``<secret:name>``), in order."""
    steps_file = recorded.folder / STEPS_FILE
    return _typed_secrets([a for step in recorded.steps for a in _plan(step, steps_file).actions])


def _typed_secrets(actions: Sequence[Action]) -> list[str]:
    names: list[str] = []
    for action in actions:
        if isinstance(action, Type):
            names += [name for name in secret_names(action.text) if name not in names]
    return names


@dataclass(frozen=True)
class _Stop:
    """Why the replay stops after a step; ``recorded_end`` when it is the recording's own end, not a problem."""

    status: str
    reason: str
    recorded_end: bool = False


class _Replayer:
    def __init__(
        self,
        recorded: Trajectory,
        env: Env,
        writer: TrajectoryWriter,
        config: ReplayConfig,
        regrounder: Regrounder | None,
        hooks: AgentHooks,
        redactor: Redactor,
    ) -> None:
        self.recorded, self.env, self.writer, self.config, self.regrounder = recorded, env, writer, config, regrounder
        self.hooks, self.redactor = hooks, redactor
        self.history: History | None = History(regrounder.family) if regrounder else None
        # The same masking as the recording's: secret areas are painted over before any frame is compared,
        # saved or sent, so a masked recording matches a masked replay and no replay shows a secret.
        self.screens = SecretScreens(env, redactor.secrets)

    def look(
        self, expected: Image.Image | None, actions: Sequence[Action], recorded: StepRecord, notes: list[str]
    ) -> _Look:
        """Look until the screen, and the patch around each target point, match the recording (or time out)."""
        deadline = time.monotonic() + self.config.wait
        while True:
            looked: list[str] = []
            observation = self.screens.masked(self.env.observe(), looked)
            current = observation.geometry.size
            source = _recorded_size(recorded, current)
            points = [(int(x), int(y)) for a in actions for _, _, x, y in _scaled(a, source, current).points()]
            if expected is None:
                notes.extend(looked)
                return _Look(observation, 0.0, 0.0, None, points)
            difference, box = screen_difference(expected, observation.image)
            target = max((target_difference(expected, observation.image, p) for p in points), default=0.0)
            look = _Look(observation, difference, target, box, points)
            if self._matches(look) or time.monotonic() >= deadline:
                notes.extend(looked)
                return look
            time.sleep(self.config.poll)

    def _matches(self, look: _Look) -> bool:
        return look.difference <= self.config.threshold and look.target <= self.config.target_threshold

    def skip(self, index: int, recorded: StepRecord, plan: _Plan) -> None:
        """Record a step the recording never performed, with the note that says why; the device is not touched."""
        record = StepRecord(index=index, started_at=time.time(), thought=recorded.thought, sensitive=recorded.sensitive)
        record.notes.append(plan.left_out or "not replayed: nothing of it reached the device when recorded")
        self.writer.append(record)
        self.hooks.step_finished(record)

    def step(self, index: int, recorded: StepRecord, plan: _Plan) -> _Stop | None:
        """Replay one step; returns why the replay stops here, or None to go on."""
        record = StepRecord(index=index, started_at=time.time(), thought=recorded.thought, sensitive=recorded.sensitive)
        observation: Observation | None = None
        try:
            started = time.perf_counter()
            actions = list(plan.actions)
            expected = self._expected(recorded)
            look = self.look(expected, actions, recorded, record.notes)
            observation = look.observation
            record.timings["capture"] = time.perf_counter() - started
            record.screen = {"width": observation.geometry.width, "height": observation.geometry.height}
            record.notes.append(
                f"screen difference {look.difference:.1%} (threshold {self.config.threshold:.1%}), "
                f"target difference {look.target:.1%} (threshold {self.config.target_threshold:.1%})"
            )
            if plan.left_out:
                record.notes.append(plan.left_out)
            if not self._matches(look):
                if self.regrounder is None:
                    raise self._divergence(index, recorded, expected, look)
                if actions:
                    actions = self._reground(index, recorded, observation, record, len(actions))
                else:
                    record.notes.append("the screen differs from the recording; the step performs nothing to re-ground")
            current = observation.geometry.size
            device = [_scaled(a, _recorded_size(recorded, current), current) for a in actions]
            ending = [plan.ending] if plan.ending is not None else []
            record.actions_device = [a.to_json_dict() for a in [*device, *ending]]  # as the agent records a step
            started = time.perf_counter()
            try:
                for action in device:
                    reason = declined_reason(
                        self.config.confirm, self.hooks, self.env, action, record.thought, record.sensitive
                    )
                    if reason is not None:
                        record.notes.append(f"declined by the person: {action.type} ({reason})")
                        return _Stop(
                            "failure", f"step {index}: the person declined {action.type} ({reason}); the replay stopped"
                        )
                    missing = [n for n in _typed_secrets([action]) if n not in self.redactor.secrets]
                    if missing:  # a re-grounded step typing a secret the recording never typed
                        raise ConfigError(f"step {index} types the secret {missing[0]!r}, which was not given")
                    self.env.execute(self.redactor.reveal(action))
                    record.executed += 1
                    if isinstance(action, Type):
                        self.screens.typed(action, record.notes)
            finally:
                record.timings["act"] = time.perf_counter() - started
            return self._end(index, recorded, plan.ending, record) if plan.ending is not None else None
        except ReplayDivergence as exc:
            record.error = ErrorInfo(type="ReplayDivergence", message=str(exc))
            return _Stop("failure", str(exc))
        except Exception as exc:
            record.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
            raise
        finally:
            if observation is not None:
                record.screenshot = self.writer.save_screenshot(index, observation.image)
            self.writer.append(record)
            self.hooks.step_finished(record)  # a display shows each step as it is replayed

    def _end(self, index: int, recorded: StepRecord, ending: Action, record: StepRecord) -> _Stop | None:
        """The agent-handled action that closed the recorded step: the run's end, or a question to the person."""
        if isinstance(ending, CallUser):
            question = ending.message or recorded.thought or "The agent needs your help."
            answer = self.hooks.ask_user(question)
            if answer is None:
                return _Stop("failure", f"step {index}: the recording asked a person ({question}) and nobody answered")
            record.notes.append(f"person replied: {answer}")
            return None
        status = ending.status if isinstance(ending, Terminate) else "success" if isinstance(ending, Answer) else ""
        return _Stop(str(status or "success"), f"replayed {index} steps; the recording ended with {ending.type}", True)

    def _expected(self, recorded: StepRecord) -> Image.Image | None:
        """The recorded screen (checked by ``_check_screenshots`` before the replay began; read again here)."""
        return self.recorded.read_screenshot(recorded)

    def _divergence(
        self, index: int, recorded: StepRecord, expected: Image.Image | None, look: _Look
    ) -> ReplayDivergence:
        if expected is not None:
            self._save_divergence(index, expected, look.observation.image)
        if look.difference > self.config.threshold:
            what = (
                f"the screen differs from the recording by {look.difference:.1%} "
                f"(threshold {self.config.threshold:.1%})"
            )
            where = f" around {look.box}" if look.box else ""
        else:
            what = (
                f"the target of the step differs from the recording by {look.target:.1%} "
                f"(threshold {self.config.target_threshold:.1%})"
            )
            where = f" around {look.points}"
        return ReplayDivergence(
            f"step {index}: {what}{where}; recorded action {recorded.actions_device} "
            f"({recorded.thought or 'no thought recorded'}). See step-{index:04d}.expected.png, .actual.png and "
            ".diff.png",
            index,
            max(look.difference, look.target),
        )

    def _reground(
        self, index: int, recorded: StepRecord, observation: Observation, record: StepRecord, limit: int
    ) -> list[Action]:
        """The model's device actions for this step on the new screen: at most ``limit``, what the step performed."""
        assert self.regrounder is not None and self.history is not None
        family = self.regrounder.family
        screen = observation.geometry.size
        image = prepare_image(observation.image, family.image_plan(screen))
        what = recorded.thought or ", ".join(str(a) for a in recorded.actions_device)
        task = f"{self.recorded.run.task}\nThe screen changed since this run was recorded. Do this step now: {what}"
        messages, images, _ = self.history.build(task, screen, image)
        reply = self.regrounder.backend.complete(
            ModelRequest(messages, images, keep_special_tokens=family.needs_special_tokens)
        )
        record.reply = reply.text
        try:
            parsed, device = family.parse_to_device(reply.text, screen)
        except ActionError as exc:
            raise ReplayDivergence(
                f"step {index}: the model could not re-ground it: {exc.reason}", index, 1.0
            ) from None
        record.thought = parsed.thought or recorded.thought
        record.sensitive = parsed.sensitive or recorded.sensitive
        record.actions_model = [a.to_json_dict() for a in parsed.actions]
        performable = [a for a in device if a.type not in NON_DEVICE_ACTIONS]
        chosen = [a.to_json_dict() for a in performable[:limit]]
        record.notes.append(f"re-grounded: recorded {recorded.actions_device}, model chose {chosen}")
        if len(performable) > limit:
            record.notes.append(f"only the model's first {limit} device action(s) are performed, as the step did")
        if len(performable) < len(device):
            record.notes.append("the model's terminate/answer/call_user is not acted on: the recording's own end is")
        self.history.add(PastStep(index, device, reply.text))
        return performable[:limit]

    def _save_divergence(self, index: int, expected: Image.Image, actual: Image.Image) -> None:
        expected = expected.resize(actual.size) if expected.size != actual.size else expected
        self.writer.save_image(f"step-{index:04d}.expected.png", expected)
        self.writer.save_image(f"step-{index:04d}.actual.png", actual)
        self.writer.save_image(f"step-{index:04d}.diff.png", ImageChops.difference(expected.convert("RGB"), actual))


def replay(
    run_dir: str | Path,
    env: Env,
    out_dir: str | Path = "runs",
    config: ReplayConfig | None = None,
    regrounder: Regrounder | None = None,
    *,
    hooks: AgentHooks | None = None,
    secrets: dict[str, str] | None = None,
) -> Trajectory:
    """Replay the run in ``run_dir`` on ``env``; returns the replay's own trajectory.

    Args:
        run_dir: the recorded run folder.
        env: the device to replay on.
        out_dir: where the replay's folder is written.
        config: thresholds, patience, confirm policy, and whether an unfinished recording may be replayed.
        regrounder: a model to re-ground steps whose screen changed (otherwise a change stops the replay).
        hooks: the person in the loop (confirmations, ``call_user``); by default nobody, so whatever needs
            a yes is declined, as for the agent.
        secrets: values for the ``<secret:name>`` placeholders the recording types.

    Status: the recording's end (``success``) when every step matched (or was re-grounded); ``unfinished``
    for an allowed replay of a recording that did not succeed; ``failure`` at a divergence, a declined action
    or an unanswered question; ``error`` if anything raised (``interrupted`` on Ctrl-C).

    Raises:
        UnfinishedRecording: the recording did not succeed, and ``config.allow_unfinished`` is off.
        ConfigError: the recording types a secret that ``secrets`` does not hold.
        TrajectoryError: the recording's files do not read back as a run, or a step it would perform has no
            readable screenshot (every one is checked before the first action).
    """
    config = config or ReplayConfig()
    secrets = dict(secrets or {})
    recorded = Trajectory.load(run_dir)
    steps_file = recorded.folder / STEPS_FILE
    plans = [_plan(step, steps_file) for step in recorded.steps]
    unfinished = _unfinished(recorded)
    if unfinished and not config.allow_unfinished:
        raise UnfinishedRecording(
            f"{recorded.folder} {unfinished}: replaying it cannot finish the task. To perform only the steps it "
            "executed, pass --allow-unfinished (ReplayConfig(allow_unfinished=True)); the replay is then reported "
            "as unfinished.",
            str(recorded.folder),
            recorded.status,
        )
    missing = [name for name in _typed_secrets([a for plan in plans for a in plan.actions]) if name not in secrets]
    if missing:
        variables = ", ".join(f"GUIAGENT_SECRET_{name.upper()}" for name in missing)
        raise ConfigError(
            f"{recorded.folder} types the secret(s) {', '.join(missing)}, not given: set {variables} for "
            "guiagent replay (or pass secrets= to replay()); nothing was replayed"
        )
    _check_screenshots(recorded, plans)
    run_id = new_run_id()
    record = RunRecord(
        id=run_id,
        task=recorded.run.task,
        started_at=time.time(),
        device={"name": env.name, "kind": env.kind},
        model=dict(recorded.run.model),
        family=dict(recorded.run.family),
        settings={
            "threshold": config.threshold,
            "target_threshold": config.target_threshold,
            "wait": config.wait,
            "confirm": {"mode": config.confirm.mode, "model_sensitive": config.confirm.model_sensitive},
            "allow_unfinished": config.allow_unfinished,
            "recorded_status": recorded.status,
            "regrounding": regrounder is not None,
        },
        kind="replay",
        source=str(Path(run_dir).resolve()),
        guiagent_version=guiagent_version(),
    )
    redactor = Redactor(secrets)
    writer = TrajectoryWriter(Path(out_dir) / f"{run_id}-replay", record, redactor, background_images=True)
    replayer = _Replayer(recorded, env, writer, config, regrounder, hooks or AgentHooks(), redactor)
    status, reason = "error", "the replay ended by an exception"
    try:
        stop: _Stop | None = None
        for index, (step, plan) in enumerate(zip(recorded.steps, plans, strict=True), start=1):
            if plan.empty:
                if plan.left_out:
                    replayer.skip(index, step, plan)
                continue
            stop = replayer.step(index, step, plan)
            if stop is not None:
                break
        if stop is not None and not stop.recorded_end:
            status, reason = stop.status, stop.reason
        elif unfinished:
            performed = sum(len(plan.actions) for plan in plans)
            status = "unfinished"
            reason = (
                f"replayed the {performed} executed action(s) of a recording that {unfinished}; the task is not done"
            )
        elif stop is not None:
            status, reason = stop.status, stop.reason
        else:
            status, reason = "success", f"replayed all {len(recorded.steps)} recorded steps"
    except KeyboardInterrupt:
        status, reason = "interrupted", "stopped by Ctrl-C"
    except GuiAgentError as exc:
        status, reason = "error", f"{type(exc).__name__}: {exc}"
    except BaseException as exc:  # a bug or an unexpected library error: recorded, then propagated
        status, reason = "error", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        writer.finish(status, reason)
    return Trajectory.load(writer.folder)


def _check_screenshots(recorded: Trajectory, plans: Sequence[_Plan]) -> None:
    """Check every recorded screenshot the replay will compare the device with, before anything is performed.

    A step that performs device actions is only replayed on a screen that matches its screenshot, so one it
    never recorded, or one that is missing, not a PNG, truncated or a decompression bomb, refuses the whole
    recording here: a replay never acts blind. The check decodes no pixel (each is decoded once, when its
    step comes); a file whose chunks are all present and checksummed yet whose pixels do not decode (only a
    crafted one) stops the replay at its step, before that step acts, with the same typed error.

    Raises:
        TrajectoryError: naming the step and the file.
    """
    steps_file = recorded.folder / STEPS_FILE
    for step, plan in zip(recorded.steps, plans, strict=True):
        if plan.empty:
            continue  # skipped, the device untouched: its screenshot is never looked at
        if not recorded.check_screenshot(step) and plan.actions:
            names = ", ".join(action.type for action in plan.actions)
            raise TrajectoryError(
                f"{steps_file}: step {step.index} performs {names} but recorded no screenshot to check the screen "
                "against, so it cannot be replayed safely; delete that step's line, or record the run again",
                str(steps_file),
            )


def _unfinished(recorded: Trajectory) -> str | None:
    """How the recording falls short of a finished run (words for a message), or None when it succeeded."""
    if recorded.run.settings.get("dry_run") or any(step.dry_run for step in recorded.steps):
        return "was recorded as a dry run (nothing in it was performed)"
    if recorded.status == "success":
        return None
    if recorded.status == "running":
        return "ended with status 'running' (the recording never finished: killed, or still going)"
    return f"ended with status {recorded.status!r} ({recorded.run.reason})"
