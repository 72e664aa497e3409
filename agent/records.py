"""Typed records of a run: one ``StepRecord`` per loop iteration, one ``RunRecord`` per run.

The loop yields step records and does not print; the trajectory writer, the terminal display and
metrics all consume the same records. Both are pydantic models so they validate when read back from
disk and export JSON schemas for anyone processing trajectories elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from guiagent.actions.messages import Message, TextPart

__all__ = ["STAGES", "ErrorInfo", "RunRecord", "RunStatus", "StepRecord", "message_json", "stage_totals"]

STAGES = ("capture", "preprocess", "model", "parse", "act", "settle")
"""The phases of a step, in order; ``StepRecord.timings`` has one entry per phase that ran."""

RunStatus = Literal[
    "running",  # the run has not ended (or was killed before it could say how it ended)
    "success",  # the model said the task succeeded (terminate success, or an answer)
    "failure",  # the model gave up, or kept producing invalid replies
    "max_steps",
    "timeout",
    "loop",  # the same action on an unchanged screen, again and again
    "interrupted",  # Ctrl-C
    "error",  # an exception ended the run (device, model, configuration, or a bug): ``reason`` names it
    "unfinished",  # a replay of a recording that never succeeded: its executed steps were performed, no more
]


def stage_totals(timings: Iterable[dict[str, float]]) -> dict[str, float]:
    """Seconds per stage summed over steps, in loop order (``STAGES``), unknown stages last.

    The one place this sum is made, so the suite results, the report and the terminal agree.
    """
    totals: dict[str, float] = {}
    for one in timings:
        for stage, seconds in one.items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    order = {stage: i for i, stage in enumerate(STAGES)}
    return dict(sorted(totals.items(), key=lambda kv: order.get(kv[0], len(order))))


class ErrorInfo(BaseModel):
    """An error as recorded: its type name, its message, and whether the model was told."""

    model_config = ConfigDict(frozen=True)

    type: str
    message: str
    sent_to_model: bool = False


class StepRecord(BaseModel):
    """Everything about one step, enough to audit it, replay it and rebuild its prompt.

    Coordinates: ``actions_model`` are in the family's space (``space`` names it), ``actions_device``
    in screenshot pixels of ``screen``.
    """

    model_config = ConfigDict(extra="ignore")

    index: int
    started_at: float
    screenshot: str | None = None
    screen: dict[str, Any] = Field(default_factory=dict)
    model_image: dict[str, Any] = Field(default_factory=dict)
    prompt: list[dict[str, Any]] = Field(default_factory=list)
    reply: str | None = None
    thought: str | None = None
    actions_model: list[dict[str, Any]] = Field(default_factory=list)
    actions_device: list[dict[str, Any]] = Field(default_factory=list)
    executed: int = 0
    """How many of ``actions_device``, from the first, reached the device. The rest never happened: the
    person declined one, one failed, or the run was a dry run (then always 0). Replay performs only these."""
    sensitive: str | None = None
    """The model's own statement that this step is a sensitive operation (``ParsedReply.sensitive``);
    the confirm policy asked the person about it, and asks again when the step is replayed."""
    error: ErrorInfo | None = None
    notes: list[str] = Field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    estimated_prompt_tokens: int | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    dry_run: bool = False

    @property
    def total_seconds(self) -> float:
        """Sum of the stage timings."""
        return sum(self.timings.values())


class RunRecord(BaseModel):
    """The run as a whole: what was asked, of which model on which device, and how it ended."""

    model_config = ConfigDict(extra="ignore")

    id: str
    task: str
    status: RunStatus = "running"
    reason: str = ""
    answer: str | None = None
    device: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    family: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    started_at: float
    finished_at: float | None = None
    steps: int = 0
    guiagent_version: str = ""
    kind: Literal["agent", "replay"] = "agent"
    source: str | None = None


def message_json(message: Message) -> dict[str, Any]:
    """A prompt message as trajectories record it (``StepRecord.prompt``): text verbatim, images by slot key
    and size — the pixels are the step's screenshot, saved beside it."""
    content: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        else:
            content.append({"type": "image", "key": part.key, "width": part.width, "height": part.height})
    return {"role": message.role, "content": content}
