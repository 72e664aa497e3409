"""The scripting API: steps written in words, grounded once, then run from a verified cache.

::

    from guiagent.actions.families import get_family
    from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
    from guiagent.envs.devices import open_env
    from guiagent.tasks.script import Session

    model = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", "http://localhost:8000/v1")
    with open_env("android") as phone, Session(phone, model, get_family("qwen2.5-vl-mobile"),
                                               cache="notes.cache.json") as s:
        s.open_app("Notes")
        s.tap("the New note button")
        s.type("Buy oat milk", into="the note text field")
        s.tap("the Save button")
        s.assert_visible("Buy oat milk")

Every step looks (``looking.py``: once the previous action's effect shows), locates its target
(``locate.py``: a cached locator that verifies, else the model), acts and records, in that order;
recording happens whatever the outcome. The run folder is an ordinary trajectory (``guiagent report``,
``guiagent replay``). The contract, for callers such as an MCP server:

* Steps return a ``StepResult`` or raise; every error is recorded in the step first. After an error the
  session can go on (an MCP client may try something else) or be closed; a ``with`` block closes it, and
  the run's status is that of the error that left it (or of the last step, when ``close()`` is called).
* ``screenshot()`` is the screen now, unrecorded; ``locate(target)`` finds an element without acting;
  ``act(action)`` performs one device-pixel action under the same policy; ``StepResult.notes`` have
  secrets redacted (a caller may be a model).
* A session without a model runs from its cache only: a step whose locator does not verify raises
  ``ScriptDivergence`` before anything is sent to the device.
* Each device action passes the confirm policy (``SessionConfig.confirm``) through ``hooks.confirm``
  first, exactly as the agent's; a "no" raises ``ScriptDeclined``. ``hooks.step_finished`` sees every
  step record as it is written (progress), ``hooks.run_started``/``run_finished`` the run.
* ``<secret:name>`` in typed text is replaced by its value only as it goes to the device; the value is
  redacted from everything written. Steps are serialised by a lock: one session per device.
* On Android, text checks (``assert_visible``, ``wait_for``, ``scroll_until``) read the UI hierarchy first
  and need no model; elsewhere they ask the model a yes/no question (and are never cached).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from guiagent.actions.errors import ConfigError, GuiAgentError
from guiagent.actions.families import ModelFamily, get_family
from guiagent.actions.types import (
    DEVICE,
    Action,
    Click,
    DoubleClick,
    Key,
    LongPress,
    OpenApp,
    Scroll,
    Swipe,
    SystemButton,
    Type,
)
from guiagent.agent.backends.base import ModelBackend
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.records import ErrorInfo, RunRecord, StepRecord
from guiagent.agent.trajectory import Redactor
from guiagent.envs.base import Env, Observation

from .cache import LocatorCache
from .config import SessionConfig, StepResult
from .errors import FAILURES, ModelRequired, ScriptAssertionError, ScriptError, ScriptTimeout
from .mechanics import Mechanics
from .recorder import Recorder, StepWork

__all__ = ["Direction", "Session", "SessionConfig", "StepResult"]

Direction = Literal["up", "down", "left", "right"]
T = TypeVar("T")
_BUTTONS = {"back", "home", "menu", "recents"}


class Session(Mechanics):
    """A device, a model and a family, driven one described step at a time (see the module docstring).

    Args:
        env: the device.
        model: the backend that grounds descriptions and answers queries; None runs from the cache only.
        family: the model's family (or its name); required with a model.
        cache: the locator cache: a ``LocatorCache``, the path of its JSON file (created when missing), or
            None for one that lives only as long as the session.
        name: what the run is called in its record and report (a script's file name).
        source: the script file, recorded in the run (``RunRecord.source``).
        config: thresholds, settling, confirm policy, dry run, output folder.
        hooks: display, progress and the person in the loop (``AgentHooks``); by default nobody, so an
            action needing a yes is declined.
        secrets: values for ``<secret:name>`` in typed text.
    """

    def __init__(
        self,
        env: Env,
        model: ModelBackend | None = None,
        family: ModelFamily | str | None = None,
        *,
        cache: LocatorCache | str | Path | None = None,
        name: str = "script",
        source: str | Path | None = None,
        config: SessionConfig | None = None,
        hooks: AgentHooks | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        if model is not None and family is None:
            raise ConfigError("a session with a model needs its family (get_family(...)), to ground in its format")
        self.env = env
        self.model = model
        self.family = get_family(family) if isinstance(family, str) else family
        self.cache = cache if isinstance(cache, LocatorCache) else LocatorCache.load(cache) if cache else LocatorCache()
        self.name = name
        self.source = str(source) if source is not None else None
        self.config = config or SessionConfig()
        self.hooks = hooks or AgentHooks()
        self.secrets = dict(secrets or {})
        self.redactor = Redactor(self.secrets)
        self.model_calls = 0
        """Requests sent to the model so far (grounding, re-asks, queries, visual checks)."""
        self._lock = threading.RLock()
        self._recorder: Recorder | None = None
        self._run: RunRecord | None = None
        self._failure: BaseException | None = None
        self._seen: dict[str, int] = {}
        self._counts = {"cache": 0, "grounded": 0, "regrounded": 0}
        self._regrounded: list[str] = []
        self._init_mechanics()

    # -- lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc)

    def start(self) -> Path:
        """Open the run folder (done by the first step, or by ``with``); returns it."""
        with self._lock:
            if self._run is not None:
                raise ConfigError("this session is closed; open a new one")
            if self._recorder is None:
                settings = {
                    "kind": "script",
                    "cache": str(self.cache.path) if self.cache.path else None,
                    "threshold": self.config.threshold,
                    "dry_run": self.config.dry_run,
                    "confirm": {
                        "mode": self.config.confirm.mode,
                        "model_sensitive": self.config.confirm.model_sensitive,
                    },
                    "model": self.model is not None,
                }
                self._recorder = Recorder(
                    self.config.out_dir,
                    self.env,
                    self.model,
                    self.family,
                    self.name,
                    settings,
                    self.redactor,
                    self.hooks,
                    self.source,
                )
            return self._recorder.folder

    def close(self, error: BaseException | None = None) -> RunRecord | None:
        """End the run and save the cache; safe twice.

        The status follows ``error`` (the exception leaving a ``with`` block), else the last step: a step
        that raised makes the run ``failure`` (a check, a divergence, a refusal) or ``error``.
        """
        with self._lock:
            if self._run is not None or self._recorder is None:
                self.cache.save()
                return self._run
            error = error or self._failure
            try:
                self._finish_effect()
            except GuiAgentError as exc:  # the device went away after the last step: that ends the run too
                error = error or exc
            status, reason = _outcome(error)
            summary = self.summary()
            settings = {**self._recorder.writer.record.settings, "result": summary}
            self._run = self._recorder.finish(
                status, f"{reason}; {summary['text']}" if reason else summary["text"], settings
            )
            self.cache.save()
            return self._run

    @property
    def folder(self) -> Path:
        """The run folder (opened if it was not yet)."""
        return self._recorder.folder if self._recorder is not None else self.start()

    @property
    def records(self) -> list[StepRecord]:
        """The step records written so far."""
        return list(self._recorder.steps) if self._recorder else []

    def summary(self) -> dict[str, Any]:
        """Counts for the run record: steps from the cache, grounded, re-grounded, model calls."""
        steps = len(self._recorder.steps) if self._recorder else 0
        cached, grounded, again = self._counts["cache"], self._counts["grounded"], self._counts["regrounded"]
        text = f"{steps} steps: {cached} from the cache, {grounded} grounded by the model"
        if again:
            text += f" ({again} re-grounded: {', '.join(self._regrounded)})"
        text += f"; {self.model_calls} model call(s)"
        return {
            "steps": steps,
            "from_cache": cached,
            "grounded": grounded,
            "regrounded": self._regrounded[:],
            "model_calls": self.model_calls,
            "cache_changes": [c.describe() for c in self.cache.changes],
            "text": text,
        }

    # -- steps that locate a target --------------------------------------------------------------------

    def tap(self, target: str, *, key: str | None = None) -> StepResult:
        """Tap (click) the element ``target`` describes."""
        return self._pointing("tap", target, key, lambda x, y: [Click(x=x, y=y)])

    def double_tap(self, target: str, *, key: str | None = None) -> StepResult:
        """Double-tap (double-click) the element ``target`` describes."""
        return self._pointing("double_tap", target, key, lambda x, y: [DoubleClick(x=x, y=y)])

    def long_press(self, target: str, *, duration: float = 1.0, key: str | None = None) -> StepResult:
        """Touch and hold the element ``target`` describes for ``duration`` seconds."""
        return self._pointing("long_press", target, key, lambda x, y: [LongPress(x=x, y=y, duration=duration)])

    def locate(self, target: str, *, key: str | None = None) -> StepResult:
        """Find ``target`` (cache or model) without acting; the result's ``point`` is where it is."""
        return self._pointing("locate", target, key, lambda x, y: [])

    def type(self, text: str, into: str | None = None, *, key: str | None = None) -> StepResult:
        """Type ``text``; with ``into``, tap the field it describes first.

        ``<secret:name>`` in ``text`` becomes the secret's value only on its way to the device.
        """
        Type(text=text)  # validated before anything happens (empty text is refused)
        what = f"type {text!r}" + (f" into {into}" if into else "")

        def body(step: StepWork) -> None:
            if into is not None:
                x, y = self._locate(step, "type into", into, None, key)
                self._perform(step, [Click(x=x, y=y)])
                self._wait_for_focus(step, (x, y))  # the field has focus before the text goes
            else:
                self._view(step)
            self._perform(step, [Type(text=text)])

        return self._step("type", into, body, what)

    def swipe(
        self, direction: Direction = "up", *, on: str | None = None, distance: float = 0.5, duration: float = 0.3
    ) -> StepResult:
        """Swipe a finger ``direction`` (``up`` moves the content up), ``distance`` of the screen long, centred
        on the screen or on the element ``on`` describes."""

        def body(step: StepWork) -> None:
            observation = self._look(step)
            point = self._locate(step, "swipe on", on, observation, None) if on else None
            self._perform(step, [_swipe(observation.geometry.size, direction, point, distance, duration)])

        return self._step("swipe", on, body, f"swipe {direction}" + (f" on {on}" if on else ""))

    def scroll(self, direction: Direction = "down", *, on: str | None = None, amount: int = 5) -> StepResult:
        """Scroll the content ``direction`` (``down`` shows what is below), over the screen or over ``on``."""

        def body(step: StepWork) -> None:
            observation = self._look(step)
            point = self._locate(step, "scroll on", on, observation, None) if on else None
            self._perform(step, [_scroll(observation.geometry.size, direction, point, amount)])

        return self._step("scroll", on, body, f"scroll {direction}" + (f" on {on}" if on else ""))

    def scroll_until(
        self, what: str, direction: Direction = "down", max_swipes: int = 10, *, on: str | None = None
    ) -> StepResult:
        """Scroll ``direction`` until ``what`` shows (at most ``max_swipes`` times); the value is the scrolls made.

        Raises:
            ScriptTimeout: it never showed.
        """

        def body(step: StepWork) -> int:
            point = None
            for done in range(max_swipes + 1):
                if not self.config.fast:
                    self._look(step, "stable" if done else "effect")
                if self._visible(step, what):
                    step.note(f"{what!r} is on the screen after {done} scroll(s)")
                    return done
                if done == max_swipes:
                    break
                if on and point is None:
                    point = self._locate(step, "scroll on", on, None, None)
                self._perform(step, [_scroll(self._screen_size(step), direction, point, 5)])
            raise ScriptTimeout(
                f"{what!r} did not show after {max_swipes} scroll(s) {direction}",
                step.index,
                what,
                self._recorder_().save_screenshot_now(step),
            )

        return self._step("scroll_until", what, body, f"scroll {direction} until {what!r} shows")

    # -- steps without a target --------------------------------------------------------------------------

    def key(self, keys: str | Sequence[str]) -> StepResult:
        """Press a key or a chord: ``"enter"``, ``"ctrl+a"``, ``["ctrl", "c"]``; back/home/menu/recents are the
        navigation buttons."""
        names = [k.strip() for k in (keys.split("+") if isinstance(keys, str) else keys)]
        action: Action
        if len(names) == 1 and names[0].lower() in _BUTTONS:
            action = SystemButton(button=names[0].lower())  # type: ignore[arg-type]
        else:
            action = Key(keys=names)
        return self._step(
            "key", "+".join(names), lambda step: self._perform(step, [action]), f"press {'+'.join(names)}"
        )

    def open_app(self, name: str) -> StepResult:
        """Open an app by its label or package name (phones; desktops refuse it with ``UnsupportedAction``)."""
        return self._acting("open_app", name, [OpenApp(name=name)], f"open the {name} app")

    def wait(self, seconds: float) -> StepResult:
        """Do nothing for ``seconds`` (prefer ``wait_for``: it goes on as soon as the screen is ready)."""

        def body(step: StepWork) -> None:
            if not self.config.dry_run:
                time.sleep(seconds)

        return self._step("wait", None, body, f"wait {seconds:g} s")

    def act(self, action: Action) -> StepResult:
        """Perform one action given in device pixels: the escape hatch, with no locator and no verification."""
        if action.space != DEVICE:
            raise ConfigError(f"act() takes device pixels; this {action.type} is in {action.space!r}")

        return self._acting("act", action.type, [action], f"perform {action.to_json_dict()}")

    def screenshot(self) -> Observation:
        """The screen now (a fresh capture, not recorded): for callers that show it, such as an MCP server."""
        with self._lock:
            observation = self.env.observe()
            self._frame, self._stable = (observation, time.monotonic()), False
            return observation

    # -- checks and data ---------------------------------------------------------------------------------

    def assert_visible(self, what: str) -> StepResult:
        """Check that ``what`` is on the screen now.

        Raises:
            ScriptAssertionError: it is not; ``.screenshot`` is the screenshot the verdict was made on.
        """

        def body(step: StepWork) -> bool:
            if not self.config.fast:
                self._look(step)
            if self._visible(step, what):
                return True
            shot = self._recorder_().save_screenshot_now(step)
            raise ScriptAssertionError(f"{what!r} is not on the screen (see {shot})", step.index, what, shot)

        return self._step("assert_visible", what, body, f"check that {what!r} is on the screen")

    def wait_for(self, what: str, timeout: float = 30.0) -> StepResult:
        """Wait until ``what`` is on the screen, at most ``timeout`` seconds.

        Raises:
            ScriptTimeout: it did not show in time.
        """

        def body(step: StepWork) -> bool:
            deadline = time.monotonic() + timeout
            next_model = time.monotonic()
            first = True
            while True:
                if not self.config.fast:
                    self._look(step, "effect" if first else "fresh")
                first = False
                use_model = time.monotonic() >= next_model
                if use_model:
                    next_model = time.monotonic() + self.config.model_interval
                if self._visible(step, what, use_model=use_model):
                    return True
                if time.monotonic() >= deadline or self.config.dry_run:
                    break
                time.sleep(self.config.poll)
            shot = self._recorder_().save_screenshot_now(step)
            raise ScriptTimeout(f"{what!r} did not show within {timeout:g} s", step.index, what, shot, timeout)

        return self._step("wait_for", what, body, f"wait until {what!r} is on the screen")

    def query(self, ask: str, schema: Any = str) -> StepResult:
        """Read typed data off the screen; the result's ``value`` is validated against ``schema``
        (a pydantic model, or ``float``, ``int``, ``bool``, ``list[str]``...). See ``query.py``.

        Raises:
            ScriptQueryError: the answer did not validate, even after one re-ask.
            ModelRequired: the session has no model.
        """
        return self._step("query", ask, lambda step: self._query(step, ask, schema), f"read: {ask}")

    # -- the step frame ----------------------------------------------------------------------------------

    def _pointing(
        self, verb: str, target: str, key: str | None, build: Callable[[int, int], list[Action]]
    ) -> StepResult:
        def body(step: StepWork) -> None:
            x, y = self._locate(step, verb, target, None, key)
            self._perform(step, build(x, y))

        return self._step(verb, target, body, f"{verb.replace('_', ' ')} {target}")

    def _acting(self, verb: str, target: str, actions: list[Action], thought: str) -> StepResult:
        def body(step: StepWork) -> None:
            self._view(step)
            self._perform(step, actions)

        return self._step(verb, target, body, thought)

    def _step(self, verb: str, target: str | None, body: Callable[[StepWork], T], thought: str) -> StepResult:
        """Run one step: ``body`` looks, locates and acts; the step is recorded whatever happens."""
        with self._lock:
            self.start()
            recorder = self._recorder_()
            index = len(recorder.steps) + 1
            record = StepRecord(index=index, started_at=time.time(), thought=thought, dry_run=self.config.dry_run)
            step = StepWork(index, verb, target, record)
            try:
                value = body(step)
                self._failure = None
                return StepResult(
                    index,
                    verb,
                    target,
                    step.point,
                    step.located_by,
                    value,
                    recorder.screenshot_path(index) if step.observation is not None else None,
                    tuple(self.redactor.text(note) for note in record.notes),  # callers may be models (MCP)
                )
            except BaseException as exc:
                if isinstance(exc, ScriptError) and not exc.step:
                    exc.step = index
                record.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
                self._failure = exc
                raise
            finally:
                recorder.append(step)

    def _recorder_(self) -> Recorder:
        if self._recorder is None:
            raise ConfigError("the session has not started")
        return self._recorder

    def _require_model(self, step: StepWork, why: str) -> tuple[ModelBackend, ModelFamily]:
        if self.model is None or self.family is None:
            raise ModelRequired(f"step {step.index} ({step.record.thought}) needs a model: {why}", step.index)
        return self.model, self.family


def _outcome(error: BaseException | None) -> tuple[str, str]:
    """The run's status and reason for the error that ended it (None: every step went through)."""
    if error is None:
        return "success", ""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", "stopped by Ctrl-C"
    if isinstance(error, FAILURES):
        return "failure", str(error)
    if isinstance(error, GuiAgentError):
        return "error", f"{type(error).__name__}: {error}"
    return "error", f"{type(error).__name__}: {error}"


def _swipe(screen: Any, direction: Direction, point: tuple[int, int] | None, distance: float, duration: float) -> Swipe:
    cx, cy = point or (screen.width // 2, screen.height // 2)
    dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[direction]
    half = distance * (screen.height if dy else screen.width) / 2
    x1, y1 = _clamp(cx - dx * half, screen.width), _clamp(cy - dy * half, screen.height)
    x2, y2 = _clamp(cx + dx * half, screen.width), _clamp(cy + dy * half, screen.height)
    return Swipe(x=x1, y=y1, x2=x2, y2=y2, duration=duration)


def _scroll(screen: Any, direction: Direction, point: tuple[int, int] | None, amount: int) -> Scroll:
    x, y = point or (screen.width // 2, screen.height // 2)
    return Scroll(direction=direction, amount=amount, x=x, y=y)


def _clamp(value: float, limit: int) -> int:
    return max(0, min(limit - 1, round(value)))
