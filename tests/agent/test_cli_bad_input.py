"""Bad input on the command line is refused at once with one clear line (exit 2), never a traceback.

Each case is what a user typed: numbers out of range, an empty task, a port that cannot exist, an action that
is not JSON, a model that cannot be had offline, and a suite pointed at an endpoint nobody answers on.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "guiagent.agent.cli"]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "HF_HUB_OFFLINE", "HF_ENDPOINT")}
    return {**env, "COLUMNS": "300", **extra}


def _run(
    *argv: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess; ``cwd`` keeps default output folders (eval-results/, runs/) out of the repo."""
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=timeout, env=env or _env(), cwd=cwd)


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, the words in the message, no traceback and no misleading transport error."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "ConnectError" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


DEAD = f"http://127.0.0.1:{_closed_port()}/v1"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "", "--device", "virtual", "--base-url", DEAD], ["TASK", "empty"]),
        (["run", "   ", "--device", "virtual", "--base-url", DEAD], ["TASK", "empty"]),
        (["run", "x", "--device", "virtual", "--base-url", DEAD, "--history-images", "-1"], ["--history-images"]),
        (["run", "x", "--device", "virtual", "--base-url", DEAD, "--timeout", "0"], ["--timeout", "more than 0"]),
        (["run", "x", "--device", "virtual", "--base-url", DEAD, "--timeout", "nan"], ["--timeout"]),
        (["run", "x", "--device", "virtual", "--base-url", DEAD, "--max-steps", "0"], ["--max-steps"]),
        (["run", "x", "--device", "virtual", "--base-url", DEAD, "--time-limit", "-5"], ["--time-limit"]),
        (["eval", "virtual-phone", "--device", "virtual", "--base-url", DEAD, "--history-images", "-1"], ["--history"]),
        (["eval", "virtual-phone", "--device", "virtual", "--base-url", DEAD, "--timeout", "0"], ["--timeout"]),
        (["virtual-phone", "--port", "99999"], ["--port", "65535"]),
        (["virtual-phone", "--port", "-1"], ["--port"]),
    ],
)
def test_out_of_range_flags_and_empty_tasks_are_refused(argv: list[str], words: list[str], tmp_path: Path) -> None:
    started = time.monotonic()
    _refused(_run(*argv, timeout=30, cwd=tmp_path), *words)
    assert time.monotonic() - started < 20


def test_a_port_already_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = str(taken.getsockname()[1])
        result = _run("virtual-phone", "--port", busy, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use" in lines[0] and busy in lines[0], result.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("notjson", ["is not JSON", "expecting value"]),
        ("{'type': 'click'}", ["is not JSON"]),
        ('{"type": "fly"}', ["'fly'", "click"]),
        ('{"x": 1, "y": 2}', ['"type"']),
        ('{"type": "click", "x": -3, "y": 1}', ["invalid action JSON", "x must be >= 0"]),
        ("[1, 2]", ["one JSON object"]),
    ],
)
def test_act_explains_what_is_wrong_with_the_action(text: str, words: list[str]) -> None:
    result = _run("act", "--device", "virtual", text, timeout=30)
    _refused(result, *words, '{"type": "click", "x": 540, "y": 1200}')
    assert "(:" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_run_without_a_model_offline_fails_fast_and_names_base_url(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE with nothing cached: refused before any device is opened."""
    env = _env(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1")
    started = time.monotonic()
    result = _run("run", "Open Settings", "--device", "virtual", "--out", str(tmp_path / "runs"), env=env)
    assert time.monotonic() - started < 15
    _refused(result, "--base-url", "HF_HUB_OFFLINE", "Qwen/Qwen2.5-VL-7B-Instruct")
    assert "Summary" not in result.stderr and not (tmp_path / "runs").exists()


def test_run_without_a_model_and_no_network_fails_fast(tmp_path: Path) -> None:
    """Not marked offline, but the hub cannot be reached: no 30 s of hub retries."""
    hub = f"http://127.0.0.1:{_closed_port()}"
    env = _env(HF_HOME=str(tmp_path / "hf"), HF_ENDPOINT=hub)
    started = time.monotonic()
    result = _run("run", "Open Settings", "--device", "virtual", "--out", str(tmp_path / "runs"), env=env)
    assert time.monotonic() - started < 15
    _refused(result, "--base-url", hub, "HF_HUB_OFFLINE")
    assert "Summary" not in result.stderr and not (tmp_path / "runs").exists()


def test_eval_against_a_dead_endpoint_stops_and_says_why(adb_server, tmp_path: Path) -> None:
    env = _env(ANDROID_ADB_SERVER_PORT=str(adb_server.port))
    out = tmp_path / "results"
    started = time.monotonic()
    result = _run("eval", "virtual-phone", "--device", "virtual", "--base-url", DEAD, "--out", str(out), env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert elapsed < 20, elapsed
    assert "Traceback" not in result.stderr
    assert "unreachable" in result.stderr and DEAD in result.stderr  # on the terminal, not only in the file
    rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    assert len(rows) == 12
    assert all(not r["success"] for r in rows)
    assert all(r["status"] == "not_run" and "unreachable" in r["reason"] and DEAD in r["reason"] for r in rows)
    assert (out / "report.html").exists()
