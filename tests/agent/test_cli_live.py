"""Live progress, as a person at a terminal sees it: each step when it happens, a spinner while the model thinks.

The commands run in a real 80x50 terminal (tmux) against the embedded virtual phone, a real adb server and
the scripted HTTP model; the pane is read while they work. Piped runs are checked for lines that never
wrap mid-phrase, and the eval table for ids and numbers that survive 80 columns.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Answer, Click, Terminate
from tests.fixtures.openai_server import Stall
from tests.fixtures.terminal import Terminal

CLI = [sys.executable, "-m", "guiagent.agent.cli"]
PHONE = Size(1080, 2400)
QWEN = get_family("qwen2.5-vl-mobile")
STEP_LINE = re.compile(r"✓ step +(\d+)/15 ")


def say(action, thought: str = "") -> str:
    return QWEN.format_action(QWEN.mapping(PHONE).to_model(action), thought=thought or None)


def _env(adb_server, **extra: str) -> dict[str, str]:
    return {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port), **extra}


def test_demo_prints_each_step_as_it_is_replayed(adb_server, tmp_path: Path) -> None:
    with Terminal([*CLI, "demo", "--out", str(tmp_path / "runs")], _env(adb_server), tmp_path) as terminal:
        screens = terminal.watch(timeout=120)
        terminal_lines = terminal.screen(joined=True)
    last = screens[-1]
    assert terminal.exit_code(last) == 0, last
    assert sorted(int(n) for n in STEP_LINE.findall(last)) == list(range(1, 16)), last
    # Step lines arrived while the replay went on, not in one burst at its end.
    counts = [len(STEP_LINE.findall(screen)) for screen in screens if "success:" not in screen]
    partial = sorted({n for n in counts if 0 < n < 15})
    assert len(partial) >= 3, f"step lines came in bursts: {counts}"
    assert counts == sorted(counts)
    assert any("Replaying a recorded 15-step" in s and "is up" not in s for s in screens) or "is up (" in last
    report = re.search(r"report:  (\S+)", terminal_lines)
    assert report and Path(report.group(1)).is_absolute() and Path(report.group(1)).exists(), last


def test_run_shows_a_spinner_while_the_model_thinks(adb_server, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [
        Stall(2.5, say(Click(x=540, y=1200), thought="Tap the middle")),
        say(Terminate(status="success")),
    ]
    argv = [*CLI, "run", "Open Settings", "--device", "virtual", "--base-url", scripted_server.url, "--out", "runs"]
    with Terminal(argv, _env(adb_server), tmp_path) as terminal:
        spinner = re.compile(r"step 1 · the model is thinking…\s+(\d+\.\d) s")
        first = terminal.wait_for(lambda s: bool(spinner.search(s)), timeout=60)
        later = terminal.wait_for(
            lambda s: bool(spinner.search(s)) and spinner.findall(s)[-1] != spinner.findall(first)[-1], timeout=10
        )
        assert float(spinner.findall(later)[-1]) > float(spinner.findall(first)[-1])
        terminal.wait_for(lambda s: terminal.exit_code(s) is not None, timeout=60)
        done = terminal.screen(joined=True)
    assert terminal.exit_code(done) == 0, done
    assert "the model is thinking" not in done  # the spinner line is gone once the run ends
    assert "thought Tap the middle" in done
    report = re.search(r"report: +(\S+)", done)
    assert report, done
    path = Path(report.group(1))
    assert path.is_absolute() and path.exists() and path.name == "report.html"
    assert path.parent.parent == tmp_path / "runs"


def test_run_writes_no_report_when_asked(adb_server, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [say(Answer(text="ok"))]
    argv = ["run", "x", "--device", "virtual", "--base-url", scripted_server.url, "--out", str(tmp_path), "--no-report"]
    result = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120, env=_env(adb_server))
    assert result.returncode == 0, result.stderr
    (folder,) = [p for p in tmp_path.iterdir() if (p / "run.json").exists()]
    assert not (folder / "report.html").exists() and "report:" not in result.stderr
    assert f"trajectory: {folder}" in result.stderr


def test_piped_output_keeps_each_line_whole(adb_server, scripted_server, tmp_path: Path) -> None:
    thought = "I will now tap the very long button labelled Continue to the next screen of the setup wizard"
    scripted_server.script = [say(Click(x=540, y=1200), thought=thought), say(Answer(text="done"))]
    out = tmp_path / ("a-rather-long-folder-name-" * 3)
    argv = ["run", "Open Settings", "--device", "virtual", "--base-url", scripted_server.url, "--out", str(out)]
    env = {key: value for key, value in _env(adb_server).items() if key != "COLUMNS"}
    result = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"  thought {thought}" in lines
    (folder,) = [p for p in out.iterdir() if (p / "run.json").exists()]
    assert f"trajectory: {folder}" in lines and f"report:     {folder / 'report.html'}" in lines
    assert f"Run folder: {folder}" in lines
    assert not any(line.startswith(("╭", "┏", "│")) for line in lines), "boxes in a log"


def _suite(tmp_path: Path) -> Path:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: live\n"
        "tasks:\n"
        "  - id: wifi-off-from-the-quick-settings-panel\n"
        "    goal: Turn off Wi-Fi.\n"
        "    device: android\n"
        "    max_steps: 2\n"
        "    success:\n"
        "      - name: wifi is off\n"
        "        query: settings get global wifi_on\n"
        "        equals: '0'\n",
        encoding="utf-8",
    )
    return suite


def test_eval_shows_why_a_task_failed_and_fits_80_columns(adb_server, scripted_server, tmp_path: Path) -> None:
    scripted_server.script = [say(Terminate(status="failure"), thought="I cannot find the switch")]
    scripted_server.repeat_last = True
    argv = [*CLI, "eval", str(_suite(tmp_path)), "--device", "virtual", "--base-url", scripted_server.url]
    with Terminal([*argv, "--out", "results"], _env(adb_server), tmp_path) as terminal:
        done = terminal.wait_for(lambda s: terminal.exit_code(s) is not None, timeout=120)
        lines = terminal.screen(joined=True)
    assert terminal.exit_code(done) == 1, done
    rows = done.splitlines()
    assert all(len(row) <= 80 for row in rows)
    # The reason is on the terminal (it used to be only in results.json), as the task ends and under the table.
    joined = " ".join(row.strip() for row in rows)
    assert "✗ wifi-off-from-the-quick-settings-panel (failure, 1 steps" in joined
    assert "the model reported failure; failed: wifi is off" in joined
    # The table keeps the whole id (folded over lines, never "wifi-o…") and the token counts.
    table = done[done.index("Suite results") :]
    assert "…" not in table
    (row,) = [r for r in table.splitlines() if "✗ failure" in r and "steps" not in r]
    assert row.split()[0] == "wifi-off-from-the-quick-settings-panel", table  # the whole id, one line at 80 columns
    result = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))["results"][0]
    tokens = (
        f"{result['prompt_tokens'] / 1000:.1f}k" if result["prompt_tokens"] >= 10_000 else str(result["prompt_tokens"])
    )
    assert row.split()[-1] == f"{tokens}+{result['completion_tokens']}", row
    report = re.search(r"report: +(\S+)", lines)
    assert report and Path(report.group(1)) == tmp_path / "results" / "report.html"


def test_eval_piped_prints_the_reason_on_one_line(adb_server, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/v1"
    argv = ["eval", str(_suite(tmp_path)), "--device", "virtual", "--base-url", dead, "--out", str(tmp_path / "r")]
    env = {**_env(adb_server), "COLUMNS": "80"}
    result = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1, result.stderr
    reasons = [line for line in result.stderr.splitlines() if "wifi-off-from-the-quick-settings-panel: not run" in line]
    assert len(reasons) == 1 and f"the model endpoint {dead} is unreachable" in reasons[0], result.stderr
    assert all(len(line) <= 80 for line in result.stderr[result.stderr.index("Suite results") :].splitlines()[:6])


def test_replay_and_report_paths_print_as_they_are(adb_server, tmp_path: Path) -> None:
    """A folder named like rich markup prints literally (``replay:``/``report:`` used to be read as markup)."""
    out = tmp_path / "[red]runs[/red] [link=x]"
    result = subprocess.run(
        [*CLI, "demo", "--out", str(out)], capture_output=True, text=True, timeout=120, env=_env(adb_server)
    )
    assert result.returncode == 0, result.stderr
    (folder,) = [p for p in out.iterdir() if (p / "run.json").exists()]
    lines = result.stderr.splitlines()
    assert f"replay:  {folder}" in lines and f"report:  {folder / 'report.html'}" in lines
    assert result.stdout.strip() == str(folder / "report.html")
