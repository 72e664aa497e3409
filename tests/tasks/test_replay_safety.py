"""Replay performs only what the recording performed, under the same safety rules as the agent.

Every recording here is made by the real agent on a virtual phone (real adb server, scripted HTTP model),
then replayed on a second, fresh virtual phone; what reached that phone is read from its command log.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guiagent.actions.errors import ConfigError
from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, OpenApp, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.hooks import AgentHooks
from guiagent.agent.loop import Agent
from guiagent.agent.safety import ConfirmPolicy
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.replay import ReplayConfig, replay
from tests.agent.test_model_sensitive import MESSAGE, DeclaringFamily

PHONE = Size(1080, 2400)
FAMILY = get_family("qwen2.5-vl-mobile")
TARS = get_family("ui-tars", platform="computer")  # has call_user()
SECRET = "s3cr3t-P@ss word"


def say(action, family=FAMILY) -> str:
    return family.format_action(family.mapping(PHONE).to_model(action))


def tap(phone, text: str):
    def reply(_body) -> str:
        x, y = phone.find(text=text).bounds.center
        return say(Click(x=x, y=y))

    return reply


class Person(AgentHooks):
    """Answers confirmations from a list (then yes), and the model's questions with ``answer``."""

    def __init__(self, approvals: list[bool] | None = None, answer: str | None = None) -> None:
        self.approvals = list(approvals or [])
        self.answer = answer
        self.asked: list[tuple[str, str]] = []
        self.questions: list[str] = []

    def confirm(self, action, reason: str) -> bool:
        self.asked.append((action.type, reason))
        return self.approvals.pop(0) if self.approvals else True

    def ask_user(self, message: str) -> str | None:
        self.questions.append(message)
        return self.answer


def record(connected, adb_server, server, script, out: Path, family=FAMILY, hooks=None, secrets=None, **config):
    server.script = list(script)
    backend = OpenAICompatibleBackend("m", server.url, retry_wait=0.01)
    with AndroidEnv(connected.serial, adb_port=adb_server.port) as env:
        agent = Agent(env, backend, family, AgentConfig(out_dir=out, **config), hooks=hooks, secrets=secrets)
        return agent.run("the recorded task")


def replay_on(connected, adb_server, recording: Trajectory, out: Path, **options) -> Trajectory:
    config = options.pop("config", ReplayConfig(wait=1.0))
    with AndroidEnv(connected.serial, adb_port=adb_server.port) as env:
        return replay(recording.folder, env, out, config, **options)


def device_input(connected) -> list[list[str]]:
    """What the phone was told to do (taps, keys, text, app launches)."""
    return [argv for argv in connected.phone.executed if argv[:1] in (["input"], ["monkey"], ["am"])]


@pytest.fixture
def phones(virtual_phone_factory):
    """A phone to record on and a fresh one to replay on."""
    return virtual_phone_factory(), virtual_phone_factory()


def test_a_step_the_person_declined_is_not_replayed(phones, adb_server, scripted_server, tmp_path) -> None:
    recorder, target = phones
    script = [say(OpenApp(name="Notes")), tap(recorder.phone, "New note"), say(Terminate())]
    person = Person(approvals=[True, False])  # yes to opening Notes, no to the new note
    recording = record(
        recorder, adb_server, scripted_server, script, tmp_path, hooks=person, confirm=ConfirmPolicy("always")
    )
    assert recording.status == "success" and [s.executed for s in recording.steps] == [1, 0, 0]

    replayed = replay_on(target, adb_server, recording, tmp_path / "replays")

    assert replayed.status == "success", replayed.run.reason
    assert not any(argv[:2] == ["input", "tap"] for argv in target.phone.executed), "the declined tap was replayed"
    assert target.phone.state.package == "com.guiagent.notes" and not target.phone.state.notes[0].startswith("Buy")
    declined = replayed.steps[1]
    assert declined.executed == 0 and declined.actions_device == []
    assert any("not replayed" in n and "declined" in n for n in declined.notes), declined.notes


