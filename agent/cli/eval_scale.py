"""``guiagent eval`` at scale: ``--pool``, ``--base-url URL1,URL2``, ``--ray [ADDRESS]``, ``--resume``, ``--shard``.

Why a module of its own: the plain ``--device`` path of ``eval_cmd`` stays as it was (one thread per
device string, one endpoint); any of these options switches to the pool runner (``tasks.pool_runner``:
health-checked leases, quarantine, one retry on another device) or, with ``--ray``, to the Ray driver
(``tasks.ray_suite``). Both stream every row into ``results.json`` as it finishes, which is what makes
``--resume`` work after a crash.

Endpoints come from ``--base-url`` (comma-separated) or the pool file's ``endpoints``; more than one URL
means ``FailoverBackend`` (episode affinity, failover with backoff). Before the first task each URL gets
one quick probe: dead ones start out of rotation, and when none answers the suite stops with a row per
task saying so.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError

from .arg_types import positive_int

__all__ = ["add_scale_options", "run_scaled", "wants_scale"]


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    """The options that switch ``eval`` to a device pool, several endpoints or Ray."""
    parser.add_argument("--pool", default=None, help="pool file (YAML): devices, adb servers, endpoints, concurrency")
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="run on a Ray cluster (ADDRESS: auto, HOST:6379 or ray://HOST:10001; none: a running local one or "
        "a new local Ray); each device is an actor on the node advertising its resource",
    )
    parser.add_argument("--resume", action="store_true", help="keep the finished rows of --out and run the rest")
    parser.add_argument("--shard", default=None, metavar="I/N", help="run every N-th task starting at the I-th")
    parser.add_argument(
        "--concurrency", type=positive_int, default=None, help="tasks at once (default: the pool's, else every device)"
    )


def wants_scale(args: argparse.Namespace) -> bool:
    """Whether these arguments need the pool path (any scale option, or several base URLs)."""
    several = "," in (args.base_url or "")
    return bool(args.pool or args.ray is not None or args.resume or args.shard or args.concurrency or several)


def run_scaled(args: argparse.Namespace) -> int:
    """Run the suite on a pool, in-process or on Ray; exit 0 when every task succeeded, 1 otherwise, 130 on
    Ctrl-C (every task still has a row)."""
    from dataclasses import replace

    from guiagent.agent.backends.failover import split_base_urls
    from guiagent.tasks.pool_file import load_pool, pool_from_devices
    from guiagent.tasks.report import write_suite_report
    from guiagent.tasks.results_stream import parse_shard
    from guiagent.tasks.suite import load_suite

    from .eval_cmd import _print_paths, _print_table
    from .run_cmd import build_family

    if args.adb_port is None:
        args.adb_port = int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))
    if not args.pool and not args.device:
        raise ConfigError("give the devices: --device virtual,android:SERIAL or --pool pool.yaml")
    if args.pool and args.device:
        raise ConfigError("give --device or --pool, not both (a pool file lists every device)")
    if args.resume and not args.out:
        raise ConfigError("--resume needs --out: the results folder of the suite to resume")
    suite = load_suite(args.suite).select(args.task)
    if args.pool:
        pool = load_pool(args.pool)
    else:
        pool = pool_from_devices([d for d in args.device.split(",") if d.strip()], args.adb_host, args.adb_port)
    if args.concurrency is not None:
        pool = replace(pool, concurrency=args.concurrency)
    shard = parse_shard(args.shard) if args.shard else None
    urls = split_base_urls(args.base_url or "") or list(pool.endpoints)
    if not urls and os.environ.get("OPENAI_BASE_URL"):
        urls = split_base_urls(os.environ["OPENAI_BASE_URL"])
    kinds = {d.task_kind for d in pool.devices}
    family = build_family(args, "desktop" if kinds == {"desktop"} else "android")
    out = Path(args.out or f"eval-results/{suite.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    console = _console()
    model_id = args.model or _default_model()
    model: dict[str, Any] = {"id": model_id, "backend": "FailoverBackend" if urls else "in-process", "urls": urls}
    on_result = _printer(console)
    if args.ray is not None:
        if not urls:
            raise ConfigError(
                "--ray needs --base-url (or endpoints in the pool file): workers call the model over HTTP"
            )
        from guiagent.tasks.ray_suite import run_suite_on_ray
        from guiagent.tasks.ray_worker import HttpAgentRecipe

        recipe = HttpAgentRecipe(
            model_id, tuple(urls), family, args.history_images, args.timeout, args.image_format,
            getattr(args, "extra_body", None),
        )  # fmt: skip
        model["ray"] = args.ray or "local"
        run = run_suite_on_ray(
            suite, pool, recipe, out, address=args.ray or None, model=model, family=family.name,
            resume=args.resume, shard=shard, on_result=on_result,
        )  # fmt: skip
    else:
        run = _in_process(args, suite, pool, family, urls, out, model, shard, on_result)
        if run is None:
            return 1
    if run.skipped_finished:
        console.print(f"resumed: {run.skipped_finished} finished task(s) kept from {out / 'results.json'}")
    for device in run.devices:
        if device.get("state") not in ("healthy", None):
            console.print(f"device {device['name']}: {device['state']} — {device.get('reason', '')}", markup=False)
    report = write_suite_report(out / "results.json")
    _print_table(console, run.results, run.success_rate)
    _print_paths(console, out, report)
    if run.interrupted:
        return 130
    return 0 if run.results and all(r.success for r in run.results) else 1


def _in_process(
    args: argparse.Namespace, suite: Any, pool: Any, family: Any, urls: list[str], out: Path,
    model: dict[str, Any], shard: tuple[int, int] | None, on_result: Any,
) -> Any:  # fmt: skip
    """The pool runner in this process; None when no endpoint answered (rows written, suite stopped)."""
    from guiagent.agent.history import HistoryPolicy
    from guiagent.agent.loop import Agent
    from guiagent.agent.settings import AgentConfig
    from guiagent.tasks.pool import DevicePool
    from guiagent.tasks.pool_runner import run_pool_suite
    from guiagent.tasks.results_stream import NOT_RUN, ResultsFile, select_shard

    from .eval_cmd import endpoint_unreachable
    from .run_cmd import build_backend

    if urls:
        from guiagent.agent.backends.failover import FailoverBackend

        backend: Any = FailoverBackend(
            model["id"],
            urls,
            args.api_key,
            timeout=args.timeout,
            image_format=args.image_format,
            extra_body=getattr(args, "extra_body", None),
        )
        dead = {u: why for u in urls if (why := endpoint_unreachable(_Probe(u, args.timeout))) is not None}
        if len(dead) == len(urls):
            backend.close()
            stopped = ResultsFile(out, suite, model, family.name, resume=args.resume, shard=shard)
            reason = "not run: " + "; ".join(dead.values())
            stopped.add_missing(select_shard(suite.tasks, shard), NOT_RUN, reason)
            stopped.save(finished=True)
            console = _console()
            console.print(f"suite stopped before its first task: {reason}", style="bold red", markup=False)
            return None
        backend.mark_down(list(dead), "unreachable before the suite started")
    else:
        backend = build_backend(args, family)

    def make_agent(env: Any, task: Any) -> Any:
        config = AgentConfig(
            max_steps=task.max_steps,
            time_limit=task.time_limit,
            history=HistoryPolicy(max_images=args.history_images),
            out_dir=out / "runs",
        )
        episode = backend.episode(task.id) if hasattr(backend, "episode") else backend
        return Agent(env, episode, family, config)

    try:
        return run_pool_suite(
            suite, DevicePool(pool), make_agent, out, model=model, family=family.name, on_result=on_result,
            resume=args.resume, shard=shard,
        )  # fmt: skip
    finally:
        backend.close()


class _Probe:
    """What ``endpoint_unreachable`` reads of a backend: its URL and timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url
        self.timeout = timeout


def _console() -> Any:
    from guiagent.agent.console import make_console

    return make_console()


def _default_model() -> str:
    from .run_cmd import DEFAULT_MODEL

    return str(DEFAULT_MODEL)


def _printer(console: Any) -> Any:
    from rich.text import Text

    def on_result(result: Any) -> None:
        line = Text("✓ ", style="green") if result.success else Text("✗ ", style="red")
        line.append(f"{result.task_id} ({result.status}, {result.steps} steps, {result.seconds:.1f} s")
        line.append(f", on {result.device}" if result.device else "")
        line.append(f", attempt {result.attempt})" if result.attempt > 1 else ")")
        console.print(line)

    return on_result
