"""``guiagent replay`` as users type it: the moved-button check, unfinished recordings, secrets from the environment.

Recordings are made by the real agent on a virtual phone (real adb server, scripted HTTP model); the replay runs
through ``guiagent.agent.cli.main`` on a second virtual phone.
"""

from __future__ import annotations

from pathlib import Path

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click, OpenApp, Terminate, Type
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.cli import main
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv

PHONE = Size(1080, 2400)
FAMILY = get_family("qwen2.5-vl-mobile")
SHOPPING_LIST = (150, 486)  # on the title of the first note in the Notes list


def say(action) -> str:
    return FAMILY.format_action(FAMILY.mapping(PHONE).to_model(action))


def record(connected, adb_server, server, script, out: Path, secrets=None, **config) -> Trajectory:
    server.script = list(script)
    backend = OpenAICompatibleBackend("m", server.url, retry_wait=0.01)
    with AndroidEnv(connected.serial, adb_port=adb_server.port) as env:
        return Agent(env, backend, FAMILY, AgentConfig(out_dir=out, **config), secrets=secrets).run("task")


def cli_replay(recording: Trajectory, connected, adb_server, out: Path, *extra: str) -> int:
    return main(
        [
            "replay",
            str(recording.folder),
            "--device",
            f"android:{connected.serial}",
            "--adb-port",
            str(adb_server.port),
            "--out",
            str(out),
            "--no-report",
            *extra,
        ]
    )


def replays_in(out: Path) -> list[Trajectory]:
    return [Trajectory.load(p) for p in sorted(out.iterdir()) if (p / "run.json").exists()]


def test_a_moved_button_is_refused_through_the_cli(virtual_phone_factory, adb_server, scripted_server, tmp_path):
    recorder = virtual_phone_factory()
    recorder.phone.launch("com.guiagent.notes")
    script = [say(Click(x=SHOPPING_LIST[0], y=SHOPPING_LIST[1])), say(Terminate())]
    recording = record(recorder, adb_server, scripted_server, script, tmp_path / "recorded")
    assert recording.status == "success"
    # The note list moved down 24 px: the screen as a whole is within the 3% threshold, the tapped title is not.
    moved = virtual_phone_factory(layout_shift=24)
    moved.phone.launch("com.guiagent.notes")
    out = tmp_path / "replays"

    code = cli_replay(recording, moved, adb_server, out, "--wait", "0.5")

    assert code == 1
    assert not any(argv[:2] == ["input", "tap"] for argv in moved.phone.executed), "the moved target was tapped"
    (replayed,) = replays_in(out)
    assert replayed.status == "failure" and "the target of the step differs" in replayed.run.reason
    assert replayed.run.settings["target_threshold"] == 0.10 and replayed.run.settings["wait"] == 0.5
    assert "(threshold 10.0%)" in replayed.steps[0].notes[0]


def test_the_cli_refuses_an_unfinished_recording_until_told(
    virtual_phone_factory, adb_server, scripted_server, tmp_path, capsys
) -> None:
    recorder, target = virtual_phone_factory(), virtual_phone_factory()
    script = [say(OpenApp(name="Notes")), say(OpenApp(name="Settings"))]
    recording = record(recorder, adb_server, scripted_server, script, tmp_path / "recorded", max_steps=2)
    assert recording.status == "max_steps"
    out = tmp_path / "replays"

    assert cli_replay(recording, target, adb_server, out) == 2
    message = capsys.readouterr().err
    assert "max_steps" in message and "--allow-unfinished" in message
    assert not any(argv[:1] == ["monkey"] for argv in target.phone.executed)

    assert cli_replay(recording, target, adb_server, out, "--allow-unfinished") == 1
    (replayed,) = replays_in(out)
    assert replayed.status == "unfinished" and target.phone.state.package == "com.android.settings"
    assert "unfinished" in capsys.readouterr().err


def test_the_cli_types_secrets_from_the_environment(
    virtual_phone_factory, adb_server, scripted_server, tmp_path, monkeypatch
) -> None:
    recorder, target = virtual_phone_factory(), virtual_phone_factory()
    secret = "hunter2 & more"

    def tap(text: str):
        def reply(_body) -> str:
            x, y = recorder.phone.find(text=text).bounds.center
            return say(Click(x=x, y=y))

        return reply

    script = [
        say(OpenApp(name="Notes")),
        tap("New note"),
        say(Type(text="<secret:pin>")),
        tap("Save"),
        say(Terminate()),
    ]
    recording = record(recorder, adb_server, scripted_server, script, tmp_path / "recorded", secrets={"pin": secret})
    assert recording.status == "success"
    monkeypatch.setenv("GUIAGENT_SECRET_PIN", secret)

    assert cli_replay(recording, target, adb_server, tmp_path / "replays", "--confirm", "never") == 0
    assert target.phone.state.notes[0] == secret
