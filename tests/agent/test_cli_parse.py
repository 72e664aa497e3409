"""``guiagent parse`` and ``guiagent families`` as a user runs them: a real process, real stdout/stderr."""

from __future__ import annotations

import json
import subprocess
import sys

CLI = [sys.executable, "-m", "guiagent.agent.cli"]
COOKBOOK_CLICK = (
    '<tool_call>\\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\\n</tool_call>'
)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_issue_example_prints_the_device_click() -> None:
    result = run("parse", "--family", "qwen2.5-vl-mobile", "--screen", "1080x2400", COOKBOOK_CLICK)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"type": "click", "x": 925, "y": 405}]


def test_reads_the_reply_from_stdin_and_applies_pixel_limits() -> None:
    reply = '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "swipe", "coordinate": [336, 1400], '
    reply += '"coordinate2": [336, 200]}}\n</tool_call>'
    result = run(
        "parse",
        "--family",
        "qwen2.5-vl-mobile",
        "--screen",
        "1080x2400",
        "--max-pixels",
        str(1280 * 28 * 28),
        "-",
        stdin=reply,
    )
    assert result.returncode == 0, result.stderr
    # The model saw 672x1484: 336/672*1080 = 540, 1400/1484*2400 = 2264.2, 200/1484*2400 = 323.5
    assert json.loads(result.stdout) == [{"type": "swipe", "x": 540, "y": 2264, "x2": 540, "y2": 323, "duration": 0.3}]


def test_unparseable_reply_exits_2_with_the_reason_on_stderr_only() -> None:
    result = run("parse", "--family", "qwen2.5-vl-mobile", "--screen", "1080x2400", "I am not sure what to do.")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no tool call found" in result.stderr
    assert "Traceback" not in result.stderr


def test_point_outside_the_screen_exits_2() -> None:
    reply = '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [5000, 10]}}</tool_call>'
    result = run("parse", "--family", "qwen2.5-vl-mobile", "--screen", "1080x2400", reply)
    assert result.returncode == 2 and result.stdout == ""
    assert "outside the screen" in result.stderr


def test_bad_flags_are_clear_errors() -> None:
    unknown = run("parse", "--family", "gpt-vision", "--screen", "1080x2400", "x")
    assert unknown.returncode == 2 and "unknown model family 'gpt-vision'" in unknown.stderr
    assert "qwen2.5-vl-mobile" in unknown.stderr
    bad_screen = run("parse", "--family", "qwen2.5-vl-mobile", "--screen", "big", "x")
    assert bad_screen.returncode == 2 and "WIDTHxHEIGHT" in bad_screen.stderr
    limits = run("parse", "--family", "qwen2.5-vl-mobile", "--screen", "1080x2400", "--max-pixels", "10", "x")
    assert limits.returncode == 2 and "min_pixels <= max_pixels" in limits.stderr


def test_families_lists_every_family_with_its_space() -> None:
    result = run("families", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["qwen2.5-vl-mobile"]["coordinates"] == "pixels"
    assert rows["qwen2.5-vl-mobile"]["max_pixels"] == 16384 * 28 * 28
    assert rows["qwen2.5-vl-mobile"]["factor"] == 28 and rows["qwen2.5-vl-mobile"]["image_order"] == "text first"
    assert rows["ui-tars-1.5"]["history"] == "text + last 4 screenshots"
    for row in rows.values():  # every family says where its format came from
        assert row["source"] and "/" in row["source"], row["name"]
    table = run("families")
    assert table.returncode == 0 and "qwen2.5-vl-computer" in table.stdout
    assert "source: " in table.stdout
