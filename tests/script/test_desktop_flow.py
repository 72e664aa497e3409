"""A YAML flow on a real X display (Xvfb) with a real Tk window, and a real HTTP model server, via the CLI.

The Tk recorder logs every input it receives, so the final state is read from the window itself. The
flow has 9 steps, 6 naming an element (the OK button twice). The pad's two clicks are apart, with the
entry's click between: a cached run is fast, and two clicks on one spot 100 ms apart are a double click. The window then moves 100 px to the right:
the clicks in the middle of the wide blue pad and of the wide entry still land on them (their patches
still match, so they run from the cache), while the OK and Slow buttons' old places now show another
button's label (they are grounded again; with ``--no-model`` the flow stops at the first of them, and
the window received nothing after the text typed before it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, DoubleClick
from guiagent.agent.cli import main
from guiagent.agent.trajectory import Trajectory
from guiagent.tasks.script import Session, SessionConfig
from tests.apps.tk_recorder import RecorderApp
from tests.script.grounder import Grounder

FAMILY = get_family("qwen2.5-vl-computer")
SCREEN = Size(1920, 1080)
FLOW = """\
name: fill the recorder
steps:
  - tap: the blue drawing area
  - tap: the text field
  - type: hello
  - double_tap: the blue drawing area
  - tap: the OK button
  - key: ctrl+a
  - type: world
  - tap: the Slow button
  - tap: the OK button
"""
GROUNDED = ["the blue drawing area", "the text field", "the blue drawing area", "the OK button", "the Slow button"]
GROUNDED += ["the OK button"]
WINDOW = (800, 600, 100, 80)
MOVED = (800, 600, 200, 80)


def grounder(app: RecorderApp) -> Grounder:
    table = {
        "the blue drawing area": lambda: app.center("pad"),
        "the text field": lambda: app.center("entry"),
        "the OK button": lambda: app.center("ok"),
        "the Slow button": lambda: app.center("slow"),
    }
    return Grounder(FAMILY, lambda: SCREEN, table)


def what_happened(app: RecorderApp) -> list[tuple[Any, ...]]:
    """The window's input log without coordinates or times: the state a run leaves, wherever the window is.

    The Slow button's own animation events are put last: a cached step acts as soon as its target is
    verified, so the second OK may arrive while the animation still runs, where a grounded run waited.
    """
    kept = []
    for event in app.events():
        kind = event["type"]
        if kind in ("press", "release"):
            kept.append((kind, event["button"], event.get("count")))
        elif kind == "text":
            kept.append((kind, event["text"]))
        elif kind == "key":
            kept.append((kind, event["keysym"]))
        elif kind == "button":
            kept.append((kind, event["name"]))
    animation = sorted(e["type"] for e in app.events() if e["type"] in ("anim_start", "anim_end"))
    return kept + [(kind,) for kind in animation]


@pytest.fixture
def recorder(xvfb, tmp_path: Path):
    """``start(geometry)`` → a fresh recorder window; each one is stopped before the next starts."""
    pytest.importorskip("tkinter", reason="Python was built without Tk")
    apps: list[RecorderApp] = []

    def start(geometry: tuple[int, int, int, int]) -> RecorderApp:
        for app in apps:
            app.stop()
        app = RecorderApp(tmp_path / f"events-{len(apps)}.jsonl", geometry, env=xvfb.environ())
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


def run_flow(flow: Path, out: Path, *extra: str) -> tuple[int, Trajectory]:
    code = main(["script", "run", str(flow), "--device", "desktop", "--family", FAMILY.name, "--out", str(out), *extra])
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return code, Trajectory.load(folder)


def settled(app: RecorderApp) -> list[tuple[Any, ...]]:
    app.wait_for(lambda e: e["type"] == "anim_end", timeout=5)  # the Slow button's animation is over
    return what_happened(app)


def test_a_flow_on_a_tk_window_grounds_once_then_runs_from_its_verified_cache(
    recorder, desktop_env, scripted_server, tmp_path: Path
) -> None:
    desktop_env.close()  # the fixture only checks the extra is installed; the CLI opens its own
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    scripted_server.repeat_last = True
    model = ["--base-url", scripted_server.url, "--model", "scripted"]

    app = recorder(WINDOW)
    scripted_server.script = [ground := grounder(app)]
    code, run = run_flow(flow, tmp_path / "run1", *model)
    assert code == 0, run.run.reason
    assert ground.asked == GROUNDED and len(scripted_server.requests) == 6
    expected = settled(app)
    assert app.text() == "world" and [e["name"] for e in app.events("button")] == ["ok", "ok"]
    assert ("press", 1, 2) in expected  # the double click arrived as one

    app = recorder(WINDOW)
    scripted_server.script = [ground := grounder(app)]
    code, run = run_flow(flow, tmp_path / "run2", *model)
    assert code == 0, run.run.reason
    assert ground.asked == [] and len(scripted_server.requests) == 6
    assert settled(app) == expected

    app = recorder(MOVED)
    code, run = run_flow(flow, tmp_path / "run3", "--no-model")
    assert code == 1 and run.status == "failure"
    assert run.steps[-1].index == 5 and run.steps[-1].error.type == "ScriptDivergence"
    assert [s.executed for s in run.steps] == [1, 1, 1, 1, 0]  # the pad, the field, "hello", the pad
    app.wait_for_text("hello")
    time.sleep(0.3)  # anything still on its way to the window would arrive by now
    got = what_happened(app)
    assert got == expected[: len(got)]  # what the window received is the start of a full run's input...
    assert [e["keysym"] for e in app.events("key")] == list("hello") and not app.events("button")
    assert got[-4:] == [("press", 1, 1), ("release", 1, None), ("press", 1, 2), ("release", 1, None)]  # the pad

    app = recorder(MOVED)
    scripted_server.script = [ground := grounder(app)]
    code, run = run_flow(flow, tmp_path / "run4", *model)
    assert code == 0, run.run.reason
    assert ground.asked == ["the OK button", "the Slow button", "the OK button"]
    assert settled(app) == expected
    by = {s.index: " ".join(s.notes) for s in run.steps}
    assert "from the cache (tap the blue drawing area)" in by[1] and "from the cache (tap the text field)" in by[2]
    assert "re-grounded (tap the OK button #2)" in by[9]


def test_two_taps_on_one_spot_stay_two_taps_however_fast_the_script_runs(tk_recorder, desktop_env, tmp_path) -> None:
    x, y = tk_recorder.center("pad")
    with Session(desktop_env, config=SessionConfig(out_dir=tmp_path)) as s:
        s.act(Click(x=x, y=y))
        s.act(Click(x=x, y=y))
        s.act(DoubleClick(x=x, y=y))
    tk_recorder.wait_for(lambda e: e["type"] == "press" and e["count"] == 2)
    assert [e["count"] for e in tk_recorder.events("press")] == [1, 1, 1, 2]  # not a double, then a triple click
