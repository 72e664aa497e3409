"""The desktop driver on a real X server (Xvfb) against a real Tk window that records what it receives.

Every test asserts the effect in the application (where the click landed, what the entry holds),
never which library call was made.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from guiagent.actions.errors import ActionParseError, CoordinateError, DeviceLost, DeviceNotFound, UnsupportedAction
from guiagent.actions.types import (
    Click,
    DoubleClick,
    Drag,
    Key,
    LongPress,
    MiddleClick,
    Move,
    OpenApp,
    RightClick,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
    Wait,
)
from guiagent.envs.desktop import DesktopEnv, DesktopFailSafe, list_monitors
from tests.apps.tk_recorder import PAD_COLOUR, STAGE_DONE_COLOUR, STAGE_IDLE_COLOUR, RecorderApp
from tests.fixtures.desktop import Xvfb

pytestmark = pytest.mark.timeout(60)


def _focus_entry(env: DesktopEnv, app: RecorderApp) -> None:
    env.execute(Click(x=app.center("entry")[0], y=app.center("entry")[1]))


# -- capture ---------------------------------------------------------------------------------------


def test_observe_shows_the_window_where_it_is(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    obs = desktop_env.observe()
    assert obs.image.mode == "RGB"
    assert obs.image.size == (1920, 1080)
    assert (obs.geometry.width, obs.geometry.height) == (1920, 1080)
    assert obs.geometry.origin == (0, 0) and obs.geometry.scale == 1.0
    assert obs.capture_seconds < 1.0
    left, top, width, height = tk_recorder.layout["pad"]
    for x, y in [(left, top), (left + width - 1, top + height - 1), tk_recorder.center("pad")]:
        assert obs.image.getpixel((x, y)) == PAD_COLOUR, (x, y)
    assert obs.image.getpixel((left - 1, top + 5)) != PAD_COLOUR  # the screen outside the window
    assert obs.image.getpixel(tk_recorder.center("stage")) == STAGE_IDLE_COLOUR


def test_monitors(desktop_env: DesktopEnv) -> None:
    assert [(m.index, m.left, m.top, m.width, m.height, m.name) for m in list_monitors()] == [
        (1, 0, 0, 1920, 1080, "desktop:1")
    ]
    with DesktopEnv(0) as everything:
        assert everything.observe().image.size == (1920, 1080)
    with pytest.raises(DeviceNotFound) as info:
        DesktopEnv(5)
    assert info.value.available == ["desktop:0", "desktop:1"]


def test_each_thread_captures_with_its_own_connection(desktop_env: DesktopEnv) -> None:
    sizes: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def grab() -> None:
        try:
            for _ in range(3):
                sizes.append(desktop_env.observe().image.size)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sizes == [(1920, 1080)] * 9
    assert len(desktop_env._captures) >= 3  # one mss instance per thread that observed
    desktop_env.close()
    assert desktop_env._captures == []
    desktop_env.close()  # safe twice
    with pytest.raises(DeviceLost):
        desktop_env.observe()


# -- mouse -----------------------------------------------------------------------------------------


def test_clicks_land_on_the_device_pixel(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    left, top, width, height = tk_recorder.layout["pad"]
    points = [(left, top), (left + width - 1, top + height - 1), (left + 123, top + 45), tk_recorder.center("pad")]
    for x, y in points:
        desktop_env.execute(Click(x=x, y=y))
    tk_recorder.wait_for(lambda e: e["type"] == "release" and (e["x"], e["y"]) == points[-1])
    presses = [(e["x"], e["y"], e["button"]) for e in tk_recorder.events("press")]
    assert presses == [(x, y, 1) for x, y in points]


def test_double_right_and_middle_clicks(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    x, y = tk_recorder.center("pad")
    desktop_env.execute(DoubleClick(x=x, y=y))
    tk_recorder.wait_for(lambda e: e["type"] == "press" and e["count"] == 2)
    time.sleep(0.6)  # let Tk's double-click window pass before the next button
    desktop_env.execute(RightClick(x=x + 10, y=y))
    desktop_env.execute(MiddleClick(x=x + 20, y=y))
    tk_recorder.wait_for(lambda e: e["type"] == "release" and e["button"] == 2)
    presses = [(e["button"], e["count"], e["x"]) for e in tk_recorder.events("press")]
    assert presses == [(1, 1, x), (1, 2, x), (3, 1, x + 10), (2, 1, x + 20)]


def test_click_without_a_point_clicks_where_the_cursor_is(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    x, y = tk_recorder.center("pad")
    desktop_env.execute(Move(x=x - 50, y=y + 30))
    desktop_env.execute(Click())
    press = tk_recorder.wait_for(lambda e: e["type"] == "press")
    assert (press["x"], press["y"]) == (x - 50, y + 30)


@pytest.mark.parametrize(("direction", "amount"), [("up", 3), ("down", 2), ("left", 1), ("right", 2)])
def test_scroll_at_a_point(desktop_env: DesktopEnv, tk_recorder: RecorderApp, direction: str, amount: int) -> None:
    x, y = tk_recorder.center("pad")
    desktop_env.execute(Scroll(direction=direction, amount=amount, x=x + 7, y=y - 7))  # type: ignore[arg-type]
    deadline = time.monotonic() + 5
    while len(tk_recorder.events("wheel")) < amount and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    wheels = tk_recorder.events("wheel")
    assert [(e["direction"], e["x"], e["y"]) for e in wheels] == [(direction, x + 7, y - 7)] * amount


def test_drag_from_start_to_end(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    x, y = tk_recorder.center("pad")
    desktop_env.execute(Drag(x=x - 200, y=y - 50, x2=x + 150, y2=y + 60, duration=0.3))
    release = tk_recorder.wait_for(lambda e: e["type"] == "release")
    press = tk_recorder.events("press")[0]
    motions = tk_recorder.events("motion")
    assert (press["x"], press["y"], press["button"]) == (x - 200, y - 50, 1)
    assert (release["x"], release["y"], release["button"]) == (x + 150, y + 60, 1)
    assert len(motions) >= 3  # the pointer travelled with the button held
    assert (motions[-1]["x"], motions[-1]["y"]) == (x + 150, y + 60)


def test_drag_from_the_cursor_and_swipe(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    x, y = tk_recorder.center("pad")
    desktop_env.execute(Move(x=x, y=y))
    desktop_env.execute(Drag(x2=x + 40, y2=y + 40, duration=0.15))
    desktop_env.execute(Swipe(x=x + 100, y=y, x2=x + 100, y2=y - 80, duration=0.15))
    tk_recorder.wait_for(lambda e: e["type"] == "release" and e["y"] == y - 80)
    ends = [(e["type"], e["x"], e["y"]) for e in tk_recorder.all_events() if e["type"] in ("press", "release")]
    assert ends[-4:] == [
        ("press", x, y),
        ("release", x + 40, y + 40),
        ("press", x + 100, y),
        ("release", x + 100, y - 80),
    ]


def test_long_press_holds_the_button(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    x, y = tk_recorder.center("pad")
    desktop_env.execute(LongPress(x=x, y=y, duration=0.4))
    release = tk_recorder.wait_for(lambda e: e["type"] == "release")
    press = tk_recorder.events("press")[0]
    assert (press["x"], press["y"]) == (release["x"], release["y"]) == (x, y)
    assert release["t"] - press["t"] >= 0.38


# -- keyboard --------------------------------------------------------------------------------------


def test_type_ascii(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    _focus_entry(desktop_env, tk_recorder)
    text = "Hello, World! 123 ~`|\\{}[]<>?@#$%^&*()_+-=\"'"
    desktop_env.execute(Type(text=text))
    assert tk_recorder.wait_for_text(text) == text


def test_type_non_ascii(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    _focus_entry(desktop_env, tk_recorder)
    desktop_env.execute(Type(text="ok "))
    text = "ok héllo wörld 日本語 ✓"
    desktop_env.execute(Type(text="héllo wörld 日本語 ✓"))
    assert tk_recorder.wait_for_text(text) == text


@pytest.mark.parametrize("chord", [["ctrl", "a"], ["Control+A"]])
def test_select_all_chord_then_type_replaces(
    desktop_env: DesktopEnv, tk_recorder: RecorderApp, chord: list[str]
) -> None:
    _focus_entry(desktop_env, tk_recorder)
    desktop_env.execute(Type(text="old text"))
    assert tk_recorder.wait_for_text("old text") == "old text"
    desktop_env.execute(Key(keys=chord))
    desktop_env.execute(Type(text="new"))
    assert tk_recorder.wait_for_text("new") == "new"


def test_key_names_reach_the_app_as_the_right_keys(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    _focus_entry(desktop_env, tk_recorder)
    for names in (["Return"], ["ArrowLeft"], ["esc"], ["pgdn"], ["shift", "F3"]):
        desktop_env.execute(Key(keys=names))
    desktop_env.execute(SystemButton(button="enter"))
    desktop_env.execute(SystemButton(button="back"))
    tk_recorder.wait_for(lambda e: e["type"] == "key" and e["keysym"] == "Left" and "alt" in e["mods"])
    keys = [(e["keysym"], e["mods"]) for e in tk_recorder.events("key") if e["keysym"] not in _MODIFIER_KEYSYMS]
    assert keys == [
        ("Return", []),
        ("Left", []),
        ("Escape", []),
        ("Next", []),
        ("F3", ["shift"]),
        ("Return", []),
        ("Left", ["alt"]),
    ]


_MODIFIER_KEYSYMS = {"Shift_L", "Control_L", "Alt_L", "Super_L"}


def test_unknown_key_goes_back_to_the_model(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    with pytest.raises(ActionParseError, match="valid keys"):
        desktop_env.execute(Key(keys=["hyperdrive"]))
    assert tk_recorder.events("key") == []


# -- settle ----------------------------------------------------------------------------------------


def test_settle_waits_for_the_animation_and_no_longer(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    desktop_env.execute(Click(x=tk_recorder.center("slow")[0], y=tk_recorder.center("slow")[1]))
    result = desktop_env.settle(max_wait=3.0)
    end = tk_recorder.wait_for(lambda e: e["type"] == "anim_end")
    assert result.stable
    assert result.observation.timestamp >= end["wall"]  # the stable frame came after the last change
    assert result.observation.image.getpixel(tk_recorder.center("stage")) == STAGE_DONE_COLOUR
    assert result.seconds < 1.5  # 300 ms of animation + a few frames, far below max_wait


# -- refusals and safety ---------------------------------------------------------------------------


def test_refusals(desktop_env: DesktopEnv) -> None:
    with pytest.raises(UnsupportedAction) as info:
        desktop_env.execute(OpenApp(name="Settings"))
    assert info.value.action == "open_app" and info.value.device == "desktop:1"
    for button in ("home", "menu", "recents"):
        with pytest.raises(UnsupportedAction):
            desktop_env.execute(SystemButton(button=button))  # type: ignore[arg-type]
    with pytest.raises(UnsupportedAction):
        desktop_env.execute(Terminate())
    with pytest.raises(ValueError, match="device pixels"):
        desktop_env.execute(Click(x=500, y=500, space="relative-1000"))
    with pytest.raises(CoordinateError):
        desktop_env.execute(Click(x=1920, y=10))
    start = time.monotonic()
    desktop_env.execute(Wait(seconds=0.2))
    assert time.monotonic() - start >= 0.2


def test_fail_safe(desktop_env: DesktopEnv, tk_recorder: RecorderApp) -> None:
    desktop_env.execute(Click(x=0, y=0))  # our own click in a corner must not stop the next action
    desktop_env.execute(Click(x=1919, y=1079))
    desktop_env.execute(Move(x=500, y=500))
    import pyautogui  # the person grabs the mouse and throws it into a corner

    pyautogui.FAILSAFE = False
    pyautogui.moveTo(0, 0)
    with pytest.raises(DesktopFailSafe):
        desktop_env.execute(Click(x=500, y=500))
    with DesktopEnv(1, fail_safe=False) as unsafe:  # opting out goes on regardless
        unsafe.execute(Move(x=600, y=600))
    assert tuple(pyautogui.position()) == (600, 600)


# -- losing the display ----------------------------------------------------------------------------


def test_a_display_that_dies_is_device_lost(xvfb: Xvfb, monkeypatch: pytest.MonkeyPatch) -> None:
    with Xvfb(640, 480) as doomed:
        monkeypatch.setenv("DISPLAY", doomed.display)
        env = DesktopEnv(1)
        assert env.observe().image.size == (640, 480)
        doomed.stop()
        with pytest.raises(DeviceLost, match="gone"):
            env.observe()
        env.close()


_CHILD_INPUT = """
import sys
from guiagent.actions.errors import DeviceLost, DeviceNotFound
from guiagent.actions.types import Move
from guiagent.envs.desktop import DesktopEnv

