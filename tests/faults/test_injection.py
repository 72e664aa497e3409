"""Injection strings in typed text, on Android and on the desktop: typed literally, and nothing else runs.

The model asks to type each string (a real agent run: scripted HTTP model, ``type`` action in the family's own
format). On Android (virtual phone, real adb server) the strings are shell and adb syntax meant to break out
of ``input text``; the phone's own log of every simple command it ran must show only the driver's typing
commands, whose text put together is exactly the string, and the phone's state (files, settings, notes,
the app in front) must be unchanged apart from the field, which holds the literal string. On the desktop
(Xvfb, the Tk recorder) the strings are the same and also key-chord, SendKeys and Tcl syntax; the entry must
show the literal string, no process may be started by guiagent (audit hook on process creation), and no
marker file the strings try to create may appear.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, Key, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.envs.android import AndroidEnv
from tests.faults.helpers import PHONE, nothing_lost

MARKER = "/sdcard/pwned"
SHELL = [
    "; reboot",
    "hello; pm clear com.guiagent.notes",
    "$(touch {marker})",
    "`touch {marker}`",
    "&& settings put global wifi_on 0",
    "|| am start -n com.android.settings/.Settings",
    "| sh -c 'touch {marker}'",
    "'; touch {marker}; echo '",
    '"; touch {marker}; echo "',
    "\\'; touch {marker} #",
    "> {marker}",
    "< /system/build.prop",
    "${IFS}touch${IFS}{marker}",
    "$HOME $PATH $0 $$ $? $!",
    "a\\nb\\tc\\\\d",
    "100%sure %s %% %d",
    "input keyevent 3",
    "-e foo --es msg bar",
    "*; ?; [a-z]; ~; #comment",
    "{a,b}; !!; !-1",
    "exec:reboot",
    "shell:rm -rf /sdcard",
    "\\x00\\u0000%00",
    "rm -rf / --no-preserve-root",
    "naïve ünïcödé; touch {marker}",
    "日本語 $(id) ✓",
    "multi\nline; touch {marker}\nthird",
]
DESKTOP_EXTRA = [
    "ctrl+alt+t",
    "{ENTER}%{F4}^c",
    "[exec touch {marker}]",
    "<ctrl>c</ctrl> <super>",
    "xdotool key super; xterm &",
]
ANDROID_TYPING = ("input", "am", "ime", "settings", "pm")
DRIVER = (*ANDROID_TYPING, "screencap", "dumpsys", "wm", "uiautomator", "getprop")
"""Every program the Android driver runs on the phone (capture, geometry, the UI hierarchy, typing)."""


def strings(marker: str, extra: list[str] = []) -> list[str]:  # noqa: B006 - read only
    return [s.replace("{marker}", marker) for s in SHELL + extra]


def agent_types(env, url_server, family, screen: Size, text: str, out: Path, hooks=None) -> Any:
    """One agent run whose model asks to type ``text``, then ends the task."""
    mapping = family.mapping(screen)
    url_server.script = [family.format_action(mapping.to_model(a)) for a in (Type(text=text), Terminate())]
    backend = OpenAICompatibleBackend("m", url_server.url, retry_wait=0.01)
    try:
        config = AgentConfig(out_dir=out, settle_min=0.0, settle_max=0.2, max_steps=3)
        return Agent(env, backend, family, config, hooks=hooks).run("type the text")
    finally:
        backend.close()


def phone_files(phone) -> dict[str, list[str]]:
    return {folder: sorted(phone.files.listdir(folder)) for folder in ("/sdcard", "/data/local/tmp")}


def typed_by(commands: list[list[str]]) -> tuple[str, list[list[str]]]:
    """The text the typing commands put together, and any command that is not one of them."""
    text, other = "", []
    for argv in commands:
        if argv[:2] == ["input", "text"] and len(argv) == 3:
            text += argv[2].replace("%s", " ")
        elif argv == ["input", "keyevent", "66"]:
            text += "\n"
        elif argv[:6] == ["am", "broadcast", "-a", "ADB_INPUT_B64", "--es", "msg"] and len(argv) == 7:
            text += base64.b64decode(argv[6]).decode("utf-8")
        elif argv[:2] in (["ime", "enable"], ["ime", "set"], ["ime", "disable"], ["settings", "get"], ["pm", "list"]):
            continue  # selecting ADBKeyboard for non-ASCII text, reading what to restore, restoring it
        else:
            other.append(argv)
    return text, other


def test_injection_strings_typed_on_android_are_literal(
    virtual_phone_factory, adb_server, scripted_server, tmp_path, figures
):
    texts = strings(MARKER)
    lost: list[str] = []
    for number, text in enumerate(texts):
        connected = virtual_phone_factory(width=PHONE.width, height=PHONE.height, density=140)
        phone = connected.phone
        phone.launch("com.guiagent.notes")
        x, y = phone.find(text="New note").bounds.center
        phone.tap(x, y)
        before = (phone_files(phone), phone.state.settings, list(phone.state.notes), phone.state.package)
        with AndroidEnv(connected.serial, adb_port=adb_server.port) as env:
            start = len(phone.executed)
            trajectory = agent_types(
                env, scripted_server, get_family("qwen2.5-vl-mobile"), PHONE, text, tmp_path / f"a{number}"
            )
        ran = [argv for argv in phone.executed[start:] if argv[:1] and argv[0] in ANDROID_TYPING]
        typed, other = typed_by([a for a in ran if not (a[:2] == ["settings", "get"])])
        state = phone.state
        after = (phone_files(phone), state.settings, list(state.notes), state.package)
        problems = []
        if trajectory.status != "success":
            problems.append(f"the run ended {trajectory.status}: {trajectory.run.reason}")
        if typed != text or other:
            problems.append(f"typing commands put together {typed!r}; other commands {other}")
        if state.focused_text != text:
            problems.append(f"the field holds {state.focused_text!r}")
        unexpected = [
            a for a in phone.executed[start:] if a[:1] and a[0] in ("touch", "reboot", "rm", "sh", "id", "echo")
        ]
        if after != before or phone.files.exists(MARKER) or unexpected:
            problems.append(f"the phone changed beyond the field: {unexpected or after}")
        if problems:
            lost.append(f"{text!r}: " + "; ".join(problems))
        connected.close()
    figures.add(
        "Injection strings typed on Android (virtual phone)",
        len(texts),
        lost,
        "the phone ran its typing commands only, and the field holds each string literally",
        order=7,
    )
    nothing_lost(lost, len(texts), "strings")


class ProcessWatch:
    """Processes started by this process (audit events) while watching."""

    _active: ProcessWatch | None = None
    _installed = False
    _lock = threading.Lock()
    EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty")

    def __init__(self) -> None:
        self.started: list[str] = []

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls._active is not None and event in cls.EVENTS:
            cls._active.started.append(f"{event} {args!r:.200}")

    def __enter__(self) -> ProcessWatch:
        with ProcessWatch._lock:
            if not ProcessWatch._installed:
                sys.addaudithook(ProcessWatch._hook)
                ProcessWatch._installed = True
        ProcessWatch._active = self
        return self

    def __exit__(self, *exc: object) -> None:
        ProcessWatch._active = None


@pytest.mark.slow
def test_injection_strings_typed_on_the_desktop_are_literal(
    xvfb, tk_recorder, desktop_env, scripted_server, tmp_path, figures
):
    marker = tmp_path / "pwned"
    texts = [t for t in strings(str(marker), DESKTOP_EXTRA) if "\n" not in t]  # a Tk entry holds one line
    family = get_family("qwen2.5-vl-computer")
    screen = desktop_env.observe().geometry.size
    lost: list[str] = []
    x, y = tk_recorder.center("entry")
    for number, text in enumerate(texts):
        desktop_env.execute(Click(x=x, y=y))
        desktop_env.execute(Key(keys=["ctrl", "a"]))
        desktop_env.execute(Key(keys=["BackSpace"]))
        tk_recorder.wait_for_text("")
        with ProcessWatch() as watch:
            trajectory = agent_types(desktop_env, scripted_server, family, screen, text, tmp_path / f"d{number}")
        shown = tk_recorder.wait_for_text(text)
        time.sleep(0.05)
        shown = tk_recorder.text()
        problems = []
        if trajectory.status != "success":
            problems.append(f"the run ended {trajectory.status}: {trajectory.run.reason}")
        if shown != text:
            problems.append(f"the entry shows {shown!r}")
        if watch.started or marker.exists():
            problems.append(f"programs started: {watch.started}; marker {marker.exists()}")
        if problems:
            lost.append(f"{text!r}: " + "; ".join(problems))
    figures.add(
        "Injection strings typed on the desktop (Xvfb, Tk entry)",
        len(texts),
        lost,
        "the entry shows each string literally; guiagent started no process",
        order=8,
    )
    nothing_lost(lost, len(texts), "strings")
