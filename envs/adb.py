"""The ADB boundary: one device through the adb server, with quoting, timeouts, retries and typed errors.

Everything the Android driver sends goes through ``AdbConnection.run(argv)``: each argument is quoted
for the device's ``sh`` (``shlex.quote``), so typed text, app names or paths are data and never become
commands. Nothing from deep inside adbutils escapes.

Retries never repeat input. A failure before a command was handed to the adb server (no server, the
device offline or not yet reconnected) is retried for ``retry_window`` seconds, reconnecting network
devices on the way, and then becomes ``DeviceLost``: the device never saw the command. Once a command
has been sent, only read-only commands (``READ_ONLY_SHAPES``) are sent again; anything else (``input``,
``am start``, ``ime set``, file writes, broadcasts) may already have run, so a timeout or dropped
connection raises ``CommandInterrupted`` at once instead of tapping twice. A device that answers with
an error (it refuses the service, or, with ``check=True``, the command exits non-zero) is not lost:
``DeviceCommandError`` names the command and its output at once. A ``ValueError`` is a bug, never
retried. A command's timeout is ``command_timeout`` plus the gesture's own duration (the ``MS`` of
``input swipe X1 Y1 X2 Y2 MS``), so a 3 s long press is not cut off by a 2 s timeout.

Typed text is data no message may show: arguments wrapped in ``Hidden`` are sent as they are but
described as ``<hidden>`` in every error, and scrubbed from any device output an error quotes, so
neither a secret nor its base64 or ``%s`` spelling reaches a log, an error or a trajectory.

The table of read-only shapes is exact argv shapes, not prefixes (``wm size`` reads, ``wm size 10x10``
writes); task checks use the same table (``tasks/checks.py``).
"""

from __future__ import annotations

import re
import shlex
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from guiagent.actions.errors import (
    CommandInterrupted,
    ConfigError,
    DeviceCommandError,
    DeviceLost,
    DeviceNotFound,
)

if TYPE_CHECKING:
    import adbutils

__all__ = [
    "READ_ONLY_SHAPES",
    "AdbConnection",
    "Arg",
    "CommandInterrupted",
    "DeviceCommandError",
    "Hidden",
    "Options",
    "ShellResult",
    "describe",
    "gesture_seconds",
    "is_read_only",
    "list_android_devices",
]

T = TypeVar("T")
DEFAULT_ADB_HOST = "127.0.0.1"
DEFAULT_ADB_PORT = 5037
_HIDDEN = "<hidden>"
_EXIT_MARK = "GUIAGENT-EXIT:"
_OUTPUT_SHOWN = 300
"""Characters of device output an error quotes."""


# -- internal signals (the public errors, DeviceCommandError and CommandInterrupted, are in actions.errors) --


class _NotSent(Exception):
    """Internal: the command never reached the device; sending it (again) is safe."""


class _MaybeRan(Exception):
    """Internal: the command was sent and then the answer was lost; it may have run."""


class _Refused(Exception):
    """Internal: the adb server answered FAIL when the command's service was opened."""


class _TransientAdbError(Exception):
    """Internal: a failure worth retrying."""


# -- hidden arguments ----------------------------------------------------------------------------


class Hidden(str):
    """An argument that is data no message may show: typed text, or an encoding of it.

    It goes to the device as its plain value and is described as ``<hidden>``. ``forms`` are the other
    spellings of the same data (the text a base64 payload encodes), scrubbed from quoted device output.
    """

    forms: tuple[str, ...]

    def __new__(cls, value: str, *forms: str) -> Hidden:
        hidden = super().__new__(cls, value)
        hidden.forms = tuple(sorted({f for f in (value, *forms) if f}, key=len, reverse=True))
        return hidden


def describe(argv: Sequence[str | int]) -> str:
    """The command line as messages show it: quoted like the device sees it, ``Hidden`` parts masked."""
    return " ".join(_HIDDEN if isinstance(a, Hidden) else shlex.quote(str(a)) for a in argv)


def _scrub(text: str, argv: Sequence[str | int]) -> str:
    for argument in argv:
        if isinstance(argument, Hidden):
            for form in argument.forms:
                text = text.replace(form, _HIDDEN)
    return text


# -- read-only argv shapes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One argument that fully matches ``pattern``; an ``optional`` one may be left out."""

    pattern: str
    optional: bool = False


@dataclass(frozen=True)
class Options:
    """Any number of these options in any order: a flag (``None``) or an option and its value's pattern."""

    allowed: Mapping[str, str | None]


Shape = tuple[str | Arg | Options, ...]

