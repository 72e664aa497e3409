"""The agent's settings: limits, history, safety, settling, and where runs are written."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .history import HistoryPolicy
from .safety import ConfirmPolicy

__all__ = ["AgentConfig"]


@dataclass(frozen=True)
class AgentConfig:
    """How a run behaves.

    Args:
        max_steps: steps before the run ends with ``max_steps``.
        time_limit: seconds before the run ends with ``timeout`` (None: no limit); it holds inside a step too: a
            ``wait`` is cut to the time left and the model request stops waiting and retrying at it.
        max_invalid_replies: replies in a row that are not valid actions before the run fails; each one
            is sent back to the model with the reason.
        repeat_limit: the same actions on an unchanged screen this many times ends the run (``loop``).
        history: what the model sees of earlier steps.
        max_new_tokens: reply length limit.
        temperature: sampling temperature (0: greedy).
        settle: wait for the screen to stop changing after acting (instead of a fixed sleep).
        settle_min: seconds to wait at least after acting.
        settle_max: seconds to wait at most.
        dry_run: decide and draw each step, never touch the device.
        confirm: which actions need a person's yes first.
        out_dir: where run folders are written.
    """

    max_steps: int = 30
    time_limit: float | None = None
    max_invalid_replies: int = 3
    repeat_limit: int = 3
    history: HistoryPolicy = field(default_factory=HistoryPolicy)
    max_new_tokens: int = 512
    temperature: float = 0.0
    settle: bool = True
    settle_min: float = 0.1
    settle_max: float = 3.0
    dry_run: bool = False
    confirm: ConfirmPolicy = field(default_factory=ConfirmPolicy)
    out_dir: Path = Path("runs")

    def __post_init__(self) -> None:
        from guiagent.actions.errors import ConfigError

        if self.max_steps < 1:
            raise ConfigError("max_steps must be at least 1")
        if self.time_limit is not None and self.time_limit <= 0:
            raise ConfigError("time_limit must be positive seconds")
        if self.max_invalid_replies < 1:
            raise ConfigError("max_invalid_replies must be at least 1")

    def as_json(self) -> dict[str, Any]:
        """The settings as JSON-ready data, for the run record."""
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        return data
