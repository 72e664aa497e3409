"""Is this device fit for a task? The check a pool makes before every lease, and the reset after every task.

Why before every lease and not once at start: in a farm, phones fall asleep, lock, reboot or drop off USB
between tasks; a task started on such a phone fails for a reason that has nothing to do with the agent and
poisons the success rate. A check costs three short adb commands (well under 100 ms on a USB phone), a
small price against a wasted episode.

A healthy device answers, reports a plausible screen size, and (Android) is awake and not showing its lock
screen. The check only reads; it never wakes or unlocks a phone (that may need a PIN and is the farm's job).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guiagent.actions.errors import DeviceError, GuiAgentError
from guiagent.actions.types import SystemButton
from guiagent.envs.base import Env

from .setup import apply_setup, stop_programs
from .spec import ActionSetup

__all__ = ["DEFAULT_ANDROID_RESET", "DeviceUnhealthy", "Health", "check_health", "reset_device"]

DEFAULT_ANDROID_RESET = (ActionSetup(action=SystemButton(button="home")),)
"""What a phone gets after each task unless the pool says otherwise: back to the launcher. Each task's own
setup then brings it to that task's starting state."""

_ASLEEP = re.compile(r"mWakefulness=(Asleep|Dozing|Dreaming)")
_LOCKED = re.compile(r"(isKeyguardShowing|mKeyguardShowing|mShowingLockscreen|mDreamingLockscreen)=true")
_SIZE = re.compile(r"(?:Override|Physical) size:\s*(\d+)x(\d+)")


class DeviceUnhealthy(DeviceError):
    """A device failed its health check (``.reason``: why, in one line). A ``DeviceError``: the device is the
    problem, not the task."""

    def __init__(self, message: str, device: str = "", reason: str = "") -> None:
        super().__init__(message, device)
        self.reason = reason or message


@dataclass(frozen=True)
class Health:
    """The outcome of one check.

    Args:
        ok: fit for a task.
        reason: why not (empty when ok).
        width: the screen width the device reported (0 if it did not answer).
        height: the screen height.
        seconds: how long the check took.
    """

    ok: bool
    reason: str = ""
    width: int = 0
    height: int = 0
    seconds: float = 0.0


def check_health(env: Env) -> Health:
    """Check ``env`` now; never raises for a device problem (a failed check is the answer)."""
    started = time.monotonic()
    try:
        width, height, problem = _android(env) if env.kind == "android" else _desktop(env)
    except GuiAgentError as exc:
        return Health(False, f"does not answer: {type(exc).__name__}: {exc}", seconds=time.monotonic() - started)
    except (OSError, ValueError) as exc:  # a library error that escaped its boundary still means "not fit"
        return Health(False, f"does not answer: {type(exc).__name__}: {exc}", seconds=time.monotonic() - started)
    if not problem and (width < 16 or height < 16):
        problem = f"reports a screen of {width}x{height}"
    return Health(not problem, problem, width, height, time.monotonic() - started)


def reset_device(env: Env, steps: Sequence[Any] | None) -> str:
    """Bring ``env`` back to its resting state after a task; returns why that failed ("" when it worked).

    Args:
        env: the device.
        steps: setup steps (``tasks.spec.SetupStep``); None for the default: the home button on Android,
            nothing on a desktop (whose tasks start and stop their own programs). The default does not wait
            for the screen to settle: the next task's own setup does, and waiting twice costs every task
            a few captures.
    """
    try:
        if steps is None:
            for step in DEFAULT_ANDROID_RESET if env.kind == "android" else ():
                env.execute(step.action)
        else:
            stop_programs(apply_setup(env, list(steps)))
    except GuiAgentError as exc:
        return f"reset failed: {type(exc).__name__}: {exc}"
    return ""


def _android(env: Env) -> tuple[int, int, str]:
    query = getattr(env, "query", None)
    if query is None:
        raise DeviceError("this Android env cannot be queried", env.name)
    size = _SIZE.findall(query(["wm", "size"]))
    if not size:
        return 0, 0, "`wm size` reports no screen size"
    width, height = (int(v) for v in size[-1])
    power = query(["dumpsys", "power"])
    asleep = _ASLEEP.search(power)
    if asleep:
        return width, height, f"is asleep (mWakefulness={asleep.group(1)})"
    locked = _LOCKED.search(query(["dumpsys", "window", "policy"]))
    if locked:
        return width, height, f"is locked ({locked.group(0)})"
    return width, height, ""


def _desktop(env: Env) -> tuple[int, int, str]:
    geometry = env.observe().geometry
    return geometry.width, geometry.height, ""
