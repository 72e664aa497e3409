"""``guiagent mcp --device virtual`` as a subprocess, driven over stdio by the ``mcp`` SDK's own client.

The server embeds its own virtual phone, connected to the session's real adb server; the model is a real HTTP
server that answers each grounding prompt with the target's point, read at request time from the UI hierarchy
the phone dumps over adb (as any adb client would read it). The phone is in the server's process, so its state
is checked through the server's own tools (``assert_visible`` reads the phone's UI hierarchy). The SDK's client
negotiates the 2026-07-28 protocol: a risky tap's question comes back as the call's result, the client's
elicitation callback answers it, and the call goes on.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters

from guiagent.actions.geometry import Size
from tests.mcp.helpers import AGENT_TASK, FAMILY, NOTE, Person, adb_script, text_of


def test_screenshot_tap_run_task_and_a_confirmed_delete_over_stdio(adb_server, scripted_server, tmp_path) -> None:
    device: dict[str, Any] = {}
    script = adb_script(lambda: adb_server.device(device["serial"]), lambda: Size(*device["size"]))
    scripted_server.script, scripted_server.repeat_last = [script], True
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "guiagent.agent.cli", "mcp", "--device", "virtual", "--adb-port", str(adb_server.port)]
        + ["--base-url", scripted_server.url, "--model", "scripted", "--family", FAMILY.name]
        + ["--confirm", "risky", "--out", str(tmp_path / "runs")],
        cwd=str(tmp_path),
    )
    person = Person(["decline", "yes"])
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def call(client: Client, tool: str, /, **arguments: Any) -> types.CallToolResult:
        return await client.call_tool(tool, arguments, read_timeout_seconds=60)

    async def ok(client: Client, tool: str, /, **arguments: Any) -> types.CallToolResult:
        result = await call(client, tool, **arguments)
        assert not result.is_error, (tool, text_of(result))
        return result

    async def main() -> None:
        async with Client(server, elicitation_callback=person) as client:
            assert client.protocol_version == "2026-07-28"
            shot = await ok(client, "screenshot")
            image = next(b for b in shot.content if isinstance(b, types.ImageContent))
            assert image.mime_type == "image/png" and len(image.data) > 1000
            name = shot.structured_content["device"]
            assert name.startswith("virtual:")
            device["serial"], device["size"] = name.removeprefix("virtual:"), (1080, 2400)
            assert (shot.structured_content["width"], shot.structured_content["height"]) == device["size"]

            await ok(client, "open_app", name="Notes")
            tapped = await ok(client, "tap", target="the New note button")
            assert tapped.structured_content["located_by"] == "model"
            await ok(client, "type", text=NOTE, into="the note text field")
            await ok(client, "tap", target="the Save button")
            await ok(client, "assert_visible", what=NOTE)  # the phone's hierarchy shows the saved note

            ran = await client.call_tool("run_task", {"task": AGENT_TASK}, 120, progress_callback=on_progress)
            assert not ran.is_error and ran.structured_content["status"] == "success", text_of(ran)
            await ok(client, "assert_visible", what="Bob Smith")  # Messages' conversation list

            await ok(client, "open_app", name="Notes")
            await ok(client, "long_press", target="the note about the plants")
            refused = await call(client, "tap", target="the Delete button")
            assert refused.is_error and "declined" in text_of(refused), text_of(refused)
            await ok(client, "assert_visible", what="Delete note?")  # the dialog is still up
            deleted = await call(client, "tap", target="the Delete button")
            assert not deleted.is_error, text_of(deleted)
            gone = await call(client, "assert_visible", what=NOTE)
            assert gone.is_error and "not on the screen" in text_of(gone)
            await ok(client, "assert_visible", what="Shopping list")

    anyio.run(main)
    assert len(person.asked) == 2 and "Delete" in person.asked[0]
    assert [p[0] for p in progress] == [1, 2]
    assert script.agent_requests == 2
    runs = tmp_path / "runs"
    folders = {json.loads((f / "run.json").read_text())["task"]: f for f in runs.iterdir() if (f / "run.json").exists()}
    session = folders["mcp"]
    steps = [json.loads(line) for line in (session / "steps.jsonl").read_text().splitlines()]
    assert len(steps) >= 12 and all((session / s["screenshot"]).exists() for s in steps if s.get("screenshot"))
    assert json.loads((session / "run.json").read_text())["status"] != "running"  # closed when the client left
    assert json.loads((folders[AGENT_TASK] / "run.json").read_text())["status"] == "success"
    grounded = [json.dumps(body) for body in scripted_server.requests if "the Delete button" in json.dumps(body)]
    assert len(grounded) == 1  # grounded once; the second call found it in the cache and verified it
