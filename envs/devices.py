"""Device strings → environments: ``android``, ``android:SERIAL``, ``desktop``, ``desktop:N``, ``virtual``.

``virtual`` starts an embedded virtual phone, connects it to the adb server (starting a server from
adbutils' bundled binary when none answers) and drives it like any Android device: the way to try
guiagent with no phone and no emulator.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from typing import Any

from guiagent.actions.errors import ConfigError, DeviceNotFound

from .adb import DEFAULT_ADB_HOST, DEFAULT_ADB_PORT, list_android_devices
from .android import AndroidEnv
from .base import Env

__all__ = ["DeviceInfo", "VirtualPhoneEnv", "ensure_adb_server", "list_devices", "open_env", "parse_device"]

_KINDS = ("android", "desktop", "virtual")


@dataclass(frozen=True)
class DeviceInfo:
    """One device ``guiagent devices`` lists."""

    name: str
    kind: str
    detail: str


def parse_device(spec: str) -> tuple[str, str | None]:
    """``"android:emulator-5554"`` → ``("android", "emulator-5554")``; a clear error for anything else."""
    kind, _, target = spec.strip().partition(":")
    kind = kind.lower()
    if kind not in _KINDS:
        raise ConfigError(f"unknown device {spec!r}; use android, android:SERIAL, desktop, desktop:N or virtual")
    if kind == "desktop" and target and not target.isdigit():
        raise ConfigError(f"desktop monitor must be a number (desktop:1), got {target!r}")
    return kind, target or None


def ensure_adb_server(host: str = DEFAULT_ADB_HOST, port: int = DEFAULT_ADB_PORT, timeout: float = 30.0) -> None:
    """Start an adb server (adbutils' bundled binary) on ``host:port`` unless one already answers."""
    import adbutils

    client = adbutils.AdbClient(host=host, port=port)
    try:
        client.server_version()
        return
    except (adbutils.AdbError, OSError):
        pass
    if host not in ("127.0.0.1", "localhost"):
        raise DeviceNotFound(f"no adb server answers on {host}:{port}", "android")
    command = [adbutils.adb_path(), "-P", str(port), "start-server"]
    try:
        subprocess.run(command, capture_output=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DeviceNotFound(f"could not start an adb server ({' '.join(command)}): {exc}", "android") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.server_version()
            return
        except (adbutils.AdbError, OSError):
            time.sleep(0.1)
    raise DeviceNotFound(f"the adb server on {host}:{port} did not come up within {timeout:g} s", "android")


class VirtualPhoneEnv(AndroidEnv):
    """An ``AndroidEnv`` on an embedded virtual phone it starts, connects, and stops on ``close()``.

    Args:
        adb_host: the adb server's host (a local server is started if none answers).
        adb_port: the adb server's port.
        phone_options: ``VirtualPhone`` arguments (``width``, ``height``, ``layout_shift``...).
        env_options: further ``AndroidEnv`` arguments.
    """

    def __init__(
        self,
        adb_host: str = DEFAULT_ADB_HOST,
        adb_port: int = DEFAULT_ADB_PORT,
        phone_options: dict[str, Any] | None = None,
        **env_options: Any,
    ) -> None:
        import adbutils

        from .virtual_phone import PhoneServer, VirtualPhone

        ensure_adb_server(adb_host, adb_port)
        self.phone = VirtualPhone(**(phone_options or {}))
        self.server = PhoneServer(self.phone).start()
        self._client = adbutils.AdbClient(host=adb_host, port=adb_port)
        try:
            self._client.connect(self.server.serial, timeout=10)
            super().__init__(self.server.serial, adb_host=adb_host, adb_port=adb_port, **env_options)
        except BaseException:
            self.server.stop()
            raise
        self.name = f"virtual:{self.server.serial}"

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        try:
            super().close()  # may raise when the input method cannot be put back: stop the phone anyway
        finally:
            try:
                self._client.disconnect(self.server.serial)
            except Exception:  # noqa: BLE001 - the adb server may already have dropped it
                pass
            self.server.stop()


def open_env(
    spec: str,
    *,
    adb_host: str = DEFAULT_ADB_HOST,
    adb_port: int = DEFAULT_ADB_PORT,
    **options: Any,
) -> Env:
    """Open the device a device string names.

    Raises:
        ConfigError: the string is not a device string.
        DeviceNotFound: no such device (the message lists what there is).
    """
    kind, target = parse_device(spec)
    if kind == "android":
        return AndroidEnv(target, adb_host=adb_host, adb_port=adb_port, **options)
    if kind == "virtual":
        return VirtualPhoneEnv(adb_host, adb_port, **options)
    from .desktop import DesktopEnv

    return DesktopEnv(int(target) if target else 1, **options)


def list_devices(adb_host: str = DEFAULT_ADB_HOST, adb_port: int = DEFAULT_ADB_PORT) -> list[DeviceInfo]:
    """Android devices the adb server knows, and desktop monitors when a display is reachable."""
    devices = [
        DeviceInfo(f"android:{serial}", "android", state) for serial, state in list_android_devices(adb_host, adb_port)
    ]
    try:
        from .desktop import list_monitors

        for monitor in list_monitors():
            devices.append(DeviceInfo(f"desktop:{monitor.index}", "desktop", _describe_monitor(monitor)))
    except Exception:  # noqa: BLE001 - no display, or no desktop extra: there are simply no monitors to list
        pass
    return devices


def _describe_monitor(monitor: Any) -> str:
    parts = [f"{getattr(monitor, 'width', '?')}x{getattr(monitor, 'height', '?')}"]
    left, top = getattr(monitor, "left", None), getattr(monitor, "top", None)
    if left is not None:
        parts.append(f"at ({left}, {top})")
    return " ".join(parts)
