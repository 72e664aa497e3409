"""What a session is told (``SessionConfig``) and what each of its steps reports back (``StepResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError
from guiagent.agent.safety import ConfirmPolicy

__all__ = ["SessionConfig", "StepResult"]


@dataclass(frozen=True)
class SessionConfig:
    """How a session behaves.

    Args:
        threshold: fraction of a cached target's patch that may differ for the locator to verify by its
            pixels (verified replay's ``target_threshold``).
        settle: wait for the screen after acting: the next look waits for the action's effect, and a model
            is shown a still screen (``mechanics.py``). False goes on at once.
        settle_min: seconds to wait at least before a still screen is looked for after an action.
        settle_max: seconds to wait at most for a still screen.
        effect_wait: seconds the next look waits at most for an action to show (a tap that changes nothing
            visible costs this much).
        tolerance: fraction of (sampled) pixels that may change between frames still called the same.
        frame_reuse: seconds a frame may serve the next step when nothing acted since; 0 captures afresh.
        poll: seconds between looks while waiting (``wait_for``).
        model_interval: seconds between the model's looks while waiting, where the hierarchy cannot tell.
        structured_output: send ``response_format`` with a query's schema (the session stops after a
            server refuses it once).
        fast: verify cached steps by their UI node first and take a screenshot only when a step needs one
            (grounding, a query, a pixel check, a failure): for devices whose hierarchy is quicker to read
            than a frame (the virtual phone, emulators). Steps verified by their node have no screenshot
            in the report; on a device without a hierarchy nothing changes.
        confirm: which actions need a person's yes first (``hooks.confirm`` is asked).
        dry_run: locate from the cache and record the plan; send nothing to the device, ask no model.
        out_dir: where the run folder is written.
    """

    threshold: float = 0.10
    settle: bool = True
    settle_min: float = 0.1
    settle_max: float = 3.0
    effect_wait: float = 0.3
    tolerance: float = 0.002
    frame_reuse: float = 2.0
    poll: float = 0.25
    model_interval: float = 2.0
    structured_output: bool = True
    fast: bool = False
    confirm: ConfirmPolicy = field(default_factory=ConfirmPolicy)
    dry_run: bool = False
    out_dir: Path = Path("runs")

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ConfigError("threshold is a fraction of the target's patch, between 0 and 1")
        if self.settle_min < 0 or self.settle_max < self.settle_min:
            raise ConfigError("settle times must satisfy 0 <= settle_min <= settle_max")


@dataclass(frozen=True)
class StepResult:
    """What one step did.

    Args:
        index: the step's number in the session's trajectory (1-based).
        verb: ``tap``, ``type``, ``assert_visible``...
        target: what the step was about, as written.
        point: where it acted, in device pixels, if it located something.
        located_by: ``cache:patch`` or ``cache:node`` (a verified cached locator), ``model`` (grounded now),
            ``hierarchy`` (found in the UI hierarchy), or None.
        value: a query's validated answer; whether a check passed; how many scrolls it took.
        screenshot: the step's screenshot in the run folder (written by the time the session closes).
        notes: what the step's record says (the cache's verdict, re-grounding, the answer).
    """

    index: int
    verb: str
    target: str | None
    point: tuple[int, int] | None = None
    located_by: str | None = None
    value: Any = None
    screenshot: Path | None = None
    notes: tuple[str, ...] = ()
