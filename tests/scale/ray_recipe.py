"""What the Ray tests ship to their workers: agents whose model is ``PlanBackend`` on the worker's own phone.

The model runs inside each device's actor (no HTTP), so a worker node needs nothing but its phones; the
replies are computed from the phone's live screen, so every task really passes or fails on its checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.tasks.demo import PlanBackend

__all__ = ["PlanRecipe"]


@dataclass(frozen=True)
class PlanRecipe:
    """An ``AgentRecipe``: each task follows its plan from ``tests.tasks.test_suite_run.PLANS``."""

    latency: float = 0.0

    def backend(self) -> None:
        return None

    def agent(self, env: Any, task: Any, backend: Any) -> Agent:
        from tests.tasks.test_suite_run import PLANS

        model = PlanBackend(env.phone, PLANS[task.id], latency=self.latency)
        return Agent(env, model, "qwen2.5-vl-mobile", AgentConfig(max_steps=task.max_steps))
