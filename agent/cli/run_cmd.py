"""``guiagent run``: the main job — a model operating a device until the task is done."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError
from guiagent.actions.families import ModelFamily, get_family, infer_family

from .device_cmd import adb_options, add_device_options
from .parse_cmd import add_pixel_limits, family_options

__all__ = ["DEFAULT_MODEL", "add_model_options", "build_backend", "build_family", "register"]

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
_EXIT_BY_STATUS = {"success": 0, "failure": 1, "error": 1, "interrupted": 130}


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--base-url``, ``--api-key``, ``--family`` and pixel limits."""
    parser.add_argument(
        "--model",
        default=None,
        help=f"hub id or local folder (in-process), or the served model name with --base-url (default {DEFAULT_MODEL})",
    )
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    parser.add_argument("--api-key", default=None, help="API key for --base-url (default $OPENAI_API_KEY)")
    parser.add_argument("--family", default=None, help="model family (default: inferred from --model)")
    parser.add_argument("--platform", choices=["mobile", "computer"], default=None, help="prompt variant")
    parser.add_argument("--pad", action="store_true", help="pad screenshots instead of resizing them")
    parser.add_argument("--image-format", choices=["jpeg", "png"], default="jpeg", help="image encoding over HTTP")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per model request (HTTP)")
    add_pixel_limits(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="let a model operate a device until the task is done",
        description="Observe, think, act: the model sees the screen and acts until it ends the task or a limit "
        "is hit. Every step is written to a run folder under --out.",
    )
    parser.add_argument("task", metavar="TASK", help="what to do, in words")
    add_device_options(parser)
    add_model_options(parser)
    parser.add_argument("--max-steps", type=int, default=30, help="step limit (default 30)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds before giving up")
    parser.add_argument("--history-images", type=int, default=None, help="earlier screenshots sent to the model")
    parser.add_argument("--dry-run", action="store_true", help="decide and draw each step, never touch the device")
    parser.add_argument(
        "--confirm",
        nargs="?",
        const="always",
        choices=["always", "risky"],
        default=None,
        help="ask before every action, or (--confirm risky) only before risky ones",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="a secret the task refers to as <secret:NAME>; read from $GUIAGENT_SECRET_NAME or asked for",
    )
    parser.add_argument("--out", default="runs", help="folder for run trajectories (default ./runs)")
    parser.set_defaults(handler=run_agent)


def build_family(args: argparse.Namespace, device_kind: str) -> ModelFamily:
    """The family from ``--family`` or inferred from the model id, with the pixel-limit flags applied."""
    model_id = args.model or DEFAULT_MODEL
    name = args.family or infer_family(model_id, device_kind)
    options: dict[str, Any] = family_options(args)
    if args.platform:
        options["platform"] = args.platform
    elif name in ("ui-tars", "ui-tars-1.5", "showui", "qwen2-vl"):
        options["platform"] = "computer" if device_kind == "desktop" else "mobile"
    if args.pad:
        options["pad"] = True
    return get_family(name, **options)


def build_backend(args: argparse.Namespace, family: ModelFamily) -> Any:
    """An HTTP backend with ``--base-url`` (or ``$OPENAI_BASE_URL``), else the model in-process."""
    model_id = args.model or DEFAULT_MODEL
    if args.base_url or os.environ.get("OPENAI_BASE_URL"):
        from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend

        return OpenAICompatibleBackend(
            model_id, args.base_url, args.api_key, timeout=args.timeout, image_format=args.image_format
        )
    from guiagent.agent.backends.local import TransformersBackend

    low, high = family.pixel_limits
    return TransformersBackend(model_id, min_pixels=low, max_pixels=high, image_factor=family.factor)


def _secrets(names: list[str]) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for name in names:
        if not name.isidentifier():
            raise ConfigError(f"secret name {name!r} must be a simple identifier (letters, digits, _)")
        value = os.environ.get(f"GUIAGENT_SECRET_{name.upper()}")
        if value is None:
            value = getpass.getpass(f"value of secret {name}: ")
        secrets[name] = value
    return secrets


def run_agent(args: argparse.Namespace) -> int:
    """Run the agent; the exit code says how the run ended (0 success, 1 failure or error)."""
    from guiagent.agent.display import TerminalHooks
    from guiagent.agent.history import HistoryPolicy
    from guiagent.agent.loop import Agent
    from guiagent.agent.safety import ConfirmPolicy
    from guiagent.agent.settings import AgentConfig
    from guiagent.envs.devices import open_env, parse_device

    kind, _ = parse_device(args.device)
    family = build_family(args, "desktop" if kind == "desktop" else "android")
    secrets = _secrets(args.secret)
    config = AgentConfig(
        max_steps=args.max_steps,
        time_limit=args.time_limit,
        history=HistoryPolicy(max_images=args.history_images),
        dry_run=args.dry_run,
        confirm=ConfirmPolicy(args.confirm or "never"),
        out_dir=Path(args.out),
    )
    backend = build_backend(args, family)
    try:
        with open_env(args.device, **adb_options(args)) as env:
            agent = Agent(env, backend, family, config, hooks=TerminalHooks(), secrets=secrets)
            trajectory = agent.run(args.task)
    finally:
        backend.close()
    return _EXIT_BY_STATUS.get(trajectory.status, 1)
