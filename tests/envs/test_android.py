"""The Android driver through the real adb server and adbutils, against the virtual phone.

Everything crosses the real ADB wire: the driver quotes, the adb server forwards, the phone's own sh
lexer parses. Assertions are on what the phone received and on its state and pixels afterwards.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from guiagent.actions.errors import ActionRejected, DeviceLost, DeviceNotFound, InputMethodMissing, UnsupportedAction
from guiagent.actions.types import (
    Click,
    DoubleClick,
    Key,
    LongPress,
    Move,
    OpenApp,
    Scroll,
    Swipe,
    SystemButton,
    Terminate,
    Type,
)
from guiagent.envs import android as android_module
from guiagent.envs.android import AndroidEnv, decode_raw_screencap, raw_screencap_signature
from guiagent.envs.settle import image_signature
from guiagent.envs.virtual_phone import PhoneServer
from tests.fixtures.phone import ConnectedPhone, wait_for_state

INJECTION = "a; rm -rf / $(reboot) `id` \"q\" 'x' %s && echo pwned"


@pytest.fixture
def env(virtual_phone: ConnectedPhone, adb_server) -> AndroidEnv:
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port, retry_window=3.0) as android:
        yield android


def center(phone, **query) -> tuple[int, int]:
    widget = phone.find(**query)
    assert widget is not None, f"nothing on screen matches {query}"
    return widget.bounds.center


def test_observe_returns_the_phone_frame_with_geometry(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    observation = env.observe()
    assert observation.image.size == (1080, 2400)
    assert observation.geometry.density == 420 and observation.geometry.orientation == 0
    assert np.array_equal(np.asarray(observation.image), np.asarray(virtual_phone.phone.frame()))
    # "auto" timed one capture each way on the first look and kept the faster
    assert (
        env.capture_choice.startswith(env.screenshot_mode)
        and "raw" in env.capture_choice
        and "png" in env.capture_choice
    )
    received = [e.text for e in virtual_phone.phone.command_log]
    assert "exec:screencap" in received and "exec:screencap -p" in received


def test_png_screenshots_give_the_same_pixels(virtual_phone: ConnectedPhone, adb_server) -> None:
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port, screenshot="png") as android:
        image = android.observe().image
    assert np.array_equal(np.asarray(image), np.asarray(virtual_phone.phone.frame()))


def test_raw_decoder_handles_old_headers_and_refuses_nonsense() -> None:
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(3, 2, 4)
    header12 = np.array([2, 3, 1], dtype="<u4").tobytes()
    image = decode_raw_screencap(header12 + pixels.tobytes())
    assert image.size == (2, 3) and np.array_equal(np.asarray(image), pixels[:, :, :3])
    bgra = decode_raw_screencap(np.array([2, 3, 5], dtype="<u4").tobytes() + pixels.tobytes())
    assert np.array_equal(np.asarray(bgra), pixels[:, :, [2, 1, 0]])
    with pytest.raises(ValueError, match="does not match"):
        decode_raw_screencap(header12 + b"\0" * 7)
    with pytest.raises(ValueError, match="format 9"):
        decode_raw_screencap(np.array([2, 3, 9], dtype="<u4").tobytes() + pixels.tobytes())


@pytest.mark.parametrize("pixel_format", [1, 2, 5])
@pytest.mark.parametrize("header_words", [3, 4])
def test_the_raw_signature_equals_the_decoded_image_signature(pixel_format: int, header_words: int) -> None:
    pixels = np.random.default_rng(pixel_format).integers(0, 256, (37, 21, 4), dtype=np.uint8)
    header = np.array([21, 37, pixel_format, 1][:header_words], dtype="<u4").tobytes()
    data = header + pixels.tobytes()
    assert np.array_equal(raw_screencap_signature(data), image_signature(decode_raw_screencap(data)))
    with pytest.raises(ValueError, match="does not match"):
        raw_screencap_signature(data[:-1])


def test_settle_compares_raw_frames_and_decodes_only_the_one_it_keeps(
    env: AndroidEnv, virtual_phone: ConnectedPhone, monkeypatch
) -> None:
    env.observe()  # the first look chooses the capture mode
    env.screenshot_mode = "raw"
    decoded: list[int] = []
    real_decode = android_module.decode_raw_screencap
    monkeypatch.setattr(android_module, "decode_raw_screencap", lambda data: decoded.append(1) or real_decode(data))
    virtual_phone.phone.shell("monkey -p com.guiagent.notes -c android.intent.category.LAUNCHER 1")
    result = env.settle(min_wait=0.0, max_wait=2.0, interval=0.0)
    assert result.stable and result.frames >= 2 and len(decoded) == 1
    assert np.array_equal(np.asarray(result.observation.image), np.asarray(virtual_phone.phone.frame()))
    assert result.observation.image.size == (1080, 2400) and result.observation.capture_seconds > 0


def test_settle_takes_identical_pngs_as_stable_without_decoding_them_again(
    virtual_phone: ConnectedPhone, adb_server, monkeypatch
) -> None:
    decoded: list[int] = []
    real_decode = android_module._decode_png
    monkeypatch.setattr(android_module, "_decode_png", lambda *a: decoded.append(1) or real_decode(*a))
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port, screenshot="png") as android:
        virtual_phone.phone.shell("monkey -p com.android.settings -c android.intent.category.LAUNCHER 1")
        result = android.settle(min_wait=0.0, max_wait=2.0, interval=0.0)
    assert result.stable and result.frames >= 2 and len(decoded) == 1
    assert np.array_equal(np.asarray(result.observation.image), np.asarray(virtual_phone.phone.frame()))


def test_tap_toggles_wifi_and_changes_the_screen(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    phone = virtual_phone.phone
    env.execute(OpenApp(name="Settings"))
    assert phone.state.package == "com.android.settings"
    before = np.asarray(env.observe().image).astype(int)
    x, y = center(phone, text="Wi-Fi")
    env.execute(Click(x=x, y=y))
    assert env.query(["settings", "get", "global", "wifi_on"]) == "0"
    after = np.asarray(env.observe().image).astype(int)
    assert (np.abs(after - before).sum(axis=2) > 30).sum() > 500
    assert ["input", "tap", str(x), str(y)] in phone.executed


def test_typed_text_is_data_never_a_command(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    phone = virtual_phone.phone
    env.execute(OpenApp(name="com.guiagent.notes"))
    env.execute(Click(*[], x=center(phone, text="New note")[0], y=center(phone, text="New note")[1]))
    start = len(phone.executed)
    env.execute(Type(text=INJECTION))
    assert phone.state.focused_text == INJECTION
    commands = phone.executed[start:]
    assert commands and all(argv[:2] == ["input", "text"] for argv in commands), commands
    flat = " ".join(" ".join(argv) for argv in commands)
    for forbidden in (["rm"], ["reboot"], ["id"], ["echo", "pwned"]):
        assert forbidden not in [argv[: len(forbidden)] for argv in commands], flat


@pytest.mark.parametrize("text", ["100%sure", "50% off", "%s%s", "a  b", "line one\nline two", "tab\there"])
def test_percent_escapes_spaces_and_newlines(env: AndroidEnv, virtual_phone: ConnectedPhone, text: str) -> None:
    phone = virtual_phone.phone
    env.execute(OpenApp(name="Notes"))
    x, y = center(phone, text="New note")
    env.execute(Click(x=x, y=y))
    env.execute(Type(text=text))
    assert phone.state.focused_text == text


def test_non_ascii_text_uses_adb_keyboard(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    phone = virtual_phone.phone
    env.execute(OpenApp(name="Notes"))
    x, y = center(phone, text="New note")
    env.execute(Click(x=x, y=y))
    env.execute(Type(text="héllo wörld 日本語 ✓"))
    assert phone.state.focused_text == "héllo wörld 日本語 ✓"
    assert phone.current_ime == "com.android.adbkeyboard/.AdbIME"
    assert any(argv[:3] == ["am", "broadcast", "-a"] and "ADB_INPUT_B64" in argv for argv in phone.executed)


def test_non_ascii_without_adb_keyboard_names_the_fix(virtual_phone_factory, adb_server) -> None:
    connected = virtual_phone_factory(adb_keyboard=False)
    with AndroidEnv(connected.serial, adb_port=adb_server.port) as android:
        with pytest.raises(InputMethodMissing, match="ADBKeyBoard"):
            android.execute(Type(text="日本語"))


def test_keys_buttons_and_gestures(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    phone = virtual_phone.phone
    env.execute(OpenApp(name="Contacts"))
    first = phone.state.apps["com.android.contacts"]
    env.execute(Swipe(x=540, y=1900, x2=540, y2=700, duration=0.3))
    env.execute(Scroll(direction="down", amount=5))
    assert phone.state.apps["com.android.contacts"] != first
    env.execute(SystemButton(button="home"))
    assert phone.state.package == "com.android.launcher3"
    env.execute(OpenApp(name="Notes"))
    env.execute(SystemButton(button="back"))
    assert phone.state.package == "com.android.launcher3"
    env.execute(Key(keys=["volume_up"]))
    env.execute(Key(keys=["KEYCODE_VOLUME_DOWN"]))
    assert ["input", "keyevent", "24"] in phone.executed and ["input", "keyevent", "25"] in phone.executed
    with pytest.raises(ActionRejected, match="unknown Android key"):
        env.execute(Key(keys=["warp_drive"]))


def test_long_press_opens_the_delete_dialog(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    phone = virtual_phone.phone
    env.execute(OpenApp(name="Notes"))
    x, y = center(phone, text="New note")
    env.execute(Click(x=x, y=y))
    env.execute(Type(text="to delete"))
    sx, sy = center(phone, text="Save")
    env.execute(Click(x=sx, y=sy))
    nx, ny = center(phone, text="to delete")
    env.execute(LongPress(x=nx, y=ny, duration=1.0))
    assert phone.find(text="Delete note?") is not None


def test_apps_by_label_or_package_and_a_clear_refusal(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    for name, package in [
        ("Calculator", "com.android.calculator2"),
        ("clock", "com.android.deskclock"),
        ("com.guiagent.messages", "com.guiagent.messages"),
    ]:
        env.execute(OpenApp(name=name))
        assert virtual_phone.phone.state.package == package
    with pytest.raises(ActionRejected, match="no installed app matches 'Photoshop'"):
        env.execute(OpenApp(name="Photoshop"))


def test_actions_a_phone_cannot_do(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    with pytest.raises(UnsupportedAction, match="no cursor"):
        env.execute(Click())
    with pytest.raises(UnsupportedAction):
        env.execute(Move(x=1, y=1))
    with pytest.raises(UnsupportedAction, match="handled by the agent"):
        env.execute(Terminate())
    with pytest.raises(ValueError, match="device pixels only"):
        env.execute(Click(x=1, y=1, space="relative-1000"))
    start = len(virtual_phone.phone.executed)
    env.execute(DoubleClick(x=540, y=1200))  # what a phone can do instead: two taps on the point
    taps = [argv for argv in virtual_phone.phone.executed[start:] if argv[:1] == ["input"]]
    assert taps == [["input", "tap", "540", "1200"]] * 2, taps


def test_device_selection_errors_list_what_is_there(virtual_phone_factory, adb_server) -> None:
    with pytest.raises(DeviceNotFound, match="not connected") as missing:
        AndroidEnv("emulator-5554", adb_port=adb_server.port)
    assert missing.value.device == "emulator-5554"
    virtual_phone_factory()
    virtual_phone_factory()
    with pytest.raises(DeviceNotFound, match="several Android devices") as several:
        AndroidEnv(adb_port=adb_server.port)
    assert len(several.value.available) >= 2


def test_a_phone_that_dies_is_device_lost_within_the_bound(env: AndroidEnv, virtual_phone: ConnectedPhone) -> None:
    env.observe()
    virtual_phone.server.stop()
    started = time.monotonic()
    with pytest.raises(DeviceLost, match="stopped answering") as lost:
        env.observe()
    elapsed = time.monotonic() - started
    assert elapsed < env.adb.retry_window + 3.0, elapsed
    assert lost.value.device == virtual_phone.serial
    assert "Traceback" not in str(lost.value)


def test_a_phone_back_within_the_retry_window_carries_on(virtual_phone: ConnectedPhone, adb_server) -> None:
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port, retry_window=15.0) as android:
        android.observe()
        port = virtual_phone.server.port
        virtual_phone.server.stop()
        wait_for_state(adb_server, virtual_phone.serial, (None, "offline"), 5.0)

        def restart() -> None:
            time.sleep(1.0)
            virtual_phone.server = PhoneServer(virtual_phone.phone, port=port).start()

        import threading

        threading.Thread(target=restart, daemon=True).start()
        image = android.observe().image
        assert image.size == (1080, 2400)
        android.execute(SystemButton(button="home"))
        assert virtual_phone.phone.state.package == "com.android.launcher3"