env = DesktopEnv()
env.observe()
try:
    env.execute(Move(x=10, y=10))
except DeviceNotFound as exc:
    print("NOT FOUND", exc, flush=True)
    sys.exit(0)
print("MOVED", flush=True)
sys.stdin.readline()
try:
    env.execute(Move(x=20, y=20))
except DeviceLost as exc:
    print("LOST", exc, flush=True)
"""


def _child_env(display: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY")}
    return {**env, "DISPLAY": display, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **extra}


def test_input_on_a_display_that_dies_is_device_lost(xvfb: Xvfb) -> None:
    with Xvfb(640, 480) as doomed:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD_INPUT],
            env=_child_env(doomed.display, XAUTHORITY=doomed.xauthority),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().startswith("MOVED")
        doomed.stop()
        child.stdin.write("go\n")
        child.stdin.flush()
        out, _ = child.communicate(timeout=30)
    assert out.startswith("LOST") and "gone" in out


def test_a_missing_xauthority_file_is_explained(xvfb: Xvfb, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD_INPUT],
        env=_child_env(xvfb.display, HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.startswith("NOT FOUND"), done.stderr
    assert "XAUTHORITY" in done.stdout and "empty" in done.stdout
    assert not (tmp_path / ".Xauthority").exists()  # nothing was created behind the user's back
