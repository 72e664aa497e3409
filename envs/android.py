"""Android over ADB: every ``mobile_use`` action, screenshots decoded on the host, typed text kept as data.

Screenshots come two ways: raw ``screencap`` over ``exec:`` (a 12- or 16-byte header, then RGBA, decoded
here with numpy; ~10 MB for 1080×2400) or ``screencap -p`` (PNG encoded on the device: 0.1 MB, but 0.3–2 s
of encoding on a real phone). Which is faster depends on the phone and the link, so the default
``"auto"`` times one capture each way on the first look and keeps the faster (``capture_choice`` says
what it measured; ``bench/capture.py`` compares them). A raw frame in a pixel format we do not know
falls back to PNG for good.

Settling compares raw frames straight from their bytes (``raw_screencap_signature``: a strided numpy view,
no copy), and PNG frames by their bytes before decoding them (identical files are identical pixels), and
decodes only the frame it keeps: a settle takes two frames or more after every action, and with many phones
in one process what each frame costs the host is what limits how many run at once.

Typed text: ASCII goes through ``input text`` with each argument quoted for the device shell, spaces as
``%s`` (Android's escape) and every literal ``%s`` split across two commands so Android cannot read it as
a space; newlines become Enter presses. Anything else goes through ADBKeyboard's base64 broadcast when
ADBKeyboard is installed, and raises ``InputMethodMissing`` naming the fix when it is not. ADBKeyboard
is switched on only for that, and ``close()`` puts back the input method the person had. Typed text
goes to adb as ``Hidden`` arguments, so no error shows it in any spelling (secrets included).

Geometry follows the frames: each observation's size is the frame's, the rotation is read again when
a frame turns between portrait and landscape, and actions are checked against the latest frame: a
point off the screen is a ``CoordinateError`` (sent back to the model), never clamped or sent.
"""

from __future__ import annotations

import base64
import io
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image

from guiagent.actions.errors import ActionRejected, CoordinateError, DeviceError, InputMethodMissing, UnsupportedAction
from guiagent.actions.types import (
    Action,
    Click,
    DoubleClick,
    Drag,
    Key,
    LongPress,
    OpenApp,
    Scroll,
    Swipe,
    SystemButton,
    Type,
    Wait,
)

from .adb import DEFAULT_ADB_HOST, DEFAULT_ADB_PORT, AdbConnection, Hidden
from .android_apps import AppResolver
from .android_keys import BUTTON_KEYCODES, keycode
from .base import Env, Observation, ScreenGeometry
from .hierarchy import UiNode, parse_hierarchy
from .imaging import reuse_image_memory
from .settle import SettleResult, image_signature, pixels_signature, settle_frames

__all__ = ["ADB_KEYBOARD", "AndroidEnv", "decode_raw_screencap", "raw_screencap_signature"]

ADB_KEYBOARD = "com.android.adbkeyboard"
ADB_KEYBOARD_IME = "com.android.adbkeyboard/.AdbIME"
_RAW_FORMATS = {1: "RGBX", 2: "RGBX", 5: "BGRX"}
"""Android pixel formats → Pillow raw modes that drop the fourth byte (RGBA_8888, RGBX_8888, BGRA_8888)."""
_SIZE = re.compile(r"(\d+)x(\d+)")


def decode_raw_screencap(data: bytes) -> Image.Image:
    """An RGB image from raw ``screencap`` output (header: width, height, format[, colour space]).

    Pillow unpacks RGBX/BGRX rows straight from a memoryview of the payload: ~1 ms for 1080×2400,
    where slicing the bytes or going through numpy costs 12–15 ms in copies.

    Raises:
        ValueError: the data is too short, the format is unknown, or the size does not add up.
    """
    width, height, header, raw_mode = _raw_layout(data)
    return Image.frombytes("RGB", (width, height), memoryview(data)[header:], "raw", raw_mode)


def raw_screencap_signature(data: bytes) -> np.ndarray:
    """The settle signature of raw ``screencap`` output without decoding it: equal to
    ``image_signature(decode_raw_screencap(data))``, from a numpy view of the bytes (~0.2 ms, no copy).

    Raises:
        ValueError: as ``decode_raw_screencap``.
    """
    width, height, header, _ = _raw_layout(data)
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height * 4, offset=header)
    return pixels_signature(pixels.reshape(height, width, 4))


