"""The phases every session step is made of: look, locate, perform, and the two kinds of reading.

Kept apart from ``session.py`` so that the public steps read as a list of what a script can do, and the
rules of how they do it sit here, in one place:

* **look** (``looking.py``): no settle after an action; the next look waits for its effect. A cached
  step verifies on that view and acts at once; a model is always shown a still screen.
* **locate**: a cached locator is used only when it verifies (``locate.verify``); else, with a model,
  the description is grounded again and the cache entry replaced (the step's notes say what changed);
  without one, ``ScriptDivergence`` is raised with expected, actual and diff images, before any input.
* **perform**: each action passes the confirm policy, then secrets are revealed for the device only.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PIL import ImageChops

from guiagent.actions.errors import ConfigError
from guiagent.actions.types import Action
from guiagent.agent.hooks import declined_reason
from guiagent.agent.trajectory import secret_names
from guiagent.envs.base import Observation
from guiagent.envs.hierarchy import find_text

from .cache import CacheEntry, Patch
from .errors import LocatorMissing, ModelRequired, ScriptDeclined, ScriptDivergence
from .locate import Verdict, ground, node_at, verify
from .looking import Looking
from .query import Schema, ask_model

if TYPE_CHECKING:
    from guiagent.actions.families import ModelFamily
    from guiagent.agent.backends.base import ModelBackend
    from guiagent.agent.hooks import AgentHooks
    from guiagent.agent.trajectory import Redactor
    from guiagent.envs.base import Env

    from .cache import LocatorCache
    from .config import SessionConfig
    from .recorder import Recorder, StepWork

__all__ = ["Mechanics"]

_PRESSES = {"click", "double_click", "long_press"}
_DOUBLE_CLICK = 0.6
"""Seconds kept between presses on one spot: two within 500 ms read as a double click (the X11 toolkits' and
Windows' default; Android's double-tap timeout is 300 ms), plus a margin for delivery."""
_SAME_SPOT = 24
"""Pixels apart within which two presses count as the same spot."""


class Mechanics(Looking):
    """The step phases of ``Session`` (a mixin: it reads the session's attributes declared below)."""

    env: Env
    model: ModelBackend | None
    family: ModelFamily | None
    cache: LocatorCache
    config: SessionConfig
    hooks: AgentHooks
    secrets: dict[str, str]
    redactor: Redactor
    model_calls: int
    _seen: dict[str, int]
    _counts: dict[str, int]
    _regrounded: list[str]

    def _init_mechanics(self) -> None:
        self._init_looking()
        self._structured = self.config.structured_output
        self._last_press: tuple[int, int, float] | None = None

    def _recorder_(self) -> Recorder:
        raise NotImplementedError

    def _require_model(self, step: StepWork, why: str) -> tuple[ModelBackend, ModelFamily]:
        raise NotImplementedError

    def _count_call(self) -> None:
        self.model_calls += 1

    # -- locate ----------------------------------------------------------------------------------------

    def _key(self, verb: str, target: str) -> str:
        """The cache key of a step: what it does and to what, numbered from the second occurrence on."""
        base = f"{verb.replace('_', ' ')} {target}"
        self._seen[base] = self._seen.get(base, 0) + 1
        count = self._seen[base]
        return base if count == 1 else f"{base} #{count}"

    def _locate(
        self, step: StepWork, verb: str, target: str, observation: Observation | None, key: str | None
    ) -> tuple[int, int]:
        """Where ``target`` is: a cached locator that verifies, else the model's answer (see the module docstring).

        ``observation`` is the frame to decide on, or None to look as the step needs (fast mode: the
        hierarchy first, a frame only when it cannot tell).
        """
        key = key or self._key(verb, target)
        step.key = key
        entry = self.cache.get(key)
        verdict: Verdict | None = None
        if entry is not None and observation is None and self.config.fast and not self.config.dry_run:
            point = self._verify_by_node(step, key, entry)
            if point is not None:
                return point
        if observation is None:
            observation = self._look(step)
        if self.config.dry_run:
            return self._dry_locate(step, key, entry, observation)
        if entry is not None:
            verdict = self._verify(step, entry, observation)
            if not verdict.ok and not self._stable:  # maybe the screen was still changing: look again once it stops
                observation = self._look(step, "stable")
                verdict = self._verify(step, entry, observation)
            if verdict.ok:
                step.note(f"from the cache ({key}): verified by its {verdict.by}: {verdict.reason}")
                step.point, step.located_by = verdict.point, f"cache:{verdict.by}"
                self._counts["cache"] += 1
                return verdict.point
        if self.model is None:
            raise self._divergence(step, key, entry, verdict)
        if not self._stable:
            observation = self._look(step, "stable")
        return self._ground(step, key, target, observation, entry, verdict)

    def _verify_by_node(self, step: StepWork, key: str, entry: CacheEntry) -> tuple[int, int] | None:
        """Fast mode: the cached node still under the scaled point, read from the hierarchy with no frame."""
        if entry.node is None or not entry.node.identifiable or self._hierarchy is False:
            return None
        nodes = self._tree_view(step)
        if nodes is None:
            return None
        point = entry.scaled_point(self._screen_size(step))
        now = node_at(nodes, point)
        if now is None or now.identity() != entry.node.identity():
            return None  # not a verdict yet: the pixels get their say on a frame
        step.note(f"from the cache ({key}): verified by its node: {now.describe()} is at {point}")
        step.point, step.located_by = point, "cache:node"
        self._counts["cache"] += 1
        return point

    def _verify(self, step: StepWork, entry: CacheEntry, observation: Observation) -> Verdict:
        started = time.perf_counter()
        try:
            return verify(entry, observation, self._read_nodes, self.config.threshold)
        finally:
            step.add_time("verify", time.perf_counter() - started)

    def _ground(
        self,
        step: StepWork,
        key: str,
        target: str,
        observation: Observation,
        entry: CacheEntry | None,
        verdict: Verdict | None,
    ) -> tuple[int, int]:
        model, family = self._require_model(step, "to ground a description")
        found = ground(model, family, target, observation, on_request=self._count_call)
        record = step.record
        record.prompt, record.reply, record.model_image = found.prompt, found.answer, found.model_image
        record.prompt_tokens, record.completion_tokens = found.prompt_tokens, found.completion_tokens
        for stage, seconds in found.timings.items():
            step.add_time(stage, seconds)
        space = family.space(observation.geometry.size).name  # the answer as the model wrote it: a point, a click
        record.actions_model = [{"type": "click", "x": found.model_point[0], "y": found.model_point[1], "space": space}]
        node = node_at(self._read_nodes(), found.point)
        new = CacheEntry(
            asked=target,
            answer=found.answer,
            point=found.point,
            screen=observation.geometry.size,
            patch=Patch.of(observation.image, found.point),
            node=node,
            model=found.model,
        )
        self.cache.put(key, new)
        where = f" on {node.describe()}" if node else ""
        if entry is not None and verdict is not None:
            step.note(
                f"re-grounded ({key}): the cached locator did not verify ({verdict.reason}); the model chose "
                f"{found.point}{where}, the cache had {entry.point} on {entry.screen}"
            )
            self._counts["regrounded"] += 1
            self._regrounded.append(key)
        else:
            step.note(f"grounded ({key}): the model chose {found.point}{where}")
        self._counts["grounded"] += 1
        step.point, step.located_by = found.point, "model"
        return found.point

    def _dry_locate(
        self, step: StepWork, key: str, entry: CacheEntry | None, observation: Observation
    ) -> tuple[int, int]:
        if entry is None:
            step.note(f"dry run: {key!r} is not in the cache; a run with a model will ground it")
            screen = observation.geometry.size
            return screen.width // 2, screen.height // 2
        point = entry.scaled_point(observation.geometry.size)
        node = f" ({entry.node.describe()})" if entry.node else ""
        step.note(f"dry run: {key!r} is cached at {entry.point} on {entry.screen}{node}; it would act at {point}")
        step.point, step.located_by = point, "cache"
        return point

    def _divergence(
        self, step: StepWork, key: str, entry: CacheEntry | None, verdict: Verdict | None
    ) -> ScriptDivergence:
        """The error that stops a model-less session at a step it cannot verify, with the images that show why."""
        what = f"step {step.index} ({step.record.thought})"
        if entry is None or verdict is None:
            return LocatorMissing(
                f"{what}: the cache has no locator {key!r} and there is no model to ground it; nothing was sent to "
                "the device. Run it once with a model (--base-url or --model) to ground it.",
                step.index,
                1.0,
                key,
            )
        recorder = self._recorder_()
        expected = entry.patch.image()
        actual = verdict.actual.image()
        names = [
            recorder.save_image(f"step-{step.index:04d}.expected.png", expected),
            recorder.save_image(f"step-{step.index:04d}.actual.png", actual),
            recorder.save_image(f"step-{step.index:04d}.diff.png", ImageChops.difference(expected, actual)),
        ]
        step.note(f"divergence: expected, actual and diff patches in {', '.join(names)}")
        return ScriptDivergence(
            f"{what}: the cached locator {key!r} does not verify: {verdict.reason}. There is no model to ground it "
            f"again, so the script stopped before sending anything to the device. See {', '.join(names)} in "
            f"{recorder.folder}",
            step.index,
            verdict.difference,
            key,
            names,
        )

    # -- perform and settle ----------------------------------------------------------------------------

    def _perform(self, step: StepWork, actions: list[Action]) -> None:
        """Send ``actions`` to the device in order, each after the confirm policy; secrets revealed only here.

        Nothing waits here: the next look waits for the effect (``_after_effect``).
        """
        record = step.record
        record.actions_device += [a.to_json_dict() for a in actions]
        started = time.perf_counter()
        try:
            for action in actions:
                reason = declined_reason(self.config.confirm, self.hooks, self.env, action, record.thought, None)
                if reason is not None:
                    step.note(f"declined by the person: {action.type} ({reason})")
                    raise ScriptDeclined(
                        f"step {step.index} ({record.thought}): {action.type} was declined ({reason})",
                        step.index,
                        step.target or "",
                        action.type,
                        reason,
                    )
                if action.type == "type":
                    missing = [n for n in secret_names(action.text) if n not in self.secrets]  # type: ignore[attr-defined]
                    if missing:
                        raise ConfigError(
                            f"step {step.index} types the secret {missing[0]!r}, which was not given "
                            f"(set GUIAGENT_SECRET_{missing[0].upper()})"
                        )
                if self.config.dry_run:
                    continue
                self._keep_presses_apart(action)
                self.env.execute(self.redactor.reveal(action))
                record.executed += 1
                self._acted(step)
                self._pressed(action)
        finally:
            step.add_time("act", time.perf_counter() - started)

    def _keep_presses_apart(self, action: Action) -> None:
        """Two separate presses on one spot stay two: a cached run is fast enough to make them a double click."""
        points = list(action.points()) if action.type in _PRESSES else []
        last = self._last_press
        if not points or last is None:
            return
        near = abs(last[0] - int(points[0][2])) <= _SAME_SPOT and abs(last[1] - int(points[0][3])) <= _SAME_SPOT
        wait = _DOUBLE_CLICK - (time.monotonic() - last[2])
        if near and wait > 0:
            time.sleep(wait)

    def _pressed(self, action: Action) -> None:
        """Remember where and when a press was delivered (after ``execute`` returned: the press is out)."""
        points = list(action.points()) if action.type in _PRESSES else []
        self._last_press = (int(points[0][2]), int(points[0][3]), time.monotonic()) if points else self._last_press

    # -- reading the screen ----------------------------------------------------------------------------

    def _visible(self, step: StepWork, what: str, use_model: bool = True) -> bool:
        """Whether ``what`` shows: the UI hierarchy first (no model), else the model's yes or no."""
        if self.config.dry_run:
            step.note(f"dry run: would check that {what!r} is on the screen")
            return True
        nodes = self._tree_view(step)
        if nodes is not None:  # a local check: it may see a secret's value, the model never does
            hits = [n for n in find_text(nodes, self._reveal(what)) if n.area > 0]
            if hits:
                step.note(f"found in the UI hierarchy: {hits[0].class_name.rsplit('.', 1)[-1]} {hits[0].label!r}")
                step.located_by = "hierarchy"
                return True
        if not self._stable:  # the screen may still be changing: once more when it is still
            self._look(step, "stable")
            return self._visible(step, what, use_model)
        if self.model is None:
            if nodes is None:
                raise ModelRequired(
                    f"step {step.index} ({step.record.thought}): this device has no UI hierarchy, so telling what "
                    "is on the screen needs a model",
                    step.index,
                    what,
                )
            return False
        if not use_model:
            return False
        question = f"Is this on the screen right now: {what}? Answer true or false."
        seen = bool(self._ask(step, question, Schema.of(bool)))
        step.note(f"the model says {what!r} is {'' if seen else 'not '}on the screen")
        if seen:
            step.located_by = "model"
        return seen

    def _reveal(self, text: str) -> str:
        for name, value in self.secrets.items():
            text = text.replace(f"<secret:{name}>", value)
        return text

    def _query(self, step: StepWork, ask: str, schema: Any) -> Any:
        self._look(step, "stable")
        if self.config.dry_run:
            step.note(f"dry run: would ask the model: {ask}")
            return None
        value = self._ask(step, ask, Schema.of(schema))
        step.note(f"answer: {value!r}")
        return value

    def _ask(self, step: StepWork, ask: str, schema: Schema) -> Any:
        model, family = self._require_model(step, "to read the screen")
        observation = step.observation if self._stable and step.observation else self._look(step, "stable")

        def refused() -> None:
            self._structured = False
            step.note("the server refused response_format; asked again without structured output")

        answer = ask_model(
            model, family, ask, schema, observation, self._structured, refused, on_request=self._count_call
        )
        record = step.record
        record.prompt, record.reply, record.model_image = answer.prompt, answer.replies[-1], answer.model_image
        record.prompt_tokens, record.completion_tokens = answer.prompt_tokens, answer.completion_tokens
        step.add_time("model", answer.timings.get("model", 0.0))
        if len(answer.replies) > 1:
            step.note(f"re-asked once: the first answer did not validate ({answer.replies[0][:200]!r})")
        if answer.structured:
            step.note("structured output: response_format carried the schema")
        return answer.value
