"""The person in the loop and what must never be written: confirmations, call_user, secrets, API keys.

Real parts throughout: the virtual phone behind the adb server, a scripted HTTP model, trajectories on disk.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, OpenApp, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.history import HistoryPolicy
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.images import SECRET_MASK_COLOUR
from guiagent.agent.loop import Agent
from guiagent.agent.safety import ActionContext, ConfirmPolicy
from guiagent.agent.settings import AgentConfig
from guiagent.envs.android import AndroidEnv
from tests.fixtures.openai_server import request_text

FAMILY = get_family("qwen2.5-vl-mobile")
PHONE = Size(1080, 2400)


def say(action, thought: str | None = None) -> str:
    return FAMILY.format_action(FAMILY.mapping(PHONE).to_model(action), thought=thought)


def tap(phone, text: str, thought: str | None = None):
    def reply(_body) -> str:
        x, y = phone.find(text=text).bounds.center
        return say(Click(x=x, y=y), thought)

    return reply


class Person(AgentHooks):
    """A scripted person: says no to confirmations, answers the model's questions."""

    def __init__(self, approve: bool, answer: str | None) -> None:
        self.approve, self.answer = approve, answer
        self.asked: list[tuple[str, str]] = []
        self.questions: list[str] = []

    def confirm(self, action, reason: str) -> bool:
        self.asked.append((action.type, reason))
        return self.approve

    def ask_user(self, message: str) -> str | None:
        self.questions.append(message)
        return self.answer


@pytest.fixture
def env(virtual_phone, adb_server):
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as android:
        yield android


def test_risky_taps_wait_for_a_yes_and_a_no_goes_back_to_the_model(env, virtual_phone, scripted_server, tmp_path):
    phone = virtual_phone.phone
    phone.launch("com.guiagent.notes")
    x, y = phone.find(text="Shopping list").bounds.center
    phone.long_press(x, y)  # the "Delete note?" dialog is up
    scripted_server.script = [tap(phone, "Delete", "Delete the note."), say(Terminate(status="failure"))]
    person = Person(approve=False, answer=None)
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    config = AgentConfig(confirm=ConfirmPolicy("risky"), out_dir=tmp_path)
    trajectory = Agent(env, backend, FAMILY, config, hooks=person).run("Delete the shopping list")

    assert person.asked and person.asked[0][0] == "click" and "'Delete'" in person.asked[0][1]
    assert "Shopping list\nMilk, eggs, bread, coffee" in phone.state.notes  # nothing was deleted
    first = trajectory.steps[0]
    assert first.executed == 0 and any("declined by the person" in n for n in first.notes)
    assert "The person declined your click action" in scripted_server.requests[1]["messages"][1]["content"][-1]["text"]


def test_risk_policy_reads_targets_and_password_fields() -> None:
    policy = ConfirmPolicy("risky")
    click = Click(x=1, y=1)
    assert policy.reason(click, lambda: ActionContext(target_label="Send")) is not None
    assert policy.reason(click, lambda: ActionContext(target_label="Settings", thought="Open the menu")) is None
    assert policy.reason(Type(text="hunter2"), lambda: ActionContext(field_is_password=True)) == (
        "it types into a password field"
    )
    assert ConfirmPolicy("never").reason(click, lambda: ActionContext(target_label="Pay now")) is None
    assert ConfirmPolicy("always").reason(OpenApp(name="x"), lambda: ActionContext()) is not None


TARS = get_family("ui-tars", platform="computer")  # UI-TARS has call_user(); the reason is in its thought


def test_call_user_pauses_asks_and_resumes(env, scripted_server, tmp_path) -> None:
    scripted_server.script = [
        "Thought: Please unlock the SIM\nAction: call_user()",
        TARS.format_action(Terminate(space="relative-1000")),
    ]
    person = Person(approve=True, answer="Done, it is unlocked")
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    trajectory = Agent(env, backend, TARS, AgentConfig(out_dir=tmp_path), hooks=person).run("x")
    assert trajectory.status == "success"
    assert person.questions == ["Please unlock the SIM"]
    assert "The person replied: Done, it is unlocked" in request_text(scripted_server.requests[1])


def test_call_user_with_nobody_there_ends_the_run(env, scripted_server, tmp_path) -> None:
    scripted_server.script = ["Thought: Need a captcha\nAction: call_user()"]
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    trajectory = Agent(env, backend, TARS, AgentConfig(out_dir=tmp_path)).run("x")
    assert trajectory.status == "failure" and "Need a captcha" in trajectory.run.reason


