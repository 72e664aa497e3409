"""``guiagent adb``: the README's ``adb connect`` works on a machine with only guiagent installed."""

from __future__ import annotations

import os
import subprocess
import sys

from guiagent.envs.virtual_phone import PhoneServer, VirtualPhone


def guiagent(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ANDROID_ADB_SERVER_PORT"}
    command = [sys.executable, "-m", "guiagent.agent.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_adb_passes_every_argument_through_and_connects_a_phone(adb_server) -> None:
    version = guiagent("adb", "version")
    assert version.returncode == 0 and "Android Debug Bridge" in version.stdout
    path = guiagent("adb", "--path")
    assert path.returncode == 0 and os.access(path.stdout.strip(), os.X_OK)

    server = PhoneServer(VirtualPhone())
    server.start()
    try:
        port = str(adb_server.port)
        connected = guiagent("adb", "-P", port, "connect", server.serial)
        assert connected.returncode == 0 and "connected to" in connected.stdout, connected.stdout + connected.stderr
        devices = guiagent("adb", "-P", port, "devices")
        assert f"{server.serial}\tdevice" in devices.stdout
        model = guiagent("adb", "-P", port, "-s", server.serial, "shell", "getprop", "ro.product.model")
        assert model.returncode == 0 and model.stdout.strip()
        guiagent("adb", "-P", port, "disconnect", server.serial)
    finally:
        server.stop()


def test_adb_with_a_bad_command_returns_adbs_own_exit_code() -> None:
    result = guiagent("adb", "no-such-adb-command")
    assert result.returncode != 0 and result.stderr
