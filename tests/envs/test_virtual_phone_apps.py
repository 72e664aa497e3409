"""The virtual phone's apps: taps, typing, swipes and keys change state and pixels consistently."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from guiagent.envs.virtual_phone import VirtualPhone, Widget
from guiagent.envs.virtual_phone.arith import CalcError, evaluate, format_number


@pytest.fixture
def phone() -> VirtualPhone:
    return VirtualPhone()


def node(phone: VirtualPhone, **query: str) -> Widget:
    found = phone.find(**query)
    assert found is not None, f"nothing on screen matches {query}; screen: {phone.state.activity}"
    return found


def tap(phone: VirtualPhone, **query: str) -> None:
    phone.tap(*node(phone, **query).bounds.center)


def pixels(phone: VirtualPhone) -> np.ndarray:
    return np.asarray(phone.screenshot()).astype(np.int16)


def test_home_screen_icons_carry_text_and_desc(phone: VirtualPhone) -> None:
    assert phone.state.package == "com.android.launcher3"
    for label in ("Settings", "Notes", "Messages", "Contacts", "Calculator", "Clock"):
        icon = node(phone, text=label)
        assert icon.desc == label and icon.clickable
    tap(phone, desc="Settings")
    assert phone.state.activity == "com.android.settings.Settings"


def test_settings_wifi_toggle_changes_setting_switch_and_pixels(phone: VirtualPhone) -> None:
    phone.launch("com.android.settings")
    switch = node(phone, text="Wi-Fi")
    before = pixels(phone)
    assert phone.shell("settings get global wifi_on").stdout == b"1\n"
    tap(phone, text="Wi-Fi")
    assert phone.shell("settings get global wifi_on").stdout == b"0\n"
    assert node(phone, text="Off").text == "Off"
    changed = np.abs(pixels(phone) - before).sum(axis=2) > 30
    ys, _ = np.nonzero(changed)
    assert changed.sum() > 500
    assert ys.min() < phone.status_bar_height  # the status-bar Wi-Fi icon went away too
    assert switch.bounds.top <= np.median(ys) <= switch.bounds.bottom + 200
    checked = [w.checked for w in phone.ui_tree().walk() if w.cls == "android.widget.Switch"]
    assert checked[0] is False


def test_dark_mode_and_airplane_mode(phone: VirtualPhone) -> None:
    phone.launch("com.android.settings")
    light = pixels(phone)[1500, 540].sum()
    tap(phone, text="Dark mode")
    assert phone.shell("settings get secure ui_night_mode").stdout == b"2\n"
    assert pixels(phone)[1500, 540].sum() < light - 300
    tap(phone, text="Bluetooth")
    tap(phone, text="Airplane mode")
    assert phone.state.airplane_mode and not phone.state.wifi_on and not phone.state.bluetooth_on
    tap(phone, text="Airplane mode")
    assert phone.state.wifi_on and phone.state.bluetooth_on and not phone.state.airplane_mode
    phone.shell("settings put global wifi_on 0")
    assert phone.find(text="Off") is not None  # the UI reads the same setting


def test_notes_create_edit_delete(phone: VirtualPhone) -> None:
    phone.launch("com.guiagent.notes")
    search = node(phone, rid="search")
    assert search.cls == "android.widget.EditText" and search.text == "Search notes"
    tap(phone, text="New note")
    assert phone.state.activity == "com.guiagent.notes.EditorActivity"
    assert node(phone, rid="note_text").focused
    phone.shell("input text 'Buy%sbananas'")
    phone.key("KEYCODE_ENTER")
    phone.type_text("and milk")
    tap(phone, text="Save")
    assert phone.state.notes[0] == "Buy bananas\nand milk"
    assert node(phone, text="Buy bananas").rid == "com.guiagent.notes:id/note_title"
    before = pixels(phone)
    phone.long_press(*node(phone, text="Buy bananas").bounds.center)
    assert phone.find(text="Delete note?") is not None
    assert pixels(phone)[2000, 100].sum() < before[2000, 100].sum() - 100  # the dialog's scrim dims the list
    tap(phone, text="Delete")
    assert "Buy bananas\nand milk" not in phone.state.notes
    tap(phone, text="New note")
    phone.type_text("draft")
    phone.key(4)  # BACK discards the draft
    assert phone.state.apps["com.guiagent.notes"]["screen"] == "list"
    assert "draft" not in phone.state.notes


def test_notes_search_filters(phone: VirtualPhone) -> None:
    phone.launch("com.guiagent.notes")
    tap(phone, rid="search")
    phone.type_text("dentist")
    assert phone.find(text="Shopping list") is None
    assert phone.find(text="Call the dentist on Monday") is not None


def test_messages_compose_and_send(phone: VirtualPhone) -> None:
    phone.launch("com.guiagent.messages")
    tap(phone, text="Start chat")
    assert node(phone, rid="recipient").focused
    assert node(phone, text="Send").enabled is False
    phone.type_text("Carol")
    tap(phone, rid="message")
    phone.type_text("Hello there")
    send = node(phone, text="Send")
    assert send.enabled
    phone.tap(*send.bounds.center)
    assert phone.state.conversations["Carol"] == [("me", "Hello there")]
    assert phone.state.activity == "com.guiagent.messages.ConversationActivity"
    assert node(phone, rid="message_text").text == "Hello there"


def test_contacts_scroll_open_and_favourite(phone: VirtualPhone) -> None:
    phone.launch("com.android.contacts")
    assert phone.find(text="Victor Nguyen") is None
    width, height = phone.display_size
    phone.swipe(width / 2, height * 0.8, width / 2, height * 0.2, 300)
    assert phone.find(text="Aaron Brooks") is None
    assert phone.find(text="Victor Nguyen") is None  # one swipe moves the list by the finger's distance
    phone.swipe(width / 2, height * 0.8, width / 2, height * 0.2, 300)
    tap(phone, text="Victor Nguyen")
    star = node(phone, desc="Favourite")
    assert star.checkable and not star.checked
    phone.tap(*star.bounds.center)
    assert phone.state.favourites == ["Victor Nguyen"]
    assert node(phone, desc="Favourite").checked
    phone.key("BACK")
    for _ in range(2):
        phone.swipe(width / 2, height * 0.3, width / 2, height * 0.9, 300)
    assert phone.find(text="Aaron Brooks") is not None


def test_calculator_keys_and_errors(phone: VirtualPhone) -> None:
    phone.launch("com.android.calculator2")
    for desc in ("7", "multiply", "8", "equals"):
        target = phone.find(text=desc) or node(phone, desc=desc)
        phone.tap(*target.bounds.center)
    assert phone.state.calculator_display == "56"
    assert node(phone, rid="formula").text == "56"
    tap(phone, text="C")
    for key in ("1", "divide", "0", "equals"):
        target = phone.find(text=key) or node(phone, desc=key)
        phone.tap(*target.bounds.center)
    assert phone.state.calculator_result == "Can't divide by 0"
    tap(phone, text="C")
    phone.shell("input text 0.1+0.2=")
    assert phone.state.calculator_display == "0.3"


@pytest.mark.parametrize(
    ("expression", "value"),
    [("2+3×4", "14"), ("(2+3)×4", "20"), ("−3+1", "−2"), ("7÷2", "3.5"), ("1÷3", "0.333333333333"), ("(1+2", "3")],
)
def test_arith_evaluator(expression: str, value: str) -> None:
    assert format_number(evaluate(expression)) == value


@pytest.mark.parametrize("expression", ["__import__('os')", "2**8", "1+", "", "9" * 300, "(" * 60 + "1"])
def test_arith_rejects_everything_else(expression: str) -> None:
    with pytest.raises(CalcError):
        evaluate(expression)


def test_clock_toggle_and_add_alarm(phone: VirtualPhone) -> None:
    phone.launch("com.android.deskclock")
    assert phone.state.alarms[0] == (6, 30, "", False)
    tap(phone, text="6:30 AM")
    assert phone.state.alarms[0][3] is True
    tap(phone, desc="Add alarm")
    assert node(phone, rid="hour").focused
    phone.type_text("7")
    tap(phone, rid="minute")
    phone.type_text("45")
    tap(phone, text="PM")
    tap(phone, text="OK")
    assert (19, 45, "", True) in phone.state.alarms
    assert phone.find(text="7:45 PM") is not None


def test_navigation_keys(phone: VirtualPhone) -> None:
    phone.launch("com.android.settings")
    phone.key(3)
    assert phone.state.package == "com.android.launcher3"
    phone.launch("com.android.contacts")
    phone.key("KEYCODE_APP_SWITCH")
    assert phone.find(text="Clear all") is not None
    tap(phone, desc="Contacts")
    assert phone.state.package == "com.android.contacts"
    phone.key("BACK")
    assert phone.state.package == "com.android.launcher3"
    width, height = phone.display_size
    phone.launch("com.android.settings")
    phone.swipe(width / 2, height - 10, width / 2, height * 0.6, 200)  # gesture: swipe up from the bottom edge
    assert phone.state.package == "com.android.launcher3"
    phone.key("POWER")
    assert not phone.state.screen_on and not pixels(phone).any()
    phone.key("WAKEUP")
    assert phone.state.screen_on


def test_layout_shift_moves_content(phone: VirtualPhone) -> None:
    phone.launch("com.android.settings")
    before = node(phone, text="Wi-Fi").bounds
    phone.set_layout_shift(120)
    after = node(phone, text="Wi-Fi").bounds
    assert after.top - before.top == 120
    phone.shell("settings put global guiagent_layout_shift 0")
    assert node(phone, text="Wi-Fi").bounds == before
    shifted = VirtualPhone(layout_shift=40)
    shifted.launch("com.android.settings")
    assert shifted.find(text="Wi-Fi").bounds.top == before.top + 40


def test_rotation_swaps_frame_and_input_space(phone: VirtualPhone) -> None:
    phone.launch("com.android.calculator2")
    phone.set_rotation(1)
    assert phone.display_size == (2400, 1080)
    assert phone.screenshot().size == (2400, 1080)
    assert 'rotation="1"' in phone.dump_hierarchy()
    tap(phone, text="9")
    assert phone.state.calculator_display == "9"
    assert b"SurfaceOrientation: 1" in phone.shell("dumpsys input").stdout


def test_uiautomator_xml_matches_the_tree(phone: VirtualPhone) -> None:
    phone.launch("com.guiagent.notes")
    xml = phone.dump_hierarchy()
    assert xml.startswith("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">")
    assert "\n" not in xml.replace("&#10;", "")
    root = ET.fromstring(xml)
    nodes = list(root.iter("node"))
    assert list(nodes[0].attrib)[:3] == ["index", "text", "resource-id"]
    search = next(n for n in nodes if n.get("resource-id") == "com.guiagent.notes:id/search")
    assert search.get("text") == "Search notes" and search.get("class") == "android.widget.EditText"
    widget = node(phone, rid="search")
    assert search.get("bounds") == widget.bounds.short()
    assert any(n.get("text") == "Shopping list" for n in nodes)


def test_frame_cache_and_consistency(phone: VirtualPhone) -> None:
    first = phone.frame()
    assert phone.frame() is first
    raw = phone.screencap_raw()
    assert raw[:16] == (1080).to_bytes(4, "little") + (2400).to_bytes(4, "little") + (1).to_bytes(4, "little") + (
        1
    ).to_bytes(4, "little")
    rgba = np.frombuffer(raw[16:], dtype=np.uint8).reshape(2400, 1080, 4)
    assert (rgba[..., :3] == np.asarray(first)).all() and (rgba[..., 3] == 255).all()
    tap(phone, text="Notes")
    assert phone.frame() is not first


def test_a_screen_that_comes_back_is_not_drawn_or_packed_again(phone: VirtualPhone, monkeypatch) -> None:
    from guiagent.envs.virtual_phone import display

    drawn: list[object] = []
    real_render = display.render_frame
    monkeypatch.setattr(display, "render_frame", lambda *a, **k: drawn.append(a) or real_render(*a, **k))
    home, home_raw, home_png = phone.frame(), phone.screencap_raw(), phone.screencap_png()
    tap(phone, text="Notes")
    notes = phone.frame()
    assert notes is not home and len(drawn) == 2
    phone.key("KEYCODE_HOME")  # home again: the same screen, kept with the bytes made from it
    assert phone.frame() is home and phone.screencap_raw() is home_raw and phone.screencap_png() is home_png
    assert len(drawn) == 2
    for package in ("com.android.settings", "com.android.deskclock", "com.android.calculator2"):
        phone.shell(f"monkey -p {package} -c android.intent.category.LAUNCHER 1")
        phone.frame()
    assert len(phone._frames) == display.RECENT_FRAMES  # bounded: older screens are dropped
    phone.key("KEYCODE_HOME")
    assert phone.frame() is not home and np.array_equal(np.asarray(phone.frame()), np.asarray(home))
