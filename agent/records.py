"""Typed records of a run: one ``StepRecord`` per loop iteration, one ``RunRecord`` per run.

The loop yields step records and does not print; the trajectory writer, the terminal display and
metrics all consume the same records. Both are pydantic models so they validate when read back from
disk and export JSON schemas for anyone processing trajectories elsewhere. Validation covers what readers
rely on (finite timestamps the report can show, screen sizes replay can scale by, prompt messages the
report can walk), so a damaged run folder is refused once, on load, instead of failing in each reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from guiagent.actions.messages import Message, TextPart

__all__ = [
    "MAX_SECONDS",
    "MAX_SIDE",
    "MAX_TIMESTAMP",
    "STAGES",
    "ErrorInfo",
    "RunRecord",
    "RunStatus",
    "StepRecord",
    "message_json",
    "stage_totals",
]

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


MAX_TIMESTAMP = 32_503_680_000.0
"""The latest time a record may carry (3000-01-01 UTC): every platform's ``time.localtime`` can show it."""
MAX_SECONDS = 1e9
"""The longest a stage may have taken (about 31 years): sums of a run's timings stay finite."""
MAX_SIDE = 100_000
"""The largest screen or model-image side, in pixels, a record may name."""


def _size(value: dict[str, Any]) -> dict[str, Any]:
    """A screen or model image as recorded: empty (not known), or ``width`` and ``height`` positive ints.

    Replay scales recorded actions by these and the report places its marks by them, so a record whose
    size is text, zero, negative or absurd is refused when it is read, not wherever the size is used.
    """
    if not value:
        return value
    for side in ("width", "height"):
        number = value.get(side)
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= MAX_SIDE:
            raise ValueError(f"{side} must be a whole number of pixels from 1 to {MAX_SIDE}, not {number!r:.40}")
    return value


def _prompt(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prompt messages in the shape ``message_json`` writes: a ``role`` and a list of typed ``content`` parts."""
    for number, message in enumerate(value, start=1):
        if not isinstance(message.get("role"), str) or not isinstance(message.get("content"), list):
            raise ValueError(f"message {number} needs a text role and a list of content parts")
        for part in message["content"]:
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise ValueError(f"message {number} has a content part that is not an object with a type")
            if part["type"] == "text" and not isinstance(part.get("text"), str):
                raise ValueError(f"message {number} has a text part whose text is not a string")
    return value


Timestamp = Annotated[float, Field(ge=0, le=MAX_TIMESTAMP, allow_inf_nan=False)]
"""Seconds since the epoch, finite and from 1970 to the year 3000 (the report shows them as local times)."""
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
"""A stage's duration: finite, never negative."""
PixelSize = Annotated[dict[str, Any], AfterValidator(_size)]
"""``{}``, or a dict whose ``width`` and ``height`` are positive ints (other keys, e.g. ``orientation``, pass)."""
Prompt = Annotated[list[dict[str, Any]], AfterValidator(_prompt)]
"""A step's prompt as ``message_json`` records it; the report walks it part by part."""


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
    started_at: Timestamp
    screenshot: str | None = None
    screen: PixelSize = Field(default_factory=dict)
    model_image: PixelSize = Field(default_factory=dict)
    prompt: Prompt = Field(default_factory=list)
    reply: str | None = None
    thought: str | None = None
    actions_model: list[dict[str, Any]] = Field(default_factory=list)
    actions_device: list[dict[str, Any]] = Field(default_factory=list)
    executed: int = Field(default=0, ge=0)
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
    timings: dict[str, Seconds] = Field(default_factory=dict)
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
    started_at: Timestamp
    finished_at: Timestamp | None = None
    steps: int = Field(default=0, ge=0)
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
