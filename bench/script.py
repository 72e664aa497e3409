"""Benchmark: a script's first (grounded) run vs its runs from the verified cache, on the virtual phone.

Run from the repository root: ``python bench/script.py [--latency 1.0] [--repeats 3]``.

Two flows, each run on fresh virtual phones through a real adb server, with a real HTTP model server (the
tests' scripted server) answering every grounding prompt after ``--latency`` seconds (a 7B model on a GPU
takes about that): ``notes-message``, the acceptance flow (11 steps, 6 naming an element, the rest
opening apps, checking text in the UI hierarchy, pressing home), and ``calculator`` (12 steps, 11 taps on
keys). Printed, as medians of ``--repeats``:

1. wall time of the first run (every element grounded) and of runs from the cache (0 model calls), and
   the ratio. Goal: >= 20x. The cached runs go both ways: by default (a screenshot every step, the
   locator checked on its pixels, the UI node when they disagree) and ``--fast`` (the UI node first, a
   screenshot only where a step needs one; the virtual phone reads its hierarchy in ~15 ms, where a
   changed frame costs ~100 ms to render and transfer).
2. verify + act per cached step, excluding settle: the locator check (on a frame already taken, or the
   hierarchy read in fast mode) and the tap through adb. Goal: <= 30 ms median. The capture and the
   wait for the previous action's effect (the settle) are shown beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guiagent.actions.families import get_family  # noqa: E402
from guiagent.actions.geometry import Size  # noqa: E402
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend  # noqa: E402
from guiagent.envs.devices import VirtualPhoneEnv, ensure_adb_server  # noqa: E402
from guiagent.tasks.script import LocatorCache, Session, SessionConfig  # noqa: E402
from guiagent.tasks.script.flow import run_flow  # noqa: E402
from guiagent.tasks.script.yaml_script import load_script  # noqa: E402
from tests.fixtures.openai_server import ScriptedServer, start_scripted_server  # noqa: E402
from tests.script.grounder import Grounder, phone_target  # noqa: E402

__all__ = ["main"]

FAMILY = get_family("qwen2.5-vl-mobile")
FLOWS = {
    "notes-message": """\
steps:
  - open_app: Notes
  - tap: the New note button
  - type: {text: Buy oat milk, into: the note text field}
  - tap: the Save button
  - assert_visible: Buy oat milk
  - open_app: Messages
  - tap: the conversation with Bob Smith
  - type: {text: "On my way", into: the message field}
  - tap: the Send button
  - assert_visible: On my way
  - key: home
""",
    "calculator": "steps:\n  - open_app: Calculator\n"
    + "".join(f"  - tap: the {key} key\n" for key in ("7", "8", "×", "6", "+", "1", "2", "−", "3", "=", "C")),
}
TARGETS = {
    "the New note button": {"text": "New note"},
    "the note text field": {"rid": "note_text"},
    "the Save button": {"text": "Save"},
    "the conversation with Bob Smith": {"text": "Bob Smith"},
    "the message field": {"rid": "message"},
    "the Send button": {"text": "Send"},
    **{f"the {key} key": {"rid": f"digit_{key}"} for key in "78612 3".replace(" ", "")},
    "the × key": {"rid": "op_mul"},
    "the + key": {"rid": "op_add"},
    "the − key": {"rid": "op_sub"},
    "the = key": {"rid": "eq"},
    "the C key": {"rid": "clr"},
}


def run_once(
    flow: Path, cache: LocatorCache, port: int, server: ScriptedServer, out: Path, fast: bool = False
) -> tuple[float, list[tuple[float, float]], int]:
    """One run on a fresh phone: wall time, (verify + act, capture + settle) of each cached step, model calls."""
    with VirtualPhoneEnv(adb_port=port) as env:
        phone = env.phone
        table = {d: phone_target(phone, **q) for d, q in TARGETS.items()}
        server.script = [Grounder(FAMILY, lambda: Size(*phone.display_size), table)]
        backend = OpenAICompatibleBackend("scripted", server.url, retry_wait=0.01)
        env.observe()  # the first look chooses the capture mode (raw or PNG): not part of either run
        started = time.perf_counter()
        config = SessionConfig(out_dir=out, fast=fast)
        with Session(env, backend, FAMILY, cache=cache, config=config) as session:
            run_flow(load_script(flow), session, {})
        wall = time.perf_counter() - started
        cached = [
            (t.get("verify", 0.0) + t.get("act", 0.0), t.get("capture", 0.0) + t.get("settle", 0.0))
            for t, notes in ((r.timings, r.notes) for r in session.records)
            if any(n.startswith("from the cache") for n in notes)
        ]
        backend.close()
        return wall, cached, session.model_calls


def main(argv: list[str] | None = None) -> None:
    """Run each flow grounded, then from its cache; print the times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="model seconds per call (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--adb-port", type=int, default=5037, help="adb server port (started if needed)")
    args = parser.parse_args(argv)
    ensure_adb_server(port=args.adb_port)
    server, stop = start_scripted_server()
    server.latency, server.repeat_last = args.latency, True
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for name, text in FLOWS.items():
                flow = Path(scratch) / f"{name}.yaml"
                flow.write_text(text, encoding="utf-8")
                _bench(name, flow, args, server, Path(scratch) / "runs")
    finally:
        stop()


def _bench(name: str, flow: Path, args: argparse.Namespace, server: ScriptedServer, out: Path) -> None:
    grounded: list[float] = []
    cached: dict[bool, list[float]] = {False: [], True: []}
    per_step: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    calls = 0
    for _ in range(args.repeats):
        cache = LocatorCache()
        wall, _, calls = run_once(flow, cache, args.adb_port, server, out)
        grounded.append(wall)
        for fast in (False, True):
            wall, steps, zero = run_once(flow, cache.without_changes(), args.adb_port, server, out, fast)
            assert zero == 0, f"the cached run asked the model {zero} time(s)"
            cached[fast].append(wall)
            per_step[fast] += steps
    count = len(load_script(flow).steps)
    first = statistics.median(grounded)
    print(f"{name}: {count} steps, {calls} of them grounded; medians of {args.repeats} runs on the virtual phone")
    print(f"  first run, every element grounded (model at {args.latency:g} s per call)    {first:6.2f} s")
    for fast, label in ((False, "a screenshot every step (default)"), (True, "--fast: node first, shots as needed")):
        again = statistics.median(cached[fast])
        ratio = first / again
        act = statistics.median(v for v, _ in per_step[fast]) * 1000
        wait = statistics.median(w for _, w in per_step[fast]) * 1000
        print(
            f"  from the cache, {label:38} {again:6.2f} s  {ratio:5.1f}x faster "
            f"(goal >= 20x: {'met' if ratio >= 20 else 'NOT met'})"
        )
        print(
            f"      per cached step: verify + act {act:5.1f} ms (goal <= 30 ms: {'met' if act <= 30 else 'NOT met'}); "
            f"capture + settle, excluded: {wait:5.1f} ms"
        )


if __name__ == "__main__":
    main()