def _raw_layout(data: bytes) -> tuple[int, int, int, str]:
    """(width, height, header length, Pillow raw mode) of raw ``screencap`` output, checked."""
    if len(data) < 12:
        raise ValueError(f"raw screencap is {len(data)} bytes, shorter than its header")
    width, height, pixel_format = (int(v) for v in np.frombuffer(data[:12], dtype="<u4"))
    body = width * height * 4
    header = len(data) - body
    if header not in (12, 16) or width == 0 or height == 0:
        raise ValueError(f"raw screencap of {width}x{height} does not match its {len(data)} bytes")
    raw_mode = _RAW_FORMATS.get(pixel_format)
    if raw_mode is None:
        raise ValueError(f"raw screencap pixel format {pixel_format} is not supported")
    return width, height, header, raw_mode


@dataclass
class _Frame:
    """One capture, decoded only when it is needed: raw ``screencap`` bytes (layout checked) or a PNG file.

    Args:
        data: the bytes the device sent.
        png: whether ``data`` is a PNG file (else raw pixels).
        device: the env's name, for errors.
        seconds: how long the capture took.
        finished: wall-clock time (``time.time()``) when it finished.
    """

    data: bytes
    png: bool
    device: str
    seconds: float = 0.0
    finished: float = 0.0
    _image: Image.Image | None = field(default=None, repr=False)

    def image(self) -> Image.Image:
        """The frame as an RGB image, decoded on first use (raw: ~1 ms; PNG: ~12 ms for 1080×2400).

        Raises:
            DeviceError: the PNG does not decode.
        """
        if self._image is None:
            self._image = _decode_png(self.data, self.device) if self.png else decode_raw_screencap(self.data)
        return self._image

    def signature(self) -> np.ndarray:
        """The settle signature: from the bytes for a raw frame, from the decoded image for a PNG."""
        return image_signature(self.image()) if self.png else raw_screencap_signature(self.data)

    def same_as(self, other: _Frame) -> bool:
        """Byte for byte the same PNG, so the same pixels, known without decoding either (raw frames are
        cheaper to compare by their signatures than by 10 MB of bytes)."""
        return self.png and other.png and self.data == other.data


def _decode_png(data: bytes, device: str) -> Image.Image:
    try:
        png = Image.open(io.BytesIO(data))
        png.load()  # an RGB PNG is used as decoded: converting it would copy 10 MB for nothing
        return png if png.mode == "RGB" else png.convert("RGB")
    except (OSError, ValueError) as exc:
        raise DeviceError(f"screencap -p returned no image ({exc}): {data[:80]!r}", device) from None


