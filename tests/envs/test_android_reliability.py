"""The Android driver when things go wrong: timeouts, dropped connections, errors, rotation, cleanup.

Everything runs through the real adb server against the virtual phone. Faults are injected on the
phone's side (``drop_connection_after``, ``missing_commands``, ``simulate_durations``), so the driver
sees exactly what a flaky cable or a stripped vendor build would show it. Assertions are on what the
phone received (``phone.executed``) and on the typed error the driver raised.
"""

from __future__ import annotations

import base64
import logging
import time
import traceback
from collections.abc import Callable, Iterator

import pytest

from guiagent.actions.errors import CoordinateError, DeviceError, DeviceLost
from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, LongPress, OpenApp, Scroll, Swipe, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.envs.adb import CommandInterrupted, DeviceCommandError
from guiagent.envs.android import ADB_KEYBOARD_IME, AndroidEnv
from tests.fixtures.phone import ConnectedPhone

LATIN_IME = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME"


@pytest.fixture
def open_env(adb_server) -> Iterator[Callable[..., AndroidEnv]]:
    """``open_env(connected, **AndroidEnv options)``; every env made is closed at teardown."""
    made: list[AndroidEnv] = []

    def make(connected: ConnectedPhone, **options: object) -> AndroidEnv:
        options.setdefault("retry_window", 3.0)
        env = AndroidEnv(connected.serial, adb_port=adb_server.port, **options)  # type: ignore[arg-type]
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


def swipes(connected: ConnectedPhone) -> list[list[str]]:
    return [argv for argv in connected.phone.executed if argv[:2] == ["input", "swipe"]]


def taps(connected: ConnectedPhone) -> list[list[str]]:
    return [argv for argv in connected.phone.executed if argv[:2] == ["input", "tap"]]


def open_new_note(env: AndroidEnv, connected: ConnectedPhone) -> None:
    env.execute(OpenApp(name="Notes"))
    widget = connected.phone.find(text="New note")
    assert widget is not None
    x, y = widget.bounds.center
    env.execute(Click(x=x, y=y))


# -- item 2: retries never repeat input ----------------------------------------------------------


def test_a_long_press_longer_than_the_command_timeout_reaches_the_phone_once(virtual_phone_factory, open_env) -> None:
    connected = virtual_phone_factory(simulate_durations=True)
    env = open_env(connected, command_timeout=2.0)
    started = time.monotonic()
    env.execute(LongPress(x=540, y=1200, duration=3.0))  # no DeviceLost: the timeout covers the 3 s hold
    assert time.monotonic() - started >= 3.0
    assert swipes(connected) == [["input", "swipe", "540", "1200", "540", "1200", "3000"]]


def test_a_run_with_a_long_press_longer_than_the_timeout_succeeds(
    virtual_phone_factory, open_env, scripted_server, tmp_path
) -> None:
    connected = virtual_phone_factory(simulate_durations=True)
    env = open_env(connected, command_timeout=2.0)
    family = get_family("qwen2.5-vl-mobile")
    mapping = family.mapping(Size(1080, 2400))
    scripted_server.script = [
        family.format_action(mapping.to_model(LongPress(x=540, y=1200, duration=3.0))),
        family.format_action(mapping.to_model(Terminate(status="success"))),
    ]
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    config = AgentConfig(max_steps=4, out_dir=tmp_path, settle=False)
    trajectory = Agent(env, backend, family, config).run("Hold the middle of the screen for 3 s")
    assert trajectory.status == "success", trajectory.run.reason
    assert len(swipes(connected)) == 1 and swipes(connected)[0][-1] == "3000"


def test_a_gesture_whose_connection_drops_is_not_sent_again(virtual_phone_factory, open_env) -> None:
    connected = virtual_phone_factory()
    env = open_env(connected)
    env.observe()
    connected.phone.drop_connection_after("input", "swipe")
    with pytest.raises(CommandInterrupted, match="not sent again") as interrupted:
        env.execute(Swipe(x=540, y=1900, x2=540, y2=700, duration=0.3))
    assert swipes(connected) == [["input", "swipe", "540", "1900", "540", "700", "300"]]
    assert interrupted.value.command == "input swipe 540 1900 540 700 300"
    assert interrupted.value.device == connected.serial
    # the phone is still there: the next look reconnects, and the next tap is sent once
    assert env.observe().image.size == (1080, 2400)
    env.execute(Click(x=540, y=1200))
    assert len(taps(connected)) == 1


