"""The MCP server in-process, the SDK's own client connected to it, the virtual phone checked directly.

The phone is real as far as guiagent can tell (a virtual phone behind the real adb server); the model is a
real HTTP server answering grounding prompts with the target's point, found on the phone at request time.
Both sides of the 2026-07-28 protocol change are driven: ``mode="legacy"`` (the server asks its question in
the middle of the call, as Claude Desktop and Claude Code are asked today) and the default ``auto`` (the
server returns the question, the client asks and calls again).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.mcp import GuiAgentServer, ServerOptions
from tests.fixtures.openai_server import Fail
from tests.mcp.helpers import AGENT_TASK, FAMILY, NOTE, Person, phone_script, text_of

SECRET = "7730-2291-SECRET"


def serve(connected: Any, adb_server: Any, scripted: Any, tmp_path: Path, **options: Any) -> GuiAgentServer:
    script = phone_script(connected.phone)
    scripted.script, scripted.repeat_last = [script], True
    model = OpenAICompatibleBackend("scripted", scripted.url, retry_wait=0.01, max_attempts=1)
    env = AndroidEnv(connected.serial, adb_port=adb_server.port)
    return GuiAgentServer(env, model, FAMILY, ServerOptions(out_dir=tmp_path, **options))


def run(server: GuiAgentServer, body: Callable[[Client], Awaitable[None]], **client: Any) -> None:
    async def main() -> None:
        async with Client(server.mcp, **client) as connected:
            await body(connected)

    try:
        anyio.run(main)
    finally:
        server.close()
        server.env.close()


async def write_note(client: Client) -> None:
    for name, arguments in [
        ("open_app", {"name": "Notes"}),
        ("tap", {"target": "the New note button"}),
        ("type", {"text": NOTE, "into": "the note text field"}),
        ("tap", {"target": "the Save button"}),
        ("long_press", {"target": "the note about the plants"}),
    ]:
        result = await client.call_tool(name, arguments)
        assert not result.is_error, (name, text_of(result))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_risky_tap_is_put_to_the_person_and_a_no_leaves_the_phone_alone(
    mode, virtual_phone, adb_server, scripted_server, tmp_path
) -> None:
    phone = virtual_phone.phone
    server = serve(virtual_phone, adb_server, scripted_server, tmp_path)
    person = Person(["decline", "no", "yes"])

    async def body(client: Client) -> None:
        assert (client.protocol_version == "2026-07-28") == (mode == "auto")
        await write_note(client)
        assert phone.state.notes[0] == NOTE and phone.notes_app.dialog == "delete"

        for _ in range(2):  # declined, then accepted with allow=false: both a no
            refused = await client.call_tool("tap", {"target": "the Delete button"})
            assert refused.is_error and "declined" in text_of(refused), text_of(refused)
            assert phone.state.notes[0] == NOTE and phone.notes_app.dialog == "delete"
        assert "Delete" in person.asked[0] and "click at" in person.asked[0] and virtual_phone.serial in person.asked[0]

        done = await client.call_tool("tap", {"target": "the Delete button"})
        assert not done.is_error, text_of(done)
        assert NOTE not in phone.state.notes and phone.notes_app.dialog is None

    run(server, body, mode=mode, elicitation_callback=person)
    assert len(person.asked) == 3
    taps = [a for a in _model_calls(scripted_server) if "the Delete button" in a]
    assert len(taps) == 1  # grounded once; the retries verified the cached locator


def test_a_client_that_cannot_ask_gets_a_no(virtual_phone, adb_server, scripted_server, tmp_path) -> None:
    phone = virtual_phone.phone
    server = serve(virtual_phone, adb_server, scripted_server, tmp_path)

    async def body(client: Client) -> None:
        await write_note(client)
        refused = await client.call_tool("tap", {"target": "the Delete button"})
        assert refused.is_error and "declared no elicitation capability" in text_of(refused)
        pixel = phone.find(text="Delete")
        assert pixel is not None
        x, y = pixel.bounds.center
        by_pixel = await client.call_tool("tap", {"x": x, "y": y})  # the UI node under the point says Delete
        assert by_pixel.is_error and "declined" in text_of(by_pixel)

    run(server, body)  # no elicitation_callback: the capability is not declared
    assert phone.state.notes[0] == NOTE


def test_pixels_screenshots_progress_and_errors(virtual_phone, adb_server, scripted_server, tmp_path) -> None:
    phone = virtual_phone.phone
    server = serve(virtual_phone, adb_server, scripted_server, tmp_path, secrets={"code": SECRET})
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def body(client: Client) -> None:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"screenshot", "tap", "type", "swipe", "key", "query", "assert_visible", "run_task"} <= tools
        assert {"list_devices", "replay", "long_press", "open_app"} <= tools

        shot = await client.call_tool("screenshot", {})
        image = next(b for b in shot.content if isinstance(b, types.ImageContent))
        assert image.mime_type == "image/png" and shot.structured_content["width"] == phone.display_size[0]

        await client.call_tool("open_app", {"name": "Notes"})
        new = phone.find(text="New note")
        assert new is not None
        x, y = new.bounds.center
        assert not (await client.call_tool("tap", {"x": x, "y": y})).is_error  # by pixel: no model call
        typed = await client.call_tool("type", {"text": "code <secret:CODE>"})
        assert phone.state.focused_text == f"code {SECRET}"
        assert SECRET not in json.dumps(typed.model_dump(mode="json")) and "<secret:code>" in text_of(typed)
        masked = await client.call_tool("screenshot", {"max_side": 600})
        assert "painted over" in text_of(masked) and masked.structured_content["scale"] < 1

        both = await client.call_tool("tap", {"target": "the Save button", "x": 1, "y": 2})
        assert both.is_error and "not both" in text_of(both)
        scripted_server.script = [Fail(400, "the model is not loaded")]
        failed = await client.call_tool("tap", {"target": "the Save button"})
        assert failed.is_error and text_of(failed).startswith("ModelRequestError: "), text_of(failed)
        assert "\n" not in text_of(failed)
        scripted_server.script = [phone_script(phone)]
        assert not (await client.call_tool("tap", {"target": "the Save button"})).is_error  # the server is still up

        ran = await client.call_tool("run_task", {"task": AGENT_TASK}, progress_callback=on_progress)
        assert not ran.is_error and ran.structured_content["status"] == "success", text_of(ran)
        assert phone.state.package == "com.guiagent.messages"
        seen = await client.call_tool("assert_visible", {"what": "Bob Smith"})
        assert not seen.is_error and seen.structured_content["located_by"] == "hierarchy"
        missing = await client.call_tool("assert_visible", {"what": "A message nobody sent"})
        assert missing.is_error and missing.structured_content["type"] == "ScriptAssertionError"

    run(server, body, elicitation_callback=Person())
    assert phone.state.notes[0] == f"code {SECRET}"
    assert [p[0] for p in progress] == [1, 2] and progress[0][1] == 30 and "open" in str(progress[0][2]).lower()
    session = server.folder
    recorded = (session / "steps.jsonl").read_text()
    assert SECRET not in recorded and "<secret:code>" in recorded
    steps = [json.loads(line) for line in recorded.splitlines()]
    assert [s["actions_device"][0]["type"] for s in steps if s["actions_device"]][:3] == ["open_app", "click", "type"]
    assert json.loads((session / "run.json").read_text())["status"] != "running"


def _model_calls(scripted: Any) -> list[str]:
    from tests.fixtures.openai_server import request_text

    return [request_text(body) for body in scripted.requests]