_KEY = r"[A-Za-z0-9_][A-Za-z0-9_.:-]*"
_PACKAGE = r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
_USER = r"\d+|current"
_TEXT = r"[^\x00]+"
_INTENT_NAME = r"[A-Za-z0-9_.]+"

READ_ONLY_SHAPES: tuple[tuple[str, Shape], ...] = (
    ("getprop [NAME]", ("getprop", Arg(_KEY, optional=True))),
    (
        "settings get NAMESPACE KEY",
        ("settings", "get", Options({"--user": _USER}), Arg("system|secure|global"), Arg(_KEY)),
    ),
    ("settings list NAMESPACE", ("settings", "list", Options({"--user": _USER}), Arg("system|secure|global"))),
    ("dumpsys [SERVICE]", ("dumpsys", Arg(r"[A-Za-z][A-Za-z0-9_.]*", optional=True))),
    ("dumpsys window displays|windows|policy|tokens", ("dumpsys", "window", Arg("displays|windows|policy|tokens"))),
    (
        "dumpsys activity activities|top|recents|processes",
        ("dumpsys", "activity", Arg("activities|top|recents|processes")),
    ),
    ("dumpsys package PACKAGE", ("dumpsys", "package", Arg(_PACKAGE))),
    (
        "content query --uri URI [--projection COLUMNS] [--where CLAUSE] [--sort ORDER]",
        (
            "content",
            "query",
            Options(
                {"--uri": r"content://\S+", "--projection": _TEXT, "--where": _TEXT, "--sort": _TEXT, "--user": _USER}
            ),
        ),
    ),
    (
        "pm list packages [-f|-d|-e|-s|-3|-i|-u|-U] [FILTER]",
        (
            "pm",
            "list",
            "packages",
            Options({**dict.fromkeys(("-f", "-d", "-e", "-s", "-3", "-i", "-u", "-U")), "--user": _USER}),
            Arg(_KEY, optional=True),
        ),
    ),
    ("pm path PACKAGE", ("pm", "path", Arg(_PACKAGE))),
    ("wm size", ("wm", "size")),
    ("wm density", ("wm", "density")),
    (
        "cmd package resolve-activity|query-activities [--brief] [-a ACTION] [-c CATEGORY] [PACKAGE]",
        (
            "cmd",
            "package",
            Arg("resolve-activity|query-activities"),
            Options(
                {
                    "--brief": None,
                    "--components": None,
                    "-a": _INTENT_NAME,
                    "-c": _INTENT_NAME,
                    "-n": _INTENT_NAME + "/" + r"[A-Za-z0-9_.$]+",
                    "--user": _USER,
                }
            ),
            Arg(_PACKAGE, optional=True),
        ),
    ),
    ("uiautomator dump /dev/tty", ("uiautomator", "dump", "/dev/tty")),
    ("cat PATH", ("cat", Arg(r"/[^\x00]*"))),
    ("screencap [-p]", ("screencap", Options({"-p": None}))),
)
"""Commands that read the device and change nothing, as ``(what people read, argv shape)``.

Exact shapes: every argument is accounted for, so ``wm size 10x10`` or ``dumpsys battery set level 1``
match nothing. Only these are sent again after a dropped answer, and only these may be task checks."""

_MAX_ARGS = 48


def _matches(shape: Shape, argv: Sequence[str]) -> bool:
    if not shape:
        return not argv
    head, rest = shape[0], shape[1:]
    if isinstance(head, str):
        return bool(argv) and argv[0] == head and _matches(rest, argv[1:])
    if isinstance(head, Arg):
        if argv and re.fullmatch(head.pattern, argv[0]) and _matches(rest, argv[1:]):
            return True
        return head.optional and _matches(rest, argv)
    if _matches(rest, argv):
        return True
    if not argv or argv[0] not in head.allowed:
        return False
    value = head.allowed[argv[0]]
    if value is None:
        return _matches(shape, argv[1:])
    return len(argv) >= 2 and re.fullmatch(value, argv[1]) is not None and _matches(shape, argv[2:])


def is_read_only(argv: Sequence[str | int]) -> bool:
    """Whether ``argv`` has one of the ``READ_ONLY_SHAPES`` exactly."""
    words = [str(a) for a in argv]
    return 0 < len(words) <= _MAX_ARGS and any(_matches(shape, words) for _, shape in READ_ONLY_SHAPES)


