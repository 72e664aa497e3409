"""``guiagent script run`` and ``guiagent script from-run``: scripts written in words, run from a verified cache.

``run`` executes a YAML flow (``guiagent.tasks.script.yaml_script``) on a device. Each step that names an
element is located from the flow's cache (``FLOW.cache.json``) when the locator verifies on the screen,
else grounded by the model and the cache updated; with ``--no-model`` a step that does not verify stops
the flow before anything reaches the device. Every run writes a trajectory and its HTML report. Exit
codes are ``guiagent run``'s: 0 success, 1 failure or error, 130 interrupted, 2 a bad flag or script file
(with its file, line and field).

``from-run`` turns a successful agent run into a flow and its cache.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from guiagent.actions.errors import ConfigError, GuiAgentError
from guiagent.agent.backends.base import ModelBackend, ModelReply, ModelRequest

from .device_cmd import adb_options, add_device_options
from .run_cmd import add_model_options, build_backend, build_family

__all__ = ["register"]

_EXIT_BY_STATUS = {"success": 0, "failure": 1, "error": 1, "interrupted": 130}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``script`` command and its ``run`` and ``from-run`` subcommands."""
    script = subparsers.add_parser(
        "script",
        help="run a flow of steps written in words, grounded once and then replayed from a verified cache",
        description="Scripts: steps that name elements in words, located by the model once, then run from a "
        "locator cache that is verified on the screen before every use.",
    )
    commands = script.add_subparsers(dest="script_command", required=True, metavar="SUBCOMMAND")
    run = commands.add_parser(
        "run",
        help="run a YAML flow on a device",
        description="Run FLOW.yaml on a device. Steps are located from FLOW.cache.json when the cached locator "
        "verifies (same UI node, or the same pixels around the scaled point), else grounded by the model and "
        "the cache updated. With --no-model a step that does not verify stops the flow, and nothing more "
        "reaches the device. Variables ${name} come from --var or earlier queries; <secret:name> from "
        "$GUIAGENT_SECRET_NAME.",
    )
    run.add_argument("flow", metavar="FLOW.yaml", help="the flow to run")
    add_device_options(run)
    add_model_options(run)
    run.add_argument(
        "--no-model", action="store_true", help="run from the cache only; stop at a step that fails to verify"
    )
    run.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a ${NAME} variable (repeatable)"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="check the flow and show each step's locator; act on nothing"
    )
    run.add_argument("--cache", default=None, help="the locator cache (default: FLOW.cache.json beside the flow)")
    run.add_argument(
        "--fast",
        action="store_true",
        help="verify cached steps by their UI node first, screenshots only where needed (for quick hierarchies)",
    )
    run.add_argument(
        "--threshold",
        type=float,
        default=0.10,
        help="share of a target's detail that may differ for its cached locator to verify (default 0.10)",
    )
    run.add_argument(
        "--confirm",
        nargs="?",
        const="always",
        choices=["always", "risky", "never"],
        default=None,
        help="ask before every action, or only before risky ones (send, pay, delete...)",
    )
    run.add_argument("--out", default="runs", help="folder for the run's trajectory (default ./runs)")
    run.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    run.set_defaults(handler=run_flow_command)

    draft = commands.add_parser(
        "from-run",
        help="turn a successful agent run into a flow and its locator cache",
        description="Write RUN_DIR's performed steps as a YAML flow (-o) and pre-fill its cache from the run's "
        "screenshots. Descriptions come from the UI node at each tap point where known, else from the model's "
        "thought. A run folder holds no UI hierarchy: with --device the run is first replayed there (verified, "
        "as guiagent replay does) to read the node under each tap.",
    )
    add_device_options(draft, required=False)
    draft.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by guiagent run")
    draft.add_argument("-o", "--output", required=True, metavar="FLOW.yaml", help="the flow to write")
    draft.add_argument("--cache", default=None, help="the cache to write (default: FLOW.cache.json beside it)")
    draft.add_argument("--force", action="store_true", help="replace the flow and cache if they exist")
    draft.add_argument("--out", default="runs", help="folder for the --device replay's trajectory (default ./runs)")
    draft.set_defaults(handler=from_run_command)


