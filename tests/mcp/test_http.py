"""``guiagent mcp --transport http``: the SDK's client over streamable HTTP, a server with no model.

Without a model the server still serves screenshots, pixel actions and checks the UI hierarchy answers; a
step that names an element says it needs a model. SIGTERM ends the server with its run record written.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import anyio
import mcp_types as types
from mcp import Client

from tests.mcp.helpers import text_of


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "the server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {timeout:g} s")


def test_streamable_http_without_a_model(adb_server, tmp_path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "guiagent.agent.cli", "mcp", "--device", "virtual"]
    command += ["--adb-port", str(adb_server.port), "--transport", "http", "--port", str(port)]
    command += ["--out", str(tmp_path / "runs")]
    process = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        _wait_for(port, process)

        async def main() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                shot = await client.call_tool("screenshot", {"max_side": 800})
                assert any(isinstance(b, types.ImageContent) for b in shot.content), text_of(shot)
                assert shot.structured_content["height"] == 2400 and shot.structured_content["scale"] == 1 / 3
                served = await client.call_tool("list_devices", {})
                assert served.structured_content["served"].startswith("virtual:"), text_of(served)
                opened = await client.call_tool("open_app", {"name": "Notes"})
                assert not opened.is_error, text_of(opened)
                seen = await client.call_tool("assert_visible", {"what": "Shopping list"})
                assert not seen.is_error, text_of(seen)
                named = await client.call_tool("tap", {"target": "the New note button"})
                assert named.is_error and "no model" in text_of(named), text_of(named)
                task = await client.call_tool("run_task", {"task": "Open Settings"})
                assert task.is_error and "needs a model" in text_of(task)

        anyio.run(main)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    (session,) = (tmp_path / "runs").iterdir()
    run = json.loads((session / "run.json").read_text())
    assert run["status"] != "running" and run["steps"] == 3  # open_app, assert_visible, the tap refused
