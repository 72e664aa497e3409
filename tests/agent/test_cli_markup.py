"""Model and user text on the terminal is data, never rich markup.

A reply, a reason, a ``call_user`` message or an answer holding ``[/b]`` used to crash ``guiagent run`` at the
end of the run (the summary) and in the confirm prompt; ``[x, y]`` vanished; ``[link=...]``/``[red]`` restyled
the question the person is asked; ``pip install 'guiagent[local]'`` lost its extra. These tests drive the CLI
as a user does: a subprocess against the real scripted HTTP server and the embedded virtual phone, and a
pseudo-terminal where the person answers the confirm and call_user prompts.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Answer, Click

CLI = [sys.executable, "-m", "guiagent.agent.cli"]
PHONE = Size(1080, 2400)
QWEN = get_family("qwen2.5-vl-mobile")

NASTY = "[/b] at [x, y] [link=http://x]here[/link] [red]red[/red] [bold]"
"""Every kind of bracket that rich would read: a stray closing tag, a list, a link, a style, an open tag."""
LITERALS = ("[/b]", "[x, y]", "[link=http://x]here[/link]", "[red]red[/red]", "[bold]")


def _env(adb_server, **extra: str) -> dict[str, str]:
    return {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port), "COLUMNS": "400", **extra}


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120, env=env)


def _summary(stderr: str) -> str:
    assert "Summary" in stderr, stderr
    return stderr[stderr.index("Summary") :]


def test_run_prints_thoughts_answers_and_reasons_literally(adb_server, scripted_server, tmp_path) -> None:
    to_model = QWEN.mapping(PHONE).to_model
    scripted_server.script = [
        QWEN.format_action(to_model(Click(x=540, y=1200)), thought=f"Tap {NASTY}"),
        QWEN.format_action(to_model(Answer(text=f"Done {NASTY}"))),
    ]
    argv = ["run", "Open Settings", "--device", "virtual", "--base-url", scripted_server.url, "--out", str(tmp_path)]
    result = _run(argv, _env(adb_server))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Tap {NASTY}" in result.stderr  # the step's thought line
    summary = _summary(result.stderr)
    assert f"Done {NASTY}" in summary  # the answer row, every bracket kept
    assert "\x1b]8;" not in result.stderr  # no hyperlink was made out of the model's text


def test_call_user_message_in_the_summary_reason(adb_server, scripted_server, tmp_path) -> None:
    """No terminal to ask: the run ends as a failure whose reason quotes the model's message."""
    scripted_server.script = [f"Thought: stuck\nAction: call_user(content='Please log in {NASTY}')"]
    argv = ["run", "Log in", "--device", "virtual", "--base-url", scripted_server.url, "--family", "ui-tars-1.5"]
    result = _run([*argv, "--out", str(tmp_path)], _env(adb_server))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"the model asked for a person: Please log in {NASTY}" in _summary(result.stderr)


def test_install_hint_keeps_its_extra(adb_server, tmp_path) -> None:
    """Without torch, the local backend's hint names the extra: the summary shows it whole."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}), encoding="utf-8")
    driver = (
        "import sys\n"
        "sys.modules['torch'] = None  # a machine without the local extra\n"
        "from guiagent.agent.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    argv = ["run", "Open Settings", "--device", "virtual", "--model", str(model)]
    argv += ["--family", "qwen2.5-vl-mobile", "--out", str(tmp_path / "runs")]
    result = subprocess.run(
        [sys.executable, "-c", driver, *argv], capture_output=True, text=True, timeout=120, env=_env(adb_server)
    )
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert "pip install 'guiagent[local]'" in _summary(result.stderr)


class _Terminal:
    """A child process on a pseudo-terminal: what it wrote so far, and keys typed at its prompts."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.output = ""

    def read_until(self, marker: str, start: int, timeout: float = 60.0) -> int:
        """Read until ``marker`` appears after offset ``start``; returns the offset just past it."""
        deadline = time.monotonic() + timeout
        while marker not in self.output[start:]:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{marker!r} never appeared; the terminal shows:\n{self.output[start:]}")
        return self.output.index(marker, start) + len(marker)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            pass
        return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))

    def _read(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed its end
            return False
        self.output += chunk.decode("utf-8", errors="replace")
        return bool(chunk)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)


def test_confirm_and_call_user_prompts_show_model_text_literally(adb_server, scripted_server, tmp_path) -> None:
    """At a real terminal: the confirm question and the help panel quote the model, unstyled."""
    scripted_server.script = [
        f"Thought: Delete it {NASTY}\nAction: type(content='typed {NASTY}')",
        f"Thought: I need a person\nAction: call_user(content='Please log in {NASTY}')",
        f"Action: finished(content='Finished {NASTY}')",
    ]
    argv = [*CLI, "run", "Log in", "--device", "virtual", "--base-url", scripted_server.url]
    argv += ["--family", "ui-tars-1.5", "--confirm", "--out", str(tmp_path)]
    terminal = _Terminal(argv, _env(adb_server, TERM="xterm-256color"))
    try:
        asked = terminal.read_until("Perform", 0)
        question_end = terminal.read_until("[y/n]", asked)
        question = terminal.output[asked:question_end]
        assert "typed [/b] at [x, y] [link=http://x]here[/link] [red]red[/red] [bold]" in question
        assert "\x1b]8;" not in question and "\x1b[31m" not in question  # neither a link nor red from the model
        terminal.type("n\n")
        panel = terminal.read_until("Your reply", question_end)
        assert "Please log in" in terminal.output[question_end:panel]
        for literal in LITERALS:
            assert literal in terminal.output[question_end:panel], literal
        terminal.type("done\n")
        code = terminal.finish()
    finally:
        terminal.close()
    assert code == 0, terminal.output
    assert "Traceback" not in terminal.output
    assert f"Finished {NASTY}" in _summary(terminal.output)
    steps = [
        json.loads(line) for line in next(Path(tmp_path).iterdir()).joinpath("steps.jsonl").read_text().splitlines()
    ]
    assert steps[0]["executed"] == 0 and "declined by the person" in steps[0]["notes"][0]


def test_eval_prints_suite_and_check_names_literally(adb_server, scripted_server, tmp_path) -> None:
    """A suite's name and its check names come from YAML a person wrote: shown as written."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: 'nightly {NASTY}'\n"
        "tasks:\n"
        "  - id: wifi-off\n"
        "    goal: Turn off Wi-Fi.\n"
        "    device: android\n"
        "    max_steps: 2\n"
        "    success:\n"
        "      - name: 'wifi [/b] off [red]now'\n"
        "        query: settings get global wifi_on\n"
        "        equals: '0'\n",
        encoding="utf-8",
    )
    scripted_server.script = [QWEN.format_action(QWEN.mapping(PHONE).to_model(Answer(text="done")))]
    argv = ["eval", str(suite), "--device", "virtual", "--base-url", scripted_server.url, "--out", str(tmp_path / "o")]
    result = _run(argv, _env(adb_server))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"nightly {NASTY}" in result.stderr
    assert "failed: wifi [/b] off [red]now" in result.stderr