def gesture_seconds(argv: Sequence[str | int]) -> float:
    """How long a command takes by design: the duration of ``input [SOURCE] swipe|draganddrop … MS``."""
    words = [str(a) for a in argv]
    if words[:1] != ["input"]:
        return 0.0
    rest = words[1:]
    if rest and rest[0] not in ("swipe", "draganddrop"):
        rest = rest[1:]  # a source word (touchscreen, touchpad...)
    if rest[:1] == ["-d"]:
        rest = rest[2:]
    if rest[:1] in (["swipe"], ["draganddrop"]) and len(rest) >= 6 and rest[5].isdigit():
        return int(rest[5]) / 1000
    return 0.0


# -- the connection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShellResult:
    """Output of one device command."""

    stdout: bytes
    stderr: bytes
    exit_code: int

    @property
    def text(self) -> str:
        """stdout decoded as UTF-8 (replacing what does not decode)."""
        return self.stdout.decode("utf-8", errors="replace")


def _adbutils() -> object:
    try:
        import adbutils
    except ImportError as exc:  # pragma: no cover - depends on the extra being installed
        raise ConfigError("Android support needs adbutils: pip install 'guiagent[android]'") from exc
    return adbutils


def _client(host: str, port: int) -> adbutils.AdbClient:
    module = _adbutils()
    return module.AdbClient(host=host, port=port)  # type: ignore[attr-defined,no-any-return]


def list_android_devices(host: str = DEFAULT_ADB_HOST, port: int = DEFAULT_ADB_PORT) -> list[tuple[str, str]]:
    """``(serial, state)`` of every device the adb server knows, ``[]`` when no server answers."""
    import adbutils

    try:
        client = _client(host, port)
        return [(item.serial, item.state) for item in client.list()]
    except (adbutils.AdbError, OSError):
        return []


