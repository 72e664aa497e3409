"""Typed secrets in screenshots: how long a masked field stays masked on Android, and what a desktop run says.

The main proof (no secret pixels on disk or sent to the model, history images included) is
``test_secrets_reach_the_device_but_never_the_disk_or_the_model`` in test_safety_and_secrets.py. Real parts
here too: the virtual phone behind the adb server, Xvfb with a Tk window, the scripted HTTP server.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, OpenApp, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.images import SECRET_MASK_COLOUR
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.envs.android import AndroidEnv

PHONE_FAMILY = get_family("qwen2.5-vl-mobile")
DESKTOP_FAMILY = get_family("qwen2.5-vl-computer")
SECRET = "s3cr3t-P@ss word"


def say_phone(action) -> str:
    return PHONE_FAMILY.format_action(PHONE_FAMILY.mapping(Size(1080, 2400)).to_model(action))


@pytest.fixture
def env(virtual_phone, adb_server):
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as android:
        yield android


def test_the_typed_field_is_followed_while_shown_and_the_secret_wherever_its_text_shows(
    env, virtual_phone, scripted_server, tmp_path
) -> None:
    """Editor (the typed field) masked; list (the saved note's title) masked; a fresh editor is not: the field
    stopped being followed when a screen without it was seen, and its new text holds no secret."""
    phone = virtual_phone.phone
    phone.clock = "12:00"
    frames: list[Image.Image] = []
    shown: list[int] = []  # pixels of the views whose text holds the secret, per request

    def looking(entry):
        def reply(body) -> str:
            frames.append(phone.screenshot())  # the screen now is the one the agent captured for this request
            shown.append(sum(n.bounds.width * n.bounds.height for n in phone.ui_tree().walk() if SECRET in n.text))
            return entry() if callable(entry) else entry

        return reply

    def tap(text: str):
        return lambda: say_phone(
            Click(x=phone.find(text=text).bounds.center[0], y=phone.find(text=text).bounds.center[1])
        )

    script = [
        say_phone(OpenApp(name="Notes")),
        tap("New note"),
        say_phone(Type(text="<secret:pin>")),
        tap("Save"),
        tap("New note"),
        say_phone(Terminate()),
    ]
    scripted_server.script = [looking(e) for e in script]
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    trajectory = Agent(env, backend, PHONE_FAMILY, AgentConfig(out_dir=tmp_path), secrets={"pin": SECRET}).run("x")
    assert trajectory.status == "success" and len(trajectory.steps) == 6

    def saved(index: int) -> np.ndarray:
        with Image.open(trajectory.folder / trajectory.steps[index].screenshot) as png:
            return np.asarray(png.convert("RGB"))

    mask = np.array(SECRET_MASK_COLOUR, dtype=np.uint8)
    editor = saved(3)  # step 4: the editor holding the secret
    assert (editor == mask).all(axis=2).sum() > 100_000  # the field, most of the screen, is painted over
    masked_list = (saved(4) == mask).all(axis=2)  # step 5: the list; only the note's title is painted
    assert shown[4] > 10_000 and masked_list.sum() == shown[4]
    assert (saved(5) == np.asarray(frames[5])).all()  # step 6: a fresh editor, nothing to hide, nothing hidden
    notes = [" ".join(s.notes) for s in trajectory.steps]
    assert ["painted over" in n for n in notes] == [False, False, False, True, True, False]


def test_a_desktop_run_says_its_screenshots_are_not_masked(tk_recorder, desktop_env, scripted_server, tmp_path):
    """A desktop has no UI hierarchy: guiagent cannot tell where the text landed, and says so in the step."""
    entry = tk_recorder.center("entry")
    mapping = DESKTOP_FAMILY.mapping(Size(1920, 1080))
    scripted_server.script = [
        DESKTOP_FAMILY.format_action(mapping.to_model(Click(x=entry[0], y=entry[1]))),
        DESKTOP_FAMILY.format_action(mapping.to_model(Type(text="<secret:pin>"))),
        DESKTOP_FAMILY.format_action(mapping.to_model(Terminate())),
    ]
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    agent = Agent(desktop_env, backend, DESKTOP_FAMILY, AgentConfig(out_dir=tmp_path), secrets={"pin": "hunter2"})
    trajectory = agent.run("type my pin")
    assert trajectory.status == "success"
    assert tk_recorder.wait_for_text("hunter2") == "hunter2"
    typed = trajectory.steps[1]
    warning = " ".join(typed.notes)
    assert "has no UI hierarchy" in warning and "<secret:pin>" in warning and "not masked" in warning
    assert "hunter2" not in (trajectory.folder / "steps.jsonl").read_text(encoding="utf-8")
