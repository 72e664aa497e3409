"""CLI parity with the API: ``--extra-body`` reaches the server as given, and ``guiagent.toml`` / ``--config``.

``guiagent run`` is driven as a user types it (a subprocess, the embedded virtual phone, the real adb server)
against the scripted HTTP server, which records each request body. A config file's values must arrive in
the run exactly as the same flags would; flags typed on the command line win; a bad file names the file,
the line and the field.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Answer
from guiagent.agent.trajectory import Trajectory

CLI = [sys.executable, "-m", "guiagent.agent.cli"]
QWEN = get_family("qwen2.5-vl-mobile")
DONE = QWEN.format_action(QWEN.mapping(Size(1080, 2400)).to_model(Answer(text="done")))
EXTRA = {
    "top_k": 1,
    "repetition_penalty": 1.05,
    "mm_processor_kwargs": {"max_pixels": 12845056},
    "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
}


def _run(argv: list[str], adb_server, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port)}
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def _only_run(out: Path) -> Trajectory:
    (folder,) = [p for p in out.iterdir() if (p / "run.json").exists()]
    return Trajectory.load(folder)


def test_extra_body_is_sent_as_given(adb_server, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [DONE, DONE]
    base = ["run", "Open Settings", "--device", "virtual", "--base-url", scripted_server.url, "--no-report"]
    result = _run([*base, "--out", "a", "--extra-body", json.dumps(EXTRA)], adb_server, tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "extra.json").write_text(json.dumps({"top_k": 5, "max_tokens": 64}), encoding="utf-8")
    result = _run([*base, "--out", "b", "--extra-body", "@extra.json"], adb_server, tmp_path)
    assert result.returncode == 0, result.stderr
    inline, from_file = scripted_server.requests
    for key, value in EXTRA.items():
        assert inline[key] == value
    assert from_file["top_k"] == 5 and from_file["max_tokens"] == 64  # merged last: it may override guiagent's own


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{top_k: 1}", "is not JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        ("[1, 2]", "must be a JSON object"),
        ("@missing.json", "cannot read missing.json"),
    ],
)
def test_a_bad_extra_body_is_refused_at_the_flag(value: str, message: str, adb_server, tmp_path: Path) -> None:
    argv = ["run", "x", "--device", "virtual", "--base-url", "http://127.0.0.1:9/v1", "--extra-body", value]
    result = _run(argv, adb_server, tmp_path)
    assert result.returncode == 2 and "argument --extra-body" in result.stderr and message in result.stderr


def test_guiagent_toml_in_the_current_folder_sets_the_flags(adb_server, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [DONE]
    (tmp_path / "guiagent.toml").write_text(
        "# saved command line\n"
        f'base-url = "{scripted_server.url}"\n'
        'device = "virtual"\n'
        'out = "saved-runs"\n'
        "[run]\n"
        "max-steps = 4\n"
        "temperature = 0.3\n"
        "max-new-tokens = 200\n"
        "repeat-limit = 0\n"
        "settle-max = 1.5\n"
        "history-images = 0\n"
        "no-report = true\n"
        'confirm = "risky"\n'
        "extra-body = { top_k = 1, mm_processor_kwargs = { max_pixels = 1003520 } }\n"
        "[eval]\n"
        "task = ['wifi-off']\n",
        encoding="utf-8",
    )
    result = _run(["run", "Open Settings"], adb_server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"settings: {tmp_path / 'guiagent.toml'}" in result.stderr
    (body,) = scripted_server.requests
    assert body["temperature"] == 0.3 and body["max_tokens"] == 200
    assert body["top_k"] == 1 and body["mm_processor_kwargs"] == {"max_pixels": 1003520}
    run = _only_run(tmp_path / "saved-runs").run
    settings = run.settings
    assert settings["max_steps"] == 4 and settings["temperature"] == 0.3 and settings["repeat_limit"] == 0
    assert settings["settle_max"] == 1.5 and settings["history"]["max_images"] == 0
    assert settings["confirm"]["mode"] == "risky"
    assert not (_only_run(tmp_path / "saved-runs").folder / "report.html").exists()


def test_flags_on_the_command_line_win_and_config_picks_the_file(adb_server, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [DONE]
    (tmp_path / "guiagent.toml").write_text('device = "nonsense"\n', encoding="utf-8")
    (tmp_path / "team.toml").write_text(
        f'base-url = "{scripted_server.url}"\ndevice = "virtual"\n[run]\nmax-steps = 9\ntemperature = 0.5\n',
        encoding="utf-8",
    )
    argv = ["run", "x", "--config", "team.toml", "--max-steps", "30", "--out", "r", "--no-report"]
    result = _run(argv, adb_server, tmp_path)
    assert result.returncode == 0, result.stderr
    settings = _only_run(tmp_path / "r").run.settings
    assert settings["max_steps"] == 30  # typed, and equal to the default: still the typed value wins
    assert settings["temperature"] == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('device = "virtual"\nmax-step = 3\n', "guiagent.toml:2: unknown field 'max-step' in the top level"),
        (
            'device = "virtual"\n[run]\n\nmax-steps = "many"\n',
            "guiagent.toml:4: max-steps: 'many' is not a whole number",
        ),
        ("[run]\nmax-steps = 0\n", "guiagent.toml:2: max-steps: must be at least 1, got 0"),
        ("[run]\ndry-run = 1\n", "guiagent.toml:2: dry-run: must be true or false, got 1"),
        ("[run]\nconfirm = 'sometimes'\n", "guiagent.toml:2: confirm: must be one of always, risky, got 'sometimes'"),
        ("[run]\ntemperature = [1]\n", "guiagent.toml:2: temperature: takes a single value"),
        ("[rn]\nmax-steps = 3\n", "guiagent.toml:1: unknown section 'rn' in the top level"),
        ("[run]\nmax-stepz = 3\n", "guiagent.toml:2: unknown field 'max-stepz' in [run] (guiagent run)"),
        ("[run]\nmax-steps = 3\ndevice virtual\n", "guiagent.toml:3: device: not valid TOML"),
    ],
)
def test_a_config_file_error_names_the_file_the_line_and_the_field(
    text: str, message: str, adb_server, tmp_path: Path
) -> None:
    (tmp_path / "guiagent.toml").write_text(text, encoding="utf-8")
    result = _run(["run", "x", "--base-url", "http://127.0.0.1:9/v1"], adb_server, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr
    if "unknown field 'max-step'" in message:
        assert "did you mean 'max-steps'?" in result.stderr


def test_device_is_still_required_somewhere(adb_server, tmp_path: Path) -> None:
    result = _run(["run", "x", "--base-url", "http://127.0.0.1:9/v1"], adb_server, tmp_path)
    assert result.returncode == 2
    assert "--device is required: give it on the command line or in guiagent.toml" in result.stderr


def test_every_agent_config_field_a_user_sets_has_a_flag() -> None:
    from dataclasses import fields

    from guiagent.agent.cli import build_parser
    from guiagent.agent.history import HistoryPolicy
    from guiagent.agent.settings import AgentConfig

    parser = build_parser()
    run = parser._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    flags = {option for action in run._actions for option in action.option_strings}
    by_field = {
        "max_steps": "--max-steps",
        "time_limit": "--time-limit",
        "max_invalid_replies": "--max-invalid-replies",
        "repeat_limit": "--repeat-limit",
        "max_new_tokens": "--max-new-tokens",
        "temperature": "--temperature",
        "settle": "--no-settle",
        "settle_min": "--settle-min",
        "settle_max": "--settle-max",
        "dry_run": "--dry-run",
        "confirm": "--confirm",
        "out_dir": "--out",
        "history.max_images": "--history-images",
        "history.image_scale": "--history-image-scale",
        "history.token_budget": "--token-budget",
    }
    known = {f.name for f in fields(AgentConfig) if f.name != "history"} | {
        f"history.{f.name}" for f in fields(HistoryPolicy)
    }
    assert known == set(by_field), "a new AgentConfig field needs a flag (and a line here)"
    assert set(by_field.values()) <= flags