def _variables(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigError(f"--var takes NAME=VALUE with NAME a simple identifier, got {pair!r}")
        values[name.strip()] = value
    return values


def _secrets(names: list[str]) -> dict[str, str]:
    """Secrets from the environment only: a script runs unattended, nobody is there to type one."""
    values: dict[str, str] = {}
    missing = [name for name in names if os.environ.get(f"GUIAGENT_SECRET_{name.upper()}") is None]
    if missing:
        variables = ", ".join(f"GUIAGENT_SECRET_{name.upper()}" for name in missing)
        raise ConfigError(f"the flow types the secret(s) {', '.join(missing)}: set {variables}; nothing was run")
    for name in names:
        values[name] = os.environ[f"GUIAGENT_SECRET_{name.upper()}"]
    return values


def run_flow_command(args: argparse.Namespace) -> int:
    """Run a flow; the exit code says how it ended."""
    from guiagent.agent.display import TerminalHooks
    from guiagent.agent.safety import ConfirmPolicy
    from guiagent.envs.devices import open_env, parse_device
    from guiagent.tasks.report import write_run_report
    from guiagent.tasks.script import LocatorCache, Session, SessionConfig
    from guiagent.tasks.script.flow import run_flow
    from guiagent.tasks.script.yaml_script import load_script

    script = load_script(args.flow)
    variables = _variables(args.var)
    script.check(set(variables))
    if args.no_model and (args.model or args.base_url):
        raise ConfigError("--no-model runs from the cache only: leave out --model and --base-url")
    queries = script.query_lines()
    if args.no_model and queries and not args.dry_run:
        raise ConfigError(f"{script.path}, line {queries[0]}: a query needs a model; run without --no-model")
    secrets = _secrets(script.secret_names())
    config = SessionConfig(
        threshold=args.threshold,
        confirm=ConfirmPolicy.from_flag(args.confirm),
        dry_run=args.dry_run,
        fast=args.fast,
        out_dir=Path(args.out),
    )
    cache = LocatorCache.load(args.cache or script.cache_path)
    kind, _ = parse_device(args.device)
    family = backend = None
    if not args.no_model:
        family = build_family(args, "desktop" if kind == "desktop" else "android")
        backend = _backend(args, family)
    console = Console(stderr=True)
    session: Session | None = None
    try:
        with open_env(args.device, **adb_options(args)) as env:
            session = Session(
                env,
                backend,
                family,
                cache=cache,
                name=script.name,
                source=script.path.resolve(),
                config=config,
                hooks=TerminalHooks(console),
                secrets=secrets,
            )
            try:
                with session:
                    run_flow(script, session, variables)
            except (GuiAgentError, KeyboardInterrupt):
                pass  # recorded in the step and the run; the status below says how it ended
    finally:
        if backend is not None:
            backend.close()
    run = session.close() if session is not None else None
    if session is None or run is None:
        return 1
    console.print(f"[bold]{escape(run.status)}[/bold]: {escape(run.reason)}")
    if not args.no_report:
        console.print(f"report:  {write_run_report(session.folder)}")
    if cache.path is not None and cache.changes and not args.dry_run:
        console.print(f"cache:   {cache.path} ({len(cache.changes)} locator(s) written)")
    print(session.folder, file=sys.stdout)
    return _EXIT_BY_STATUS.get(run.status, 1)


def _backend(args: argparse.Namespace, family: Any) -> Any:
    """The model backend: over HTTP at once (cheap), in-process only when a step first needs it."""
    if args.base_url or os.environ.get("OPENAI_BASE_URL"):
        return build_backend(args, family)
    return _OnDemandBackend(args, family)


def from_run_command(args: argparse.Namespace) -> int:
    """Write a flow and its cache from a successful run."""
    from guiagent.tasks.script.cache import cache_path_for
    from guiagent.tasks.script.from_run import nodes_by_replay, script_from_run

    run_dir = Path(args.run_dir)
    if not (run_dir / "run.json").exists():
        raise ConfigError(f"{run_dir} is not a run folder (no run.json)")
    console = Console(stderr=True)
    for path in (Path(args.output), Path(args.cache) if args.cache else cache_path_for(args.output)):
        if path.exists() and not args.force:
            raise ConfigError(f"{path} exists; pass --force to replace it")
    nodes = None
    if args.device:
        from guiagent.envs.devices import open_env

        console.print(f"replaying {escape(str(run_dir))} on {escape(args.device)} to read the UI node under each tap")
        with open_env(args.device, **adb_options(args)) as env:
            nodes = nodes_by_replay(run_dir, env, args.out)
    draft = script_from_run(run_dir, args.output, cache=args.cache, nodes=nodes, force=args.force)
    console.print(
        f"wrote {draft.steps} step(s) to {escape(str(draft.script))} and their locators to {escape(str(draft.cache))}"
        f" ({draft.from_nodes} described by UI nodes, {draft.from_thoughts} by the model's thoughts: check those)"
    )
    print(draft.script, file=sys.stdout)
    return 0


class _OnDemandBackend(ModelBackend):
    """An in-process model loaded at the first step that needs it: a flow run from its cache loads none."""

    def __init__(self, args: argparse.Namespace, family: Any) -> None:
        from .run_cmd import DEFAULT_MODEL

        self._args, self._family = args, family
        self._backend: ModelBackend | None = None
        self.model_id = args.model or DEFAULT_MODEL

    def complete(self, request: ModelRequest) -> ModelReply:
        if self._backend is None:
            self._backend = build_backend(self._args, self._family)
        return self._backend.complete(request)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
