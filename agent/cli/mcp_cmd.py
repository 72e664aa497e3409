"""``guiagent mcp``: serve one device to MCP clients (Claude Desktop, Claude Code...) over stdio or HTTP.

The tools (``screenshot``, ``tap``/``type``/``swipe``/``key`` by description or by pixel, ``query``,
``assert_visible``, ``run_task``, ``replay``, ``list_devices``...) are ``guiagent.tasks.mcp``'s. Over stdio,
stdout is the protocol: everything this command says goes to stderr. The device is opened before serving
(a device that is not there is a one-line error and exit 2 or 1, as for ``guiagent run``); the model, when
one is given, is reached over HTTP (``--base-url``) or loaded in-process at the first step that needs it
(``--model``); with neither, the tools that need a model say so and the others work.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError

from .agent_options import add_agent_options, agent_config
from .arg_types import port, positive_seconds
from .device_cmd import adb_options, add_device_options
from .run_cmd import add_model_options, build_backend, build_family

__all__ = ["register"]

SECRET_PREFIX = "GUIAGENT_SECRET_"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``mcp`` subcommand."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve a device to MCP clients (Claude Desktop, Claude Code): tap, type, query, run a task...",
        description="An MCP server for one device. Clients name elements in words (grounded by the model, "
        "verified and recorded like script steps) or give device pixels, read the screen, and hand whole tasks "
        "to the agent. Risky actions (--confirm, default risky) are put to the client's person to confirm; a "
        "client that cannot ask gets a no. Secrets: <secret:NAME> is typed from $GUIAGENT_SECRET_NAME.",
    )
    add_device_options(parser)
    add_model_options(parser)
    add_agent_options(parser)
    group = parser.add_argument_group("server")
    group.add_argument("--transport", choices=["stdio", "http"], default="stdio", help="default stdio")
    group.add_argument(
        "--host", default="127.0.0.1", help="HTTP address to listen on (default 127.0.0.1; there is no authentication)"
    )
    group.add_argument("--port", type=port, default=8765, help="HTTP port (default 8765)")
    group.add_argument("--path", default="/mcp", help="HTTP endpoint path (default /mcp)")
    group.add_argument(
        "--confirm",
        nargs="?",
        const="always",
        choices=["always", "risky", "never"],
        default="risky",
        help="ask the client's person before every action, before risky ones (default), or never",
    )
    group.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="require $GUIAGENT_SECRET_NAME at startup (every $GUIAGENT_SECRET_* is available anyway)",
    )
    group.add_argument("--cache", default=None, help="a locator cache file kept across sessions (default: none)")
    group.add_argument(
        "--threshold",
        type=float,
        default=0.10,
        help="share of a target's detail that may differ for its cached locator to verify (default 0.10)",
    )
    group.add_argument(
        "--answer-timeout",
        type=positive_seconds,
        default=600.0,
        help="seconds a confirmation waits for the person before it is a no (default 600)",
    )
    group.add_argument("--out", default="runs", help="folder for run trajectories (default ./runs)")
    parser.set_defaults(handler=run_mcp)


def environment_secrets(required: list[str]) -> dict[str, str]:
    """Every ``$GUIAGENT_SECRET_NAME`` as the secret ``name`` (lower case); a one-line error for a required one
    that is missing (nobody can be asked: over stdio, stdin is the protocol)."""
    secrets = {
        key[len(SECRET_PREFIX) :].lower(): value
        for key, value in os.environ.items()
        if key.startswith(SECRET_PREFIX) and len(key) > len(SECRET_PREFIX)
    }
    missing = [name for name in required if name.lower() not in secrets]
    if missing:
        variables = ", ".join(f"{SECRET_PREFIX}{name.upper()}" for name in missing)
        raise ConfigError(f"--secret {missing[0]}: set {variables} in the server's environment")
    return secrets


def run_mcp(args: argparse.Namespace) -> int:
    """Serve until the client disconnects (stdio) or Ctrl-C (HTTP); 0 when it ended normally."""
    try:
        import mcp  # noqa: F401 - only to say how to install it
    except ImportError:
        raise ConfigError("guiagent mcp needs the MCP SDK: pip install 'guiagent[mcp]'") from None
    from guiagent.agent.safety import ConfirmPolicy
    from guiagent.envs.devices import open_env, parse_device
    from guiagent.tasks.mcp import GuiAgentServer, ServerOptions

    if not 0 < args.threshold <= 1:
        raise ConfigError("--threshold is a fraction of the target's patch, between 0 and 1")
    kind, _ = parse_device(args.device)
    secrets = environment_secrets(args.secret)
    out = Path(args.out)
    confirm = ConfirmPolicy.from_flag(args.confirm)
    options = ServerOptions(
        out_dir=out,
        confirm=confirm,
        agent=agent_config(args, confirm=confirm, out_dir=out),
        secrets=secrets,
        cache=args.cache,
        threshold=args.threshold,
        answer_timeout=args.answer_timeout,
        adb=adb_options(args),
    )
    family, backend = _model(args, "desktop" if kind == "desktop" else "android")
    try:
        with open_env(args.device, **adb_options(args)) as env:
            server = GuiAgentServer(env, backend, family, options)
            where = f"http://{args.host}:{args.port}{args.path}" if args.transport == "http" else "stdio"
            model = f"model {backend.model_id}" if backend is not None else "no model (pixels and checks only)"
            _say(f"guiagent mcp: serving {env.name} over {where}, {model}, confirm {args.confirm}")
            if args.transport == "http" and args.host not in ("127.0.0.1", "localhost", "::1"):
                _say(f"guiagent mcp: warning: no authentication: anyone who reaches {args.host} can drive {env.name}")
            _stop_on_sigterm()
            try:
                server.serve(args.transport, args.host, args.port, args.path)
            finally:
                run = server.close()
                if run is not None:
                    _say(f"guiagent mcp: {run.steps} step(s) recorded in {server.folder}")
    finally:
        if backend is not None:
            backend.close()
    return 0


def _model(args: argparse.Namespace, device_kind: str) -> tuple[Any, Any]:
    """The family and backend: over HTTP with --base-url/$OPENAI_BASE_URL, in-process (loaded when first
    needed) with --model, else none."""
    if not (args.base_url or os.environ.get("OPENAI_BASE_URL") or args.model):
        return None, None
    family = build_family(args, device_kind)
    if args.base_url or os.environ.get("OPENAI_BASE_URL"):
        return family, build_backend(args, family)
    from .script_cmd import _OnDemandBackend

    return family, _OnDemandBackend(args, family)


def _stop_on_sigterm() -> None:
    """SIGTERM (a client shutting its server down, after closing stdin) ends the run record like Ctrl-C."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