def test_a_query_whose_connection_drops_is_asked_again(virtual_phone_factory, open_env) -> None:
    connected = virtual_phone_factory()
    env = open_env(connected)
    connected.phone.drop_connection_after("settings", "get")
    assert env.query(["settings", "get", "global", "wifi_on"]) == "1"
    asked = [argv for argv in connected.phone.executed if argv[:2] == ["settings", "get"]]
    assert len(asked) == 2  # read-only, so asking twice is safe


def test_a_value_error_is_a_bug_and_is_not_retried(virtual_phone, open_env) -> None:
    env = open_env(virtual_phone)
    started = time.monotonic()
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate cannot go on the wire: no retrying helps
        env.adb.run(["echo", "\udc80"])
    assert time.monotonic() - started < 1.0
    assert ["echo", "\udc80"] not in virtual_phone.phone.executed


# -- item 11: a device that answers with an error is not lost ------------------------------------


def test_a_device_that_answers_an_error_is_not_lost(virtual_phone_factory, adb_server) -> None:
    connected = virtual_phone_factory(missing_commands={"wm"})
    started = time.monotonic()
    with pytest.raises(DeviceCommandError) as failed:
        AndroidEnv(connected.serial, adb_port=adb_server.port, retry_window=10.0)
    assert time.monotonic() - started < 2.0  # at once, not after 10 s of retries
    error = failed.value
    assert not isinstance(error, DeviceLost)
    assert error.command == "wm density" and error.exit_code == 127
    assert "not found" in error.output
    assert "`wm density`" in str(error) and "not found" in str(error) and connected.serial in str(error)


def test_a_refused_service_is_an_error_at_once(virtual_phone, open_env) -> None:
    env = open_env(virtual_phone, retry_window=10.0)
    started = time.monotonic()
    with pytest.raises(DeviceCommandError, match="refused"):
        env.adb.run_raw("")  # adbd refuses an interactive shell: it answered, so it is not lost
    assert time.monotonic() - started < 2.0


# -- item 10: geometry follows the frame ---------------------------------------------------------


def test_rotation_to_landscape_maps_scrolls_and_taps_inside_the_landscape_frame(virtual_phone, open_env) -> None:
    phone = virtual_phone.phone
    env = open_env(virtual_phone)
    env.execute(OpenApp(name="Contacts"))
    portrait = env.observe()
    assert portrait.image.size == (1080, 2400) and portrait.geometry.orientation == 0
    phone.set_rotation(1)
    landscape = env.observe()
    assert landscape.image.size == (2400, 1080)
    assert (landscape.geometry.width, landscape.geometry.height) == (2400, 1080)
    assert landscape.geometry.orientation == 90
    env.execute(Scroll(direction="down", amount=5))
    x1, y1, x2, y2 = (int(v) for v in swipes(virtual_phone)[-1][2:6])
    assert all(0 <= x < 2400 for x in (x1, x2)) and all(0 <= y < 1080 for y in (y1, y2)), (x1, y1, x2, y2)
    assert x1 == x2 == 1200 and y1 > y2  # a vertical swipe through the middle of the landscape frame
    env.execute(Click(x=2000, y=900))  # inside landscape, outside portrait's width
    assert taps(virtual_phone)[-1] == ["input", "tap", "2000", "900"]
    before = len(phone.executed)
    with pytest.raises(CoordinateError, match="outside the 2400x1080 screen") as off:
        env.execute(Click(x=500, y=1800))  # inside portrait, below the landscape frame
    assert off.value.point == (500.0, 1800.0)
    with pytest.raises(CoordinateError):
        env.execute(Swipe(x=100, y=100, x2=100, y2=1500))
    assert len(phone.executed) == before  # nothing off-screen reached the phone
    phone.set_rotation(0)
    assert env.observe().geometry.orientation == 0


