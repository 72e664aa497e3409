"""The desktop as a device: screenshots with mss, mouse and keyboard with pyautogui.

Monitors follow mss's numbering: ``1`` is the first physical monitor (the default), ``N`` the Nth,
and ``0`` all monitors as one virtual image whose origin is the top-left of their bounding box (use
it only when every monitor has the same scale). ``list_monitors()`` shows what there is.

Coordinates: device pixels are screenshot pixels; pyautogui's point for one is ``origin + device /
scale``, with the HiDPI ``scale`` measured on every grab (``desktop_display`` explains why that works
on every platform). Points outside the screenshot are a ``CoordinateError``, never clamped.

The fail-safe stays on by default: moving the mouse into a corner of the primary screen makes the
next action raise ``DesktopFailSafe`` (a ``DeviceLost``: the person took the device back, the run
ends). An action that itself lands in a corner nudges the pointer 1 px inwards afterwards so that it
does not trip the fail-safe on the next action.

pyautogui is per process: it connects to ``$DISPLAY`` when first imported and keeps that connection,
and its ``FAILSAFE``/``PAUSE`` are module globals. Each action sets them under one process-wide lock,
so envs with different settings do not disturb each other and input from several threads never
interleaves. One process drives one X display.

Mapped actions: ``system_button`` enter presses Enter and back presses alt+Left (command+[ on macOS),
the back shortcut of browsers and file managers. ``open_app`` and ``system_button`` home/menu/recents
raise ``UnsupportedAction``: there is no portable launcher or home screen, and starting programs a
model names would be command execution; the model opens things through the desktop's own UI.

Text: printable ASCII is typed key by key; anything else on X11 through XTest with borrowed keycodes
(``desktop_xtest``), elsewhere pasted from the clipboard, which is then given back its earlier content.

Nothing heavy loads at import: mss when an env is built, pyautogui at the first input (both fail at
import without a display). python-xlib needs an Xauthority file (``$XAUTHORITY`` or
``~/.Xauthority``); none is created behind the user's back, ``DeviceNotFound`` says how to make one.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar, Literal

from PIL import Image

from guiagent.actions.errors import (
    ConfigError,
    CoordinateError,
    DeviceLost,
    DeviceNotFound,
    GuiAgentError,
    InputMethodMissing,
    UnsupportedAction,
)
from guiagent.actions.types import Action

from .base import Env, Observation, ScreenGeometry
from .desktop_clipboard import copy_text, paste_chord, read_text
from .desktop_display import (
    INPUT_LOCK,
    MonitorInfo,
    device_to_input,
    display_alive,
    input_to_device,
    list_monitors,
    load_pyautogui,
    measure_scale,
    open_mss,
    require_display,
    uses_x11,
)
from .desktop_keys import is_typeable, normalize_chord
from .desktop_xtest import XTestTyper
from .imaging import reuse_image_memory

__all__ = [
    "DesktopEnv",
    "DesktopFailSafe",
    "MonitorInfo",
    "device_to_input",
    "input_to_device",
    "list_monitors",
    "measure_scale",
]

_PASTE_SETTLE = 0.3
"""Seconds between the paste chord and restoring the clipboard (the application must have read it)."""

_CLICKS: dict[str, tuple[str, int]] = {
    "click": ("left", 1),
    "double_click": ("left", 2),
    "triple_click": ("left", 3),
    "right_click": ("right", 1),
    "middle_click": ("middle", 1),
}


class DesktopFailSafe(DeviceLost):
    """pyautogui's fail-safe fired: someone moved the mouse into a screen corner to stop the run."""


