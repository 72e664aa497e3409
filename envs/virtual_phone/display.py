"""The phone's display: geometry (size, density, rotation), the current widget tree, cached frames.

Why: a screenshot is requested far more often than the screen changes, and rendering plus packing the
raw or PNG bytes cost tens of milliseconds (~15 ms to render 1080×2400, ~15 ms to pack it as raw RGBA,
~15 ms as PNG). A frame is keyed by a signature of everything visible (the widget tree, the status bar,
the theme, the geometry), so an unchanged screen costs one tree build and a dictionary compare, and no
change can be missed because no code has to remember to invalidate anything. The last ``RECENT_FRAMES``
screens are kept, with whatever bytes were asked of them, because screens come back: home after every
task, the list after a detail view. Many phones in one process share its cores, and a screen drawn again
delays every phone's next capture.
"""

from __future__ import annotations

import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from ..imaging import encode_png
from .render import StatusBar, render_frame
from .ui import Ui
from .widgets import Widget, dump_xml

if TYPE_CHECKING:
    from .app_base import App
    from .app_launcher import Launcher

__all__ = ["RECENT_FRAMES", "Display"]

RECENT_FRAMES = 3
"""Screens kept with their bytes (about 21 MB each at 1080×2400 once both image and raw bytes exist)."""
_RGBA_8888 = 1
_SRGB = 1


@dataclass
class _Frame:
    """One rendered screen and the capture bytes made from it so far."""

    image: Image.Image
    raw: bytes | None = None
    png: bytes | None = None


class Display:
    """Mixin of ``VirtualPhone``: geometry, the widget tree and frames."""

    _lock: threading.RLock
    physical_size: tuple[int, int]
    physical_density: int
    size_override: tuple[int, int] | None
    density_override: int | None
    screen_on: bool
    clock: str | None
    battery: int
    launcher: Launcher
    foreground: str

    def __init__(self) -> None:
        self._frames: OrderedDict[tuple, _Frame] = OrderedDict()
        """Recent screens by key, the current one last."""

    if TYPE_CHECKING:  # provided by VirtualPhone

        @property
        def current_app(self) -> App: ...
        @property
        def rotation(self) -> int: ...
        @property
        def layout_shift(self) -> int: ...
        @property
        def dark_mode(self) -> bool: ...
        @property
        def wifi_on(self) -> bool: ...
        @property
        def bluetooth_on(self) -> bool: ...
        @property
        def airplane_mode(self) -> bool: ...

    # -- geometry ---------------------------------------------------------------------------------
    @property
    def density(self) -> int:
        """Current density (``wm density``, override applied)."""
        return self.density_override or self.physical_density

    @property
    def natural_size(self) -> tuple[int, int]:
        """Portrait size with ``wm size`` override applied."""
        return self.size_override or self.physical_size

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) of frames and of the input coordinate space, rotation applied."""
        width, height = self.natural_size
        return (height, width) if self.rotation % 2 else (width, height)

    def dp(self, value: float) -> int:
        """dp to pixels at the current density."""
        return round(value * self.density / 160)

    @property
    def status_bar_height(self) -> int:
        """Height of the status bar in pixels."""
        return self.dp(28)

    @property
    def nav_bar_height(self) -> int:
        """Height of the gesture navigation bar in pixels."""
        return self.dp(24)

    def clock_text(self) -> str:
        """Status-bar clock."""
        return self.clock if self.clock is not None else time.strftime("%H:%M")

    def date_text(self) -> str:
        """Home-screen date line."""
        return "Monday, January 1" if self.clock is not None else time.strftime("%A, %B %-d")

    # -- tree -------------------------------------------------------------------------------------
    def _ui(self, package: str) -> Ui:
        width, height = self.display_size
        top = self.status_bar_height + self.layout_shift
        return Ui(width, height, self.density, top, height - self.nav_bar_height, package)

    def ui_tree(self) -> Widget:
        """The window in front as a widget tree (what ``uiautomator dump`` reports)."""
        with self._lock:
            app = self.current_app
            return app.build(self._ui(app.package))

    def find(self, text: str | None = None, desc: str | None = None, rid: str | None = None) -> Widget | None:
        """The first widget on screen matching text, content-desc and/or resource-id (suffix allowed)."""
        return self.ui_tree().find(text, desc, rid)

    def dump_hierarchy(self) -> str:
        """The current screen in ``uiautomator dump`` XML."""
        with self._lock:
            return dump_xml(self.ui_tree(), self.rotation)

    # -- frames -----------------------------------------------------------------------------------
    def _status(self) -> StatusBar:
        on_wallpaper = self.foreground == self.launcher.package
        return StatusBar(
            clock=self.clock_text(),
            wifi=self.wifi_on,
            bluetooth=self.bluetooth_on,
            airplane=self.airplane_mode,
            battery=self.battery,
            height=self.status_bar_height,
            nav_height=self.nav_bar_height,
            light_content=on_wallpaper or self.dark_mode,
        )

    def frame(self) -> Image.Image:
        """The current frame (RGB, ``display_size``); cached until something visible changes.

        Do not modify the returned image; use ``screenshot()`` for a private copy.
        """
        return self._current().image

    def _current(self) -> _Frame:
        """The frame for what is visible now: a recent one when the screen is the same, else drawn now."""
        with self._lock:
            width, height = self.display_size
            if not self.screen_on:
                key: tuple = ("off", width, height)
                tree = None
            else:
                tree = self.ui_tree()
                status = self._status()
                wallpaper = self.foreground == self.launcher.package
                theme = "dark" if self.dark_mode else "light"
                key = (tree.signature(), status, wallpaper, theme, width, height, self.density)
            frame = self._frames.pop(key, None)
            if frame is None:
                if tree is None:
                    image = Image.new("RGB", (width, height), (0, 0, 0))
                else:
                    image = render_frame(tree, width, height, self.density, theme, status, wallpaper)
                frame = _Frame(image)
            self._frames[key] = frame
            while len(self._frames) > RECENT_FRAMES:
                self._frames.popitem(last=False)
            return frame

    def screenshot(self) -> Image.Image:
        """A copy of the current frame (RGB)."""
        return self.frame().copy()

    def screencap_raw(self) -> bytes:
        """``screencap`` output: 16-byte header (width, height, format=RGBA_8888, sRGB) + RGBA pixels."""
        with self._lock:
            frame = self._current()
            if frame.raw is None:
                image = frame.image
                header = struct.pack("<4I", image.width, image.height, _RGBA_8888, _SRGB)
                frame.raw = header + image.convert("RGBA").tobytes()
            return frame.raw

    def screencap_png(self) -> bytes:
        """``screencap -p`` output: the frame as PNG."""
        with self._lock:
            frame = self._current()
            if frame.png is None:
                frame.png = encode_png(frame.image)
            return frame.png