def test_points_off_a_portrait_screen_are_refused(virtual_phone, open_env) -> None:
    env = open_env(virtual_phone)
    env.observe()
    for action in (Click(x=1080, y=10), LongPress(x=5000, y=10), Scroll(direction="up", x=10, y=2400)):
        with pytest.raises(CoordinateError, match="outside the 1080x2400 screen"):
            env.execute(action)
    assert not taps(virtual_phone) and not swipes(virtual_phone)


# -- item 13: nothing left on the phone -----------------------------------------------------------


def test_adb_keyboard_does_not_stay_the_input_method(virtual_phone, open_env) -> None:
    phone = virtual_phone.phone
    env = open_env(virtual_phone)
    open_new_note(env, virtual_phone)
    env.execute(Type(text="héllo 日本"))
    assert phone.state.focused_text == "héllo 日本" and phone.current_ime == ADB_KEYBOARD_IME
    env.close()
    assert phone.current_ime == LATIN_IME
    assert phone.enabled_imes() == [LATIN_IME]  # it was not enabled before the run, so it is not after


def test_an_input_method_chosen_by_the_person_is_kept(virtual_phone_factory, open_env) -> None:
    connected = virtual_phone_factory(adb_keyboard_active=True)
    env = open_env(connected)
    open_new_note(env, connected)
    env.execute(Type(text="ça va"))
    env.close()
    assert connected.phone.current_ime == ADB_KEYBOARD_IME  # it was theirs before the run
    assert ADB_KEYBOARD_IME in connected.phone.enabled_imes()


def test_the_ui_dump_leaves_no_file_on_the_phone(virtual_phone, open_env) -> None:
    files = virtual_phone.phone.files
    before = files.listdir("/sdcard")
    env = open_env(virtual_phone)
    nodes = env.ui_nodes()
    assert nodes and any(node.label == "Settings" for node in nodes)
    assert files.listdir("/sdcard") == before
    assert not [argv for argv in virtual_phone.phone.executed if argv[:1] == ["rm"]]  # nothing to clean up


# -- item 9: typed text never reaches an error, a log line or a record ----------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [("pässwörd-42 Zq9xWv", ("am", "broadcast")), ("hunter2 Xk7sEcret", ("input", "text"))],
    ids=["adb-keyboard", "input-text"],
)
def test_typed_text_is_never_in_an_error_or_a_log(virtual_phone_factory, open_env, caplog, text, command) -> None:
    connected = virtual_phone_factory(shell_v2=False)  # an old phone: adbutils' v1 path
    env = open_env(connected)
    open_new_note(env, connected)
    connected.phone.drop_connection_after(*command, times=100)
    forms = [
        text,
        base64.b64encode(text.encode("utf-8")).decode("ascii"),
        text.replace(" ", "%s"),
        *text.split(" "),
    ]
    with caplog.at_level(logging.DEBUG), pytest.raises(DeviceError) as failed:
        env.execute(Type(text=text))
    error = failed.value
    written = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    written += repr(vars(error)) + caplog.text
    written = written.replace(connected.phone.serial, "")
    for form in forms:
        assert form not in written, (form, written[-2000:])
    assert "<hidden>" in str(error)


def test_a_failed_broadcast_names_the_command_without_the_text(virtual_phone_factory, open_env) -> None:
    connected = virtual_phone_factory(missing_commands={"am"})
    env = open_env(connected)
    open_new_note(env, connected)
    secret = "пароль 1234"
    with pytest.raises(DeviceCommandError) as failed:
        env.execute(Type(text=secret))
    encoded = base64.b64encode(secret.encode("utf-8")).decode("ascii")
    message = str(failed.value) + repr(vars(failed.value))
    assert secret not in message and encoded not in message
    assert failed.value.command == "am broadcast -a ADB_INPUT_B64 --es msg <hidden>"
