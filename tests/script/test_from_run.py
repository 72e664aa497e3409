"""``guiagent script from-run``: the bundled agent run (a note, a message, Wi-Fi off) becomes a flow and its cache.

The cache is filled from the run's own screenshots, so the flow's first run on a fresh virtual phone
needs no model at all, and ends with the task done, checked on the phone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guiagent.actions.errors import ConfigError
from guiagent.agent.cli import main
from guiagent.agent.trajectory import Trajectory
from guiagent.tasks.demo import bundled_run
from guiagent.tasks.script.cache import NodeRef
from guiagent.tasks.script.from_run import describe_node, script_from_run
from guiagent.tasks.script.yaml_script import load_script


def run_no_model(flow: Path, connected, port: int, out: Path) -> tuple[int, Trajectory]:
    device = ["--device", f"android:{connected.serial}", "--adb-port", str(port)]
    code = main(["script", "run", str(flow), *device, "--no-model", "--out", str(out)])
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return code, Trajectory.load(folder)


def done(phone) -> None:
    state = phone.state
    assert state.notes[0] == "Buy oat milk"
    assert state.conversations["Bob Smith"][-1] == ("me", "On my way")
    assert not state.wifi_on


def test_a_run_becomes_a_flow_whose_cache_needs_no_model(virtual_phone_factory, adb_server, tmp_path: Path) -> None:
    flow = tmp_path / "demo.yaml"
    assert main(["script", "from-run", str(bundled_run()), "-o", str(flow)]) == 0
    text = flow.read_text(encoding="utf-8")
    assert "- open_app: Notes\n" in text and "- tap: Save\n" in text and "- key: home\n" in text
    assert "described by the model's thought" in text  # the run holds no UI node: a person should reword
    script = load_script(flow)  # what from-run writes is a valid flow
    assert len(script.steps) == 14
    cache = json.loads((tmp_path / "demo.cache.json").read_text(encoding="utf-8"))["entries"]
    assert list(cache)[:2] == ["tap New note", "tap Save"] and len(cache) == 7
    assert cache["tap Save"]["answer"].startswith("Tap 'Save'.")  # the model's own answer, kept

    phone = virtual_phone_factory()
    code, run = run_no_model(flow, phone, adb_server.port, tmp_path / "runs")
    assert code == 0, run.run.reason
    assert run.run.settings["result"]["model_calls"] == 0 and run.run.settings["result"]["from_cache"] == 7
    done(phone.phone)

    assert main(["script", "from-run", str(bundled_run()), "-o", str(flow)]) == 2  # exists: refused


def test_with_a_device_the_descriptions_come_from_the_ui_nodes(
    virtual_phone_factory, adb_server, tmp_path: Path
) -> None:
    flow = tmp_path / "demo.yaml"
    reader = virtual_phone_factory()
    device = ["--device", f"android:{reader.serial}", "--adb-port", str(adb_server.port)]
    code = main(["script", "from-run", str(bundled_run()), "-o", str(flow), *device, "--out", str(tmp_path / "r")])
    assert code == 0
    text = flow.read_text(encoding="utf-8")
    assert '- tap: the "New note" button\n' in text and '- tap: the "Save" button\n' in text
    assert "- type: {text: Bob Smith, into: the recipient field" in text  # a field's tap and its typing: one step
    assert "described by the model's thought" not in text
    cache = json.loads((tmp_path / "demo.cache.json").read_text(encoding="utf-8"))["entries"]
    assert cache['tap the "Save" button']["node"]["resource_id"] == "com.guiagent.notes:id/save"

    phone = virtual_phone_factory()
    code, run = run_no_model(flow, phone, adb_server.port, tmp_path / "runs")
    assert code == 0, run.run.reason
    done(phone.phone)


def test_only_a_successful_run_becomes_a_flow(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    source = bundled_run()
    data = json.loads((source / "run.json").read_text(encoding="utf-8"))
    (run / "run.json").write_text(json.dumps({**data, "status": "max_steps"}), encoding="utf-8")
    (run / "steps.jsonl").write_text((source / "steps.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError, match="only a successful run"):
        script_from_run(run, tmp_path / "flow.yaml")


def test_node_descriptions_name_what_a_person_looks_for() -> None:
    def node(cls: str, text: str = "", rid: str = "", desc: str = "") -> NodeRef:
        return NodeRef(rid, text, f"android.widget.{cls}", desc, (0, 0, 10, 10))

    assert describe_node(node("Button", "Save")) == 'the "Save" button'
    assert describe_node(node("ImageButton", desc="Navigate up")) == 'the "Navigate up" button'
    assert describe_node(node("EditText", "Bob", "com.x:id/recipient")) == 'the recipient field ("Bob")'
    assert describe_node(node("FrameLayout", rid="com.x:id/content")) == "the content"
    assert describe_node(node("FrameLayout")) == ""
