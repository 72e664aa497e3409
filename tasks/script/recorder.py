"""A session's trajectory: the agent's own run-folder format, so ``guiagent report`` and replay read it as is.

Every step is one ``StepRecord``: the screenshot the step decided on (before it acted), the grounding
prompt and reply when the model was asked, ``actions_device`` with ``executed`` counting what reached the
device, the cache's verdict in ``notes``, and timings per stage (``capture``, ``verify``, ``preprocess``,
``model``, ``parse``, ``act``, ``settle``). Screenshots are encoded on a worker thread (as replays do):
the PNG encode would otherwise be most of a cached step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guiagent.agent.hooks import AgentHooks
from guiagent.agent.records import RunRecord, StepRecord
from guiagent.agent.trajectory import Redactor, TrajectoryWriter, guiagent_version, new_run_id
from guiagent.envs.base import Env, Observation
from guiagent.envs.hierarchy import UiNode

if TYPE_CHECKING:
    from PIL import Image

    from guiagent.actions.families import ModelFamily
    from guiagent.agent.backends.base import ModelBackend

__all__ = ["Recorder", "StepWork"]


@dataclass
class StepWork:
    """One step while it runs: its record, and what it found so far (all of it recorded, even on failure)."""

    index: int
    verb: str
    target: str | None
    record: StepRecord
    observation: Observation | None = None
    key: str | None = None
    point: tuple[int, int] | None = None
    located_by: str | None = None
    screenshot_saved: bool = False
    decided: str | None = None
    """What the step decided on: ``frame`` (``observation``) or ``tree`` (``nodes``, fast mode)."""
    nodes: list[UiNode] | None = None

    def note(self, text: str) -> None:
        self.record.notes.append(text)

    def add_time(self, stage: str, seconds: float) -> None:
        self.record.timings[stage] = self.record.timings.get(stage, 0.0) + seconds


class Recorder:
    """Writes one session's run folder and tells the hooks (display, MCP progress) about each step."""

    def __init__(
        self,
        out_dir: Path,
        env: Env,
        model: ModelBackend | None,
        family: ModelFamily | None,
        name: str,
        settings: dict[str, Any],
        redactor: Redactor,
        hooks: AgentHooks,
        source: str | None = None,
    ) -> None:
        run_id = new_run_id(name)
        family_info: dict[str, Any] = {}
        if family is not None:
            low, high = family.pixel_limits
            family_info = {
                "name": family.name,
                "min_pixels": low,
                "max_pixels": high,
                "platform": family.active_platform,
                "pad": family.pad,
            }
        record = RunRecord(
            id=run_id,
            task=name,
            started_at=time.time(),
            device={"name": env.name, "kind": env.kind},
            model={"id": model.model_id, "backend": type(model).__name__} if model is not None else {"id": ""},
            family=family_info,
            settings=settings,
            guiagent_version=guiagent_version(),
            source=source,
        )
        self.hooks = hooks
        self.writer = TrajectoryWriter(Path(out_dir) / run_id, record, redactor, background_images=True)
        self.steps: list[StepRecord] = []
        hooks.run_started(record, self.writer.folder)

    @property
    def folder(self) -> Path:
        return self.writer.folder

    def screenshot_path(self, index: int) -> Path:
        """Where step ``index``'s screenshot is (or will be) written."""
        return self.folder / f"step-{index:04d}.png"

    def save_screenshot_now(self, step: StepWork) -> str | None:
        """Write the step's screenshot before returning (an assertion hands its path to the caller)."""
        if step.observation is None:
            return None
        name = self.writer.save_image(self.screenshot_path(step.index).name, step.observation.image)
        step.record.screenshot = name
        step.screenshot_saved = True
        return str(self.folder / name)

    def save_image(self, name: str, image: Image.Image) -> str:
        return self.writer.save_image(name, image)

    def append(self, step: StepWork) -> None:
        """Record a finished (or failed) step: screenshot, line in ``steps.jsonl``, hooks."""
        if step.observation is not None and not step.screenshot_saved:
            step.record.screenshot = self.writer.save_screenshot(step.index, step.observation.image)
        self.writer.append(step.record)
        self.steps.append(step.record)
        self.hooks.step_finished(step.record)

    def finish(self, status: str, reason: str, settings: dict[str, Any]) -> RunRecord:
        """Record how the session ended (waits for screenshots still being written)."""
        self.writer.update(settings=settings)
        run = self.writer.finish(status, reason)
        self.hooks.run_finished(run)
        return run