class AdbConnection:
    """One Android device reached through the adb server.

    Args:
        serial: the device serial; ``None`` picks the only device connected.
        host: the adb server's host.
        port: the adb server's port.
        command_timeout: seconds one command may take (beyond its gesture's own duration).
        retry_window: seconds failures to reach the device are retried before ``DeviceLost``.
    """

    def __init__(
        self,
        serial: str | None = None,
        *,
        host: str = DEFAULT_ADB_HOST,
        port: int = DEFAULT_ADB_PORT,
        command_timeout: float = 20.0,
        retry_window: float = 10.0,
    ) -> None:
        import adbutils

        self._adb = adbutils
        self.host, self.port = host, port
        self.command_timeout = command_timeout
        self.retry_window = retry_window
        self.lost = False
        """True once ``DeviceLost`` was raised and until the device answers again (cleanup skips it)."""
        self._client = _client(host, port)
        self.serial = self._choose_serial(serial)
        self._device = self._client.device(self.serial)
        self._features: set[str] | None = None

    def _choose_serial(self, serial: str | None) -> str:
        try:
            devices = [(d.serial, d.state) for d in self._client.list()]
        except (self._adb.AdbError, OSError) as exc:
            raise DeviceNotFound(
                f"no adb server answers on {self.host}:{self.port} ({exc}); start one with `adb start-server`",
                serial or "android",
            ) from None
        ready = [s for s, state in devices if state == "device"]
        listing = [f"{s} ({state})" for s, state in devices]
        if serial is None:
            if len(ready) == 1:
                return ready[0]
            if not ready:
                raise DeviceNotFound(
                    "no Android device is connected"
                    + (f" and ready (seen: {', '.join(listing)})" if listing else "")
                    + "; plug one in with USB debugging on, or `adb connect HOST:PORT`",
                    "android",
                    listing,
                )
            raise DeviceNotFound(
                f"several Android devices are connected ({', '.join(ready)}); choose one with android:SERIAL",
                "android",
                listing,
            )
        if serial in ready:
            return serial
        if ":" in serial:  # a network device: connect it as `adb connect` would
            try:
                self._client.connect(serial, timeout=self.command_timeout)
            except (self._adb.AdbError, OSError):
                pass
            if self._wait_for_state(serial, deadline=time.monotonic() + 5.0):
                return serial
        raise DeviceNotFound(
            f"Android device {serial!r} is not connected"
            + (f"; connected: {', '.join(listing)}" if listing else "; no devices are connected"),
            serial,
            listing,
        )

    def _wait_for_state(self, serial: str, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self._online(serial):
                return True
            time.sleep(0.1)
        return False

    def _online(self, serial: str) -> bool:
        try:
            return any(d.serial == serial and d.state == "device" for d in self._client.list())
        except (self._adb.AdbError, OSError):
            return False

    # -- retries ---------------------------------------------------------------------------------

    def _with_retries(self, argv: Sequence[str | int], operation: Callable[[], T], repeatable: bool) -> T:
        """Run ``operation`` under the rules in the module docstring (``repeatable``: read-only)."""
        shown = describe(argv)

        def attempt() -> T:
            try:
                return operation()
            except _MaybeRan as exc:
                if not repeatable:
                    raise CommandInterrupted(
                        f"the connection to Android device {self.serial} failed while `{shown}` ran "
                        f"({_scrub(str(exc), argv)}); it may have reached the device, so it was not sent again: "
                        "look at the device before going on",
                        self.serial,
                        shown,
                    ) from None
                raise _TransientAdbError(_scrub(str(exc), argv)) from None
            except _NotSent as exc:
                raise _TransientAdbError(_scrub(str(exc), argv)) from None
            except _Refused as exc:
                if not self._online(self.serial):  # the device went away mid-open: it did not run
                    raise _TransientAdbError(f"refused: {_scrub(str(exc), argv)}") from None
                output = _scrub(str(exc), argv)
                raise DeviceCommandError(
                    f"Android device {self.serial} refused `{shown}`: {output}; it is connected and answering, "
                    "so retrying will not help: check that this Android build supports the command",
                    self.serial,
                    shown,
                    None,
                    output,
                ) from None

        def before_sleep(state: RetryCallState) -> None:
            self._reconnect()

        retrying = Retrying(
            retry=retry_if_exception_type(_TransientAdbError),
            stop=stop_after_delay(self.retry_window),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            result = retrying(attempt)
        except _TransientAdbError as exc:
            self.lost = True
            raise DeviceLost(
                f"Android device {self.serial} stopped answering ({shown}: {exc}); gave up after "
                f"{self.retry_window:g} s of retries: check the cable or Wi-Fi and `adb devices`",
                self.serial,
            ) from None
        self.lost = False
        return result

    def _reconnect(self) -> None:
        """Between retries: ask the adb server to reconnect a network device (it may have restarted)."""
        if ":" not in self.serial:
            return
        try:
            self._client.connect(self.serial, timeout=2.0)
            self._wait_for_state(self.serial, deadline=time.monotonic() + 1.0)
        except (self._adb.AdbError, OSError):
            pass

    # -- commands ----------------------------------------------------------------------------------

    def features(self) -> set[str]:
        """The device's adb feature list (cached)."""
        if self._features is None:

            def read() -> str:
                try:
                    return self._device.get_features()
                except (self._adb.AdbError, OSError, EOFError) as exc:
                    raise _MaybeRan(f"{type(exc).__name__}: {exc}") from None

            text = self._with_retries(["features"], read, repeatable=True)
            self._features = {f.strip() for f in text.split(",") if f.strip()}
        return self._features

    def run(self, argv: Sequence[str | int], timeout: float | None = None, *, check: bool = False) -> ShellResult:
        """Run one command on the device, every argument quoted for its shell.

        Uses the shell v2 protocol when the device has it (separate stderr and a real exit code).

        Args:
            argv: the command; wrap typed text in ``Hidden``.
            timeout: seconds it may take beyond its gesture's duration (default ``command_timeout``).
            check: raise ``DeviceCommandError`` when it exits non-zero.

        Raises:
            DeviceLost, CommandInterrupted, DeviceCommandError: see the module docstring.
        """
        command = " ".join(shlex.quote(str(a)) for a in argv)
        limit = (timeout or self.command_timeout) + gesture_seconds(argv)
        if "shell_v2" in self.features():
            result = self._with_retries(argv, lambda: self._shell_v2(command, limit), is_read_only(argv))
        else:
            result = self._with_retries(argv, lambda: self._shell_v1(command, limit), is_read_only(argv))
        if check and result.exit_code != 0:
            shown = describe(argv)
            output = _scrub((result.stderr or result.stdout).decode("utf-8", errors="replace"), argv).strip()
            raise DeviceCommandError(
                f"`{shown}` failed on Android device {self.serial} with exit status {result.exit_code}: "
                f"{output[:_OUTPUT_SHOWN]!r}; the device answered, so it is connected: this Android build may "
                "lack the command or refuse its arguments",
                self.serial,
                shown,
                result.exit_code,
                output[:_OUTPUT_SHOWN],
            )
        return result

    def run_raw(self, command: str, timeout: float | None = None) -> ShellResult:
        """Run an already-quoted command line. Only for command lines built from constants and numbers."""
        argv = shlex.split(command) if command.strip() else [command]
        limit = (timeout or self.command_timeout) + gesture_seconds(argv)
        shell = self._shell_v2 if "shell_v2" in self.features() else self._shell_v1
        return self._with_retries(argv, lambda: shell(command, limit), is_read_only(argv))

    def _shell_v2(self, command: str, timeout: float) -> ShellResult:
        """The shell protocol v2 (stdout, stderr and exit code framed apart), read in one pass."""
        data = self._stream(f"shell,v2,raw:{command}", timeout)
        streams: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        exit_code: int | None = None
        offset = 0
        while offset + 5 <= len(data):
            kind, length = data[offset], int.from_bytes(data[offset + 1 : offset + 5], "little")
            payload = data[offset + 5 : offset + 5 + length]
            offset += 5 + length
            if kind in streams:
                streams[kind] += payload
            elif kind == 3 and payload:
                exit_code = payload[0]
        if exit_code is None:
            raise _MaybeRan(f"the shell stream ended before its exit status ({len(data)} bytes read)")
        return ShellResult(bytes(streams[1]), bytes(streams[2]), exit_code)

    def _shell_v1(self, command: str, timeout: float) -> ShellResult:
        """The old shell service (one merged stream): the exit status is echoed after a marker."""
        data = self._stream(f"shell:{command} ; echo {_EXIT_MARK}$?", timeout)
        mark = data.rfind(_EXIT_MARK.encode())
        status = re.fullmatch(rb"\s*(\d+)\s*", data[mark + len(_EXIT_MARK) :]) if mark >= 0 else None
        if status is None:
            raise _MaybeRan(f"the shell output ended before its exit status ({len(data)} bytes read)")
        return ShellResult(data[:mark], b"", int(status.group(1)))

    def _stream(self, service: str, timeout: float) -> bytes:
        """Open a device service and read it to the end (the device closes the stream when done).

        Raises ``_NotSent`` while the device cannot have seen the request, ``_Refused`` for a FAIL
        answer, and ``_MaybeRan`` once it may have; a ``ValueError`` (text that cannot go on the wire)
        propagates as the bug it is.
        """
        request = service.encode("utf-8")
        request = f"{len(request):04x}".encode() + request
        try:
            sock = self._open_transport(timeout)
        except (self._adb.AdbError, OSError, EOFError) as exc:
            raise _NotSent(f"{type(exc).__name__}: {exc}") from None
        try:
            try:
                sock.sendall(request)
            except OSError as exc:
                raise _NotSent(f"{type(exc).__name__}: {exc}") from None
            try:
                status = _read_exactly(sock, 4)
                if status == b"FAIL":
                    length = _read_exactly(sock, 4)
                    reason = _read_exactly(sock, int(length, 16)) if re.fullmatch(rb"[0-9a-fA-F]{4}", length) else b""
                    raise _Refused(reason.decode("utf-8", errors="replace") or "FAIL")
                if status != b"OKAY":
                    raise _MaybeRan(f"the adb server answered {status!r} instead of OKAY")
                # Large reads joined once, and a plain close: adbutils' read_until_close grows a bytes
                # object 4 KiB at a time (~0.6 s for a 10 MB frame) and its close() sleeps 10 ms; growing a
                # bytearray and copying it out costs two more copies of a 10 MB frame.
                chunks = []
                while chunk := sock.recv(1 << 20):
                    chunks.append(chunk)
                return b"".join(chunks)
            except TimeoutError:
                raise _MaybeRan(f"no answer within {timeout:g} s") from None
            except OSError as exc:
                raise _MaybeRan(f"{type(exc).__name__}: {exc}") from None
        finally:
            sock.close()

    def _open_transport(self, timeout: float) -> socket.socket:
        """A socket to the adb server, switched to this device: one connection and one round trip.

        adbutils' ``open_transport`` first asks the server its version, over a second connection whose
        close sleeps 10 ms: ~13 ms on every command, most of a cached script step. ``host:transport:``
        is the request every adb server since 1.0.39 takes.
        """
        connection = self._client.make_connection(timeout=timeout)
        try:
            connection.send_command(f"host:transport:{self.serial}")
            connection.check_okay()
        except BaseException:
            connection.conn.close()
            raise
        return connection.conn

    def exec_out(self, command: str, timeout: float | None = None) -> bytes:
        """Binary output of a command over the ``exec:`` service (no shell, no pty, no newline mangling).

        Only for command lines built from constants and numbers.
        """
        argv = shlex.split(command)
        limit = timeout or self.command_timeout
        return self._with_retries(argv, lambda: self._stream(f"exec:{command}", limit), is_read_only(argv))

    def close(self) -> None:
        """Nothing to release on the adb server; kept for symmetry (safe twice)."""


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from a socket, fewer only when it closed first."""
    buffer = b""
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return buffer
