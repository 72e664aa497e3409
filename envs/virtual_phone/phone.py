"""The virtual phone itself: state, apps, navigation, input, the frame, and the command log.

Why: everything a test or a demo needs to know about the device lives in one object, usable without
any networking (``phone.tap(...)``, ``phone.shell("wm size")``, ``phone.state``); ``server.py`` only
carries ADB messages to and from it. All public methods are thread-safe (one re-entrant lock), and
nothing here is global, so several phones can run in one process.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .android_commands import COMMANDS as ANDROID_COMMANDS
from .app_base import App
from .app_calculator import CalculatorApp
from .app_clock import ClockApp
from .app_contacts import ContactsApp
from .app_launcher import Launcher
from .app_messages import MessagesApp
from .app_notes import NotesApp
from .app_settings import SettingsApp
from .commands import COMMANDS as BASIC_COMMANDS
from .commands import Handler
from .content_commands import COMMANDS as CONTENT_COMMANDS
from .device_info import (
    ADB_KEYBOARD_IME,
    ADB_KEYBOARD_PACKAGE,
    BANNER_FEATURES,
    EXTRA_PACKAGES,
    LATIN_IME,
    default_properties,
)
from .display import Display
from .dumpsys import COMMANDS as DUMPSYS_COMMANDS
from .files import VirtualFS
from .input import InputMixin
from .interpreter import Interpreter
from .package_commands import COMMANDS as PACKAGE_COMMANDS
from .state import LogEntry, PhoneState

if TYPE_CHECKING:
    from .shell import ShellResult

__all__ = ["VirtualPhone"]

_HOME_ORDER = (
    "com.guiagent.messages",
    "com.android.contacts",
    "com.guiagent.notes",
    "com.android.deskclock",
    "com.android.calculator2",
    "com.android.settings",
)


class VirtualPhone(InputMixin, Display):
    """A simulated Android 14 phone with six apps, driven by touch, keys and shell commands.

    Args:
        width: physical display width in pixels (portrait).
        height: physical display height in pixels.
        density: display density in dpi (``wm density``).
        adb_keyboard: install ADBKeyboard (``com.android.adbkeyboard``). As on a real phone its
            ``ADB_INPUT_*`` broadcasts type only while it is the current input method, i.e. after
            ``ime enable com.android.adbkeyboard/.AdbIME`` and ``ime set ...`` (or ``adb_keyboard_active``).
        adb_keyboard_active: start with ADBKeyboard as the current input method.
        layout_shift: pixels by which app content is pushed down (settable later with
            ``set_layout_shift`` or ``settings put global guiagent_layout_shift N``).
        rotation: initial display rotation, 0..3 (quarter turns).
        model: ``ro.product.model``.
        serial: ``ro.serialno`` (random when omitted).
        clock: fixed status-bar clock text, or None to show the host's local time.
        battery: battery level in percent.
        dark_mode: start with the dark theme (``secure ui_night_mode`` = 2).
        log_path: append every received service/command to this file as JSON lines.
        simulate_durations: make ``input swipe`` take its duration in real time, as on a phone.
        missing_commands: tools this build lacks (``{"wm"}``): the shell answers them "not found", as
            a stripped vendor build does, so drivers can be tested against a device that answers errors.
        shell_v2: advertise and serve the shell protocol v2; False behaves like Android 6 and older
            (one merged output stream, no exit status framing).
    """

    def __init__(
        self,
        width: int = 1080,
        height: int = 2400,
        density: int = 420,
        *,
        adb_keyboard: bool = True,
        adb_keyboard_active: bool = False,
        layout_shift: int = 0,
        rotation: int = 0,
        model: str = "VirtualPhone",
        serial: str | None = None,
        clock: str | None = "12:30",
        battery: int = 85,
        dark_mode: bool = False,
        log_path: str | Path | None = None,
        simulate_durations: bool = False,
        missing_commands: Iterable[str] = (),
        shell_v2: bool = True,
    ) -> None:
        if width <= 0 or height <= 0 or density <= 0:
            raise ValueError(f"bad display {width}x{height} @ {density}dpi")
        self._lock = threading.RLock()
        self.physical_size = (width, height)
        self.physical_density = density
        self.size_override: tuple[int, int] | None = None
        self.density_override: int | None = None
        self.model = model
        self.serial = serial or "VPHONE" + secrets.token_hex(4).upper()
        self.clock = clock
        self.battery = battery
        self.screen_on = True
        self.volume = 8
        self.simulate_durations = simulate_durations
        self.features = [f for f in BANNER_FEATURES if shell_v2 or f != "shell_v2"]
        self._drops: list[tuple[list[str], int]] = []
        self.properties = default_properties(model, density, self.serial)
        self.files = VirtualFS()
        self.adb_keyboard = adb_keyboard
        self.settings: dict[str, dict[str, str]] = _default_settings(model, adb_keyboard, adb_keyboard_active)
        self.settings["global"]["guiagent_layout_shift"] = str(int(layout_shift))
        self.settings["system"]["user_rotation"] = str(rotation % 4)
        if dark_mode:
            self.settings["secure"]["ui_night_mode"] = "2"
        self._log: list[LogEntry] = []
        self._executed: list[list[str]] = []
        self._log_path = Path(log_path) if log_path else None
        self._commands: dict[str, Handler] = {
            **BASIC_COMMANDS,
            **ANDROID_COMMANDS,
            **PACKAGE_COMMANDS,
            **DUMPSYS_COMMANDS,
            **CONTENT_COMMANDS,
        }
        for name in missing_commands:
            self._commands.pop(name, None)
        self.launcher = Launcher(self)
        self.settings_app = SettingsApp(self)
        self.notes_app = NotesApp(self)
        self.messages_app = MessagesApp(self)
        self.contacts_app = ContactsApp(self)
        self.calculator_app = CalculatorApp(self)
        self.clock_app = ClockApp(self)
        self.apps: dict[str, App] = {
            app.package: app
            for app in (
                self.launcher,
                self.settings_app,
                self.notes_app,
                self.messages_app,
                self.contacts_app,
                self.calculator_app,
                self.clock_app,
            )
        }
        self.foreground = self.launcher.package
        self.running: set[str] = set()
        self.recents: list[str] = []
        self._radio_memory: tuple[bool, bool] | None = None
        self._gesture: tuple[float, float, float] | None = None
        Display.__init__(self)

    # -- logging ----------------------------------------------------------------------------------
    def log(self, kind: str, text: str) -> None:
        """Record a received service or command, verbatim, with the time it arrived."""
        entry = LogEntry(time.time(), kind, text)
        with self._lock:
            self._log.append(entry)
            if self._log_path is not None:
                with self._log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"time": entry.timestamp, "kind": kind, "text": text}) + "\n")

    def _record(self, argv: list[str]) -> None:
        with self._lock:
            self._executed.append(argv)

    @property
    def command_log(self) -> list[LogEntry]:
        """Every service opened and command received, in arrival order (a copy)."""
        with self._lock:
            return list(self._log)

    @property
    def executed(self) -> list[list[str]]:
        """The argv of every simple command the shell ran, substitutions included (a copy)."""
        with self._lock:
            return [list(argv) for argv in self._executed]

    def shell(self, command: str, log: bool = True) -> ShellResult:
        """Run a command line as ``adb shell`` would (parsed by the built-in sh, never a real shell)."""
        if log:
            self.log("shell", command)
        matched: list[bool] = []

        def record(argv: list[str]) -> None:
            self._record(argv)
            if self._take_drop(argv):
                matched.append(True)

        result = Interpreter(self, self._commands, record).run(command)
        result.disconnect = bool(matched)
        return result

    # -- injected faults --------------------------------------------------------------------------
    def drop_connection_after(self, *argv_prefix: str, times: int = 1) -> None:
        """Drop the adb connection once a command starting with ``argv_prefix`` has run, before any of
        its output is sent: a cable pulled mid-command. Applies to the next ``times`` such commands.

        Why: whether a driver re-sends a gesture that already reached the phone can only be seen when
        the connection fails after delivery, at a moment a test chooses.
        """
        with self._lock:
            self._drops.append((list(argv_prefix), times))

    def _take_drop(self, argv: list[str]) -> bool:
        with self._lock:
            for index, (prefix, left) in enumerate(self._drops):
                if argv[: len(prefix)] == prefix and left > 0:
                    self._drops[index] = (prefix, left - 1)
                    return True
        return False

    # -- settings ---------------------------------------------------------------------------------
    def get_setting(self, namespace: str, key: str) -> str | None:
        """``settings get``: the value, or None when unset."""
        with self._lock:
            return self.settings.get(namespace, {}).get(key)

    def put_setting(self, namespace: str, key: str, value: str | None) -> None:
        """``settings put`` (or delete with None). Only the value changes, as on Android."""
        with self._lock:
            table = self.settings.setdefault(namespace, {})
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

    def _flag(self, namespace: str, key: str, on: str = "1") -> bool:
        return self.get_setting(namespace, key) == on

    @property
    def wifi_on(self) -> bool:
        """``settings get global wifi_on`` is 1."""
        return self._flag("global", "wifi_on")

    @property
    def bluetooth_on(self) -> bool:
        """``settings get global bluetooth_on`` is 1."""
        return self._flag("global", "bluetooth_on")

    @property
    def airplane_mode(self) -> bool:
        """``settings get global airplane_mode_on`` is 1."""
        return self._flag("global", "airplane_mode_on")

    @property
    def dark_mode(self) -> bool:
        """``settings get secure ui_night_mode`` is 2."""
        return self._flag("secure", "ui_night_mode", "2")

    @property
    def layout_shift(self) -> int:
        """Pixels app content is shifted down (``settings global guiagent_layout_shift``)."""
        value = self.get_setting("global", "guiagent_layout_shift") or "0"
        return int(value) if value.lstrip("-").isdigit() else 0

    @property
    def rotation(self) -> int:
        """Display rotation in quarter turns, 0..3 (``settings system user_rotation``)."""
        value = self.get_setting("system", "user_rotation") or "0"
        return int(value) % 4 if value.isdigit() else 0

    def set_wifi(self, on: bool) -> None:
        """What the Wi-Fi switch (or ``svc wifi enable``) does."""
        self.put_setting("global", "wifi_on", "1" if on else "0")

    def set_bluetooth(self, on: bool) -> None:
        """What the Bluetooth switch does."""
        self.put_setting("global", "bluetooth_on", "1" if on else "0")

    def set_airplane_mode(self, on: bool) -> None:
        """The Airplane-mode switch: turns the radios off, and restores them when switched off."""
        with self._lock:
            if on and not self.airplane_mode:
                self._radio_memory = (self.wifi_on, self.bluetooth_on)
                self.set_wifi(False)
                self.set_bluetooth(False)
            elif not on and self.airplane_mode and self._radio_memory is not None:
                self.set_wifi(self._radio_memory[0])
                self.set_bluetooth(self._radio_memory[1])
                self._radio_memory = None
            self.put_setting("global", "airplane_mode_on", "1" if on else "0")

    def set_dark_mode(self, on: bool) -> None:
        """The Dark-mode switch (``secure ui_night_mode`` 2 = on, 1 = off)."""
        self.put_setting("secure", "ui_night_mode", "2" if on else "1")

    def set_layout_shift(self, pixels: int) -> None:
        """Push app content down by ``pixels`` (to test that replays notice a changed layout)."""
        self.put_setting("global", "guiagent_layout_shift", str(int(pixels)))

    def set_rotation(self, rotation: int) -> None:
        """Rotate the display (0..3 quarter turns); frames and input switch to the rotated size."""
        with self._lock:
            self.put_setting("system", "accelerometer_rotation", "0")
            self.put_setting("system", "user_rotation", str(int(rotation) % 4))

    # -- packages and navigation ------------------------------------------------------------------
    def installed_packages(self) -> dict[str, tuple[str, bool]]:
        """Every installed package -> (apk path, is system)."""
        packages = dict(EXTRA_PACKAGES)
        for app in self.apps.values():
            packages[app.package] = (app.apk_path, app.system)
        if self.adb_keyboard:
            packages[ADB_KEYBOARD_PACKAGE] = ("/data/app/~~adbkeyboard==/com.android.adbkeyboard-1/base.apk", False)
        return packages

    def launcher_apps(self) -> list[App]:
        """Apps with a home-screen icon, in home-screen order."""
        return [self.apps[p] for p in _HOME_ORDER if p in self.apps]

    @property
    def current_app(self) -> App:
        """The app whose window is in front (the launcher on the home screen)."""
        return self.apps[self.foreground]

    @property
    def current_package(self) -> str:
        """Package of the resumed activity."""
        return self.foreground

    @property
    def current_activity(self) -> str:
        """The resumed activity, fully qualified (``com.android.settings.Settings``)."""
        with self._lock:
            return self.current_app.full_activity()

    def launch(self, package: str) -> bool:
        """Start an app from its launcher icon (resumes it if it is already running)."""
        with self._lock:
            app = self.apps.get(package)
            if app is None:
                return False
            if app is self.launcher:
                self.go_home()
                return True
            if package not in self.running:
                app.reset()
            self._bring_to_front(package)
            return True

    def start_activity(self, package: str, activity: str) -> bool:
        """``am start -n package/activity``; False if the activity does not exist."""
        with self._lock:
            app = self.apps.get(package)
            screen = app.resolve_activity(activity) if app is not None else None
            if app is None or screen is None:
                return False
            if app is self.launcher:
                self.go_home()
                return True
            if package not in self.running:
                app.reset()
            app.start(screen)
            self._bring_to_front(package)
            return True

    def _bring_to_front(self, package: str) -> None:
        self.running.add(package)
        self.foreground = package
        if package in self.recents:
            self.recents.remove(package)
        self.recents.insert(0, package)

    def force_stop(self, package: str) -> None:
        """``am force-stop``: the app loses its screen state (not its data) and leaves recents."""
        with self._lock:
            app = self.apps.get(package)
            if app is None or app is self.launcher:
                return
            app.reset()
            self.running.discard(package)
            if package in self.recents:
                self.recents.remove(package)
            if self.foreground == package:
                self.go_home()

    def clear_data(self, package: str) -> None:
        """``pm clear``: stop the app and restore its data to the defaults."""
        with self._lock:
            app = self.apps.get(package)
            if app is None or app is self.launcher:
                return
            self.force_stop(package)
            app.clear_data()
            app.reset()

    def go_home(self) -> None:
        """Show the home screen (KEYCODE_HOME)."""
        with self._lock:
            self.launcher.reset()
            self.foreground = self.launcher.package

    def show_recents(self) -> None:
        """Show the recent-apps overview (KEYCODE_APP_SWITCH)."""
        with self._lock:
            self.launcher.screen = "recents"
            self.foreground = self.launcher.package

    def clear_recents(self) -> None:
        """The overview's "Clear all": stops every app."""
        with self._lock:
            for package in list(self.running):
                self.force_stop(package)
            self.recents.clear()
            self.go_home()

    # -- input methods ----------------------------------------------------------------------------
    @property
    def current_ime(self) -> str:
        """The selected input method id (``settings get secure default_input_method``)."""
        return self.get_setting("secure", "default_input_method") or LATIN_IME

    def available_imes(self) -> list[str]:
        """Installed input methods."""
        return [LATIN_IME] + ([ADB_KEYBOARD_IME] if self.adb_keyboard else [])

    def enabled_imes(self) -> list[str]:
        """Enabled input methods (``secure enabled_input_methods``)."""
        value = self.get_setting("secure", "enabled_input_methods") or ""
        return [ime for ime in value.split(":") if ime in self.available_imes()]

    # -- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> PhoneState:
        """A snapshot of everything tests and task checks look at."""
        with self._lock:
            field = self.current_app.focused_field()
            return PhoneState(
                package=self.foreground,
                activity=self.current_app.full_activity(),
                screen_on=self.screen_on,
                rotation=self.rotation,
                display_size=self.display_size,
                layout_shift=self.layout_shift,
                wifi_on=self.wifi_on,
                bluetooth_on=self.bluetooth_on,
                airplane_mode=self.airplane_mode,
                dark_mode=self.dark_mode,
                volume=self.volume,
                ime=self.current_ime,
                settings={ns: dict(table) for ns, table in self.settings.items()},
                notes=list(self.notes_app.notes),
                conversations={peer: list(msgs) for peer, msgs in self.messages_app.conversations.items()},
                favourites=sorted(self.contacts_app.favourites),
                calculator_display=self.calculator_app.formula,
                calculator_result=self.calculator_app.result,
                alarms=[(a.hour, a.minute, a.label, a.enabled) for a in self.clock_app.alarms],
                focused_text=field.text if field is not None else None,
                recents=list(self.recents),
                apps={pkg: app.state() for pkg, app in self.apps.items()},
            )


def _default_settings(model: str, adb_keyboard: bool, active: bool) -> dict[str, dict[str, str]]:
    imes = [LATIN_IME] + ([ADB_KEYBOARD_IME] if adb_keyboard and active else [])
    return {
        "global": {
            "adb_enabled": "1",
            "airplane_mode_on": "0",
            "animator_duration_scale": "1.0",
            "bluetooth_on": "0",
            "development_settings_enabled": "1",
            "device_name": model,
            "stay_on_while_plugged_in": "0",
            "transition_animation_scale": "1.0",
            "wifi_on": "1",
            "window_animation_scale": "1.0",
        },
        "secure": {
            "android_id": secrets.token_hex(8),
            "default_input_method": ADB_KEYBOARD_IME if adb_keyboard and active else LATIN_IME,
            "enabled_input_methods": ":".join(imes),
            "location_mode": "3",
            "ui_night_mode": "1",
        },
        "system": {
            "accelerometer_rotation": "0",
            "font_scale": "1.0",
            "screen_brightness": "128",
            "screen_brightness_mode": "0",
            "screen_off_timeout": "60000",
            "user_rotation": "0",
        },
    }
