"""The Python API on the virtual phone: assertions, secrets, the confirm policy, text checks without a model,
a cache made on one screen size used on another, and trajectories that ``guiagent replay`` and ``report`` read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.cli import main
from guiagent.agent.safety import ConfirmPolicy
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.script import (
    LocatorCache,
    ScriptAssertionError,
    ScriptDeclined,
    ScriptDivergence,
    ScriptTimeout,
    Session,
    SessionConfig,
)
from tests.script.grounder import Grounder, phone_target

FAMILY = get_family("qwen2.5-vl-mobile")


def android(connected, adb_server) -> AndroidEnv:
    return AndroidEnv(connected.serial, adb_port=adb_server.port)


def model_for(phone, server, **targets: dict[str, str]) -> OpenAICompatibleBackend:
    table = {description: phone_target(phone, **query) for description, query in targets.items()}
    server.script, server.repeat_last = [Grounder(FAMILY, lambda: Size(*phone.display_size), table)], True
    return OpenAICompatibleBackend("scripted", server.url, retry_wait=0.01, max_attempts=1)


def inputs(phone) -> list[str]:
    return [e.text for e in phone.command_log if "input " in e.text]


def note_flow(s: Session, text: str = "Buy oat milk") -> None:
    s.open_app("Notes")
    s.tap("the New note button")
    s.type(text, into="the note text field")
    s.tap("the Save button")
    s.assert_visible(text)


NOTE_TARGETS = {
    "the New note button": {"text": "New note"},
    "the note text field": {"rid": "note_text"},
    "the Save button": {"text": "Save"},
}


def test_assert_visible_raises_with_the_screenshot_it_judged(virtual_phone, adb_server, tmp_path) -> None:
    with android(virtual_phone, adb_server) as env:
        s = Session(env, config=SessionConfig(out_dir=tmp_path))
        with pytest.raises(ScriptAssertionError) as caught, s:
            s.open_app("Notes")
            s.assert_visible("Shopping list")  # the UI hierarchy has it: no model needed
            s.assert_visible("A note that is not there")
    error = caught.value
    assert error.step == 3 and error.screenshot and Path(error.screenshot).exists()
    run = s.close()
    assert run is not None and run.status == "failure" and "not on the screen" in run.reason
    assert "found in the UI hierarchy" in " ".join(s.records[1].notes)


def test_scroll_until_and_wait_for_read_the_hierarchy_without_a_model(virtual_phone, adb_server, tmp_path) -> None:
    with android(virtual_phone, adb_server) as env, Session(env, config=SessionConfig(out_dir=tmp_path)) as s:
        s.open_app("Contacts")
        found = s.scroll_until("Victor Nguyen", direction="down", max_swipes=10)
        assert found.value >= 1 and found.located_by == "hierarchy"
        assert virtual_phone.phone.find(text="Victor Nguyen") is not None
        assert s.wait_for("Victor Nguyen", timeout=2).value is True
        with pytest.raises(ScriptTimeout):
            s.wait_for("Nobody by that name", timeout=0.5)
        assert s.model_calls == 0


def test_secrets_are_typed_on_the_device_and_written_nowhere(
    virtual_phone, adb_server, scripted_server, tmp_path
) -> None:
    phone = virtual_phone.phone
    cache = tmp_path / "flow.cache.json"
    with android(virtual_phone, adb_server) as env:
        model = model_for(phone, scripted_server, **NOTE_TARGETS)
        config = SessionConfig(out_dir=tmp_path / "runs")
        with Session(env, model, FAMILY, cache=cache, config=config, secrets={"pin": "4321-9876"}) as s:
            note_flow(s, "code <secret:pin> ok")
    assert phone.state.notes[0] == "code 4321-9876 ok"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".html")]
    assert written and not [p for p in written if "4321-9876" in p.read_text(encoding="utf-8")]
    assert "<secret:pin>" in (s.folder / "steps.jsonl").read_text(encoding="utf-8")


def test_a_risky_tap_asks_first_and_a_no_stops_before_the_device(
    virtual_phone, adb_server, scripted_server, tmp_path
) -> None:
    phone = virtual_phone.phone
    with android(virtual_phone, adb_server) as env:
        model = model_for(phone, scripted_server, **{"the Delete note button": {"text": "New note"}})
        config = SessionConfig(out_dir=tmp_path, confirm=ConfirmPolicy("risky"))
        s = Session(env, model, FAMILY, config=config)  # default hooks: nobody to say yes
        with pytest.raises(ScriptDeclined) as caught, s:
            s.open_app("Notes")
            before = len(inputs(phone))
            s.tap("the Delete note button")
    assert caught.value.action == "click" and "delete" in caught.value.reason.lower()
    assert len(inputs(phone)) == before  # the tap never reached the phone
    assert s.records[-1].executed == 0


def test_a_cache_made_on_one_screen_size_runs_on_another(
    virtual_phone_factory, adb_server, scripted_server, tmp_path
) -> None:
    cache = tmp_path / "flow.cache.json"
    big = virtual_phone_factory()
    with android(big, adb_server) as env:
        model = model_for(big.phone, scripted_server, **NOTE_TARGETS)
        with Session(env, model, FAMILY, cache=cache, config=SessionConfig(out_dir=tmp_path / "runs")) as s:
            note_flow(s)
    recorded = s.folder
    assert s.model_calls == 3

    small = virtual_phone_factory(width=720, height=1600, density=280)
    with android(small, adb_server) as env:
        with Session(env, cache=cache, config=SessionConfig(out_dir=tmp_path / "small")) as again:
            note_flow(again)
    assert small.phone.state.notes[0] == "Buy oat milk" and again.model_calls == 0
    scaled = [n for r in again.records for n in r.notes if "from the cache" in n]
    assert len(scaled) == 3 and all("scaled from" in n for n in scaled)
    assert LocatorCache.load(cache).get("tap the Save button").screen == Size(1080, 2400)  # not rewritten

    # The session's trajectory is an ordinary run: guiagent replay performs it, guiagent report renders it.
    fresh = virtual_phone_factory()
    device = ["--device", f"android:{fresh.serial}", "--adb-port", str(adb_server.port)]
    assert main(["replay", str(recorded), *device, "--out", str(tmp_path / "replays")]) == 0
    assert fresh.phone.state.notes[0] == "Buy oat milk"
    assert main(["report", str(recorded)]) == 0 and (recorded / "report.html").exists()


def test_fast_mode_verifies_by_the_node_and_takes_no_screenshot_it_does_not_need(
    virtual_phone_factory, adb_server, scripted_server, tmp_path
) -> None:
    cache = tmp_path / "flow.cache.json"
    first = virtual_phone_factory()
    with android(first, adb_server) as env:
        model = model_for(first.phone, scripted_server, **NOTE_TARGETS)
        with Session(env, model, FAMILY, cache=cache, config=SessionConfig(out_dir=tmp_path / "a")) as s:
            note_flow(s)

    fast = SessionConfig(out_dir=tmp_path / "b", fast=True)
    again = virtual_phone_factory()
    with android(again, adb_server) as env, Session(env, cache=cache, config=fast) as s:
        note_flow(s)
    assert again.phone.state.notes[0] == "Buy oat milk" and s.model_calls == 0
    by_node = [r for r in s.records if any("verified by its node" in n for n in r.notes)]
    assert len(by_node) == 3 and all(r.screenshot is None for r in by_node)
    assert s.records[-1].screenshot is None  # the text check read the hierarchy only

    shifted = virtual_phone_factory(layout_shift=300)  # the Save button moved: its node is not at the point
    with android(shifted, adb_server) as env:
        session = Session(env, cache=cache, config=SessionConfig(out_dir=tmp_path / "c", fast=True))
        with pytest.raises(ScriptDivergence), session:
            note_flow(session)
    assert session.records[-1].index == 4 and session.records[-1].screenshot is not None
    assert len(inputs(shifted.phone)) == 3
