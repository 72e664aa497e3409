"""``guiagent eval``: run a task suite on one or more devices and report how the agent did."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from guiagent.agent.console import make_console, print_path

from . import config_file
from .device_cmd import adb_options
from .eval_scale import add_scale_options, run_scaled, wants_scale
from .eval_table import result_line, results_table, why_failed
from .run_cmd import add_history_option, add_model_options, build_backend, build_family

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``eval`` subcommand."""
    parser = subparsers.add_parser(
        "eval",
        help="run a task suite and report success, steps, time and tokens",
        description="Run every task of a suite (a shipped suite name such as virtual-phone, a folder of task "
        "files, or a suite YAML) on one or more devices at once; write results.json, each run's trajectory "
        "and a report.",
    )
    parser.add_argument("suite", metavar="SUITE", help="shipped suite name, folder of task files, or suite YAML")
    parser.add_argument(
        "--device", default=None, help="device(s), comma-separated: virtual,virtual or android:A,android:B (or --pool)"
    )
    parser.add_argument("--adb-host", default="127.0.0.1", help="adb server host")
    parser.add_argument("--adb-port", type=int, default=None, help="adb server port (default 5037)")
    add_model_options(parser)
    parser.add_argument("--task", action="append", default=[], help="run only this task id (repeatable)")
    add_history_option(parser)
    parser.add_argument("--out", default=None, help="results folder (default eval-results/SUITE-TIMESTAMP)")
    add_scale_options(parser)
    config_file.enable(parser, "eval", run_eval)


def run_eval(args: argparse.Namespace) -> int:
    """Run the suite; exit 0 when every task succeeded, 1 otherwise."""
    import os

    from guiagent.agent.history import HistoryPolicy
    from guiagent.agent.loop import Agent
    from guiagent.agent.settings import AgentConfig
    from guiagent.envs.base import Env
    from guiagent.envs.devices import open_env, parse_device
    from guiagent.tasks.report import write_suite_report
    from guiagent.tasks.runner import SuiteRun, TaskResult, run_suite
    from guiagent.tasks.spec import TaskSpec
    from guiagent.tasks.suite import load_suite

    if wants_scale(args) or not args.device:  # a pool, several endpoints, Ray, --resume or --shard
        return run_scaled(args)
    if args.adb_port is None:
        args.adb_port = int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))
    suite = load_suite(args.suite).select(args.task)
    devices = [d.strip() for d in args.device.split(",") if d.strip()]
    kinds = {parse_device(d)[0] for d in devices}
    family = build_family(args, "desktop" if kinds == {"desktop"} else "android")
    backend = build_backend(args, family)
    out = Path(args.out or f"eval-results/{suite.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    console = make_console()
    model = {"id": backend.model_id, "backend": type(backend).__name__}
    unreachable = endpoint_unreachable(backend)
    if unreachable is not None:
        backend.close()
        stopped = SuiteRun(suite, out, model, family.name)
        out.mkdir(parents=True, exist_ok=True)
        for task in suite.tasks:
            stopped.results.append(TaskResult(task.id, task.goal, "", False, NOT_RUN, f"not run: {unreachable}"))
        stopped.finished_at = time.time()
        stopped.save()
        console.print(Text(f"suite stopped before its first task: {unreachable}", style="bold red"))
        _print_table(console, stopped.results, 0.0)
        _print_paths(console, out, write_suite_report(out / "results.json"))
        return 1

    def make_agent(env: Env, task: TaskSpec) -> Agent:
        config = AgentConfig(
            max_steps=task.max_steps,
            time_limit=task.time_limit,
            history=HistoryPolicy(max_images=args.history_images),
            out_dir=out / "runs",
        )
        return Agent(env, backend, family, config)

    def open_device(spec: str) -> Env:
        return open_env(spec, **adb_options(args))

    description = TextColumn("{task.description}", style="bold", markup=False)  # a suite name is data
    columns = (description, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(f"{suite.name} on {', '.join(devices)}", total=len(suite.tasks))

        def on_result(result: TaskResult) -> None:
            progress.console.print(result_line(result))
            progress.advance(bar)

        try:
            run = run_suite(
                suite,
                devices,
                open_device,
                make_agent,
                out,
                model=model,
                family=family.name,
                on_result=on_result,
            )
        finally:
            backend.close()
    report = write_suite_report(out / "results.json")
    _print_table(console, run.results, run.success_rate)
    _print_paths(console, out, report)
    return 0 if run.results and all(r.success for r in run.results) else 1


NOT_RUN = "not_run"
"""The status of a task the suite never started (its reason says why)."""
PROBE_SECONDS = 10.0


def endpoint_unreachable(backend: Any) -> str | None:
    """Why an HTTP backend's endpoint cannot be reached, or None (it answered, or the model is in-process).

    One request, no retries, before any task: a dead endpoint would otherwise cost every task its setup and
    the backend's full retry schedule (12 tasks, 49 s) and bury the cause in ``results.json``. Any HTTP
    answer, even an error status, or a slow one, means something is listening; only a refused or timed-out
    connection counts as unreachable.
    """
    base_url = getattr(backend, "base_url", None)
    if not isinstance(base_url, str):
        return None
    import httpx

    seconds = min(PROBE_SECONDS, float(getattr(backend, "timeout", PROBE_SECONDS)))
    try:
        httpx.get(f"{base_url}/models", timeout=httpx.Timeout(seconds))
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return f"the model endpoint {base_url} is unreachable ({type(exc).__name__}: {str(exc) or 'no answer'})"
    except httpx.HTTPError:
        return None
    return None


def _print_paths(console: Console, out: Path, report: Path) -> None:
    print_path(console, out / "results.json", "results: ")
    print_path(console, report, "report:  ")


def _print_table(console: Console, results: list[Any], rate: float) -> None:
    console.print(results_table(results, rate, console.width))
    for result in results:
        if not result.success:
            console.print(Text("  ✗ ", style="red") + Text(f"{result.task_id}: {why_failed(result)}"))
