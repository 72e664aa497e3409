"""``guiagent run``: the main job — a model operating a device until the task is done."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError
from guiagent.actions.families import ModelFamily, family_class, get_family, infer_family

from . import config_file
from .agent_options import add_agent_options, agent_config
from .arg_types import non_blank, non_negative_int, positive_seconds
from .device_cmd import adb_options, add_device_options
from .extra_body import extra_body
from .parse_cmd import add_pixel_limits, family_options

__all__ = ["DEFAULT_MODEL", "add_history_option", "add_model_options", "build_backend", "build_family", "register"]

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
    parser.add_argument("--timeout", type=positive_seconds, default=120.0, help="seconds per model request (HTTP)")
    parser.add_argument(
        "--extra-body",
        type=extra_body,
        default=None,
        metavar="JSON",
        help="fields added to every request body as given, e.g. '{\"top_k\": 1}', or @FILE holding the JSON",
    )
    add_pixel_limits(parser)


def add_history_option(parser: argparse.ArgumentParser) -> None:
    """``--history-images``, shared by ``run`` and ``eval``."""
    parser.add_argument(
        "--history-images",
        type=non_negative_int,
        default=None,
        help="earlier screenshots sent to the model (default: the family's)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="let a model operate a device until the task is done",
        description="Observe, think, act: the model sees the screen and acts until it ends the task or a limit "
        "is hit. Every step is written to a run folder under --out.",
    )
    parser.add_argument("task", metavar="TASK", type=non_blank, help="what to do, in words")
    add_device_options(parser)
    add_model_options(parser)
    add_agent_options(parser)
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
    parser.add_argument("--no-report", action="store_true", help="do not write the run's HTML report")
    config_file.enable(parser, "run", run_agent)


def build_family(args: argparse.Namespace, device_kind: str) -> ModelFamily:
    """The family from ``--family`` or inferred from the model id, with the pixel-limit flags applied."""
    model_id = args.model or DEFAULT_MODEL
    name = args.family or infer_family(model_id, device_kind)
    options: dict[str, Any] = family_options(args)
    if args.platform:
        options["platform"] = args.platform
    elif len(family_class(name).platforms) > 1:  # one prompt per platform: the device says which
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
            model_id,
            args.base_url,
            args.api_key,
            timeout=args.timeout,
            image_format=args.image_format,
            extra_body=getattr(args, "extra_body", None),
        )
    if getattr(args, "extra_body", None):
        raise ConfigError("--extra-body is sent to an HTTP endpoint: use it with --base-url (or $OPENAI_BASE_URL)")
    check_model_obtainable(model_id)
    from guiagent.agent.backends.local import TransformersBackend

    low, high = family.pixel_limits
    return TransformersBackend(model_id, min_pixels=low, max_pixels=high, image_factor=family.factor)


_TRUE = ("1", "true", "yes", "on")
HUB_PROBE_SECONDS = 5.0
"""How long to wait for the hub to answer at all before saying it cannot be reached (no retries)."""


def check_model_obtainable(model_id: str) -> None:
    """Fail at once when an in-process model can be neither read from disk nor downloaded.

    Without this, transformers asks the hub for ``config.json`` with five retries and backoff (half a
    minute offline), after the device has been opened and the first screenshot taken. A local folder or a
    hub id already in the Hugging Face cache passes; otherwise the hub must answer one quick request.

    Raises:
        ConfigError: offline (``HF_HUB_OFFLINE``) with the model not cached, or the hub unreachable; the
            message says how to proceed (``--base-url``, a local folder, ``hf download``).
    """
    if Path(os.path.expanduser(model_id)).is_dir():
        return  # a local folder: the loader checks it
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return  # the local extra is missing: the loader says how to install it
    try:
        cached = try_to_load_from_cache(model_id, "config.json")
    except Exception:  # not a valid hub id: the loader explains what a model reference looks like
        return
    if isinstance(cached, str):
        return
    ways = (
        f"use a served model with --base-url URL (e.g. http://localhost:8000/v1), give a downloaded model's folder "
        f"with --model PATH, or download it first with `hf download {model_id}`"
    )
    if any(os.environ.get(name, "").lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        raise ConfigError(f"model {model_id!r} is not in the Hugging Face cache and HF_HUB_OFFLINE is set: {ways}")
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    import httpx

    try:
        httpx.head(endpoint, timeout=HUB_PROBE_SECONDS)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"model {model_id!r} is not downloaded and the Hugging Face hub ({endpoint}) cannot be reached "
            f"({str(exc) or 'no answer'}): {ways}; with the model cached, set HF_HUB_OFFLINE=1 to skip the hub"
        ) from None


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
    from guiagent.agent.console import make_console, print_path
    from guiagent.agent.display import TerminalHooks
    from guiagent.agent.loop import Agent
    from guiagent.agent.safety import ConfirmPolicy
    from guiagent.envs.devices import open_env, parse_device

    kind, _ = parse_device(args.device)
    family = build_family(args, "desktop" if kind == "desktop" else "android")
    secrets = _secrets(args.secret)
    config = agent_config(
        args, dry_run=args.dry_run, confirm=ConfirmPolicy(args.confirm or "never"), out_dir=Path(args.out)
    )
    backend = build_backend(args, family)
    console = make_console()
    try:
        with open_env(args.device, **adb_options(args)) as env:
            agent = Agent(env, backend, family, config, hooks=TerminalHooks(console), secrets=secrets)
            trajectory = agent.run(args.task)
    finally:
        backend.close()
    if not args.no_report:
        from guiagent.tasks.report import write_run_report

        print_path(console, write_run_report(trajectory.folder), "report:     ")
    return _EXIT_BY_STATUS.get(trajectory.status, 1)
