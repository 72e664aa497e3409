"""A YAML flow on the virtual phone through the real adb server and a real HTTP model server, via the CLI.

The flow writes a note and sends a message: 11 steps, 6 of which name an element. Run after run, on
fresh phones: the first run grounds the 6 with 6 model calls; the second makes none and ends in the same
state; with the layout shifted down, only the steps whose targets moved (the toolbar's Save button and
the conversation row; the bottom-anchored New-note button, compose field and Send button stay) are
grounded again; shifted and with ``--no-model``, the flow stops at the first moved step and the phone's
own command log shows that no input arrived after the step before it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.agent.cli import main
from guiagent.agent.trajectory import Trajectory
from tests.script.grounder import Grounder, phone_target

FAMILY = get_family("qwen2.5-vl-mobile")
FLOW = """\
name: a note and a message
steps:
  - open_app: Notes
  - tap: the New note button
  - type: {text: Buy oat milk, into: the note text field}
  - tap: the Save button
  - assert_visible: Buy oat milk
  - open_app: Messages
  - tap: the conversation with Bob Smith
  - type: {text: "On my way", into: the message field}
  - tap: the Send button
  - assert_visible: On my way
  - key: home
"""
GROUNDED = [
    "the New note button",
    "the note text field",
    "the Save button",
    "the conversation with Bob Smith",
    "the message field",
    "the Send button",
]
SHIFT = 300
"""Pixels the app content moves down: the toolbar and the list rows leave their old place entirely."""


def grounder(phone: Any) -> Grounder:
    table = {
        "the New note button": phone_target(phone, text="New note"),
        "the note text field": phone_target(phone, rid="note_text"),
        "the Save button": phone_target(phone, text="Save"),
        "the conversation with Bob Smith": phone_target(phone, text="Bob Smith"),
        "the message field": phone_target(phone, rid="message"),
        "the Send button": phone_target(phone, text="Send"),
    }
    return Grounder(FAMILY, lambda: Size(*phone.display_size), table)


def run_flow(flow: Path, connected: Any, port: int, out: Path, *extra: str) -> tuple[int, Trajectory]:
    code = main(
        ["script", "run", str(flow), "--device", f"android:{connected.serial}", "--adb-port", str(port)]
        + ["--family", FAMILY.name, "--out", str(out), *extra]
    )
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return code, Trajectory.load(folder)


def final_state(phone: Any) -> dict[str, Any]:
    state = phone.state
    return {"package": state.package, "notes": state.notes, "conversations": state.conversations}


def inputs(phone: Any) -> list[str]:
    """Every ``input`` command the phone received, in order: what reached its screen."""
    return [e.text for e in phone.command_log if "input " in e.text and e.kind in ("service", "shell")]


def test_first_run_grounds_then_the_cache_runs_and_refuses_what_moved(
    virtual_phone_factory, adb_server, scripted_server, tmp_path: Path
) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    cache = tmp_path / "flow.cache.json"
    scripted_server.repeat_last = True
    model = ["--base-url", scripted_server.url, "--model", "scripted"]

    # 1. First run: every element grounded, one model call each, the cache written beside the flow.
    first = virtual_phone_factory()
    scripted_server.script = [ground := grounder(first.phone)]
    code, run = run_flow(flow, first, adb_server.port, tmp_path / "run1", *model)
    assert code == 0, run.run.reason
    assert ground.asked == GROUNDED and len(scripted_server.requests) == len(GROUNDED)
    expected = final_state(first.phone)
    assert expected["notes"][0] == "Buy oat milk"
    assert expected["conversations"]["Bob Smith"][-1] == ("me", "On my way")
    entries = json.loads(cache.read_text(encoding="utf-8"))["entries"]
    assert list(entries) == [
        "tap the New note button",
        "type into the note text field",
        "tap the Save button",
        "tap the conversation with Bob Smith",
        "type into the message field",
        "tap the Send button",
    ]
    assert entries["tap the Save button"]["node"]["resource_id"] == "com.guiagent.notes:id/save"
    assert run.run.settings["result"]["grounded"] == 6 and len(run.steps) == 11

    # 2. Second run on a fresh phone: no model call at all, and the same final state on the device.
    second = virtual_phone_factory()
    scripted_server.script = [ground := grounder(second.phone)]
    code, run = run_flow(flow, second, adb_server.port, tmp_path / "run2", *model)
    assert code == 0, run.run.reason
    assert len(scripted_server.requests) == len(GROUNDED) and ground.asked == []
    assert final_state(second.phone) == expected
    assert run.run.settings["result"]["from_cache"] == 6 and run.run.settings["result"]["model_calls"] == 0
    assert all(s.reply is None for s in run.steps)

    # 3. Layout shifted, no model: the flow stops at the Save button (step 4) before touching the phone.
    cache_before = cache.read_text(encoding="utf-8")
    shifted = virtual_phone_factory(layout_shift=SHIFT)
    code, run = run_flow(flow, shifted, adb_server.port, tmp_path / "run3", "--no-model")
    assert code == 1 and run.status == "failure"
    last = run.steps[-1]
    assert last.index == 4 and last.error is not None and last.error.type == "ScriptDivergence"
    assert last.executed == 0 and "tap the Save button" in last.error.message
    for name in ("expected", "actual", "diff"):
        assert (run.folder / f"step-0004.{name}.png").exists()
    received = inputs(shifted.phone)
    assert len(received) == 3 and "input text" in received[-1]  # New note, the field's tap, its text: no more
    assert shifted.phone.state.notes == expected["notes"][1:]  # the note was never saved
    assert shifted.phone.state.apps["com.guiagent.notes"]["draft"] == "Buy oat milk"
    assert cache.read_text(encoding="utf-8") == cache_before  # nothing re-grounded, nothing written
    assert (run.folder / "report.html").exists()

    # 4. Layout shifted, with the model: only the two moved targets are grounded again.
    moved = virtual_phone_factory(layout_shift=SHIFT)
    scripted_server.script = [ground := grounder(moved.phone)]
    code, run = run_flow(flow, moved, adb_server.port, tmp_path / "run4", *model)
    assert code == 0, run.run.reason
    assert ground.asked == ["the Save button", "the conversation with Bob Smith"]
    assert final_state(moved.phone) == expected
    notes = {s.index: " ".join(s.notes) for s in run.steps}
    assert "re-grounded (tap the Save button)" in notes[4] and "re-grounded" in notes[7]
    assert run.run.settings["result"]["regrounded"] == ["tap the Save button", "tap the conversation with Bob Smith"]
    updated = json.loads(cache.read_text(encoding="utf-8"))["entries"]
    assert updated["tap the Save button"]["point"][1] == entries["tap the Save button"]["point"][1] + SHIFT
    assert updated["tap the New note button"] == entries["tap the New note button"]  # verified, untouched
