"""Pool files: the devices a suite may use, written once as YAML instead of a long ``--device`` list.

Why a file: a phone farm is twenty serials on three adb servers, a desktop or two, and the model endpoints
they share; that is configuration a team keeps in version control, not a command line. Each entry becomes a
``DeviceSpec``, a small picklable value that can open its device here or inside a Ray actor on another host.

::

    concurrency: 8                    # at most this many tasks at once (default: one per device)
    adb: {host: 127.0.0.1, port: 5037}  # the adb server for bare serials and virtual phones
    retry_window: 10                  # seconds a device may stop answering before it counts as lost
    reset:                            # after each task (default on Android: the home button)
      - action: {type: system_button, button: home}
    endpoints: [http://gpu-1:8000/v1, http://gpu-2:8000/v1]   # like --base-url URL1,URL2
    trajectories: ship                # Ray: ship run folders to the driver, or a folder every node mounts
    devices:
      - emulator-5554                 # a serial on the adb server above (android:SERIAL works too;
                                      # a bare "android" is the only phone that server has)
      - adb://farm-1.lan:5037/R58M123 # a phone on a remote adb server (how phone farms expose phones)
      - desktop: ":1"                 # monitor 1 of X display :1 (or desktop: 2 for monitor 2 of $DISPLAY)
      - virtual: 4                    # four embedded virtual phones
      - {virtual: 2, name: rack-a, resource: "phones:rack-a", width: 720, height: 1600}

Every device has a ``resource``: the Ray custom resource a node advertises for it (``device:NAME`` unless the
entry says otherwise, e.g. ``device:R58M123``). A ``virtual: N`` entry with a resource shares it, so a node
advertising ``{"phones:rack-a": 2}`` hosts two of them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from guiagent.actions.errors import ConfigError

from .spec import SetupStep
from .yaml_lines import load_yaml, resolve

__all__ = ["DeviceSpec", "PoolConfig", "PoolFileError", "load_pool", "parse_pool", "pool_from_devices"]

_TOP_KEYS = {"concurrency", "adb", "retry_window", "reset", "endpoints", "trajectories", "devices"}
_PHONE_OPTIONS = {"width", "height", "density", "layout_shift", "adb_keyboard"}
_ADB_URL = re.compile(r"^adb://(?P<host>[^:/]+)(?::(?P<port>\d+))?/(?P<serial>[^/\s]+)$")
_RESOURCE_CHARS = re.compile(r"[^A-Za-z0-9_.:-]")
_STEPS: TypeAdapter[list[Any]] = TypeAdapter(list[SetupStep])


class PoolFileError(ConfigError):
    """A pool file that does not validate; names the file, line and entry (like ``TaskFileError``)."""

    def __init__(self, message: str, path: str = "", line: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.field = field


@dataclass(frozen=True)
class DeviceSpec:
    """One device of a pool: enough to open it anywhere, nothing opened yet.

    Args:
        name: unique in the pool; what results and reports call it.
        kind: ``android`` (a serial on an adb server), ``virtual`` (an embedded virtual phone) or ``desktop``.
        serial: the adb serial (android).
        adb_host: the adb server's host (android, virtual).
        adb_port: the adb server's port.
        display: the X display (desktop), or None for ``$DISPLAY``.
        monitor: the monitor number (desktop, mss numbering).
        phone_options: ``VirtualPhone`` arguments (virtual).
        resource: the Ray custom resource a node advertises for this device.
    """

    name: str
    kind: Literal["android", "virtual", "desktop"]
    serial: str | None = None
    adb_host: str = "127.0.0.1"
    adb_port: int = 5037
    display: str | None = None
    monitor: int = 1
    phone_options: dict[str, Any] = field(default_factory=dict)
    resource: str = ""

    @property
    def task_kind(self) -> Literal["android", "desktop"]:
        """The ``device:`` a task must name to run here."""
        return "desktop" if self.kind == "desktop" else "android"

    def open(self, retry_window: float = 10.0) -> Any:
        """Open the device (an ``Env``); virtual phones start here, in the calling process.

        Raises:
            DeviceNotFound: no such device, adb server or display.
            ConfigError: a desktop on another X display than the one this process already uses.
        """
        if self.kind == "desktop":
            from guiagent.envs.desktop import DesktopEnv

            if self.display is not None:
                _use_display(self.display, self.name)
            desktop = DesktopEnv(self.monitor)
            desktop.name = self.name
            return desktop
        if self.kind == "virtual":
            from guiagent.envs.devices import VirtualPhoneEnv

            env = VirtualPhoneEnv(self.adb_host, self.adb_port, dict(self.phone_options), retry_window=retry_window)
            env.name = self.name
            return env
        from guiagent.envs.android import AndroidEnv

        env = AndroidEnv(self.serial, adb_host=self.adb_host, adb_port=self.adb_port, retry_window=retry_window)
        env.name = self.name
        return env


@dataclass(frozen=True)
class PoolConfig:
    """A parsed pool file."""

    devices: tuple[DeviceSpec, ...]
    concurrency: int
    retry_window: float = 10.0
    reset: tuple[Any, ...] | None = None
    """Setup steps run after each task; None means the default (home button on Android, nothing on desktops)."""
    endpoints: tuple[str, ...] = ()
    trajectories: str = "ship"
    source: Path | None = None


def load_pool(path: str | Path) -> PoolConfig:
    """Read and validate a pool file.

    Raises:
        PoolFileError: unreadable, not YAML, or an entry that does not validate (with its line).
    """
    file = Path(path)
    try:
        data, node = load_yaml(file)
    except ConfigError as exc:
        raise PoolFileError(str(exc), str(file), getattr(exc, "line", None)) from None
    return parse_pool(data, file, node)


def parse_pool(data: Any, file: Path | None = None, node: Any = None) -> PoolConfig:
    """Validate pool data (what ``load_pool`` read, or a dict built in code)."""
    where = str(file) if file else "pool"

    def fail(message: str, *loc: str | int) -> PoolFileError:
        line, _ = resolve(node, list(loc)) if node is not None else (None, [])
        at = f", line {line}" if line else ""
        return PoolFileError(f"{where}{at}: {message}", where, line, ".".join(map(str, loc)))

    if not isinstance(data, dict):
        raise fail("a pool file is a mapping with a 'devices' list")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_TOP_KEYS))}", unknown[0])
    adb = data.get("adb") or {}
    if not isinstance(adb, dict):
        raise fail("'adb' must be a mapping {host: ..., port: ...}", "adb")
    host = str(adb.get("host", "127.0.0.1"))
    port = _int(adb.get("port", os.environ.get("ANDROID_ADB_SERVER_PORT", 5037)), lambda m: fail(m, "adb", "port"))
    entries = data.get("devices")
    if not isinstance(entries, list) or not entries:
        raise fail("'devices' must be a non-empty list", "devices")
    devices: list[DeviceSpec] = []
    for index, entry in enumerate(entries):
        try:
            devices.extend(_entry(entry, host, port, sum(d.kind == "virtual" for d in devices)))
        except (ValueError, TypeError) as exc:
            raise fail(f"device {index + 1}: {exc}", "devices", index) from None
    names = [d.name for d in devices]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise fail(f"device names must be unique; repeated: {', '.join(duplicates)}", "devices")
    concurrency = _int(data.get("concurrency", len(devices)), lambda m: fail(m, "concurrency"))
    if concurrency < 1:
        raise fail("'concurrency' must be at least 1", "concurrency")
    reset = None
    if "reset" in data:
        try:
            reset = tuple(_STEPS.validate_python(data["reset"] or []))
        except ValidationError as exc:
            raise fail(f"'reset' steps: {exc.errors()[0].get('msg')}", "reset") from None
    endpoints = data.get("endpoints") or []
    if isinstance(endpoints, str):
        endpoints = [u.strip() for u in endpoints.split(",") if u.strip()]
    if not isinstance(endpoints, list) or not all(isinstance(u, str) for u in endpoints):
        raise fail("'endpoints' must be a list of base URLs", "endpoints")
    trajectories = str(data.get("trajectories", "ship"))
    window = data.get("retry_window", 10.0)
    if not isinstance(window, (int, float)) or window <= 0:
        raise fail("'retry_window' must be a positive number of seconds", "retry_window")
    return PoolConfig(tuple(devices), concurrency, float(window), reset, tuple(endpoints), trajectories, file)


def pool_from_devices(devices: list[str], adb_host: str = "127.0.0.1", adb_port: int = 5037) -> PoolConfig:
    """A pool from ``--device`` strings (``virtual,android:SERIAL,desktop:1``), so both paths share one runner."""
    entries: list[Any] = []
    for text in devices:
        kind, _, target = text.strip().partition(":")
        if kind == "virtual":
            entries.append({"virtual": 1})
        elif kind == "desktop":
            entries.append({"desktop": int(target) if target.isdigit() else 1})
        else:
            entries.append(text.strip())
    return parse_pool({"adb": {"host": adb_host, "port": adb_port}, "devices": entries})


def _entry(entry: Any, host: str, port: int, virtual_before: int) -> list[DeviceSpec]:
    if entry == "android":  # the only phone on the adb server (like --device android)
        return [DeviceSpec("android", "android", None, host, port, resource="device:android")]
    if isinstance(entry, str):
        entry = {"serial": entry}
    if not isinstance(entry, dict):
        raise ValueError("an entry is a serial, adb://HOST:PORT/SERIAL, or a mapping (virtual:, desktop:, serial:)")
    name, resource = entry.get("name"), entry.get("resource")
    if "virtual" in entry:
        number = entry["virtual"]
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"virtual: must be a number of phones >= 1, got {number!r}")
        options = {k: v for k, v in entry.items() if k in _PHONE_OPTIONS}
        _no_others(entry, {"virtual", "name", "resource", *_PHONE_OPTIONS})
        first = 0 if name else virtual_before  # unnamed entries number their phones across the pool
        names = [f"{name or 'virtual'}-{i}" for i in range(first, first + number)]
        return [DeviceSpec(n, "virtual", None, host, port, None, 1, options, _resource(resource, n)) for n in names]
    if "desktop" in entry:
        _no_others(entry, {"desktop", "display", "name", "resource"})
        target, display = entry["desktop"], entry.get("display")
        if isinstance(target, str) and target.startswith(":"):
            display, monitor = target, 1
        elif isinstance(target, int) and not isinstance(target, bool) and target >= 0:
            monitor = target
        else:
            raise ValueError(f"desktop: takes an X display (':1') or a monitor number, got {target!r}")
        default = f"desktop:{monitor}" + (f"@{display}" if display else "")
        device = str(name or default)
        return [DeviceSpec(device, "desktop", display=display, monitor=monitor, resource=_resource(resource, device))]
    _no_others(entry, {"serial", "adb", "name", "resource"})
    serial = str(entry.get("serial") or "")
    if serial.startswith("android:"):
        serial = serial[len("android:") :]
    remote = _ADB_URL.match(serial)
    if remote:
        host, serial = remote["host"], remote["serial"]
        port = int(remote["port"] or 5037)
    elif serial.startswith("adb://"):
        raise ValueError(f"{serial!r} is not adb://HOST:PORT/SERIAL")
    elif "adb" in entry:
        server_host, _, server_port = str(entry["adb"]).partition(":")
        host, port = server_host, int(server_port or 5037)
    if not serial:
        raise ValueError("a phone entry needs a serial")
    device = str(name or (f"adb://{host}:{port}/{serial}" if remote else f"android:{serial}"))
    return [DeviceSpec(device, "android", serial, host, port, resource=_resource(resource, device))]


def _resource(given: Any, name: str) -> str:
    """The Ray resource a node advertises for a device: given, or ``device:`` + its name without the scheme
    (``android:R58M1`` → ``device:R58M1``, ``adb://farm:5037/R58M1`` → ``device:farm:5037_R58M1``)."""
    if given:
        return str(given)
    bare = name.removeprefix("adb://").removeprefix("android:")
    return "device:" + _RESOURCE_CHARS.sub("_", bare)


def _no_others(entry: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ValueError(f"unknown key(s) {', '.join(extra)}; this entry takes {', '.join(sorted(allowed))}")


def _int(value: Any, fail: Any) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise fail(f"expected a whole number, got {value!r}") from None


def _use_display(display: str, device: str) -> None:
    """Point this process at ``display``: pyautogui binds to one X display per process, once."""
    current = os.environ.get("DISPLAY")
    if current == display:
        return
    from guiagent.envs import desktop_display

    if getattr(desktop_display, "_pyautogui", None) is not None:
        raise ConfigError(
            f"{device} is on X display {display}, but this process already drives {current}: one process drives "
            "one X display; run the suite with --ray so each display gets its own actor process"
        )
    os.environ["DISPLAY"] = display
