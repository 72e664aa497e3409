"""How the loop talks to the outside without printing: hooks, and the small decisions it delegates.

``AgentHooks`` is the one place a display, a person in the loop, or metrics plug in. The defaults are
silent and safe: no display, confirmations declined, questions to the person unanswered (the run then
ends instead of waiting for nobody).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from guiagent.actions.types import Action
from guiagent.envs.base import Env, Observation
from guiagent.envs.hierarchy import element_at, focused_node
from guiagent.envs.settle import frame_difference, frame_signature

from .safety import ActionContext, ConfirmPolicy

if TYPE_CHECKING:
    from .records import RunRecord, StepRecord

__all__ = ["AgentHooks", "LoopGuard", "StepOutcome", "declined_reason"]


@dataclass(frozen=True)
class StepOutcome:
    """Whether the run ends after this step, and how."""

    done: bool = False
    status: str = ""
    reason: str = ""
    answer: str | None = None


class AgentHooks:
    """Override what you need; every method has a safe default."""

    def run_started(self, run: RunRecord, folder: Path) -> None:
        """A run began; its trajectory folder exists."""

    def step_finished(self, step: StepRecord) -> None:
        """A step was recorded (successful or not)."""

    def run_finished(self, run: RunRecord) -> None:
        """The run ended; ``run.status`` says how."""

    def confirm(self, action: Action, reason: str) -> bool:
        """Ask the person whether to perform ``action``; by default nobody is asked and the answer is no."""
        return False

    def ask_user(self, message: str) -> str | None:
        """The model asked for help; return the person's reply, or None to end the run."""
        return None

    def action_context(self, env: Env, action: Action, thought: str | None) -> ActionContext:
        """What the device can say about an action's target (used only by the risk policy)."""
        try:
            nodes = env.ui_nodes()
        except Exception:  # noqa: BLE001 - a failed inspection must not stop the action; judge on the thought
            nodes = None
        if not nodes:
            return ActionContext(thought=thought)
        points = list(action.points())
        target = element_at(nodes, int(points[0][2]), int(points[0][3])) if points else None
        focused = focused_node(nodes)
        return ActionContext(
            thought=thought,
            target_label=target.label if target else None,
            field_is_password=focused.password if focused else None,
        )


def declined_reason(
    policy: ConfirmPolicy,
    hooks: AgentHooks,
    env: Env,
    action: Action,
    thought: str | None,
    sensitive: str | None = None,
) -> str | None:
    """Apply the confirm policy to one action: None when it may run, else why the person was asked and said no.

    None means nobody needed asking, or the person said yes. The agent and replay both decide through
    this one function, so a recorded step is held to the same rule when it is replayed.
    """
    reason = policy.reason(action, lambda: hooks.action_context(env, action, thought), sensitive)
    if reason is None or hooks.confirm(action, reason):
        return None
    return reason


class LoopGuard:
    """Notices the same actions on an unchanged screen ``limit`` times in a row."""

    def __init__(self, limit: int = 3, tolerance: float = 0.002) -> None:
        self.limit = limit
        self.tolerance = tolerance
        self._last: tuple[list[dict[str, object]], np.ndarray] | None = None
        self._count = 0

    def repeated(self, actions: Sequence[Action], observation: Observation) -> bool:
        """Record this step; True once the same thing happened ``limit`` times on the same screen."""
        key = [a.to_json_dict() for a in actions]
        signature = frame_signature(observation)
        if self._last is not None:
            last_key, last_signature = self._last
            same = key == last_key and frame_difference(signature, last_signature) <= self.tolerance
            self._count = self._count + 1 if same else 1
        else:
            self._count = 1
        self._last = (key, signature)
        return self.limit > 0 and self._count >= self.limit
