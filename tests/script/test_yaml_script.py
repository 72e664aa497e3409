"""Script files through ``guiagent script run``: errors that name file, line and field before anything runs,
variables from ``--var`` and from queries, secrets from the environment, ``--dry-run``, and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.errors import TaskFileError
from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.agent.cli import main
from guiagent.agent.trajectory import Trajectory
from guiagent.tasks.script.yaml_script import load_script
from tests.fixtures.openai_server import request_text
from tests.script.grounder import Grounder, phone_target

FAMILY = get_family("qwen2.5-vl-mobile")


def write(tmp_path: Path, text: str) -> Path:
    flow = tmp_path / "flow.yaml"
    flow.write_text(text, encoding="utf-8")
    return flow


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("steps:\n  - open_app: Notes\n  - tapp: the Save button\n", 3, "steps.1", "needs one of: tap, double_tap"),
        ("steps:\n  - type: {text: hi, onto: the field}\n", 2, "steps.0.type.onto", "Extra inputs"),
        ("steps:\n  - open_app: Notes\n  - tap: the ${who} row\n", 3, "steps.1.tap", "${who} is not defined"),
        ("steps:\n  - tap: the <secret:pin> key\n", 2, "steps.0.tap", "only in typed text"),
        (
            "steps:\n  - query: {ask: the total, as: total, schema: decimal}\n",
            2,
            "steps.0.query.schema",
            "not a schema",
        ),
        ("steps:\n  - query: {ask: the total, as: 2x}\n", 2, "steps.0.query.as", "variable name"),
        ("steps:\n  - wait_for: {what: done, timeout: -1}\n", 2, "steps.0.wait_for", "greater than 0"),
        ("name: x\nsteps: []\n", 2, "steps", "at least 1"),
        ("steps:\n  - tap: [unclosed\n", 3, "", "not valid YAML"),
    ],
)
def test_errors_name_the_file_line_and_field(
    tmp_path: Path, capsys, text: str, line: int, field: str, words: str
) -> None:
    flow = write(tmp_path, text)
    with pytest.raises(TaskFileError) as caught:
        load_script(flow).check(set())
    error = caught.value
    assert error.path == str(flow) and error.line == line and error.field.startswith(field)
    assert words in str(error) and f"{flow}, line {line}" in str(error)
    code = main(["script", "run", str(flow), "--device", "virtual", "--no-model"])
    assert code == 2 and words in capsys.readouterr().err  # refused before any device is opened


def test_variables_come_from_var_and_from_earlier_queries(virtual_phone, adb_server, scripted_server, tmp_path) -> None:
    phone = virtual_phone.phone
    flow = write(
        tmp_path,
        """\
vars:
  extra: bread
steps:
  - open_app: Notes
  - query: {ask: the title of the first note, as: title}
  - tap: the New note button
  - type: {text: "${title} and ${extra}", into: the note text field}
  - tap: the Save button
  - assert_visible: ${title} and ${extra}
""",
    )
    table = {
        "the New note button": phone_target(phone, text="New note"),
        "the note text field": phone_target(phone, rid="note_text"),
        "the Save button": phone_target(phone, text="Save"),
    }
    ground = Grounder(FAMILY, lambda: Size(*phone.display_size), table)

    def answer(body: dict[str, Any]) -> Any:
        return '"Shopping list"' if "JSON Schema" in request_text(body) else ground(body)

    scripted_server.script, scripted_server.repeat_last = [answer], True
    device = ["--device", f"android:{virtual_phone.serial}", "--adb-port", str(adb_server.port)]
    model = ["--base-url", scripted_server.url, "--model", "scripted", "--family", FAMILY.name]
    code = main(["script", "run", str(flow), *device, *model, "--var", "extra=eggs", "--out", str(tmp_path / "r")])
    assert code == 0
    assert phone.state.notes[0] == "Shopping list and eggs"  # --var won over vars:, the query filled ${title}


def test_dry_run_touches_nothing_and_asks_no_model(virtual_phone, adb_server, scripted_server, tmp_path) -> None:
    flow = write(tmp_path, "steps:\n  - open_app: Notes\n  - tap: the New note button\n  - key: home\n")
    device = ["--device", f"android:{virtual_phone.serial}", "--adb-port", str(adb_server.port)]
    out = tmp_path / "runs"
    code = main(
        ["script", "run", str(flow), *device, "--base-url", scripted_server.url, "--dry-run", "--out", str(out)]
    )
    assert code == 0 and scripted_server.requests == []
    assert not [e for e in virtual_phone.phone.command_log if "input " in e.text or "monkey" in e.text]
    (folder,) = list(out.iterdir())
    run = Trajectory.load(folder)
    assert all(s.dry_run and s.executed == 0 for s in run.steps) and len(run.steps) == 3
    assert "not in the cache" in " ".join(run.steps[1].notes)
    assert (folder / "report.html").exists() and not (tmp_path / "flow.cache.json").exists()


def test_exit_codes_and_refusals_before_anything_runs(virtual_phone, adb_server, tmp_path, capsys, monkeypatch) -> None:
    device = ["--device", f"android:{virtual_phone.serial}", "--adb-port", str(adb_server.port)]
    out = ["--out", str(tmp_path / "runs")]
    query = write(tmp_path, "steps:\n  - query: {ask: the total, as: total, schema: number}\n")
    assert main(["script", "run", str(query), *device, "--no-model", *out]) == 2
    assert "line 2: a query needs a model" in capsys.readouterr().err

    secret = write(tmp_path, "steps:\n  - type: <secret:pin>\n")
    monkeypatch.delenv("GUIAGENT_SECRET_PIN", raising=False)
    assert main(["script", "run", str(secret), *device, "--no-model", *out]) == 2
    assert "GUIAGENT_SECRET_PIN" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before a run began

    check = write(tmp_path, "steps:\n  - open_app: Notes\n  - assert_visible: a note nobody wrote\n")
    assert main(["script", "run", str(check), *device, "--no-model", *out]) == 1
    assert main(["script", "run", str(check), *device, "--no-model", "--base-url", "http://x/v1", *out]) == 2