def test_secrets_reach_the_device_but_never_the_disk_or_the_model(env, virtual_phone, scripted_server, tmp_path):
    """Text and pixels: no secret in any file written, any request sent, or any image saved or sent.

    Images are checked OCR-free against the phone itself: when each request arrives, the screen shows exactly
    the frame the agent captured for it, so the test records that frame and the bounds of every view whose
    text holds the secret. Every saved screenshot must then equal that frame except inside those bounds, and
    be the mask colour inside them; every image sent to the server (history images included) must be the mask
    colour there too. Without masking, the secret's glyphs are in those bounds and the pixels differ.
    """
    phone = virtual_phone.phone
    phone.clock = "12:00"  # a fixed status-bar clock: a minute turning between capture and request changes no pixel
    secret = "s3cr3t-P@ss word"
    api_key = "sk-live-do-not-log-0123456789"
    seen: list[tuple[Image.Image, list[tuple[int, int, int, int]]]] = []  # per request: the frame, secret bounds

    def looking(entry):
        def reply(body) -> str:
            nodes = [n for n in phone.ui_tree().walk() if secret in n.text or secret in n.desc]
            seen.append(
                (phone.screenshot(), [(n.bounds.left, n.bounds.top, n.bounds.right, n.bounds.bottom) for n in nodes])
            )
            return entry(body) if callable(entry) else entry

        return reply

    scripted_server.script = [
        looking(e)
        for e in (
            say(OpenApp(name="Notes")),
            tap(phone, "New note"),
            say(Type(text="pin: <secret:pin>")),
            tap(phone, "Save"),
            say(Terminate()),
        )
    ]
    backend = OpenAICompatibleBackend("m", scripted_server.url, api_key=api_key, retry_wait=0.01)
    config = AgentConfig(out_dir=tmp_path, history=HistoryPolicy(max_images=2))  # earlier images are sent too
    agent = Agent(env, backend, FAMILY, config, secrets={"pin": secret})
    trajectory = agent.run("Write my pin <secret:pin> in a new note")

    assert trajectory.status == "success"
    assert phone.state.notes[0] == f"pin: {secret}"  # the device got the real value
    assert all(secret not in str(body) for body in scripted_server.requests)  # the model never saw it
    assert scripted_server.requests[0]["_headers"]["authorization"] == f"Bearer {api_key}"
    written = [p for p in Path(trajectory.folder).rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl")]
    assert written
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert secret not in text and api_key not in text, path
    assert "<secret:pin>" in (Path(trajectory.folder) / "steps.jsonl").read_text(encoding="utf-8")

    # Pixels. The secret was on screen in the editor (step 4) and in the list after saving (step 5).
    assert len(seen) == 5 and [bool(boxes) for _, boxes in seen] == [False, False, False, True, True]
    mask = np.array(SECRET_MASK_COLOUR, dtype=np.int16)
    for step, (frame, boxes) in zip(trajectory.steps, seen, strict=True):
        with Image.open(trajectory.folder / step.screenshot) as png:
            saved = np.asarray(png.convert("RGB"), dtype=np.int16)
        expected = np.asarray(frame, dtype=np.int16).copy()
        for left, top, right, bottom in boxes:
            assert (saved[top:bottom, left:right] == mask).all(), f"step {step.index}: secret pixels on disk"
            expected[top:bottom, left:right] = mask
        assert (saved == expected).all(), f"step {step.index}: the saved screenshot differs outside the mask"
    sent_by_step = {image_urls(body)[-1]: index for index, body in enumerate(scripted_server.requests)}
    for body in scripted_server.requests:
        for url in image_urls(body):  # the current screenshot last, earlier ones (history) before it
            assert url in sent_by_step, "an image was sent that is no step's screenshot"
            frame, boxes = seen[sent_by_step[url]]
            sent = decode_data_url(url)
            sx, sy = sent.shape[1] / frame.width, sent.shape[0] / frame.height
            for left, top, right, bottom in boxes:  # JPEG on the wire: a margin and a tolerance for its blocks
                inner = sent[int(top * sy) + 8 : int(bottom * sy) - 8, int(left * sx) + 8 : int(right * sx) - 8]
                assert inner.size and np.abs(inner - mask).max() <= 12, "secret pixels sent to the model"
    assert any(len(image_urls(body)) > 1 for body in scripted_server.requests[3:])  # history images were checked


def image_urls(body) -> list[str]:
    """Every image a request sent, as data URLs, in message order."""
    return [
        part["image_url"]["url"]
        for message in body["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]


def decode_data_url(url: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)