def test_the_unexecuted_tail_of_a_step_that_failed_partway_is_not_replayed(
    phones, adb_server, scripted_server, tmp_path
) -> None:
    recorder, target = phones
    three = "\n".join(say(OpenApp(name=name)) for name in ("Notes", "No Such App", "Settings"))
    recording = record(recorder, adb_server, scripted_server, [three, say(Terminate())], tmp_path)
    first = recording.steps[0]
    assert len(first.actions_device) == 3 and first.executed == 1 and first.error is not None

    replayed = replay_on(target, adb_server, recording, tmp_path / "replays")

    assert replayed.status == "success", replayed.run.reason
    assert target.phone.state.package == "com.guiagent.notes"
    assert not any("com.android.settings" in " ".join(argv) for argv in target.phone.executed)
    step = replayed.steps[0]
    assert step.executed == 1 and [a["type"] for a in step.actions_device] == ["open_app"]
    assert any("1 of 3" in n and first.error.type in n for n in step.notes), step.notes


def test_a_dry_run_recording_is_refused_and_replays_nothing_even_when_allowed(
    phones, adb_server, scripted_server, tmp_path
) -> None:
    recorder, target = phones
    script = [say(OpenApp(name="Notes")), say(Terminate())]
    recording = record(recorder, adb_server, scripted_server, script, tmp_path, dry_run=True)
    assert recording.status == "success" and recording.steps[0].executed == 0  # nothing ran when recorded

    with pytest.raises(ConfigError, match="dry run"):
        replay_on(target, adb_server, recording, tmp_path / "replays")
    assert device_input(target) == []

    replayed = replay_on(
        target, adb_server, recording, tmp_path / "replays", config=ReplayConfig(allow_unfinished=True)
    )
    assert replayed.status == "unfinished"
    assert device_input(target) == [] and target.phone.state.package == "com.android.launcher3"
    assert any("dry run" in n for n in replayed.steps[0].notes)


