"""What the fault tests share: a small phone, replies in a family's own format, what reached the phone.

Phones here are 360x800 (a tenth of the default's pixels), so a run's capture, resize and PNG writes are cheap
and a fault test can afford fifty runs. The device's view of what happened is the virtual phone's own
record of every simple command it ran (``VirtualPhone.executed``); ``device_input`` keeps the ones that
change the device.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Action, Click, LongPress, OpenApp, Swipe, SystemButton
from guiagent.agent.hooks import AgentHooks
from guiagent.envs.virtual_phone import VirtualPhone

__all__ = [
    "FAMILY",
    "GESTURE",
    "Lost",
    "PHONE",
    "PLAN",
    "PathWatch",
    "Steps",
    "command_for",
    "device_input",
    "nothing_lost",
    "small_phone",
    "say",
]

PHONE = Size(360, 800)
FAMILY = get_family("qwen2.5-vl-mobile")
PLAN = [
    OpenApp(name="Settings"),
    Swipe(x=180, y=600, x2=180, y2=200, duration=0.4),
    LongPress(x=180, y=300, duration=0.5),
    Click(x=180, y=250),
    SystemButton(button="back"),
    SystemButton(button="home"),
]
"""Actions a scripted model picks its plans from (gestures the virtual phone can play in real time)."""
GESTURE = ["input", "swipe"]
"""How a swipe or a long press starts on the phone."""


class Lost(AssertionError):
    """Some tries lost something. Its own type, so that ``xfail(raises=Lost)`` (a known defect) never hides
    a test that fails for another reason, such as its setup."""


def nothing_lost(lost: list[str], tried: int, what: str, shown: int = 12) -> None:
    """Raise ``Lost`` listing the first ``shown`` of ``lost`` (each a try that lost something), if any."""
    if lost:
        raise Lost(f"{len(lost)} of {tried} {what} lost something:\n" + "\n".join(lost[:shown]))


class Steps(AgentHooks):
    """Counts the steps the agent finished (each is appended to the trajectory before this is called)."""

    def __init__(self) -> None:
        self.finished = 0

    def step_finished(self, step: Any) -> None:
        self.finished += 1


def small_phone(**options: Any) -> VirtualPhone:
    """A 360x800 virtual phone (``VirtualPhone`` keyword arguments pass through)."""
    return VirtualPhone(PHONE.width, PHONE.height, 140, **options)


def say(action: Action) -> str:
    """``action`` (device pixels of ``PHONE``) as the model would write it."""
    return FAMILY.format_action(FAMILY.mapping(PHONE).to_model(action))


def device_input(phone: VirtualPhone, start: int = 0) -> list[list[str]]:
    """Commands in ``phone.executed[start:]`` that change the phone: input, app starts and stops, broadcasts,
    settings and input methods written, data cleared (reads such as ``settings get`` or ``wm density`` are not)."""
    return [argv for argv in phone.executed[start:] if _changes(argv)]


def _changes(argv: list[str]) -> bool:
    head = argv[:2]
    if argv[:1] in (["input"], ["monkey"], ["svc"]):
        return True
    if head in (["am", "start"], ["am", "broadcast"], ["am", "force-stop"], ["am", "kill"], ["pm", "clear"]):
        return True
    if head in (["settings", "put"], ["settings", "delete"], ["ime", "set"], ["ime", "enable"], ["ime", "disable"]):
        return True
    if head in (["content", "insert"], ["content", "update"], ["content", "delete"]):
        return True
    return argv[:1] == ["wm"] and len(argv) > 2  # wm size WxH, wm density N


def command_for(action: dict[str, Any]) -> list[str] | None:
    """The command the Android driver sends for a recorded device action, for the action types the fault
    tests use (None for the ones the agent handles itself: terminate, answer, wait)."""
    kind = action["type"]
    if kind == "click":
        return ["input", "tap", str(action["x"]), str(action["y"])]
    if kind in ("swipe", "long_press"):
        x2, y2 = (action["x2"], action["y2"]) if kind == "swipe" else (action["x"], action["y"])
        ms = str(max(1, round(action["duration"] * 1000)))
        return ["input", "swipe", str(action["x"]), str(action["y"]), str(x2), str(y2), ms]
    if kind == "system_button":
        return ["input", "keyevent", {"back": "4", "home": "3", "menu": "82", "enter": "66"}[action["button"]]]
    if kind == "open_app":
        return ["monkey", "-p", _PACKAGES[action["name"]], "-c", "android.intent.category.LAUNCHER", "1"]
    if kind == "type":
        return ["input", "text", action["text"].replace(" ", "%s")]
    if kind in ("terminate", "answer", "wait"):
        return None
    raise ValueError(f"no command known for {kind}")


_PACKAGES = {"Settings": "com.android.settings", "Notes": "com.guiagent.notes", "Clock": "com.android.deskclock"}


class PathWatch:
    """Every file this process opens while ``watching()``, through an audit hook (``sys.addaudithook``).

    Audit hooks cannot be removed, so one hook is installed for the session and does nothing unless a
    watch is on. ``opened`` holds (resolved path, writing) pairs; symbolic links are resolved, so a link
    inside a run folder that points outside shows as the outside path.
    """

    _active: PathWatch | None = None
    _installed = False
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.opened: list[tuple[Path, bool]] = []

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        watch = cls._active
        if watch is None or event != "open" or not args:
            return
        path, mode, flags = (list(args) + [None, None])[:3]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return  # a file descriptor
        writing = bool(isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        try:
            resolved = Path(os.fsdecode(path)).resolve()
        except (OSError, ValueError, RuntimeError):
            resolved = Path(os.fsdecode(path))
        watch.opened.append((resolved, writing))

    @contextmanager
    def watching(self) -> Iterator[PathWatch]:
        """Record opens until the block ends."""
        with PathWatch._lock:
            if not PathWatch._installed:
                sys.addaudithook(PathWatch._hook)
                PathWatch._installed = True
        PathWatch._active = self
        try:
            yield self
        finally:
            PathWatch._active = None

    def outside(self, allowed: list[Path], forbidden: list[Path]) -> list[str]:
        """Opens of anything under ``forbidden``, and writes anywhere but under ``allowed``."""
        found = []
        for path, writing in self.opened:
            if any(path.is_relative_to(f) for f in forbidden):
                found.append(f"opened {path}")
            elif writing and not any(path.is_relative_to(a) for a in allowed):
                found.append(f"wrote {path}")
        return found
