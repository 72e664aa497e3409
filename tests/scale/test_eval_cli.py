"""``guiagent eval`` with the scale options, end to end in a real subprocess.

``--pool`` with embedded virtual phones, ``--base-url URL1,URL2`` against two real HTTP servers (one killed
mid-suite), ``--shard`` and ``--resume``. The model replies need no screen (``open_apps_suite``), so the
servers can live in this process while the phones live in the CLI's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from tests.scale.helpers import open_apps_suite, start_killable_server, step_answer

MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"


def _eval(adb_server, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_server.port)}
    command = [sys.executable, "-m", "guiagent.agent.cli", "eval", *args, "--model", MODEL]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def test_pool_and_two_endpoints_one_killed_mid_suite(adb_server, tmp_path):
    suite = open_apps_suite(tmp_path, 6)
    pool = tmp_path / "pool.yaml"
    pool.write_text(f"adb: {{port: {adb_server.port}}}\nretry_window: 2\ndevices:\n  - virtual: 3\n")
    servers = [start_killable_server(step_answer, latency=0.1) for _ in range(2)]

    def kill_when_busy():
        while len(servers[0].requests) < 4:
            time.sleep(0.01)
        servers[0].kill()

    threading.Thread(target=kill_when_busy, daemon=True).start()
    out = tmp_path / "out"
    urls = f"{servers[0].url},{servers[1].url}"
    result = _eval(adb_server, str(suite), "--pool", str(pool), "--base-url", urls, "--out", str(out))
    servers[1].kill()
    assert result.returncode == 0, result.stderr[-3000:]
    assert servers[0].dead and servers[0].requests and servers[1].requests
    saved = json.loads((out / "results.json").read_text())
    assert [r["success"] for r in saved["results"]] == [True] * 6
    assert saved["model"]["urls"] == [servers[0].url, servers[1].url]
    assert {d["name"] for d in saved["devices"]} == {"virtual-0", "virtual-1", "virtual-2"}
    for goal in {b["_goal"] for s in servers for b in s.requests}:  # each episode: A..A then B..B, or one server
        order = [
            i for _, i in sorted((b["_at"], i) for i, s in enumerate(servers) for b in s.requests if b["_goal"] == goal)
        ]
        assert order == sorted(order), (goal, order)
    assert (out / "report.html").exists() and "100% succeeded" in result.stderr


def test_shard_then_resume_runs_each_task_once(adb_server, tmp_path):
    suite = open_apps_suite(tmp_path, 4)
    server = start_killable_server(step_answer)
    out = tmp_path / "out"
    try:
        first = _eval(adb_server, str(suite), "--device", "virtual", "--base-url", server.url, "--shard", "2/2",
                      "--out", str(out))  # fmt: skip
        assert first.returncode == 0, first.stderr[-3000:]
        saved = json.loads((out / "results.json").read_text())
        assert [r["task_id"] for r in saved["results"]] == ["open-apps-1", "open-apps-3"] and saved["shard"] == "2/2"
        started = {b["_goal"] for b in server.requests if b["_step"] == 0}
        assert started == {"Open Settings, then open Notes (task 1)", "Open Settings, then open Notes (task 3)"}

        before = len(server.requests)
        rest = _eval(adb_server, str(suite), "--device", "virtual", "--base-url", server.url, "--out", str(out),
                     "--resume")  # fmt: skip
        assert rest.returncode == 0, rest.stderr[-3000:]
        assert "resumed: 2 finished task(s)" in rest.stderr
        ran = {b["_goal"] for b in server.requests[before:] if b["_step"] == 0}
        assert ran == {"Open Settings, then open Notes (task 0)", "Open Settings, then open Notes (task 2)"}
        saved = json.loads((out / "results.json").read_text())
        assert [r["task_id"] for r in saved["results"]] == [f"open-apps-{i}" for i in range(4)]
        assert all(r["success"] for r in saved["results"]) and saved["resumed_at"]
    finally:
        server.kill()


def test_eval_without_devices_says_how_to_give_them(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "guiagent.agent.cli", "eval", "virtual-phone", "--base-url", "http://127.0.0.1:9/v1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "--device" in result.stderr and "--pool" in result.stderr, result.stderr