class DesktopEnv(Env):
    """One monitor of the local desktop (see the module docstring for coordinates and safety).

    Args:
        monitor: mss monitor number: 1 = first physical monitor, 0 = all monitors as one image.
        fail_safe: keep pyautogui's fail-safe (mouse into a corner stops the run). Leave it on.
        pause: seconds pyautogui waits after each input call so the application keeps up.
        type_interval: seconds between typed keys (0 types as fast as the server takes them).
        scale: force the HiDPI scale instead of measuring it on each grab.
        unicode_input: how text beyond printable ASCII is typed: ``auto`` (XTest on X11, else the clipboard),
            ``xtest`` (X11 only; an error elsewhere) or ``clipboard`` (paste, then restore the clipboard).

    Raises:
        ConfigError: a bad argument, or mss/pyautogui not installed.
        DeviceNotFound: no display, or no such monitor (``.available`` lists the ones there are).
    """

    kind: ClassVar[Literal["android", "desktop"]] = "desktop"

    def __init__(
        self,
        monitor: int = 1,
        *,
        fail_safe: bool = True,
        pause: float = 0.02,
        type_interval: float = 0.0,
        scale: float | None = None,
        unicode_input: Literal["auto", "xtest", "clipboard"] = "auto",
    ) -> None:
        if isinstance(monitor, bool) or not isinstance(monitor, int) or monitor < 0:
            raise ConfigError(f"monitor must be an integer >= 0 (mss numbering), got {monitor!r}")
        if pause < 0 or type_interval < 0:
            raise ConfigError("pause and type_interval must be >= 0 seconds")
        if scale is not None and not scale > 0:
            raise ConfigError(f"scale must be positive, got {scale!r}")
        if unicode_input not in ("auto", "xtest", "clipboard"):
            raise ConfigError(f"unicode_input must be auto, xtest or clipboard, got {unicode_input!r}")
        self.unicode_input = unicode_input
        self.monitor = monitor
        self.name = f"desktop:{monitor}"
        self.fail_safe = fail_safe
        self.pause = pause
        self.type_interval = type_interval
        self._scale = scale
        self._display = require_display(self.name)
        self._local = threading.local()
        self._captures: list[Any] = []
        self._captures_lock = threading.Lock()
        self._closed = False
        self._typer: XTestTyper | None = None
        self._geometry: ScreenGeometry | None = None
        reuse_image_memory()
        monitors = self._capture().monitors
        if monitor >= len(monitors):
            available = [f"desktop:{i}" for i in range(len(monitors))]
            raise DeviceNotFound(
                f"no monitor {monitor}: this display has {len(monitors) - 1} (1..{len(monitors) - 1}, "
                "or 0 for all of them as one image)",
                self.name,
                available,
            )

    def __repr__(self) -> str:
        return f"DesktopEnv(monitor={self.monitor}, display={self._display!r})"

    # -- capture -------------------------------------------------------------------------------

    def _capture(self) -> Any:
        """This thread's mss instance (mss instances must not be shared between threads)."""
        if self._closed:
            raise DeviceLost(f"{self.name} is closed", self.name)
        sct = getattr(self._local, "sct", None)
        if sct is None:
            sct = open_mss(self._display, self.name)
            self._local.sct = sct
            with self._captures_lock:
                self._captures.append(sct)
        return sct

    def _forget_capture(self) -> None:
        """Drop this thread's mss instance after a failure, so the next capture reconnects."""
        sct = getattr(self._local, "sct", None)
        self._local.sct = None
        if sct is None:
            return
        with self._captures_lock:
            if sct in self._captures:
                self._captures.remove(sct)
        with suppress(Exception):
            sct.close()

    def _display_alive(self) -> bool:
        return display_alive(self._display, self.name)

    def observe(self) -> Observation:
        """Grab the monitor now: an RGB image of device pixels and its geometry (a few ms at 1080p)."""
        start = time.perf_counter()
        sct = self._capture()
        try:
            region = sct.monitors[self.monitor]
            shot = sct.grab(region)
        except Exception as exc:
            self._forget_capture()
            if self._display_alive():
                raise
            raise DeviceLost(f"screen capture failed, display {self._display} is gone: {exc!r}", self.name) from exc
        raw = getattr(shot, "raw", None) or shot.bgra
        image = Image.frombuffer("RGB", (shot.width, shot.height), raw, "raw", "BGRX", 0, 1)
        scale = self._scale or measure_scale(shot.width, region["width"])
        geometry = ScreenGeometry(shot.width, shot.height, scale=scale, origin=(region["left"], region["top"]))
        self._geometry = geometry
        return Observation(image, geometry, time.time(), time.perf_counter() - start)

    # -- input ---------------------------------------------------------------------------------

    def _perform(self, action: Action) -> None:
        if self._closed:
            raise DeviceLost(f"{self.name} is closed", self.name)
        handler = _HANDLERS.get(action.type)
        if handler is None:
            raise UnsupportedAction(f"{action.type} is not a desktop action", self.name, action.type)
        handler(self, action)

    def _point(self, x: float | None, y: float | None) -> tuple[int, int] | None:
        """pyautogui's point for a device pixel (None stays None: act where the cursor is)."""
        if x is None or y is None:
            return None
        return self._required_point(x, y)

    def _required_point(self, x: float, y: float) -> tuple[int, int]:
        """pyautogui's point for a device pixel; ``CoordinateError`` when it is off this screen."""
        geometry = self._geometry or self.observe().geometry
        if not (0 <= x < geometry.width and 0 <= y < geometry.height):
            raise CoordinateError(
                f"point ({x:g}, {y:g}) is outside the {geometry.width}x{geometry.height} screen",
                point=(float(x), float(y)),
            )
        return device_to_input(int(x), int(y), geometry.origin, geometry.scale)

    def _input(self, steps: Callable[[Any], None], targets: Iterable[tuple[int, int] | None] = ()) -> None:
        """Run pyautogui calls under the input lock with this env's settings; wrap what fails.

        With the fail-safe on, a cursor already in a corner stops the action before it starts (that is
        the person's signal). ``targets`` are the points the action moves to: pyautogui refuses to act
        at a corner at all, so an action aimed at one runs with the check suspended, and the pointer is
        nudged off the corner afterwards.
        """
        pag = load_pyautogui(self._display, self.name)
        with INPUT_LOCK:
            pag.FAILSAFE = self.fail_safe
            pag.PAUSE = self.pause
            try:
                if self.fail_safe:
                    pag.failSafeCheck()
                    if any(t is not None and t in pag.FAILSAFE_POINTS for t in targets):
                        with self._fail_safe_off(pag):
                            steps(pag)
                    else:
                        steps(pag)
                    self._leave_corner(pag)
                else:
                    steps(pag)
            except pag.FailSafeException as exc:
                raise DesktopFailSafe(
                    "pyautogui's fail-safe fired: the mouse is in a screen corner, which means stop. Move it "
                    "away to go on (or build DesktopEnv(fail_safe=False))",
                    self.name,
                ) from exc
            except GuiAgentError:
                raise
            except Exception as exc:
                if self._display_alive():
                    raise
                raise DeviceLost(f"input failed, display {self._display} is gone: {exc!r}", self.name) from exc

    def _leave_corner(self, pag: Any) -> None:
        """Move the pointer 1 px off a fail-safe corner it was sent to, so corners keep meaning stop."""
        x, y = (int(v) for v in pag.position())
        if (x, y) not in pag.FAILSAFE_POINTS:
            return
        width, height = (int(v) for v in pag.size())
        nx = x + 1 if x <= 0 else x - 1 if x >= width - 1 else x
        ny = y + 1 if y <= 0 else y - 1 if y >= height - 1 else y
        with self._fail_safe_off(pag):
            pag.moveTo(nx, ny, _pause=False)

    @contextmanager
    def _fail_safe_off(self, pag: Any) -> Iterator[None]:
        """Suspend the fail-safe for a move of our own (we hold the input lock)."""
        pag.FAILSAFE = False
        try:
            yield
        finally:
            pag.FAILSAFE = self.fail_safe

    def _hold(self, pag: Any, during: Callable[[], None], button: str = "left") -> None:
        """Press ``button``, run ``during``, and always release it (even when ``during`` fails)."""
        pag.mouseDown(button=button)
        try:
            during()
        except BaseException:
            with suppress(Exception), self._fail_safe_off(pag):
                pag.mouseUp(button=button, _pause=False)
            raise
        with self._fail_safe_off(pag):  # a drag may end in a corner: releasing there is ours, not a stop
            pag.mouseUp(button=button)

    def _do_click(self, action: Any) -> None:
        button, clicks = _CLICKS[action.type]
        point = self._point(action.x, action.y)
        if point is None:
            self._input(lambda pag: pag.click(button=button, clicks=clicks))
        else:
            self._input(lambda pag: pag.click(*point, button=button, clicks=clicks), [point])

    def _do_move(self, action: Any) -> None:
        point = self._required_point(action.x, action.y)
        self._input(lambda pag: pag.moveTo(*point), [point])

    def _do_drag(self, action: Any) -> None:
        start = self._point(action.x, action.y)
        end = self._required_point(action.x2, action.y2)

        def steps(pag: Any) -> None:
            if start is not None:
                pag.moveTo(*start)
            self._hold(pag, lambda: pag.moveTo(*end, duration=action.duration))

        self._input(steps, [start, end])

    def _do_long_press(self, action: Any) -> None:
        point = self._required_point(action.x, action.y)

        def steps(pag: Any) -> None:
            pag.moveTo(*point)
            self._hold(pag, lambda: time.sleep(action.duration))

        self._input(steps, [point])

    def _do_scroll(self, action: Any) -> None:
        point = self._point(action.x, action.y)
        clicks = action.amount if action.direction in ("up", "right") else -action.amount
        vertical = action.direction in ("up", "down")

        def steps(pag: Any) -> None:
            scroll = pag.scroll if vertical else pag.hscroll  # X11: buttons 4/5 and 6/7
            scroll(clicks, *(point or ()))

        self._input(steps, [point])

    def _do_type(self, action: Any) -> None:
        text = action.text.replace("\r\n", "\n")
        if is_typeable(text):
            self._input(lambda pag: pag.write(text, interval=self.type_interval))
            return
        xlib_display = None
        # XTest goes through pyautogui's own connection, so these key events keep their order among its events.
        if uses_x11() and self.unicode_input != "clipboard":
            platform_module = getattr(load_pyautogui(self._display, self.name), "platformModule", None)
            xlib_display = getattr(platform_module, "_display", None)
        if xlib_display is not None and xlib_display.has_extension("XTEST"):
            self._input(lambda pag: self._xtest(xlib_display).type(text))
            return
        if self.unicode_input == "xtest":
            raise InputMethodMissing("unicode_input='xtest' needs an X11 display with the XTEST extension", self.name)

        def paste(pag: Any) -> None:  # under the input lock: the clipboard is shared too
            before = read_text()
            copy_text(text, self.name)
            pag.hotkey(*paste_chord())
            time.sleep(_PASTE_SETTLE)  # the application reads the clipboard after the chord arrives
            copy_text(before if before is not None else "", self.name)

        self._input(paste)

    def _xtest(self, xlib_display: Any) -> XTestTyper:
        if self._typer is None:
            self._typer = XTestTyper(xlib_display, self.name)
        return self._typer

    def _do_key(self, action: Any) -> None:
        names = normalize_chord(action.keys, sys.platform)
        self._press(names)

    def _press(self, names: list[str]) -> None:
        def steps(pag: Any) -> None:
            mapping = getattr(getattr(pag, "platformModule", None), "keyboardMapping", None)
            if mapping is not None:
                missing = [n for n in names if mapping.get(n) is None or (uses_x11() and not mapping[n])]
                if missing:
                    raise UnsupportedAction(f"this keyboard has no key {missing[0]!r}", self.name, "key")
            if len(names) == 1:
                pag.press(names[0])
            else:
                pag.hotkey(*names)

        self._input(steps)

    def _do_system_button(self, action: Any) -> None:
        if action.button == "enter":
            self._press(["enter"])
        elif action.button == "back":
            self._press(["command", "["] if sys.platform == "darwin" else ["alt", "left"])
        else:
            raise UnsupportedAction(
                f"system_button {action.button} has no desktop meaning; press keys instead (key action)",
                self.name,
                "system_button",
            )

    def _do_open_app(self, action: Any) -> None:
        raise UnsupportedAction(
            f"open_app({action.name!r}) is not supported on the desktop: open it through the desktop's own "
            "launcher with clicks and keys",
            self.name,
            "open_app",
        )

    def _do_wait(self, action: Any) -> None:
        time.sleep(action.seconds)

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every mss instance this env opened (in any thread) and the keycodes it borrowed for
        typing; safe to call twice."""
        self._closed = True
        typer, self._typer = self._typer, None
        if typer is not None:
            with INPUT_LOCK, suppress(Exception):
                typer.close()
        with self._captures_lock:
            captures, self._captures = self._captures, []
        for sct in captures:
            with suppress(Exception):
                sct.close()
        self._local = threading.local()


_HANDLERS: dict[str, Callable[[DesktopEnv, Any], None]] = {
    "click": DesktopEnv._do_click,
    "double_click": DesktopEnv._do_click,
    "triple_click": DesktopEnv._do_click,
    "right_click": DesktopEnv._do_click,
    "middle_click": DesktopEnv._do_click,
    "move": DesktopEnv._do_move,
    "drag": DesktopEnv._do_drag,
    "swipe": DesktopEnv._do_drag,
    "long_press": DesktopEnv._do_long_press,
    "scroll": DesktopEnv._do_scroll,
    "type": DesktopEnv._do_type,
    "key": DesktopEnv._do_key,
    "system_button": DesktopEnv._do_system_button,
    "open_app": DesktopEnv._do_open_app,
    "wait": DesktopEnv._do_wait,
}
"""Action type → how the desktop performs it; anything else is ``UnsupportedAction``."""
