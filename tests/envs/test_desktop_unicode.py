"""Unicode typing on a real X server: XTest with borrowed keycodes, no clipboard and no external tool.

Regression for the reliability issue: through ``guiagent act``, text typed via xclip arrived empty in one
try of three (the paste raced the clipboard's owner), and without xclip it failed outright. Here xclip is
taken off PATH, and the text must arrive exactly, every time, leaving the keyboard map and the clipboard
as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from guiagent.actions.types import Click, Key, Type
from guiagent.envs.desktop import DesktopEnv

TEXTS = ["héllo wörld", "日本語のテキスト", "✓ Ωμέγα ß €", "naïve café — ok", "emoji 🙂 ∑"]


def _focus_and_clear(env: DesktopEnv, tk_recorder) -> None:
    x, y = tk_recorder.center("entry")
    env.execute(Click(x=x, y=y))
    env.execute(Key(keys=["ctrl", "a"]))
    env.execute(Key(keys=["BackSpace"]))


def _trimmed(row: list[int]) -> tuple[int, ...]:
    values = list(row)
    while values and values[-1] == 0:
        values.pop()
    return tuple(values)


def _keyboard_map() -> list[tuple[int, ...]]:
    from Xlib import display

    d = display.Display()
    try:
        first = d.display.info.min_keycode
        rows = d.get_keyboard_mapping(first, d.display.info.max_keycode - first + 1)
        return [_trimmed(row) for row in rows]  # rows come back padded to the widest row: compare without it
    finally:
        d.close()


def test_xtest_types_every_text_exactly_without_a_clipboard_tool(
    xvfb, tk_recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no xclip, no xsel: XTest must not need them
    before = _keyboard_map()
    env = DesktopEnv(1)
    try:
        for attempt in range(3):
            for text in TEXTS:
                _focus_and_clear(env, tk_recorder)
                env.execute(Type(text=text))
                assert tk_recorder.wait_for_text(text) == text, (attempt, text)
        assert _keyboard_map() != before  # keycodes are borrowed while the env is open
    finally:
        env.close()
    assert _keyboard_map() == before  # and given back empty when it closes


def test_more_distinct_characters_than_free_keycodes(desktop_env: DesktopEnv, tk_recorder) -> None:
    """Keycodes are reused (only once their last press is safely read) when the text needs more."""
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 160))  # 160 distinct CJK characters
    _focus_and_clear(desktop_env, tk_recorder)
    desktop_env.execute(Type(text=text))
    assert tk_recorder.wait_for_text(text, timeout=20) == text


@pytest.mark.skipif(shutil.which("xclip") is None, reason="apt-get install xclip")
def test_xtest_leaves_the_clipboard_alone(desktop_env: DesktopEnv, tk_recorder) -> None:
    subprocess.run(["xclip", "-selection", "clipboard", "-in"], input=b"the person's own text", check=True)
    _focus_and_clear(desktop_env, tk_recorder)
    desktop_env.execute(Type(text="pin 1234 ✓"))
    assert tk_recorder.wait_for_text("pin 1234 ✓") == "pin 1234 ✓"
    out = subprocess.run(["xclip", "-selection", "clipboard", "-out"], capture_output=True, check=True, timeout=5)
    assert out.stdout == b"the person's own text"


@pytest.mark.skipif(shutil.which("xclip") is None, reason="apt-get install xclip")
def test_the_clipboard_fallback_restores_what_was_there(xvfb, tk_recorder) -> None:
    subprocess.run(["xclip", "-selection", "clipboard", "-in"], input=b"before", check=True)
    env = DesktopEnv(1, unicode_input="clipboard")
    try:
        _focus_and_clear(env, tk_recorder)
        env.execute(Type(text="sécret ✓"))
        assert tk_recorder.wait_for_text("sécret ✓") == "sécret ✓"
    finally:
        env.close()
    out = subprocess.run(["xclip", "-selection", "clipboard", "-out"], capture_output=True, check=True, timeout=5)
    assert out.stdout == b"before"  # the typed text does not stay on the person's clipboard


def test_guiagent_act_types_unicode_every_time_without_xclip(tk_recorder, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{tmp_path}"}
    x, y = tk_recorder.center("entry")

    def act(action: dict[str, object]) -> None:
        command = [sys.executable, "-m", "guiagent.agent.cli", "act", "--device", "desktop", json.dumps(action)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr

    for attempt in range(3):
        act({"type": "click", "x": x, "y": y})
        act({"type": "key", "keys": ["ctrl", "a"]})
        act({"type": "key", "keys": ["BackSpace"]})
        text = f"日本語 {attempt} ✓ é"
        act({"type": "type", "text": text})
        assert tk_recorder.wait_for_text(text) == text, attempt
