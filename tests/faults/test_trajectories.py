"""1,000 fuzzed or truncated trajectories fed to ``guiagent report`` and ``guiagent replay``.

Seeds are real run folders: one the agent records on a virtual phone (real adb server, scripted HTTP model)
and the replay of it. Each fuzzed copy has one to three damages: ``steps.jsonl`` or ``run.json`` cut short,
lines dropped, repeated or swapped, bytes flipped (invalid UTF-8 included), a field of a step or of the run
given a hostile value (wrong types, markup, NUL, huge numbers), screenshots truncated, emptied, replaced by
text, by a folder or by a PNG header claiming 10^10 pixels, and ``screenshot`` fields or symbolic links
that point outside the run folder (``../``, absolute paths, a link to a file elsewhere).

Every copy goes through both commands as a user types them (``guiagent.agent.cli.main``). What counts as
lost: a traceback (any exception out of ``main``), a message that is not one line, a file opened outside the
run folder (or written outside it and the replay's output folder), seen by an audit hook, and a replay
that performs more device actions than the fuzzed recording says were executed.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import random
import shutil
import struct
import time
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from guiagent.actions.types import Click, OpenApp, Terminate
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.agent.cli import main
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.agent.trajectory import Trajectory
from guiagent.envs.android import AndroidEnv
from tests.faults.helpers import PHONE, PathWatch, device_input, nothing_lost, say, small_phone

TRAJECTORIES = 1_000
SEED = "guiagent-faults-trajectories"

HOSTILE: list[Any] = [
    None,
    -1,
    0,
    10**20,
    1e308,
    float("inf"),
    "",
    "abc",
    "[/b][red]x[link=file:///etc/passwd]y",
    "a\x00b",
    "\ud800",
    [],
    {},
    [1, "x", None],
    {"type": "click"},
    {"width": "wide", "height": None},
    "../outside/sentinel.png",
]
STEP_FIELDS: dict[str, list[Any]] = {
    "index": [0, -3, 10**9, "1", None],
    "screen": [
        {},
        {"width": "abc", "height": 800},
        {"width": -360, "height": 800},
        {"width": 0, "height": 0},
        {"width": 10**9, "height": 1},
        {"width": 1e308, "height": 800},
        [],
    ],
    "executed": [-1, 99, 10**9, "2", None, 1.5],
    "actions_device": [
        [],
        [{"type": "nope"}],
        [{"type": "click", "x": -5, "y": 10}],
        [{"type": "click", "x": 10**9, "y": 10**9}],
        [{"type": "click"}],
        [{"type": "click", "x": 10, "y": 10, "space": "relative-1000"}],
        [{"type": "type", "text": "<secret:pin>"}],
        [{"type": "terminate", "status": "weird"}],
        [{"type": "call_user", "message": "[/b]"}],
        [{"type": "wait", "seconds": 1e9}],
        [{"type": "swipe", "x": 1, "y": 1, "x2": 2, "y2": 2, "duration": -1}],
        "click",
        [[1, 2]],
    ],
    "dry_run": [True, "yes", None],
    "notes": ["x", [None], ["person replied: [/b]"], [1, 2]],
    "error": [{"type": "X"}, "boom", {"type": "[/b]", "message": "[red]"}],
    "timings": [{"capture": "slow"}, {"model": -1.0}, [], {"x": 1e308}],
    "prompt": ["x", [{"role": "user", "content": "[/b]"}], [None]],
    "reply": ["[/b]" * 50, 5, "\x00"],
    "thought": ["[link=https://evil.example]click here[/link]", 7],
    "model_image": [{"width": "x"}, []],
}
RUN_FIELDS: dict[str, list[Any]] = {
    "status": ["success", "running", "max_steps", "weird", None, 1],
    "kind": ["replay", "agent", "other"],
    "task": ["[/b]", "", None, "x" * 10_000],
    "started_at": ["yesterday", -1, 1e308, None],
    "finished_at": ["x", 0, -5],
    "steps": [-1, 10**9, "3"],
    "source": ["../../outside", "/etc", 5],
    "device": [[], "android", {"name": None}],
    "family": [{"name": "no-such-family"}, "qwen", []],
    "settings": [{"threshold": "x"}, []],
    "id": ["../../escape", "", None],
}
PATHS = [
    "../outside/sentinel.png",
    "../../outside/sentinel.png",
    "sub/../../outside/sentinel.png",
    "step-0001.png/../../outside/sentinel.png",
    "{outside}/sentinel.png",
    "link.png",
    "linkdir/sentinel.png",
    "~/sentinel.png",
    "..\\outside\\sentinel.png",
    "",
    ".",
    "..",
    "steps.jsonl",
    "run.json",
    "missing.png",
    "x" * 300 + ".png",
    "a\x00b.png",
]


def bomb_png() -> bytes:
    """A valid PNG header claiming 100000x100000 pixels (Pillow's decompression-bomb limit is 179M)."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = zlib.compress(b"\x00" * 16)
    idat = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


class Fuzzer:
    """Damages a copy of a seed run folder."""

    def __init__(self, rng: random.Random, outside: Path) -> None:
        self.rng = rng
        self.outside = outside

    def damage(self, folder: Path) -> list[str]:
        done = []
        for _ in range(self.rng.randint(1, 3)):
            op = self.rng.choice(
                [self.cut_steps, self.cut_steps, self.lines, self.flip_bytes, self.step_field, self.step_field,
                 self.step_field, self.run_field, self.run_field, self.cut_run, self.image, self.path, self.path]
            )  # fmt: skip
            done.append(op(folder))
        return done

    def _steps(self, folder: Path) -> list[bytes]:
        return (folder / "steps.jsonl").read_bytes().splitlines(keepends=True)

    def cut_steps(self, folder: Path) -> str:
        path = folder / "steps.jsonl"
        raw = path.read_bytes()
        at = self.rng.randint(0, len(raw))
        path.write_bytes(raw[:at])
        return f"steps.jsonl cut at {at}"

    def cut_run(self, folder: Path) -> str:
        path = folder / "run.json"
        if not path.is_file():
            return "no run.json to cut"
        choice = self.rng.random()
        if choice < 0.15:
            path.unlink()
            return "run.json deleted"
        if choice < 0.25:
            path.unlink()
            path.mkdir()
            return "run.json a folder"
        raw = path.read_bytes()
        at = self.rng.randint(0, len(raw))
        path.write_bytes(raw[:at])
        return f"run.json cut at {at}"

    def lines(self, folder: Path) -> str:
        lines = self._steps(folder)
        if not lines:
            return "no lines"
        at = self.rng.randrange(len(lines))
        op = self.rng.choice(["drop", "repeat", "swap", "blank", "crlf", "garbage"])
        if op == "drop":
            del lines[at]
        elif op == "repeat":
            lines.insert(at, lines[at])
        elif op == "swap":
            other = self.rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "blank":
            lines.insert(at, b"\n   \n")
        elif op == "crlf":
            lines[at] = lines[at].rstrip(b"\n") + b"\r\n"
        else:
            lines.insert(at, self.rng.choice([b"{}\n", b"[]\n", b"null\n", b'{"index": 1}\n', b"\xff\xfe\n"]))
        (folder / "steps.jsonl").write_bytes(b"".join(lines))
        return f"line {at}: {op}"

    def flip_bytes(self, folder: Path) -> str:
        path = folder / self.rng.choice(["steps.jsonl", "run.json"])
        if not path.is_file():
            return "nothing to flip"
        raw = bytearray(path.read_bytes())
        for _ in range(self.rng.randint(1, 5)):
            if raw:
                raw[self.rng.randrange(len(raw))] = self.rng.choice([0x00, 0xFF, 0xC3, 0x22, 0x7B, 0x5C, 0x0A])
        path.write_bytes(bytes(raw))
        return f"{path.name}: bytes flipped"

    def _edit_step(self, folder: Path, edit: Any) -> str:
        lines = self._steps(folder)
        if not lines:
            return "no step to edit"
        at = self.rng.randrange(len(lines))
        try:
            data = json.loads(lines[at])
        except ValueError:
            return "step not JSON"
        if not isinstance(data, dict):
            return "step not an object"
        what = edit(data)
        lines[at] = json.dumps(data, ensure_ascii=self.rng.random() < 0.5).encode("utf-8", "surrogatepass") + b"\n"
        (folder / "steps.jsonl").write_bytes(b"".join(lines))
        return f"step line {at}: {what}"

    def step_field(self, folder: Path) -> str:
        def edit(data: dict[str, Any]) -> str:
            field = self.rng.choice(list(STEP_FIELDS))
            if self.rng.random() < 0.15:
                data.pop(field, None)
                return f"{field} removed"
            value = self.rng.choice(STEP_FIELDS[field] + HOSTILE)
            data[field] = value
            return f"{field} = {value!r:.60}"

        return self._edit_step(folder, edit)

    def run_field(self, folder: Path) -> str:
        path = folder / "run.json"
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return "run.json unreadable already"
        field = self.rng.choice(list(RUN_FIELDS))
        if self.rng.random() < 0.15:
            data.pop(field, None)
            what = f"{field} removed"
        else:
            data[field] = self.rng.choice(RUN_FIELDS[field] + HOSTILE)
            what = f"{field} = {data[field]!r:.60}"
        path.write_bytes(json.dumps(data).encode("utf-8", "surrogatepass"))
        return f"run.json {what}"

    def image(self, folder: Path) -> str:
        images = sorted(folder.glob("step-*.png"))
        if not images:
            return "no image"
        path = self.rng.choice(images)
        op = self.rng.choice(["cut", "empty", "text", "folder", "bomb", "delete", "link"])
        raw = path.read_bytes()
        path.unlink()
        if op == "cut":
            path.write_bytes(raw[: self.rng.randint(0, len(raw))])
        elif op == "empty":
            path.write_bytes(b"")
        elif op == "text":
            path.write_text("not an image\n", encoding="utf-8")
        elif op == "folder":
            path.mkdir()
        elif op == "bomb":
            path.write_bytes(bomb_png())
        elif op == "link":
            path.symlink_to(self.outside / "sentinel.png")
        return f"{path.name}: {op}"

    def path(self, folder: Path) -> str:
        (folder / "link.png").unlink(missing_ok=True)
        (folder / "link.png").symlink_to(self.outside / "sentinel.png")
        if not (folder / "linkdir").exists():
            (folder / "linkdir").symlink_to(self.outside, target_is_directory=True)
        choice = self.rng.choice(PATHS).replace("{outside}", str(self.outside))

        def edit(data: dict[str, Any]) -> str:
            data["screenshot"] = choice
            return f"screenshot = {choice!r:.60}"

        return self._edit_step(folder, edit)


def record_seed(phone, adb_port: int, server, out: Path) -> Trajectory:
    """A 3-step run recorded by the agent: open Notes, tap the first note, done."""

    def tap_first_note(_body: dict[str, Any]) -> str:
        x, y = phone.phone.find(text="Shopping list").bounds.center
        return say(Click(x=x, y=y))

    server.script = [say(OpenApp(name="Notes")), tap_first_note, say(Terminate())]
    backend = OpenAICompatibleBackend("m", server.url, retry_wait=0.01)
    config = AgentConfig(out_dir=out, settle_min=0.0, settle_max=0.3)
    with AndroidEnv(phone.serial, adb_port=adb_port) as env:
        return Agent(env, backend, "qwen2.5-vl-mobile", config).run("Open the shopping list")


WORKERS = 3
"""Processes the trajectories are shared between, each with its own virtual phone (on 2 cores, 3 keep both
busy: a replay waits on the adb server and on fsync a good part of the time)."""


def check_one(
    number: int, folder: Path, replays: Path, outside: Path, phone: Any, adb_port: int
) -> tuple[list[str], list[str]]:
    """Feed one fuzzed run folder to ``guiagent report`` and ``guiagent replay``; (problems, outcomes)."""
    phone.phone.clear_recents()
    phone.phone.clear_data("com.guiagent.notes")
    before = len(phone.phone.executed)
    watch = PathWatch()
    problems: list[str] = []
    outcomes: list[str] = []
    commands = [
        ["report", str(folder)],
        ["replay", str(folder), "--device", f"android:{phone.serial}", "--adb-port", str(adb_port), "--out",
         str(replays), "--no-report", "--wait", "0.2", "--allow-unfinished", "--confirm", "never"],
    ]  # fmt: skip
    for command in commands:
        out, err = io.StringIO(), io.StringIO()
        with watch.watching(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(command)
            except BaseException as exc:  # noqa: BLE001 - a traceback for the user
                problems.append(f"{command[0]} raised {type(exc).__name__}: {str(exc)[:300]}")
                continue
        outcomes.append(f"{command[0]} exit {code}")
        text = err.getvalue()
        last = text.strip().splitlines()[-1] if text.strip() else ""
        if code not in (0, 1, 2) or "Traceback" in text:
            problems.append(f"{command[0]} exit {code}: {text[-400:]!r}")
        elif code == 2 and not (last.startswith(f"guiagent {command[0]}: ") and str(folder) in last):
            problems.append(f"{command[0]} exit 2 without a one-line message naming the folder: {text[-400:]!r}")
        elif command[0] == "replay" and code == 0 and _cut_short(folder):
            problems.append("replay reported success for a finished recording whose last step line is cut short")
    problems += watch.outside([folder, replays], [outside])
    performed = len(device_input(phone.phone, before))
    allowed = executed_actions(folder)
    if performed > allowed:
        problems.append(f"replay sent {performed} device commands; the recording executed at most {allowed}")
    return list(dict.fromkeys(problems)), outcomes


def _cut_short(folder: Path) -> bool:
    try:
        recorded = Trajectory.load(folder)
    except Exception:  # noqa: BLE001
        return False
    return recorded.skipped_lines > 0 and recorded.status not in ("running",)


def work(adb_port: int, jobs: list[tuple[int, str, str]], outside: str) -> list[tuple[int, list[str], list[str]]]:
    """A worker process: its own virtual phone on the session's adb server, then each job in turn."""
    import adbutils

    from tests.fixtures.phone import connect_phone

    control = PathWatch()  # the watch sees an open outside the folder, in this process too
    with control.watching(), (Path(outside) / "sentinel.png").open("rb"):
        pass
    assert control.outside([], [Path(outside)]), "the audit hook saw nothing"
    phone = connect_phone(adbutils.AdbClient(host="127.0.0.1", port=adb_port), small_phone())
    os.environ["GUIAGENT_SECRET_PIN"] = "1234"
    try:
        return [(n, *check_one(n, Path(f), Path(r), Path(outside), phone, adb_port)) for n, f, r in jobs]
    finally:
        phone.close()


@pytest.mark.slow
def test_fuzzed_trajectories_give_typed_errors_and_stay_in_their_folder(
    virtual_phone_factory, adb_server, scripted_server, tmp_path, figures
) -> None:
    recorder = virtual_phone_factory(width=PHONE.width, height=PHONE.height, density=140)
    recording = record_seed(recorder, adb_server.port, scripted_server, tmp_path / "seeds")
    assert recording.status == "success", recording.run.reason
    phone = virtual_phone_factory(width=PHONE.width, height=PHONE.height, density=140)
    outside = tmp_path / "outside"
    problems, outcomes = check_one(-1, recording.folder, tmp_path / "seeds", outside, phone, adb_server.port)
    assert not problems and outcomes == ["report exit 0", "replay exit 0"], (problems, outcomes)
    seeds = [p for p in sorted((tmp_path / "seeds").iterdir()) if (p / "run.json").exists()]
    assert len(seeds) == 2  # the recording and its replay
    outside.mkdir()
    Image.new("RGB", (64, 64), (255, 0, 255)).save(outside / "sentinel.png")
    rng = random.Random(SEED)
    fuzzer = Fuzzer(rng, outside)
    jobs: list[tuple[int, str, str]] = []
    damages: dict[int, list[str]] = {}
    for number in range(TRAJECTORIES):
        folder = tmp_path / "fuzzed" / f"run-{number:04d}"
        shutil.copytree(rng.choice(seeds), folder, symlinks=True)
        (folder / "report.html").unlink(missing_ok=True)
        damages[number] = fuzzer.damage(folder)
        jobs.append((number, str(folder), str(tmp_path / "replays" / f"{number:04d}")))
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # never fork a process serving phones on threads
    with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        shares = [pool.submit(work, adb_server.port, jobs[i::WORKERS], str(outside)) for i in range(WORKERS)]
        results = [row for share in shares for row in share.result()]
    seconds = time.perf_counter() - started
    counts = Counter(outcome for _, _, done in results for outcome in done)
    lost = [f"run-{n:04d} ({'; '.join(damages[n])}): {'; '.join(found)}" for n, found, _ in sorted(results) if found]
    assert len(results) == TRAJECTORIES
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    figures.add(
        "Fuzzed or truncated trajectories through guiagent report and guiagent replay",
        TRAJECTORIES,
        lost,
        f"{shown}; {seconds:.0f} s on {WORKERS} processes",
        order=5,
    )
    nothing_lost(lost, TRAJECTORIES, "trajectories")


def executed_actions(folder: Path) -> int:
    """How many device commands the fuzzed recording allows a replay: every executed action of every step
    that reads back (a ``type`` may take a few commands; counted generously, as 4)."""
    try:
        recorded = Trajectory.load(folder)
    except Exception:  # noqa: BLE001 - a recording that does not load allows nothing
        return 0
    total = 0
    for step in recorded.steps:
        for action in step.actions_device[: max(0, step.executed)]:
            if isinstance(action, dict):
                total += 4 if action.get("type") in ("type", "double_click") else 1
    return total