def test_secrets_are_typed_from_their_values_and_never_written(phones, adb_server, scripted_server, tmp_path) -> None:
    recorder, target = phones
    script = [
        say(OpenApp(name="Notes")),
        tap(recorder.phone, "New note"),
        say(Type(text="pin: <secret:pin>")),
        tap(recorder.phone, "Save"),
        say(Terminate()),
    ]
    recording = record(recorder, adb_server, scripted_server, script, tmp_path, secrets={"pin": SECRET})
    assert recording.status == "success" and recorder.phone.state.notes[0] == f"pin: {SECRET}"

    with pytest.raises(ConfigError, match="pin"):  # asked for a secret it was not given: nothing happens
        replay_on(target, adb_server, recording, tmp_path / "refused")
    assert device_input(target) == []

    replayed = replay_on(target, adb_server, recording, tmp_path / "replays", secrets={"pin": SECRET})
    assert replayed.status == "success", replayed.run.reason
    assert target.phone.state.notes[0] == f"pin: {SECRET}"
    written = [p for p in replayed.folder.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl")]
    assert written and all(SECRET not in p.read_text(encoding="utf-8") for p in written)
    assert "<secret:pin>" in (replayed.folder / "steps.jsonl").read_text(encoding="utf-8")


def test_replay_applies_the_confirm_policy(phones, adb_server, scripted_server, tmp_path) -> None:
    recorder, target = phones
    recording = record(recorder, adb_server, scripted_server, [say(OpenApp(name="Notes")), say(Terminate())], tmp_path)
    person = Person(approvals=[False])
    config = ReplayConfig(wait=1.0, confirm=ConfirmPolicy("always"))

    replayed = replay_on(target, adb_server, recording, tmp_path / "replays", config=config, hooks=person)

    assert person.asked and person.asked[0][0] == "open_app"
    assert replayed.status == "failure" and "declined" in replayed.run.reason
    assert device_input(target) == [] and replayed.steps[0].executed == 0
    assert any("declined by the person" in n for n in replayed.steps[0].notes)


def test_a_step_the_model_declared_sensitive_is_asked_again_on_replay(
    phones, adb_server, scripted_server, tmp_path
) -> None:
    recorder, target = phones
    family = DeclaringFamily()
    script = [f"Sensitive: {MESSAGE}\n{say(OpenApp(name='Notes'), family)}", say(Terminate(), family)]
    recording = record(recorder, adb_server, scripted_server, script, tmp_path, family=family, hooks=Person())
    assert recording.status == "success" and recording.steps[0].sensitive == MESSAGE

    nobody = replay_on(target, adb_server, recording, tmp_path / "nobody")  # default policy, nobody to ask
    assert nobody.status == "failure" and device_input(target) == []

    person = Person()
    approved = replay_on(target, adb_server, recording, tmp_path / "approved", hooks=person)
    assert approved.status == "success", approved.run.reason
    assert person.asked and MESSAGE in person.asked[0][1]
    assert target.phone.state.package == "com.guiagent.notes"


def _max_steps(recorder, adb_server, server, out):
    script = [say(OpenApp(name="Notes")), tap(recorder.phone, "New note")]
    return record(recorder, adb_server, server, script, out, max_steps=2)


def _asked_nobody(recorder, adb_server, server, out):
    script = [say(OpenApp(name="Notes"), TARS), "Thought: Please solve the captcha\nAction: call_user()"]
    return record(recorder, adb_server, server, script, out, family=TARS)


def _killed(recorder, adb_server, server, out):
    recording = record(recorder, adb_server, server, [say(OpenApp(name="Notes")), say(Terminate())], out)
    run_file = recording.folder / "run.json"
    data = json.loads(run_file.read_text(encoding="utf-8"))
    data.update(status="running", reason="", finished_at=None)  # what a SIGKILLed run leaves
    run_file.write_text(json.dumps(data), encoding="utf-8")
    return Trajectory.load(recording.folder)


@pytest.mark.parametrize("make, status", [(_max_steps, "max_steps"), (_asked_nobody, "failure"), (_killed, "running")])
def test_a_recording_that_did_not_succeed_is_refused_unless_allowed(
    make, status, phones, adb_server, scripted_server, tmp_path
) -> None:
    recorder, target = phones
    recording = make(recorder, adb_server, scripted_server, tmp_path)
    assert recording.status == status

    with pytest.raises(ConfigError) as refused:
        replay_on(target, adb_server, recording, tmp_path / "refused")
    assert getattr(refused.value, "status", None) == status and "--allow-unfinished" in str(refused.value)
    assert device_input(target) == []

    allowed = ReplayConfig(wait=1.0, allow_unfinished=True)
    replayed = replay_on(target, adb_server, recording, tmp_path / "replays", config=allowed)
    assert replayed.status == "unfinished", replayed.run.reason
    assert status in replayed.run.reason
    assert target.phone.state.package == "com.guiagent.notes"  # the executed steps were performed
    assert [s.executed for s in replayed.steps] == [s.executed for s in recording.steps]


def test_an_answered_call_user_asks_the_person_again_on_replay(phones, adb_server, scripted_server, tmp_path) -> None:
    recorder, target = phones
    script = [
        "Thought: Please unlock the SIM\nAction: call_user()",
        TARS.format_action(Terminate(space="relative-1000")),
    ]
    recording = record(
        recorder, adb_server, scripted_server, script, tmp_path, family=TARS, hooks=Person(answer="done")
    )
    assert recording.status == "success"

    nobody = replay_on(target, adb_server, recording, tmp_path / "nobody")
    assert nobody.status == "failure" and "Please unlock the SIM" in nobody.run.reason

    person = Person(answer="done again")
    replayed = replay_on(target, adb_server, recording, tmp_path / "replays", hooks=person)
    assert replayed.status == "success" and person.questions == ["Please unlock the SIM"]