class AndroidEnv(Env):
    """An Android device through the adb server.

    Args:
        serial: device serial (``emulator-5554``, ``127.0.0.1:40123``); ``None`` picks the only device.
        adb_host: the adb server's host.
        adb_port: the adb server's port.
        screenshot: ``"auto"`` (raw, falling back to PNG), ``"raw"`` or ``"png"``.
        retry_window: seconds transient ADB failures are retried before ``DeviceLost``.
        command_timeout: seconds one ADB command may take.
    """

    kind = "android"

    def __init__(
        self,
        serial: str | None = None,
        *,
        adb_host: str = DEFAULT_ADB_HOST,
        adb_port: int = DEFAULT_ADB_PORT,
        screenshot: Literal["auto", "raw", "png"] = "auto",
        retry_window: float = 10.0,
        command_timeout: float = 20.0,
    ) -> None:
        reuse_image_memory()
        self.adb = AdbConnection(
            serial, host=adb_host, port=adb_port, retry_window=retry_window, command_timeout=command_timeout
        )
        self.serial = self.adb.serial
        self.name = f"android:{self.serial}"
        self.screenshot_mode: Literal["raw", "png"] = "png" if screenshot == "png" else "raw"
        self._fallback_allowed = screenshot == "auto"
        self._choose_fastest = screenshot == "auto"
        self.capture_choice = f"{self.screenshot_mode} (fixed)" if screenshot != "auto" else "not measured yet"
        self._density = self._read_density()
        self._rotation: int | None = None
        """Quarter turns, read with the first frame and again whenever a frame turns (see ``observe``)."""
        self._geometry: ScreenGeometry | None = None
        self._packages: set[str] | None = None
        self._ime_to_restore: tuple[str, bool] | None = None
        self.apps = AppResolver(self.adb)
        self._closed = False

    # -- observation -------------------------------------------------------------------------------

    def observe(self) -> Observation:
        return self._observation(self._grab())

    def settle(
        self,
        min_wait: float = 0.1,
        max_wait: float = 3.0,
        interval: float = 0.05,
        tolerance: float = 0.002,
    ) -> SettleResult:
        """``Env.settle`` (same waits and tolerance), comparing frames before decoding them: only the frame
        kept becomes an ``Observation`` (and two identical PNGs agree without being decoded at all)."""
        frame, seconds, stable, frames = settle_frames(
            self._grab, _Frame.signature, min_wait, max_wait, interval, tolerance, same=_Frame.same_as
        )
        return SettleResult(self._observation(frame), seconds, stable, frames)

    def _grab(self) -> _Frame:
        started = time.perf_counter()
        frame = self._capture()
        frame.seconds, frame.finished = time.perf_counter() - started, time.time()
        return frame

    def _observation(self, frame: _Frame) -> Observation:
        image = frame.image()
        width, height = image.size
        previous = self._geometry
        turned = previous is not None and (previous.width > previous.height) != (width > height)
        if self._rotation is None or turned:  # a rotation read before the frame turned is stale
            self._rotation = self._read_rotation()
        geometry = ScreenGeometry(width, height, orientation=self._rotation * 90, density=self._density)
        self._geometry = geometry
        return Observation(image, geometry, frame.finished, frame.seconds)

    def _capture(self) -> _Frame:
        """One frame, not decoded yet: raw ``screencap`` bytes (layout checked) or a ``screencap -p`` PNG."""
        if self._choose_fastest:
            self._choose_fastest = False
            return self._measure_both()
        if self.screenshot_mode == "raw":
            data = self.adb.exec_out("screencap")
            try:
                _raw_layout(data)
                return _Frame(data, False, self.name)
            except ValueError as exc:
                if not self._fallback_allowed:
                    raise DeviceError(f"raw screencap unusable: {exc}", self.name) from None
                self.screenshot_mode = "png"
        return _Frame(self.adb.exec_out("screencap -p"), True, self.name)

    def _measure_both(self) -> _Frame:
        """Capture once each way and keep the faster mode for the rest of the env's life (each timing
        includes decoding the frame)."""
        timings: dict[str, float] = {}
        frame: _Frame | None = None
        for mode in ("png", "raw"):
            self.screenshot_mode = mode  # type: ignore[assignment]
            started = time.perf_counter()
            frame = self._capture()
            frame.image()
            if self.screenshot_mode != mode:  # raw fell back to PNG: no choice to make
                break
            timings[mode] = time.perf_counter() - started
        if len(timings) == 2:
            self.screenshot_mode = "raw" if timings["raw"] <= timings["png"] else "png"
        shown = ", ".join(f"{m} {t * 1000:.0f} ms" for m, t in timings.items())
        self.capture_choice = f"{self.screenshot_mode} (measured: {shown})"
        assert frame is not None
        return frame

    def window_size(self) -> tuple[int, int]:
        """``wm size`` as the device reports it (the override size when one is set), portrait."""
        text = self.adb.run(["wm", "size"], check=True).text
        override = re.search(r"Override size:\s*(\d+)x(\d+)", text)
        physical = override or re.search(r"Physical size:\s*(\d+)x(\d+)", text)
        if physical is None:
            raise DeviceError(f"`wm size` printed nothing usable: {text!r}", self.name)
        return int(physical.group(1)), int(physical.group(2))

    def _read_density(self) -> int | None:
        text = self.adb.run(["wm", "density"], check=True).text
        found = re.search(r"(?:Override|Physical) density:\s*(\d+)", text)
        return int(found.group(1)) if found else None

    def _read_rotation(self) -> int:
        text = self.adb.run(["dumpsys", "input"], check=True).text
        found = re.search(r"SurfaceOrientation:\s*(\d)", text)
        if found is None:
            text = self.adb.run(["dumpsys", "window", "displays"], check=True).text
            found = re.search(r"mCurrentRotation=(?:ROTATION_)?(\d+)", text)
            if found and int(found.group(1)) >= 90:
                return int(found.group(1)) // 90
        return int(found.group(1)) if found else 0

    def dump_hierarchy(self) -> str:
        """The UI hierarchy XML (``uiautomator dump``), read-only; for success checks and app lookup.

        Dumped to the shell's terminal (``/dev/tty``) so nothing is left on the device; where uiautomator
        cannot write there (no terminal on some builds), a file on /sdcard is read and removed at once.
        """
        text = self.adb.run(["uiautomator", "dump", "/dev/tty"], timeout=30).text
        if "<hierarchy" in text:
            return text
        path = "/sdcard/guiagent_window_dump.xml"
        try:
            self.adb.run(["uiautomator", "dump", path], timeout=30, check=True)
            return self.adb.run(["cat", path], check=True).text
        finally:
            self.adb.run(["rm", "-f", path])

    def ui_nodes(self) -> list[UiNode] | None:
        """The current UI hierarchy as records (one ``uiautomator dump``)."""
        return parse_hierarchy(self.dump_hierarchy())

    def put_setting(self, namespace: str, key: str, value: str) -> None:
        """``settings put`` (task setup: preset a device state)."""
        self.adb.run(["settings", "put", namespace, key, value], check=True)

    def clear_app(self, package: str) -> None:
        """``pm clear`` (task setup: reset an app; deletes its data)."""
        result = self.adb.run(["pm", "clear", package], check=True)
        if "Success" not in result.text:
            raise DeviceError(f"pm clear {package} failed: {result.text.strip()[:200]}", self.name)

    def query(self, argv: list[str]) -> str:
        """Run a read-only query (``["settings", "get", "global", "wifi_on"]``) and return its output.

        Raises:
            DeviceCommandError: the device answered with an error (exit status not 0).
        """
        return self.adb.run(argv, check=True).text.strip()

    # -- actions -----------------------------------------------------------------------------------

    def _perform(self, action: Action) -> None:
        self._check_points(action)
        if isinstance(action, (Click, DoubleClick)):
            if action.x is None or action.y is None:
                raise UnsupportedAction("a touch screen has no cursor: a tap needs a point", self.name, action.type)
            taps = 2 if isinstance(action, DoubleClick) else 1
            for _ in range(taps):
                self._input("tap", action.x, action.y)
        elif isinstance(action, LongPress):
            self._input("swipe", action.x, action.y, action.x, action.y, _ms(action.duration))
        elif isinstance(action, Swipe):
            self._input("swipe", action.x, action.y, action.x2, action.y2, _ms(action.duration))
        elif isinstance(action, Drag):
            if action.x is None or action.y is None:
                raise UnsupportedAction("a drag on a phone needs its start point", self.name, action.type)
            self._input("swipe", action.x, action.y, action.x2, action.y2, _ms(max(action.duration, 0.8)))
        elif isinstance(action, Scroll):
            self._scroll(action)
        elif isinstance(action, Type):
            self._type(action.text)
        elif isinstance(action, Key):
            self._key(action.keys)
        elif isinstance(action, SystemButton):
            self._input("keyevent", BUTTON_KEYCODES[action.button])
        elif isinstance(action, OpenApp):
            self._open_app(action.name)
        elif isinstance(action, Wait):
            time.sleep(action.seconds)
        else:
            raise UnsupportedAction(f"a phone has no {action.type}", self.name, action.type)

    def _check_points(self, action: Action) -> None:
        """Refuse a point off the latest frame, as the model would otherwise touch the wrong place."""
        points = list(action.points())
        if not points:
            return
        geometry = self._screen()
        for _, _, x, y in points:
            if not (0 <= x < geometry.width and 0 <= y < geometry.height):
                raise CoordinateError(
                    f"point ({x:g}, {y:g}) is outside the {geometry.width}x{geometry.height} screen",
                    point=(float(x), float(y)),
                )

    def _screen(self) -> ScreenGeometry:
        """The geometry of the latest frame (one is captured if there is none yet)."""
        return self._geometry or self.observe().geometry

    def _input(self, *argv: str | int) -> None:
        self.adb.run(["input", *argv], check=True)

    def _scroll(self, action: Scroll) -> None:
        """A scroll is a swipe the other way: content moves up when the finger moves up (scroll down)."""
        geometry = self._screen()
        width, height = geometry.width, geometry.height
        x = action.x if action.x is not None else width // 2
        y = action.y if action.y is not None else height // 2
        horizontal = action.direction in ("left", "right")
        span = width if horizontal else height
        distance = min(int(span * 0.6), max(int(span * 0.1), int(span * 0.1 * action.amount)))
        sign = 1 if action.direction in ("up", "left") else -1
        half = distance // 2
        if horizontal:
            x1, x2 = _clamp(x - sign * half, width), _clamp(x + sign * half, width)
            self._input("swipe", x1, y, x2, y, 300)
        else:
            y1, y2 = _clamp(y - sign * half, height), _clamp(y + sign * half, height)
            self._input("swipe", x, y1, x, y2, 300)

    def _key(self, keys: list[str]) -> None:
        codes = [keycode(k) for k in keys]
        if len(codes) == 1:
            self._input("keyevent", codes[0])
        else:
            self._input("keycombination", *codes)

    def _type(self, text: str) -> None:
        if not text.isascii():
            self._type_with_adb_keyboard(text)
            return
        lines = text.split("\n")
        for index, line in enumerate(lines):
            for chunk in _input_text_chunks(line):
                self._input("text", Hidden(chunk, chunk.replace("%s", " "), text))
            if index < len(lines) - 1:
                self._input("keyevent", 66)

    def _type_with_adb_keyboard(self, text: str) -> None:
        if ADB_KEYBOARD not in self.installed_packages():
            raise InputMethodMissing(
                "typing non-ASCII text on Android needs ADBKeyboard (com.android.adbkeyboard): install it from "
                "https://github.com/senzhk/ADBKeyBoard and run `adb shell ime enable "
                f"{ADB_KEYBOARD_IME}`",
                self.name,
            )
        self._select_adb_keyboard()
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.adb.run(["am", "broadcast", "-a", "ADB_INPUT_B64", "--es", "msg", Hidden(encoded, text)], check=True)

    def _select_adb_keyboard(self) -> None:
        """Make ADBKeyboard the input method, remembering what to put back on ``close()``."""
        current = self._setting("secure", "default_input_method")
        if current == ADB_KEYBOARD_IME:
            return
        if self._ime_to_restore is None:
            enabled = self._setting("secure", "enabled_input_methods").split(":")
            self._ime_to_restore = (current, ADB_KEYBOARD_IME in enabled)
        self.adb.run(["ime", "enable", ADB_KEYBOARD_IME], check=True)
        self.adb.run(["ime", "set", ADB_KEYBOARD_IME], check=True)

    def _restore_input_method(self) -> None:
        """Put back the input method the device had before ADBKeyboard was switched on."""
        if self._ime_to_restore is None:
            return
        previous, was_enabled = self._ime_to_restore
        if previous and previous != "null":
            self.adb.run(["ime", "set", previous], check=True)
        if not was_enabled:
            self.adb.run(["ime", "disable", ADB_KEYBOARD_IME], check=True)
        self._ime_to_restore = None

    def _setting(self, namespace: str, key: str) -> str:
        return self.adb.run(["settings", "get", namespace, key], check=True).text.strip()

    def installed_packages(self) -> set[str]:
        """Package names installed on the device (cached for the env's life)."""
        if self._packages is None:
            text = self.adb.run(["pm", "list", "packages"], check=True).text
            self._packages = {line.removeprefix("package:").strip() for line in text.splitlines() if line.strip()}
        return self._packages

    def _open_app(self, name: str) -> None:
        package = self.apps.resolve(name)
        result = self.adb.run(["monkey", "-p", package, "-c", "android.intent.category.LAUNCHER", "1"])
        if result.exit_code != 0 or b"No activities found" in result.stdout + result.stderr:
            raise ActionRejected(f"could not launch {name!r} ({package}): {result.text.strip()[:200]}")

    def close(self) -> None:
        """Put back the person's input method, then release the connection (safe twice).

        A restore that fails raises ``DeviceError`` saying how to do it by hand, unless another error
        is already on its way out (that one matters more, and usually has the same cause).
        """
        if self._closed:
            return
        self._closed = True
        in_flight = sys.exc_info()[1]
        previous = self._ime_to_restore[0] if self._ime_to_restore else ""
        try:
            if self.adb.lost and self._ime_to_restore is not None:
                raise DeviceError("the device was lost", self.name)
            self._restore_input_method()
        except DeviceError as exc:
            if in_flight is None:
                raise DeviceError(
                    f"could not put back the input method {previous} on {self.name} ({exc}); "
                    f"run `adb shell ime set {previous}`",
                    self.name,
                ) from None
        finally:
            self.adb.close()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _clamp(value: int, limit: int) -> int:
    return max(0, min(limit - 1, value))


def _input_text_chunks(line: str) -> list[str]:
    """Split text for ``input text``: spaces as ``%s``; a literal ``%`` before ``s`` ends a chunk.

    Android's ``input text`` turns every ``%s`` into a space and has no escape for a real ``%s``, so
    ``"100%sure"`` goes as ``"100%"`` then ``"sure"``.
    """
    chunks: list[str] = []
    current: list[str] = []
    for index, char in enumerate(line):
        current.append("%s" if char == " " else char)
        if char == "%" and index + 1 < len(line) and line[index + 1] == "s":
            chunks.append("".join(current))
            current = []
    if current:
        chunks.append("".join(current))
    return [c for c in chunks if c]
