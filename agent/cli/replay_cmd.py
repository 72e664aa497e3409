"""``guiagent replay`` and ``guiagent demo``: recorded runs played back at device speed, checked step by step.

``replay`` performs only what the recording performed, under the agent's rules: ``--confirm`` as for ``run``
(plus an explicit ``never``), secrets read as ``run`` reads them (``$GUIAGENT_SECRET_NAME``, else asked), and a
recording that did not succeed refused unless ``--allow-unfinished``. See ``guiagent.tasks.replay``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from guiagent.actions.errors import ConfigError
from guiagent.agent.console import print_path, shown_path

from . import config_file
from .device_cmd import adb_options, add_device_options
from .run_cmd import _secrets as read_secrets
from .run_cmd import add_model_options, build_backend, build_family

__all__ = ["register"]

_EXIT = {"success": 0, "interrupted": 130}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``replay`` and ``demo`` subcommands."""
    replay = subparsers.add_parser(
        "replay",
        help="re-execute a recorded run without the model, checking each step's screen",
        description="Replay RUN_DIR on a device: only the actions the recording performed (never a declined, "
        "dry-run or failed one), under the confirm policy, with secrets from $GUIAGENT_SECRET_NAME. Before each "
        "step the screen, and the patch around the step's target, are compared with the recording; a divergence "
        "stops the replay with a report, or, given --model/--base-url, the model re-grounds that step and the "
        "replay carries on. A recording that did not succeed is refused unless --allow-unfinished.",
    )
    replay.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by guiagent run (or a replay)")
    add_device_options(replay)
    add_model_options(replay)
    replay.add_argument("--threshold", type=float, default=0.03, help="screen difference allowed (default 0.03)")
    replay.add_argument(
        "--target-threshold",
        type=float,
        default=0.10,
        help="difference allowed in the patch around each tapped point (default 0.10): a moved button is refused",
    )
    replay.add_argument("--wait", type=float, default=5.0, help="seconds to wait for the recorded screen")
    replay.add_argument(
        "--confirm",
        nargs="?",
        const="always",
        choices=["always", "risky", "never"],
        default=None,
        help="ask before every action, only risky ones, or never (default: only steps the model called sensitive)",
    )
    replay.add_argument(
        "--allow-unfinished",
        action="store_true",
        help="replay the executed steps of a recording that did not succeed; the replay is reported unfinished",
    )
    replay.add_argument("--out", default="runs", help="folder for the replay's trajectory (default ./runs)")
    replay.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    config_file.enable(replay, "replay", run_replay)

    demo = subparsers.add_parser(
        "demo",
        help="replay a bundled run on an embedded virtual phone and write its report",
        description="The first thing to run: starts a virtual phone, replays a recorded 15-step agent run on it "
        "through a real adb server, and writes an HTML report. Needs no phone, GPU or model.",
    )
    demo.add_argument("--out", default="runs", help="folder for the replay (default ./runs)")
    demo.set_defaults(handler=run_demo_command)


def run_replay(args: argparse.Namespace) -> int:
    """Replay a run; exit 0 when it finished like the recording."""
    from guiagent.agent.console import make_console
    from guiagent.agent.display import ReplayHooks
    from guiagent.agent.safety import ConfirmPolicy
    from guiagent.agent.trajectory import Trajectory
    from guiagent.envs.devices import open_env, parse_device
    from guiagent.tasks.replay import Regrounder, ReplayConfig, needed_secrets, replay
    from guiagent.tasks.report import write_run_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "run.json").exists():
        raise ConfigError(f"{run_dir} is not a run folder (no run.json)")
    if not 0 < args.threshold <= 1:
        raise ConfigError("--threshold is a fraction of the screen, between 0 and 1")
    if not 0 < args.target_threshold <= 1:
        raise ConfigError("--target-threshold is a fraction of the target's patch, between 0 and 1")
    if args.wait < 0:
        raise ConfigError("--wait is seconds, 0 or more")
    config = ReplayConfig(
        threshold=args.threshold,
        target_threshold=args.target_threshold,
        wait=args.wait,
        confirm=ConfirmPolicy.from_flag(args.confirm),
        allow_unfinished=args.allow_unfinished,
    )
    recorded = Trajectory.load(run_dir)
    secrets = read_secrets(needed_secrets(recorded))
    regrounder = None
    backend = None
    if args.model or args.base_url:
        kind, _ = parse_device(args.device)
        family = build_family(args, "desktop" if kind == "desktop" else "android")
        backend = build_backend(args, family)
        regrounder = Regrounder(backend, family)
    console = make_console()
    hooks = ReplayHooks(console, total=len(recorded.steps))
    try:
        with open_env(args.device, **adb_options(args)) as env:
            hooks.start()
            trajectory = replay(run_dir, env, args.out, config, regrounder, hooks=hooks, secrets=secrets)
    finally:
        hooks.finish()
        if backend is not None:
            backend.close()
    _summarise(console, trajectory)
    if not args.no_report:
        print_path(console, write_run_report(trajectory.folder), "report:  ")
    return _EXIT.get(trajectory.status, 1)


def run_demo_command(args: argparse.Namespace) -> int:
    """Replay the bundled run on a virtual phone, each step printed as it is replayed."""
    from guiagent.agent.console import make_console
    from guiagent.agent.display import ReplayHooks
    from guiagent.agent.trajectory import Trajectory
    from guiagent.tasks.demo import bundled_run, run_demo

    console = make_console()
    total = len(Trajectory.load(bundled_run()).steps)
    console.print(Text(f"Replaying a recorded {total}-step agent run on an embedded virtual phone (no model needed)."))
    hooks = ReplayHooks(console, total=total)
    started = time.monotonic()

    def ready(name: str) -> None:
        hooks.waiting.stop()
        console.print(Text("  ✓ ", style="green") + Text(f"{name} is up ({time.monotonic() - started:.1f} s)"))
        hooks.start()

    hooks.waiting.start(Text("Starting a virtual phone and an adb server…"))
    try:
        trajectory, report = run_demo(Path(args.out), hooks=hooks, on_ready=ready)
    finally:
        hooks.finish()
    _summarise(console, trajectory)
    print_path(console, report, "report:  ")
    print(shown_path(report), file=sys.stdout)
    return _EXIT.get(trajectory.status, 1)


def _summarise(console: Console, trajectory: object) -> None:
    """The outcome line and the replay's folder (the steps were printed as they happened)."""
    from guiagent.agent.trajectory import Trajectory

    assert isinstance(trajectory, Trajectory)
    run = trajectory.run
    style = "bold green" if run.status == "success" else "bold red"
    total = (run.finished_at or run.started_at) - run.started_at
    line = Text(run.status, style=style) + Text(f": {run.reason} ({len(trajectory.steps)} steps, {total:.1f} s)")
    console.print(line)
    print_path(console, trajectory.folder, "replay:  ")
