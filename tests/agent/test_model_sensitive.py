"""A step the model itself calls sensitive (``ParsedReply.sensitive``, as AutoGLM says it) is put to the person.

The rule (agent/safety.py): every ``--confirm`` mode asks, with the model's message as the reason, except an
explicit ``--confirm never``. Real parts: the virtual phone behind the real adb server, the scripted HTTP model.
The family below stands in for AutoGLM's: a ``Sensitive: ...`` line is the model's declaration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest

from guiagent.actions.families.base import ParsedReply
from guiagent.actions.families.qwen25vl import Qwen25VLMobile
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, OpenApp, Terminate
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.loop import Agent
from guiagent.agent.safety import ActionContext, ConfirmPolicy
from guiagent.agent.settings import AgentConfig
from guiagent.envs.android import AndroidEnv
from tests.fixtures.openai_server import request_text

PHONE = Size(1080, 2400)
MESSAGE = "this shares the user's location with a stranger"  # no word the risky policy looks for


@dataclass(frozen=True)
class DeclaringFamily(Qwen25VLMobile):
    """Qwen2.5-VL's format, plus a ``Sensitive: ...`` line that declares the step sensitive."""

    def parse(self, text: str, screen: Size) -> ParsedReply:
        reply = super().parse(text, screen)
        found = re.search(r"^Sensitive: (.+)$", text, re.MULTILINE)
        return replace(reply, sensitive=found.group(1).strip()) if found else reply


FAMILY = DeclaringFamily()


def say(action, sensitive: str | None = None) -> str:
    text = FAMILY.format_action(FAMILY.mapping(PHONE).to_model(action))
    return f"Sensitive: {sensitive}\n{text}" if sensitive else text


class Person(AgentHooks):
    def __init__(self, approve: bool) -> None:
        self.approve = approve
        self.asked: list[tuple[str, str]] = []

    def confirm(self, action, reason: str) -> bool:
        self.asked.append((action.type, reason))
        return self.approve


@pytest.fixture
def env(virtual_phone, adb_server):
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as android:
        yield android


def run(env, scripted_server, tmp_path, policy: ConfirmPolicy, person: AgentHooks):
    scripted_server.script = [say(OpenApp(name="Notes"), MESSAGE), say(Terminate(status="failure"))]
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    config = AgentConfig(confirm=policy, out_dir=tmp_path, settle=False)
    return Agent(env, backend, FAMILY, config, hooks=person).run("Open Notes")


@pytest.mark.parametrize("mode", ["never", "risky", "always"])
def test_a_step_the_model_calls_sensitive_is_asked_with_its_message(
    mode, env, virtual_phone, scripted_server, tmp_path
) -> None:
    person = Person(approve=False)
    trajectory = run(env, scripted_server, tmp_path, ConfirmPolicy(mode), person)  # type: ignore[arg-type]

    assert person.asked and person.asked[0][0] == "open_app"
    assert MESSAGE in person.asked[0][1]
    assert virtual_phone.phone.state.package == "com.android.launcher3"  # the no was honoured
    first = trajectory.steps[0]
    assert first.sensitive == MESSAGE and first.executed == 0
    assert any("declined by the person" in note for note in first.notes)
    assert "The person declined your open_app action" in request_text(scripted_server.requests[1])


def test_the_default_policy_asks_a_sensitive_step_and_nobody_there_means_no(
    env, virtual_phone, scripted_server, tmp_path
):
    trajectory = run(env, scripted_server, tmp_path, ConfirmPolicy(), AgentHooks())
    assert trajectory.steps[0].executed == 0
    assert virtual_phone.phone.state.package == "com.android.launcher3"


def test_an_explicit_confirm_never_overrides_the_model(env, virtual_phone, scripted_server, tmp_path) -> None:
    person = Person(approve=False)
    trajectory = run(env, scripted_server, tmp_path, ConfirmPolicy.from_flag("never"), person)
    assert person.asked == []
    assert trajectory.steps[0].executed == 1 and trajectory.steps[0].sensitive == MESSAGE
    assert virtual_phone.phone.state.package == "com.guiagent.notes"


def test_the_policy_rule_for_declared_sensitive_steps() -> None:
    click = Click(x=1, y=1)
    nothing = ActionContext(target_label="Settings", thought="Open the menu")
    for flag in (None, "risky", "always"):
        reason = ConfirmPolicy.from_flag(flag).reason(click, lambda: nothing, sensitive=MESSAGE)
        assert reason is not None and MESSAGE in reason, flag
    assert ConfirmPolicy.from_flag("never").reason(click, lambda: nothing, sensitive=MESSAGE) is None
    # Without a declaration the modes behave as before.
    assert ConfirmPolicy.from_flag(None).reason(click, lambda: ActionContext(target_label="Pay now")) is None
    assert ConfirmPolicy.from_flag("risky").reason(click, lambda: nothing) is None
    assert ConfirmPolicy.from_flag("always").reason(click, lambda: nothing) is not None


def test_autoglm_tap_with_a_message_is_put_to_the_person(env, virtual_phone, scripted_server, tmp_path) -> None:
    """The real AutoGLM-Phone family: ``do(action="Tap", ..., message=...)`` is its sensitive-operation form."""
    from guiagent.actions.families import get_family

    autoglm = get_family("autoglm-phone")
    x, y = virtual_phone.phone.find(text="Notes").bounds.center
    tap = autoglm.format_action(autoglm.mapping(PHONE).to_model(Click(x=x, y=y)))
    assert tap.endswith(")")
    scripted_server.script = [
        tap[:-1] + f', message="{MESSAGE}")',
        autoglm.format_action(autoglm.mapping(PHONE).to_model(Terminate(status="failure"))),
    ]
    person = Person(approve=False)
    backend = OpenAICompatibleBackend("m", scripted_server.url, retry_wait=0.01)
    config = AgentConfig(out_dir=tmp_path, settle=False)  # the default policy: --confirm not given
    trajectory = Agent(env, backend, autoglm, config, hooks=person).run("Open Notes")

    assert person.asked == [("click", f"the model says this step is sensitive: {MESSAGE}")]
    assert trajectory.steps[0].sensitive == MESSAGE and trajectory.steps[0].executed == 0
    assert virtual_phone.phone.state.package == "com.android.launcher3"
